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
//   - a cid is synced on ONE gateway of the connector at a time (cids are
//     global device ids in Tuya's world, and meter = cid in the database):
//     another gateway's sync of it is refused (400, rejected `unauthorized`)
//     while its owner has mentioned it within stale_after; after that, the
//     sync moves it (the device was moved): the old registration is released,
//     a state event `gateway` names the new one. Reports, status and commands
//     of a cid on a gateway that does not own it are refused (2003) or ignored;
//   - at most max_devices synced devices per gateway: a sync of one more is
//     refused (400, rejected `out_of_range`);
//   - a status entry for a cid not synced on that gateway creates nothing: it
//     is ignored (counted in a note logged at most once a minute), and a status
//     naming no synced device is rejected (`unknown_device`);
//   - last_seen is the time of receipt of any uplink naming the device, so a
//     gateway clock that drifts cannot make a live device look stale;
//   - online/offline and stale/fresh changes are state events `online` and
//     `stale` ("true"/"false"); `online` is stamped with the status' t;
//   - times no meter can have measured (check_times, model.h) are answered
//     1001 when they are the report's t, 1101 when a timestamp DP's, and the
//     report is rejected (`out_of_range`) without touching the pairing; a
//     status with such a t is rejected whole.
// Memory: the registry holds synced devices only, at most max_devices per
// gateway (plus what the database held at start); nothing else grows with
// the ids a gateway invents.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/connector_config.h"
#include "connectors/mqtt/mqtt_protocol.h"
#include "normalize/tuya/tuya_canonical.h"
#include "normalize/tuya/tuya_decoder.h"

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
    std::size_t max_devices = 1000;  // synced devices per gateway
};

// A registry row as stored (query.h: load_devices gives these).
struct TuyaKnownDevice {
    std::string gateway, device;
    bool synced = false;
    std::optional<bool> online;
    TimeMs last_seen = 0;
    std::string protocol_state;  // tuya_pairing_to_string, or ""
    TimeMs first_seen = 0;
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

    // tuya_devices{state}: the synced devices that are stale, else online,
    // else offline (also those whose status was never reported), as counted
    // at the last tick.
    std::vector<HealthSample> samples() const override;

  private:
    struct Device {
        std::string gateway;  // the one gateway it is synced on
        std::optional<bool> online;
        TimeMs last_seen = 0;
        TimeMs first_seen = 0;
        bool stale = false;
        TuyaPairing pairing;
    };
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

    // The device `cid` when it is synced on `gateway`, else nullptr.
    Device* owned(const std::string& gateway, std::string_view cid);
    void sync(Envelope& env, const TuyaTopic& topic, MqttOutbox& out);
    void refuse_sync(Envelope& env, MqttOutbox& out, const std::string& gateway,
                     const TuyaDeviceSync& s, RejectCode code, std::string detail);
    void report(Envelope& env, const TuyaTopic& topic, MqttOutbox& out);
    void status(Envelope& env, const TuyaTopic& topic);
    void command_response(Envelope& env, const TuyaTopic& topic);
    // The device spoke at `at`: last seen, and back from stale.
    DeviceUpdate& touch(Envelope& env, const std::string& cid, Device& d, TimeMs at);
    void answer(MqttOutbox& out, const std::string& gateway, TuyaDownlink kind,
                const std::string& payload);
    void reject(Envelope& env, const TuyaError& e);
    void send(const Submitted& s, TimeMs now, Batch& staged, MqttOutbox& out);
    std::string next_request_id(TimeMs now);
    int utc_offset_minutes(TimeMs t) const;
    // Devices silent for longer than stale_after: state events, one log line per check.
    void check_stale(TimeMs now, Batch& staged);
    // What was ignored or refused since the last note, in one line at most once a
    // minute (`now_anyway`: at stop, whatever the time).
    void log_refusals(TimeMs now, bool now_anyway = false);

    std::string source_;
    TuyaOptions options_;
    const date::time_zone* zone_ = nullptr;  // nullptr: UTC
    TuyaParser parser_;
    // Synced devices by cid: one gateway each.
    std::map<std::string, Device, std::less<>> devices_;
    std::map<std::string, std::size_t, std::less<>> synced_per_gateway_;
    // What was ignored or refused since the last note (log_refusals).
    struct Refusals {
        std::uint64_t status_entries = 0, claimed = 0, over_limit = 0;
        std::string example;  // one cid, printable
    };
    Refusals refusals_;
    TimeMs last_note_ = 0;
    std::map<std::string, Pending> pending_;  // by request_id
    std::vector<std::string> uncommitted_;    // request ids sent since the last commit
    std::deque<std::string> closed_;          // request ids that timed out, newest last
    TimeMs last_stale_check_ = 0;
    std::uint64_t counter_ = 0;
    std::uint64_t id_prefix_ = 0;

    // The device counts for samples(): written on the connector's thread at
    // most once a second, read from any.
    void count_devices(TimeMs now);
    TimeMs last_count_ = 0;
    mutable std::mutex samples_mu_;
    std::vector<HealthSample> samples_;

    std::mutex inbox_mu_;
    std::vector<Submitted> inbox_;
    bool stopped_ = false;  // under inbox_mu_: later submissions are refused at once
};

}  // namespace mb
