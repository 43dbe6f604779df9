#include "normalize/ainsite/register_map.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <system_error>

#include "normalize/quantity.h"

namespace mb::ainsite {

namespace {

// Powers of ten as the compiler rounds their literals, which is also how TOML
// and JSON parsers round "0.001": equality with a configured scale is exact.
constexpr std::array<double, 45> kPowersOfTen{
    1e-22, 1e-21, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15, 1e-14, 1e-13, 1e-12, 1e-11,
    1e-10, 1e-9,  1e-8,  1e-7,  1e-6,  1e-5,  1e-4,  1e-3,  1e-2,  1e-1,  1e0,   1e1,
    1e2,   1e3,   1e4,   1e5,   1e6,   1e7,   1e8,   1e9,   1e10,  1e11,  1e12,  1e13,
    1e14,  1e15,  1e16,  1e17,  1e18,  1e19,  1e20,  1e21,  1e22};
constexpr int kSmallestPower = -22;

std::optional<int> power_of_ten(double scale) {
    const double a = std::fabs(scale);
    for (std::size_t i = 0; i < kPowersOfTen.size(); ++i)
        if (kPowersOfTen[i] == a) return static_cast<int>(i) + kSmallestPower;
    return std::nullopt;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// The parts of a number in JSON grammar.
struct Decimal {
    bool negative = false;
    std::string_view integer_digits;
    std::string_view fraction_digits;
    std::int64_t exponent = 0;
};

// Exponents beyond this are clamped: the value over- or underflows either way,
// and clamping keeps the arithmetic below far from int64 overflow.
constexpr std::int64_t kExponentClamp = 1'000'000'000'000;

std::optional<Decimal> split_decimal(std::string_view s) {
    Decimal d;
    std::size_t i = 0;
    if (i < s.size() && s[i] == '-') {
        d.negative = true;
        ++i;
    }
    const std::size_t int_start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    d.integer_digits = s.substr(int_start, i - int_start);
    if (d.integer_digits.empty()) return std::nullopt;
    if (d.integer_digits.size() > 1 && d.integer_digits[0] == '0') return std::nullopt;
    if (i < s.size() && s[i] == '.') {
        ++i;
        const std::size_t frac_start = i;
        while (i < s.size() && is_digit(s[i])) ++i;
        d.fraction_digits = s.substr(frac_start, i - frac_start);
        if (d.fraction_digits.empty()) return std::nullopt;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        bool negative_exponent = false;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
            negative_exponent = s[i] == '-';
            ++i;
        }
        const std::size_t exp_start = i;
        std::int64_t e = 0;
        while (i < s.size() && is_digit(s[i])) {
            if (e < kExponentClamp) e = e * 10 + (s[i] - '0');
            ++i;
        }
        if (i == exp_start) return std::nullopt;
        d.exponent = negative_exponent ? -e : e;
    }
    if (i != s.size()) return std::nullopt;
    return d;
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
    const auto d = split_decimal(text);
    if (!d) {
        out.problem = Reject{RejectCode::malformed,
                             fmt::format("{} {} is not a decimal number", field, quoted(text))};
        return out;
    }
    const auto too_big = [&] {
        out.problem =
            Reject{RejectCode::out_of_range,
                   scale == 1.0 ? fmt::format("{} {} does not fit a double", field, quoted(text))
                                : fmt::format("{} {} does not fit a double once scaled by {}",
                                              field, quoted(text), scale)};
        return out;
    };

    double v = 0;
    if (const auto k = power_of_ten(scale)) {
        // Shift the decimal point in the text; from_chars rounds once, correctly.
        std::string shifted;
        shifted.reserve(d->integer_digits.size() + d->fraction_digits.size() + 24);
        shifted.append(d->integer_digits);
        shifted.append(d->fraction_digits);
        const std::int64_t exponent =
            d->exponent - static_cast<std::int64_t>(d->fraction_digits.size()) + *k;
        shifted += fmt::format("e{}", exponent);
        const auto [p, ec] = std::from_chars(shifted.data(), shifted.data() + shifted.size(), v);
        if (ec == std::errc::result_out_of_range) return too_big();
        if (ec != std::errc{} || p != shifted.data() + shifted.size()) {
            out.problem = Reject{RejectCode::malformed,
                                 fmt::format("{} {} is not a decimal number", field, quoted(text))};
            return out;
        }
        if ((scale < 0) != d->negative) v = -v;
    } else {
        const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec == std::errc::result_out_of_range) return too_big();
        if (ec != std::errc{} || p != text.data() + text.size()) {
            out.problem = Reject{RejectCode::malformed,
                                 fmt::format("{} {} is not a decimal number", field, quoted(text))};
            return out;
        }
        v *= scale;
    }
    if (!std::isfinite(v)) return too_big();
    // A zero that underflowed from a non-zero value lost the reading entirely.
    if (v == 0) {
        const bool all_zero = d->integer_digits.find_first_not_of('0') == std::string_view::npos &&
                              d->fraction_digits.find_first_not_of('0') == std::string_view::npos;
        if (!all_zero) return too_big();
        v = 0;  // no negative zero in the store
    }
    out.value = v;
    return out;
}

std::string quoted(std::string_view text, std::size_t max) {
    std::string out = "'";
    const std::size_t n = text.size() < max ? text.size() : max;
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c >= 0x7f || c == '\\' || c == '\'')
            out += fmt::format("\\x{:02x}", c);
        else
            out += static_cast<char>(c);
    }
    out += '\'';
    if (text.size() > max) out += fmt::format("… ({} bytes)", text.size());
    return out;
}

}  // namespace mb::ainsite
