// Envelope: one received message and what its decoder made of it, on its way
// to the store. Built on a connector thread, moved into the writer's queue,
// consumed by the writer thread.
//
// Besides readings and state events, a connector that keeps a device registry
// or sends commands (Tuya) attaches the facts it learned to the envelope, so
// they commit in the same transaction as the message that taught them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "normalize/model.h"

namespace mb {

// An upsert of one row of the device registry (devices_v), keyed by
// (source, gateway, device). Unset fields keep what is stored.
struct DeviceUpdate {
    std::string gateway, device;
    TimeMs seen = 0;      // last_seen = max(stored, seen); first_seen on insert
    bool synced = false;  // a device sync: synced_at = seen, descriptive fields replaced
    // The device moved to another gateway: this registration is no longer synced
    // (synced_at cleared); the row stays for the record.
    bool released = false;
    std::optional<std::string> product_id, vendor_code, comm_type, ip, mac, name, description,
        location, server_id, sub_type;
    std::optional<bool> online;
    std::optional<std::int64_t> stale_after_ms;
    std::optional<std::string> protocol_state;

    bool operator==(const DeviceUpdate&) const = default;
};

enum class CommandOutcome : std::uint8_t { pending, success, error, timeout, aborted };
std::string_view to_string(CommandOutcome o);

// One step of a command's life (commands_v), keyed by (source, request_id):
// `sent` inserts the row; later steps complete it. An answer arriving after a
// timeout records its code but leaves the outcome at timeout.
struct CommandRecord {
    enum class Step : std::uint8_t { sent, answered, timed_out, aborted };
    Step step = Step::sent;
    std::string request_id;
    TimeMs at = 0;
    // sent:
    std::string gateway, device, code, value;
    int dp = 0;
    TimeMs deadline = 0;
    // answered / timed_out / aborted:
    std::optional<int> result_code;
    std::string result_msg;

    bool operator==(const CommandRecord&) const = default;
};

// A consent's state for one usage point (consents_v), keyed by (source,
// usage_point). Unset times keep what is stored.
struct ConsentUpdate {
    std::string usage_point, state, job;
    TimeMs at = 0;
    std::optional<TimeMs> granted_at, expires_at;
    bool operator==(const ConsentUpdate&) const = default;
};

// One request of a job (job_runs_v), keyed by (source, run_key): `started`
// inserts the row (outcome running), `finished` completes it.
struct JobRunRecord {
    enum class Step : std::uint8_t { started, finished };
    Step step = Step::started;
    std::string run_key;
    TimeMs at = 0;
    // started:
    std::string job, command, usage_point, direction, window_start, window_end;
    // finished: ok | error | no_older_data | timeout | disconnected | aborted
    std::string outcome;
    std::int64_t records = 0;
    std::string error, upstream_issuer, upstream_code;
    bool operator==(const JobRunRecord&) const = default;
};

// What a fetch job has done for one (job, usage point, direction): the whole
// day set (DaySet::to_string) and the floor, replacing what is stored.
struct JobProgressUpdate {
    std::string job, usage_point, direction, done;
    std::optional<std::string> floor;
    TimeMs at = 0;
    bool operator==(const JobProgressUpdate&) const = default;
};

struct AuthorizeUriRecord {
    std::string job, uri;
    TimeMs at = 0;
    bool operator==(const AuthorizeUriRecord&) const = default;
};

struct Envelope {
    RawMessage raw;
    DecodeResult result;
    std::vector<DeviceUpdate> devices;
    std::vector<CommandRecord> commands;
    std::vector<ConsentUpdate> consents;
    std::vector<JobRunRecord> job_runs;
    std::vector<JobProgressUpdate> progress;
    std::vector<AuthorizeUriRecord> authorize_uris;
    // No message row: the envelope carries what the connector decided on its
    // own (a command sent, a timeout, a device gone stale, a job run). raw.source names
    // the connector; states get message_id 0.
    bool record_only = false;

    // Weight in the writer's bounded queue: rows it will write.
    std::size_t rows() const {
        return 1 + result.readings.size() + result.states.size() + devices.size() +
               commands.size() + consents.size() + job_runs.size() + progress.size() +
               authorize_uris.size();
    }
};

// An envelope with no message (record_only) from connector `source` at `at`,
// for the facts a connector decided on its own.
inline Envelope record_only_envelope(std::string source, TimeMs at) {
    Envelope env;
    env.record_only = true;
    env.raw.source = std::move(source);
    env.raw.received_at = at;
    return env;
}

using Batch = std::vector<Envelope>;

}  // namespace mb
