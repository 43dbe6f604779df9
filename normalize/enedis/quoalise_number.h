// The numbers, units and durations of a quoalise response: SenML values and
// times as xs:double text scaled exactly to the canonical unit, the four
// units the proxy writes, and the meta's sampling interval.
//
// Who calls: the quoalise decoder's parts (SenmlReader for every record, the
// meta check once per response), on the caller's thread. Pure; text that is
// not a number, unit or duration is a returned status or nullopt. parse_number
// and find_unit are inline: they run for every record.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>

#include "normalize/number.h"

namespace mb::quoalise {

inline bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

enum class NumberStatus : std::uint8_t { ok, not_a_number, not_finite, too_large };

struct Number {
    NumberStatus status = NumberStatus::not_a_number;
    double value = 0;
};

// An xs:double ("1600041600.0", "-1.5E3", ".5", "INF", "NaN") times 10^shift,
// computed from the decimal digits with the point shifted (number.h), so that
// 0.123 kWh is exactly 123 Wh. Underflow gives zero.
inline Number parse_number(std::string_view text, int shift) {
    DecimalNumber n;
    switch (read_xs_double(text, n)) {
        case XsDoubleForm::number:
            break;
        case XsDoubleForm::not_finite:
            return {NumberStatus::not_finite, 0};
        case XsDoubleForm::invalid:
            return {};
    }
    const double d = scaled_magnitude(n, shift);
    if (std::isinf(d)) return {NumberStatus::too_large, 0};
    return {NumberStatus::ok, n.negative ? -d : d};
}

// Seconds of a sampling interval: "1800", or an ISO-8601 duration made of
// weeks, days, hours, minutes and seconds ("PT30M", "PT1H", "P1D"). Years and
// months have no fixed length and are refused.
std::optional<std::int64_t> parse_interval_seconds(std::string_view text);

struct Unit {
    std::string_view name;
    bool energy;
    int shift;  // decimal places to the canonical W or Wh
};

inline constexpr std::array<Unit, 4> kUnits{{
    {"W", false, 0},
    {"kW", false, 3},
    {"Wh", true, 0},
    {"kWh", true, 3},
}};
inline constexpr std::string_view kUnitNames = "W, kW, Wh, kWh";

// The unit named exactly `name`, or nullptr.
inline const Unit* find_unit(std::string_view name) {
    for (const Unit& u : kUnits)
        if (u.name == name) return &u;
    return nullptr;
}

}  // namespace mb::quoalise
