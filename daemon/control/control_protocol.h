// The control socket's protocol: one JSON object per line each way, one
// request per connection. Shared by the daemon (ControlServer) and the CLI
// (control_client.h), so both sides agree on every field.
//
//   → {"op":"command","connector":"tuya","gateway":"gw-1","device":"cid",
//      "dp":"valve_state","value":"open","timeout_ms":10000}
//   ← {"status":"success","code":0,"msg":"success","request_id":"…","detail":"…"}
//   → {"op":"run_job","job":"daily"}
//   ← {"status":"ok","detail":"job daily started"}, "invalid" when the daemon
//     has no such job (the detail lists its jobs), "unavailable" when the
//     job's connector is not running
//   → {"op":"status"}
//   ← {"status":"ok","detail":"<status line>","health":"ok"|"degraded","reasons":[…],
//      "daemon":{"messages":…,…},
//      "connectors":[{"name":…,"state":…,…}]}
//   ← {"status":"error","detail":"…"} for a request the daemon cannot read.
//   ← {"status":"refused","detail":"…"} to a peer that may not use the socket,
//     {"status":"busy","detail":"…"} when every place is taken by a request in
//     progress; both sent at once, without reading a request, then closed.
//
// Pure: no I/O. Parse errors are values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "connectors/connector.h"

namespace mb::control {

inline constexpr std::size_t kMaxLine = 64 * 1024;

struct CommandRequest {
    std::string connector;
    DeviceCommand command;  // timeout 0: the connector's default
};
struct StatusRequest {};
// Starts a job now, whatever its schedule.
struct RunJobRequest {
    std::string job;
};
using Request = std::variant<CommandRequest, StatusRequest, RunJobRequest>;

struct ParsedRequest {
    std::optional<Request> request;
    std::string error;  // set when !request
};
ParsedRequest parse_request(std::string_view line);
std::string render(const Request& r);

struct ConnectorStatus {
    std::string name, type, state, detail;
    std::uint64_t messages = 0, rejected = 0, reconnects = 0;
};

// The daemon-wide counters the status line sums up, since start.
struct DaemonStatus {
    std::uint64_t messages = 0, readings = 0, duplicates = 0, revisions = 0, rejected = 0,
                  queued = 0, connectors = 0, connectors_running = 0, reconnects = 0;
    bool storage_paused = false;
};

struct Response {
    std::string status;  // success|failed|timeout|invalid|unavailable (commands), ok, error,
                         // refused, busy
    std::optional<std::int64_t> code;
    std::string msg, request_id, detail;
    std::optional<DaemonStatus> daemon;       // status
    std::vector<ConnectorStatus> connectors;  // status
    std::string health;                       // status: ok|degraded ("" from an older daemon)
    std::vector<std::string> reasons;         // status: why degraded
};
// One JSON object; also what `meterbridge status --format json` prints as "daemon".
std::string render(const DaemonStatus& d);
std::string render(const Response& r);
// nullopt when the line is not a response (the error says why).
std::optional<Response> parse_response(std::string_view line, std::string& error);

Response from_result(const DeviceCommandResult& r);
Response error_response(std::string detail);

}  // namespace mb::control
