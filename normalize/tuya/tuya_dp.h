// The DP ("data point") table of the Tuya smart water meter (shared/seeds/002):
// ids 1..18, their codes, types, documented ranges and enum sets, and what
// each becomes in the canonical model. Constant data, read by the codec
// (tuya_decoder.h: validating reports and command values) and the canonical
// mapping (tuya_canonical.h).
//
// Pure, any thread: the table is static and never changes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "normalize/model.h"

namespace mb {

enum class TuyaDpType : std::uint8_t { value, boolean, enumeration, timestamp };

// What a DP becomes.
enum class TuyaDpRole : std::uint8_t {
    reading,     // a Reading of `quantity`, stamped with the report's t
    state,       // a StateEvent of key = code
    pair_value,  // first/last reading of day/month: half of a water.volume.index pair
    pair_time,   // its Unix timestamp: the other half
};

// Which first/last reading a pair DP belongs to (index into TuyaPairing::slots).
enum class TuyaPairSlot : std::uint8_t { day_begin, day_end, month_begin, month_end };

struct TuyaDp {
    int id;
    std::string_view code;  // the document's identifier, also the state key
    TuyaDpType type;
    bool writable;          // "Send and report (read-write)"
    std::int64_t min, max;  // value DPs: the documented range (raw, before scale)
    std::span<const std::string_view> enum_values;  // enum DPs
    TuyaDpRole role;
    std::string_view quantity;  // role reading (and pair_value: water.volume.index)
    Kind kind;                  // of the reading
    TuyaPairSlot slot;          // pair roles
};

std::span<const TuyaDp> tuya_dps();                       // the 18 DPs in id order
const TuyaDp* tuya_find_dp(int id);                       // nullptr when not in the table
const TuyaDp* tuya_find_dp(std::string_view id_or_code);  // "9" or "valve_state"

// A validated DP value.
struct TuyaDpValue {
    TuyaDpType type = TuyaDpType::value;
    std::int64_t integer = 0;  // value DPs: raw; timestamp DPs: UTC ms
    bool boolean = false;
    std::string text;  // enum DPs
    bool operator==(const TuyaDpValue&) const = default;
};

// Decimal digits only (no sign), at most 19 of them → value; nullopt for
// anything else or a value beyond int64. The grammar of DP ids ("9"), of
// timestamp DP texts and of the pairing's text form.
std::optional<std::int64_t> tuya_parse_digits(std::string_view s);

}  // namespace mb
