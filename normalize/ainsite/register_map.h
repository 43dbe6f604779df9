// Å Insite register mapping, shared by the consumer (AinsiteDecoder) and the
// gateway (AinsiteGatewayDecoder) decoders: which canonical quantity, unit,
// scale and kind a register type id becomes, and the exact decimal scaling of
// the vendor's numbers.
//
// Register 2 is Å Insite's accumulated energy consumption in kWh: built in as
// electricity.energy.consumption.index (Wh, ×1000, cumulative). Any other
// register without a configured mapping becomes "register.<id>" with no unit
// and the value as sent. The connector config (connectors/ainsite/ainsite_type.cpp)
// validates mappings before a decoder is built (valid quantity, canonical
// unit and kind, finite non-zero scale), so the decoders trust them.
//
// Pure functions and plain values; callable from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "normalize/model.h"

namespace mb::ainsite {

// The register type id of accumulated energy consumption (kWh).
inline constexpr std::uint32_t kAccumulatedEnergyRegister = 2;
// Register ids are written as decimal integers; larger ones are not ids.
inline constexpr std::uint32_t kMaxRegisterId = 2147483647;

struct RegisterMapping {
    std::string quantity;
    std::string unit;
    // Unset: the decoder decides (consumer: from the payload version;
    // gateway: instant, cumulative for register 2).
    std::optional<Kind> kind;
    double scale = 1.0;  // finite, non-zero; reading = sent value × scale

    bool operator==(const RegisterMapping&) const = default;
};

// Configured mappings by register id. Ids not in the map use `builtin_mapping`.
using RegisterMap = std::map<std::uint32_t, RegisterMapping>;

// Register 2: electricity.energy.consumption.index, Wh, ×1000, cumulative.
RegisterMapping accumulated_energy_mapping();

// "register.<id>", no unit, scale 1, kind unset.
RegisterMapping unmapped_register(std::uint32_t id);

// "2" → 2. Only canonical decimal spellings (no sign, no leading zero, no
// spaces, at most kMaxRegisterId), so that one register has one name.
std::optional<std::uint32_t> parse_register_id(std::string_view text);

// A number converted for a reading, or the reason it cannot be one.
struct ScaledNumber {
    double value = 0;
    std::optional<Reject> problem;  // malformed (not a decimal) or out_of_range
};

// Converts `text`, a number in JSON grammar (-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?),
// to `text` × `scale`. When |scale| is a power of ten (1000, 0.001, ...) the
// decimal point is moved in the text and the result is rounded once, from
// the exact decimal, to the nearest double: "0.123" × 1000 is exactly 123 and
// "1.005" × 1000 exactly 1005 (a double multiply gives 1004.9999999999999).
// Other scales parse to the nearest double and multiply (two roundings).
// Values that overflow or underflow a double are out_of_range; -0 becomes 0.
// `field` names the number in the reject detail.
ScaledNumber scale_decimal(std::string_view text, double scale, std::string_view field);

}  // namespace mb::ainsite
