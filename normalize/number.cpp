#include "normalize/number.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <system_error>

namespace mb {

namespace {

char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return ascii_lower(x) == ascii_lower(y);
           });
}

}  // namespace

bool read_json_number(std::string_view text, DecimalNumber& n) {
    const char* p = text.data();
    const char* const end = p + text.size();
    number_detail::start(text, n);
    n.negative = p != end && *p == '-';
    if (n.negative) ++p;
    if (p == end || !number_detail::is_digit(*p)) return false;
    const char* const int_start = p;
    if (*p == '0')
        ++p;  // no leading zeros in JSON: "01" stops here and fails below
    else
        p = number_detail::scan_digits(p, end, n);
    n.int_digits = {int_start, static_cast<std::size_t>(p - int_start)};
    p = number_detail::scan_fraction(p, end, n);
    if (n.has_point && n.frac_digits.empty()) return false;
    p = number_detail::scan_exponent(p, end, n);
    return p == end;
}

bool is_json_number(std::string_view text) {
    DecimalNumber n;
    return read_json_number(text, n);
}

bool number_detail::is_special(std::string_view s) {
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) s.remove_prefix(1);
    return !s.empty() && !number_detail::is_digit(s.front()) &&
           (iequals(s, "nan") || iequals(s, "inf") || iequals(s, "infinity"));
}

bool is_decimal(std::string_view text) {
    DecimalNumber n;
    return read_decimal(text, n);
}

std::optional<std::int64_t> to_int64(const DecimalNumber& n) {
    if (n.significant > 19) return std::nullopt;  // 19 digits fit in 64 unsigned bits
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    const std::uint64_t m = n.mantissa;
    if (!n.negative) {
        if (m > kMax) return std::nullopt;
        return static_cast<std::int64_t>(m);
    }
    if (m > kMax + 1) return std::nullopt;
    if (m == kMax + 1) return std::numeric_limits<std::int64_t>::min();
    return -static_cast<std::int64_t>(m);
}

namespace {

// Digit k of int_digits followed by frac_digits.
char digit_at(const DecimalNumber& n, std::size_t k) {
    const std::size_t int_len = n.int_digits.size();
    return k < int_len ? n.int_digits[k] : n.frac_digits[k - int_len];
}

// [first, last] of the non-zero digits; n.significant > 0.
std::pair<std::size_t, std::size_t> nonzero_span(const DecimalNumber& n) {
    std::size_t first = 0;
    while (digit_at(n, first) == '0') ++first;
    std::size_t last = n.int_digits.size() + n.frac_digits.size() - 1;
    while (digit_at(n, last) == '0') --last;
    return {first, last};
}

}  // namespace

std::size_t significant_digits(const DecimalNumber& n) {
    if (n.significant == 0) return 0;
    const auto [first, last] = nonzero_span(n);
    return last - first + 1;
}

std::optional<int> power_of_ten_exponent(double scale) {
    const double a = std::fabs(scale);
    constexpr std::array<double, 23> kNegative{
        1e-0,  1e-1,  1e-2,  1e-3,  1e-4,  1e-5,  1e-6,  1e-7,  1e-8,  1e-9,  1e-10, 1e-11,
        1e-12, 1e-13, 1e-14, 1e-15, 1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22};
    for (std::size_t k = 0; k < kNegative.size(); ++k) {
        if (number_detail::kExactPowersOfTen[k] == a) return static_cast<int>(k);
        if (kNegative[k] == a) return -static_cast<int>(k);
    }
    return std::nullopt;
}

namespace number_detail {

// Through the library's correctly rounded conversion, on "<digits>e<exp>"
// with the digits from the first to the last non-zero one.
double scaled_magnitude_slow(const DecimalNumber& n, std::int64_t exp10) {
    const auto [first, last] = nonzero_span(n);
    const std::size_t count = last - first + 1;
    // The value is digits[first..last], read as an integer, × 10^e.
    const std::int64_t e =
        exp10 + static_cast<std::int64_t>(n.int_digits.size() + n.frac_digits.size() - 1 - last);
    // The digits, 'e' and at most 20 characters of exponent.
    const std::size_t size = count + 24;
    std::array<char, 128> stack_buf;  // written before it is read
    std::string heap_buf;
    char* const buf =
        size <= stack_buf.size() ? stack_buf.data() : (heap_buf.resize(size), heap_buf.data());
    for (std::size_t k = 0; k < count; ++k) buf[k] = digit_at(n, first + k);
    buf[count] = 'e';
    char* const end = std::to_chars(buf + count + 1, buf + size, e).ptr;
    double d = 0;
    const auto [ptr, ec] = std::from_chars(buf, end, d);
    if (ec == std::errc::result_out_of_range)
        // At least 1 × 10^e when count + e > 0: an overflow; otherwise an underflow.
        return static_cast<std::int64_t>(count) + e > 0 ? HUGE_VAL : 0.0;
    if (ec != std::errc{} || ptr != end) return 0.0;  // unreachable: the text is well formed
    return d;
}

}  // namespace number_detail

}  // namespace mb
