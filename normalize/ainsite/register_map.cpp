#include "normalize/ainsite/register_map.h"

#include <fmt/format.h>

#include <cmath>
#include <cstddef>

#include "normalize/detail_text.h"
#include "normalize/number.h"
#include "normalize/quantity.h"

namespace mb::ainsite {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

RegisterMapping accumulated_energy_mapping() {
    return RegisterMapping{std::string(quantity::energy_consumption_index), "Wh", Kind::cumulative,
                           1000.0};
}

RegisterMapping unmapped_register(std::uint32_t id) {
    return RegisterMapping{fmt::format("{}{}", quantity::register_prefix, id), "", std::nullopt,
                           1.0};
}

std::optional<std::uint32_t> parse_register_id(std::string_view text) {
    if (text.empty() || text.size() > 10) return std::nullopt;
    if (text.size() > 1 && text[0] == '0') return std::nullopt;
    std::uint64_t v = 0;
    for (char c : text) {
        if (!is_digit(c)) return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > kMaxRegisterId) return std::nullopt;
    return static_cast<std::uint32_t>(v);
}

ScaledNumber scale_decimal(std::string_view text, double scale, std::string_view field) {
    ScaledNumber out;
    DecimalNumber d;
    if (!read_json_number(text, d)) {
        out.problem = Reject{RejectCode::malformed,
                             fmt::format("{} {} is not a decimal number", field, quoted(text))};
        return out;
    }
    double v = 0;
    if (const auto k = power_of_ten_exponent(scale)) {
        // The decimal point moved in the text: one rounding, from the exact value.
        v = scaled_magnitude(d, *k);
        if ((scale < 0) != d.negative) v = -v;
    } else {
        v = scaled_magnitude(d, 0);
        if (d.negative) v = -v;
        v *= scale;
    }
    // A zero from a non-zero value underflowed: the reading is lost entirely.
    if (!std::isfinite(v) || (v == 0 && d.significant != 0)) {
        out.problem =
            Reject{RejectCode::out_of_range,
                   scale == 1.0 ? fmt::format("{} {} does not fit a double", field, quoted(text))
                                : fmt::format("{} {} does not fit a double once scaled by {}",
                                              field, quoted(text), scale)};
        return out;
    }
    out.value = v == 0 ? 0 : v;  // no negative zero in the store
    return out;
}

}  // namespace mb::ainsite
