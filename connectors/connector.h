// Connector: one transport session (an MQTT client, an XMPP client, a spool
// directory) that receives vendor messages, decodes them and hands them to the
// store's writer.
//
// Contract: the daemon's main thread calls start() once, then stop() (possibly
// more than once). start() returns quickly; the connector runs on a thread it
// owns. stop() is idempotent, blocks until that thread has joined, and returns
// only after every message the connector accepted has been handed to the
// writer (acknowledge-after-commit transports must not ack after stop()).
// health() may be called from any thread at any time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mb {

enum class ConnectorState : std::uint8_t { starting, running, reconnecting, stopped, failed };

std::string_view to_string(ConnectorState s);

// One labelled number a connector reports beyond the common counters, e.g.
// {"enedis_calls_total", {{"command", "get_daily"}, {"outcome", "ok"}}, 12}.
// The daemon knows each metric's name and type (daemon/http/metrics.h); the
// labels are a bounded set chosen by the connector (never a device id).
struct HealthSample {
    std::string metric;
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
};

struct Health {
    ConnectorState state = ConnectorState::starting;
    std::string detail;  // last error or status line
    std::uint64_t messages = 0;
    std::uint64_t rejected = 0;
    // Connections lost and connection attempts that failed.
    std::uint64_t reconnects = 0;
    std::vector<HealthSample> samples;
};

// An operator's command to one device (from the control socket). `dp` and
// `value` are text; the connector's protocol validates them.
struct DeviceCommand {
    std::string gateway, device, dp, value;
    std::chrono::milliseconds timeout{10000};
};

struct DeviceCommandResult {
    enum class Status : std::uint8_t {
        success,      // the device answered code 0
        failed,       // the device answered another code
        timeout,      // no answer in time (code 2001 for Tuya)
        invalid,      // refused before sending: bad value, unknown device (code says which)
        unavailable,  // not sent: not connected, stopping, no such connector
    };
    Status status = Status::unavailable;
    int code = -1;  // the protocol's code; -1 when there is none
    std::string msg;
    std::string request_id;  // "" when nothing was sent
    std::string detail;      // for the operator: what happened, in one line
};
std::string_view to_string(DeviceCommandResult::Status s);

// Called exactly once, on the connector's thread (or the caller's, when the
// command is refused at once). Must not block.
using CommandDone = std::function<void(DeviceCommandResult)>;

class Connector {
  public:
    virtual ~Connector() = default;
    virtual void start() = 0;
    virtual void stop() = 0;
    virtual Health health() const = 0;
    virtual const std::string& name() const = 0;

    // Any thread. Connectors that drive devices override this; the default
    // refuses. Pending commands complete (aborted) when the connector stops.
    virtual void send_command(DeviceCommand command, CommandDone done);

    // Any thread. Starts one of the connector's jobs now, whatever its
    // schedule; false when the connector has no such job (the default).
    virtual bool run_job(const std::string& job) {
        (void)job;
        return false;
    }
};

}  // namespace mb
