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
#include <vector>

#include "normalize/model.h"

namespace mb {

// An upsert of one row of the device registry (devices_v), keyed by
// (source, gateway, device). Unset fields keep what is stored.
struct DeviceUpdate {
    std::string gateway, device;
    TimeMs seen = 0;      // last_seen = max(stored, seen); first_seen on insert
    bool synced = false;  // a device sync: synced_at = seen, descriptive fields replaced
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

struct Envelope {
    RawMessage raw;
    DecodeResult result;
    std::vector<DeviceUpdate> devices;
    std::vector<CommandRecord> commands;
    // No message row: the envelope carries what the connector decided on its
    // own (a command sent, a timeout, a device gone stale). raw.source names
    // the connector; states get message_id 0.
    bool record_only = false;

    // Weight in the writer's bounded queue: rows it will write.
    std::size_t rows() const {
        return 1 + result.readings.size() + result.states.size() + devices.size() + commands.size();
    }
};

using Batch = std::vector<Envelope>;

}  // namespace mb
