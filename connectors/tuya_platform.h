// TuyaPlatform: the platform side of the Tuya IoT Edge Gateway protocol
// (shared/seeds/002) for the configured gateways, as an MqttProtocol.
//
// It answers every sync and property report on its response topic (code 0 or
// the document's error code and message), keeps the device registry (what was
// synced, online/offline, last seen, stale), turns reports into readings and
// state events, and sends operators' commands, matching answers by request_id
// with a deadline (no answer → 2001 "device is offline").
//
// Thread: the connector's thread (see mqtt_protocol.h); submit_command() from
// any thread. Ownership: owns its registry copy, loaded from the database when
// the connector is built; afterwards this object is the only writer of its
// source's rows, so memory and database agree once staged envelopes commit.
// Decisions where the document is silent:
//   - devices are keyed by (gateway, cid): a cid synced on another gateway is
//     unknown here (2003);
//   - a status entry for an unsynced cid is kept (online, last seen) but the
//     device stays unsynced: its reports are still answered 2003;
//   - last_seen is the time of receipt of any uplink naming the device, so a
//     gateway clock that drifts cannot make a live device look stale;
//   - online/offline and stale/fresh changes are state events `online` and
//     `stale` ("true"/"false"); `online` is stamped with the status' t.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/mqtt_protocol.h"
#include "daemon/config.h"
#include "normalize/tuya_protocol.h"

namespace date {
class time_zone;
}

namespace mb {

struct TuyaOptions final : ConnectorOptions {
    std::vector<std::string> gateways;
    int volume_scale = 0;
    std::string time_zone = "UTC";  // the meters' day/month boundaries
    std::chrono::milliseconds stale_after{tuya_default_stale_ms};
    std::chrono::milliseconds command_timeout{10000};  // when the operator gives none
    std::chrono::milliseconds pair_window{10 * 60 * 1000};
};

// A registry row as stored (query.h: load_devices gives these).
struct TuyaKnownDevice {
    std::string gateway, device;
    bool synced = false;
    std::optional<bool> online;
    TimeMs last_seen = 0;
    std::string protocol_state;  // tuya_pairing_to_string, or ""
};

class TuyaPlatform final : public MqttProtocol {
  public:
    // Throws std::runtime_error when the time zone is unknown.
    TuyaPlatform(std::string source, const TuyaOptions& options,
                 const std::vector<TuyaKnownDevice>& known, TimeMs now);

    void on_message(Envelope& env, MqttOutbox& out) override;
    void on_tick(TimeMs now, Batch& staged, MqttOutbox& out) override;
    void on_stop(TimeMs now, Batch& staged) override;
    // A failed commit: the commands sent since the last commit were not
    // recorded and their publications dropped; their operators are told.
    void on_commit(bool committed, const std::string& error) override;
    void submit_command(DeviceCommand command, CommandDone done) override;

    std::size_t pending_commands() const { return pending_.size(); }

  private:
    struct Device {
        bool synced = false;
        std::optional<bool> online;
        TimeMs last_seen = 0;
        bool stale = false;
        TuyaPairing pairing;
    };
    using Key = std::pair<std::string, std::string>;  // gateway, cid
    struct Pending {
        std::string gateway, cid;
        TimeMs deadline = 0;
        std::chrono::milliseconds timeout{0};
        CommandDone done;
    };
    struct Submitted {
        DeviceCommand command;
        CommandDone done;
    };

    void sync(Envelope& env, const TuyaTopic& topic, MqttOutbox& out);
    void report(Envelope& env, const TuyaTopic& topic, MqttOutbox& out);
    void status(Envelope& env, const TuyaTopic& topic);
    void command_response(Envelope& env, const TuyaTopic& topic);
    // The device spoke at `at`: last seen, and back from stale.
    DeviceUpdate& touch(Envelope& env, const std::string& gateway, const std::string& cid,
                        Device& d, TimeMs at);
    void answer(MqttOutbox& out, const std::string& gateway, TuyaDownlink kind,
                const std::string& payload);
    void reject(Envelope& env, const TuyaError& e);
    void send(const Submitted& s, TimeMs now, Batch& staged, MqttOutbox& out);
    std::string next_request_id(TimeMs now);
    Envelope record(TimeMs now) const;
    int utc_offset_minutes(TimeMs t) const;

    std::string source_;
    TuyaOptions options_;
    const date::time_zone* zone_ = nullptr;  // nullptr: UTC
    TuyaParser parser_;
    std::map<Key, Device> devices_;
    std::map<std::string, Pending> pending_;  // by request_id
    std::vector<std::string> uncommitted_;    // request ids sent since the last commit
    std::deque<std::string> closed_;          // request ids that timed out, newest last
    TimeMs last_stale_check_ = 0;
    std::uint64_t counter_ = 0;
    std::uint64_t id_prefix_ = 0;

    std::mutex inbox_mu_;
    std::vector<Submitted> inbox_;
    bool stopped_ = false;  // under inbox_mu_: later submissions are refused at once
};

}  // namespace mb
