// The field mappings of an akenza connector (one payload field → one reading
// or one state event) and their evaluation: the pointers of one data topic
// (AkenzaPlan), and the readings and states that a row of values read at those
// pointers gives.
//
// Who calls: the akenza connector row (checking mappings while loading the
// configuration) and AkenzaDecoder (its constructor builds the plans; decode
// evaluates them, on the decoder's thread). Pure; a mapping that cannot be used
// is a returned reason, a value that does not fit its mapping a returned
// Reject (the decoder masks the secret in it before it is stored).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "normalize/akenza/akenza_slot.h"
#include "normalize/akenza/akenza_timestamp.h"
#include "normalize/akenza/akenza_topic.h"
#include "normalize/decoder.h"

namespace mb {

// Which end of an interval reading the message's timestamp marks.
enum class AkenzaStamp : std::uint8_t { start, end };

// One payload field → one reading (quantity) or one state event (state_key).
struct AkenzaMapping {
    std::string data_topic{akenza_default_data_topic};
    std::string pointer;    // RFC 6901; "" is the whole payload
    std::string quantity;   // a reading, or
    std::string state_key;  // a state event (exactly one of the two)
    std::string unit;       // the canonical one for canonical quantities
    Kind kind = Kind::instant;
    TimeMs duration_ms = 0;  // interval readings only
    AkenzaStamp stamp = AkenzaStamp::end;
    double scale = 1.0;
    bool required = false;                 // absent → reject missing_field instead of skipping
    std::optional<std::string> timestamp;  // pointer; absent → received_at
    AkenzaTimeFormat timestamp_format = AkenzaTimeFormat::iso8601;
};

// Why `pointer` is not an RFC 6901 JSON pointer, or "" when it is one.
std::string akenza_pointer_problem(std::string_view pointer);

// Why `m` cannot be used, or "" (the config loader reports the same rules with
// positions; this is the decoder's own guard).
std::string akenza_mapping_problem(const AkenzaMapping& m);

namespace akenza {

// How a detail names the field at `pointer`.
std::string show_pointer(std::string_view pointer);

// The pointers and mappings of one data topic.
struct Plan {
    std::vector<std::string> pointers;
    std::vector<std::vector<std::string>> tokens;  // unescaped, per pointer
    struct Target {
        std::size_t mapping;  // an index into the mappings the plan was built from
        std::size_t value_slot;
        std::optional<std::size_t> timestamp_slot;
    };
    std::vector<Target> targets;

    // The slot of `pointer` (valid: akenza_pointer_problem), added if new.
    std::size_t slot_of(const std::string& pointer);

    // The mapped pointers, for a detail: "/a, /b".
    std::string mapped_pointers(const std::vector<AkenzaMapping>& mappings) const;

    // Adds to `out` the readings and states of one row of `slots` (one per
    // pointer), stamped with the mapped time or `received_at`; `where`
    // prefixes the field names in details. A mapped value that cannot be used
    // stops the row with its Reject.
    std::optional<Reject> emit(const std::vector<AkenzaMapping>& mappings,
                               const std::vector<Slot>& slots, const std::string& meter,
                               TimeMs received_at, std::string_view where, DecodeResult& out) const;
};

}  // namespace akenza

}  // namespace mb
