// Canonical model of meterbridge (DESIGN.md §2, contract).
//
// Decoders produce these values; the store persists them. Everything here is a
// plain value type: no I/O, safe to copy between threads. Timestamps are UTC
// milliseconds since the Unix epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mb {

using TimeMs = std::int64_t;

enum class Kind : std::uint8_t {
    interval,    // value over [ts_start, ts_end)
    instant,     // value at ts_start == ts_end
    cumulative,  // register index at ts_start == ts_end
};

std::string_view to_string(Kind k);
std::optional<Kind> parse_kind(std::string_view s);

// One numeric value of one quantity of one meter. Source, received_at and the
// message id are properties of the message that carried it (RawMessage).
struct Reading {
    std::string meter;
    std::string quantity;
    std::string unit;
    Kind kind = Kind::interval;
    TimeMs ts_start = 0;
    TimeMs ts_end = 0;
    double value = 0;

    bool operator==(const Reading&) const = default;
};

// A non-numeric fact about a device at an instant (valve state, online, consent).
struct StateEvent {
    std::string meter;
    std::string key;
    std::string value;
    TimeMs ts = 0;

    bool operator==(const StateEvent&) const = default;
};

// What a connector received, before decoding. `topic` is the MQTT topic, the
// XMPP command, or the spool file and line: whatever tells an operator where
// the message came from.
struct RawMessage {
    std::string source;
    std::string topic;
    std::string payload;
    std::string content_type;  // MQTT v5 Content Type when present
    TimeMs received_at = 0;
    // Set when `payload` holds only the first bytes of what arrived (an oversized
    // message, kept no longer than the store keeps it): the size as received.
    std::optional<std::size_t> received_size{};
};

// Why a message was rejected. The code is stable (operators filter on it); the
// detail names the field, value or rule that failed.
enum class RejectCode : std::uint8_t {
    malformed,  // not parseable at all (bad JSON/XML/number)
    missing_field,
    wrong_type,
    unknown_field,
    invalid_value,  // parseable but violates a rule of the format
    out_of_range,
    duplicate_timestamp,
    bad_topic,
    unauthorized,
    oversized,
    unsupported_content_type,
    not_regular_file,  // a spool entry that is a link, FIFO, directory...: never opened
    unknown_device,
    unit_conflict,  // a series already stored with another unit/kind
    upstream_error,
};

std::string_view to_string(RejectCode c);

struct Reject {
    RejectCode code = RejectCode::malformed;
    std::string detail;

    // "missing_field: electricReadings[3].consumptionKwh"
    std::string reason() const;
    bool operator==(const Reject&) const = default;
};

// The outcome of decoding one message: either readings and/or state events,
// or a rejection (then readings and states are empty).
struct DecodeResult {
    std::vector<Reading> readings;
    std::vector<StateEvent> states;
    std::optional<Reject> reject;

    static DecodeResult rejected(RejectCode code, std::string detail) {
        DecodeResult r;
        r.reject = Reject{code, std::move(detail)};
        return r;
    }
    bool ok() const { return !reject.has_value(); }
};

// The reading-time rule, whatever the vendor: a meter cannot have measured
// anything starting before 1990 (smart meters did not exist; such dates are
// seconds read as milliseconds, or a clock never set) or more than a day after
// the message was received (a day of clock skew is tolerated). An interval may
// end after its receipt, as a running total does (Tuya's day and month volumes
// end at the next midnight or the next month), but not more than 32 days after
// it. Decoders stay clock-free: the arrival time is a parameter.
//
// Why [start, end] breaks the rule ("starts at …, before 1990: …", "…, more
// than a day after it was received (…)", "ends at …, more than 32 days after
// …"; "is at" when start == end), or nullopt.
std::optional<std::string> implausible_time(TimeMs start, TimeMs end, TimeMs received_at);

// The rule applied to every reading and state event of a decoded message: the
// out_of_range rejection naming the first that breaks it, or nullopt (also
// when `result` is already rejected). Store::apply calls it for every received
// message, whatever connector built it; a connector calls it only when it must
// know before the commit (the Tuya platform, to answer its gateway).
std::optional<Reject> check_times(const DecodeResult& result, TimeMs received_at);

}  // namespace mb
