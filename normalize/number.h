// Decimal numbers as vendors write them, read exactly: the grammars (JSON,
// xs:double, hand-written text) and the conversion of such a number times a
// power of ten to the nearest double in one rounding, so that 0.123 kWh is
// exactly 123 Wh where 0.123 * 1000.0 may be one ulp off (1.005 * 1000.0 is
// 1004.9999999999999).
//
// Who calls: the decoders, on their own thread, once per number of a message:
// these are on the decode path and allocate nothing (but for numbers of over a
// hundred digits). Pure functions over caller-owned values; any thread. A text
// that is not a number is a false/nullopt return, never an exception. What a
// decoder does with a number (its reject reason, its limits) stays its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "normalize/topic.h"

namespace mb {

// Exponents are saturated here: any value whose written exponent goes beyond
// over- or underflows a double whatever its digits (a text holds fewer than
// this many digits), and the arithmetic stays far from int64 overflow.
inline constexpr std::int64_t kDecimalExponentLimit = 1'000'000'000'000;

// A decimal number split into its parts. The views point into the text read.
struct DecimalNumber {
    std::string_view text;         // the number as read (trimmed for xs:double)
    std::string_view int_digits;   // before the point; empty in ".5"
    std::string_view frac_digits;  // after the point; empty without one, and in "5."
    std::int64_t exponent = 0;     // as written, saturated at ±kDecimalExponentLimit
    // The digits of int_digits and frac_digits from the first non-zero one,
    // read as an integer: exact while significant <= 19.
    std::uint64_t mantissa = 0;
    std::size_t significant = 0;  // digits from the first non-zero one; 0: the number is zero
    bool negative = false;
    bool has_point = false;
    bool has_exponent = false;

    bool is_integer() const { return !has_point && !has_exponent; }
};

// Whether `text` is exactly one JSON number (RFC 8259 §6:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?), read into `out`.
bool read_json_number(std::string_view text, DecimalNumber& out);
bool is_json_number(std::string_view text);

// The looser decimal of text payloads, CSV cells and xs:double's mantissa: a
// leading '+' or '-', leading zeros, "5." and ".5" are numbers (at least one
// digit), with an optional exponent as in JSON. No blanks.
bool read_decimal(std::string_view text, DecimalNumber& out);  // inline, below
bool is_decimal(std::string_view text);

enum class XsDoubleForm : std::uint8_t { number, not_finite, invalid };

// An xs:double attribute ("1600041600.0", "-1.5E3", ".5"): XML blanks around
// it are dropped, then read_decimal; NaN, INF and INFINITY in any case and
// with any sign are `not_finite` (out unset).
XsDoubleForm read_xs_double(std::string_view text, DecimalNumber& out);  // inline, below

// The value of an integer number (no point, no exponent); nullopt beyond 64 bits.
std::optional<std::int64_t> to_int64(const DecimalNumber& n);

// How many digits lie between the first and the last non-zero one (inclusive):
// what a correctly rounded conversion has to read. 0 for zero.
std::size_t significant_digits(const DecimalNumber& n);

// The exponent k of a scale equal to ±10^k (-22 <= k <= 22) as the compiler
// rounds the literal, which is how TOML and JSON parsers round "0.001", so the
// comparison is exact; nullopt for any other scale.
std::optional<int> power_of_ten_exponent(double scale);

namespace number_detail {
inline constexpr double kExactPowersOfTen[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
double scaled_magnitude_slow(const DecimalNumber& n, std::int64_t exp10);

inline bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// NaN, INF or INFINITY, in any case, signed or not.
bool is_special(std::string_view s);

// Reads the digits at p into `n` (mantissa, significant): leading zeros carry
// no value. Returns where the digits end.
inline const char* scan_digits(const char* p, const char* end, DecimalNumber& n) {
    std::uint64_t m = n.mantissa;
    std::size_t sig = n.significant;
    if (sig == 0)
        while (p != end && *p == '0') ++p;
    for (; p != end; ++p) {
        const unsigned d = static_cast<unsigned>(static_cast<unsigned char>(*p)) - '0';
        if (d > 9) break;
        if (sig < 19) m = m * 10 + d;
        ++sig;
    }
    n.mantissa = m;
    n.significant = sig;
    return p;
}

// The exponent part from p ('e' or 'E' there, else none); nullptr when it
// has no digits.
// The fraction from p ('.' there, else none): has_point, frac_digits (maybe empty).
inline const char* scan_fraction(const char* p, const char* end, DecimalNumber& n) {
    if (p == end || *p != '.') return p;
    n.has_point = true;
    const char* const frac_start = ++p;
    p = scan_digits(p, end, n);
    n.frac_digits = {frac_start, static_cast<std::size_t>(p - frac_start)};
    return p;
}

inline const char* scan_exponent(const char* p, const char* end, DecimalNumber& n) {
    n.exponent = 0;
    n.has_exponent = p != end && (*p == 'e' || *p == 'E');
    if (!n.has_exponent) return p;
    ++p;
    const bool negative = p != end && *p == '-';
    if (p != end && (*p == '+' || *p == '-')) ++p;
    if (p == end || !is_digit(*p)) return nullptr;
    std::int64_t e = 0;
    for (; p != end && is_digit(*p); ++p) e = std::min(kDecimalExponentLimit, e * 10 + (*p - '0'));
    n.exponent = negative ? -e : e;
    return p;
}

inline void start(std::string_view text, DecimalNumber& n) {
    n = DecimalNumber{};
    n.text = text;
}
}  // namespace number_detail

// The grammars on the decode path, inline like the conversion below.
inline bool read_decimal(std::string_view text, DecimalNumber& n) {
    const char* p = text.data();
    const char* const end = p + text.size();
    number_detail::start(text, n);
    if (p != end && (*p == '+' || *p == '-')) n.negative = *p++ == '-';
    const char* const int_start = p;
    p = number_detail::scan_digits(p, end, n);
    n.int_digits = {int_start, static_cast<std::size_t>(p - int_start)};
    p = number_detail::scan_fraction(p, end, n);
    if (n.int_digits.empty() && n.frac_digits.empty()) return false;
    p = number_detail::scan_exponent(p, end, n);
    return p == end;
}

inline XsDoubleForm read_xs_double(std::string_view text, DecimalNumber& n) {
    const std::string_view s = trim_blanks(text);
    if (number_detail::is_special(s)) return XsDoubleForm::not_finite;
    return read_decimal(s, n) ? XsDoubleForm::number : XsDoubleForm::invalid;
}

// The closest double to |n| × 10^shift, rounded once from the exact decimal
// value; +infinity when it is too large for a double, 0 when too small (or n is
// zero). Inline: the common case is one IEEE operation on the decode path.
inline double scaled_magnitude(const DecimalNumber& n, std::int64_t shift) {
    if (n.significant == 0) return 0.0;
    // 10^0 … 10^22 are exact doubles (5^22 < 2^53), and so are integers up to 2^53.
    constexpr std::int64_t kMaxExactExponent = 22;
    constexpr std::uint64_t kMaxExactMantissa = std::uint64_t{1} << 53;
    const std::int64_t exp10 = n.exponent - static_cast<std::int64_t>(n.frac_digits.size()) + shift;
    if (n.significant <= 19) {
        // Clinger's fast path: both operands exact, so one IEEE operation rounds
        // the exact decimal value correctly. Trailing zeros moved into the
        // exponent ("1600041600.000" with kW) keep more numbers on it.
        std::uint64_t m = n.mantissa;
        std::int64_t e = exp10;
        while (m % 10 == 0 && (m > kMaxExactMantissa || e < -kMaxExactExponent)) {
            m /= 10;
            ++e;
        }
        if (m <= kMaxExactMantissa && e >= -kMaxExactExponent && e <= kMaxExactExponent) {
            const auto d = static_cast<double>(m);
            return e < 0 ? d / number_detail::kExactPowersOfTen[static_cast<std::size_t>(-e)]
                         : d * number_detail::kExactPowersOfTen[static_cast<std::size_t>(e)];
        }
    }
    return number_detail::scaled_magnitude_slow(n, exp10);
}

}  // namespace mb
