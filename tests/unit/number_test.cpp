#include "normalize/number.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace mb {
namespace {

TEST(NumberTest, JsonGrammar) {
    for (const char* ok : {"0", "-0", "5", "-12", "0.5", "10.25", "1e5", "1E+5", "-2.5e-3", "0e0",
                           "123456789012345678901234567890"})
        EXPECT_TRUE(is_json_number(ok)) << ok;
    for (const char* bad : {"", "-", "+1", "01", "-01", ".5", "5.", "1e", "1e+", "1.e5", "0x10",
                            " 1", "1 ", "NaN", "Infinity", "1.5.2", "--1", "1e5e5", "١"})
        EXPECT_FALSE(is_json_number(bad)) << bad;
}

TEST(NumberTest, DecimalGrammar) {
    for (const char* ok : {"5", "+5", "-5", "5.", ".5", "007", "1e3", "+.5E-2", "-0"})
        EXPECT_TRUE(is_decimal(ok)) << ok;
    for (const char* bad : {"", "+", ".", "+.", "e5", "1e", "5 ", " 5", "5..", "1e1.5", "0x1"})
        EXPECT_FALSE(is_decimal(bad)) << bad;
}

TEST(NumberTest, Parts) {
    DecimalNumber n;
    ASSERT_TRUE(read_json_number("-0.00120e-7", n));
    EXPECT_TRUE(n.negative);
    EXPECT_EQ(n.int_digits, "0");
    EXPECT_EQ(n.frac_digits, "00120");
    EXPECT_EQ(n.exponent, -7);
    EXPECT_EQ(n.mantissa, 120U);
    EXPECT_EQ(n.significant, 3U);  // trailing zeros count, leading ones do not
    EXPECT_EQ(significant_digits(n), 2U);
    EXPECT_FALSE(n.is_integer());

    ASSERT_TRUE(read_json_number("1e99999999999999999999", n));
    EXPECT_EQ(n.exponent, kDecimalExponentLimit);
    ASSERT_TRUE(read_decimal("5.", n));
    EXPECT_TRUE(n.has_point);
    EXPECT_FALSE(n.is_integer());
    ASSERT_TRUE(read_json_number("0", n));
    EXPECT_EQ(n.significant, 0U);
    EXPECT_EQ(significant_digits(n), 0U);
}

TEST(NumberTest, XsDouble) {
    DecimalNumber n;
    EXPECT_EQ(read_xs_double(" \t1600041600.0\n", n), XsDoubleForm::number);
    EXPECT_EQ(n.text, "1600041600.0");
    EXPECT_EQ(read_xs_double(".5", n), XsDoubleForm::number);
    EXPECT_EQ(read_xs_double("+1.5E3", n), XsDoubleForm::number);
    for (const char* special : {"NaN", "INF", "-INF", "+inf", "Infinity", "nan"})
        EXPECT_EQ(read_xs_double(special, n), XsDoubleForm::not_finite) << special;
    for (const char* bad : {"", " ", ".", "1,5", "INFO", "1 2", "0x1p3"})
        EXPECT_EQ(read_xs_double(bad, n), XsDoubleForm::invalid) << bad;
}

TEST(NumberTest, ToInt64) {
    DecimalNumber n;
    ASSERT_TRUE(read_json_number("9223372036854775807", n));
    EXPECT_EQ(to_int64(n), std::numeric_limits<std::int64_t>::max());
    ASSERT_TRUE(read_json_number("-9223372036854775808", n));
    EXPECT_EQ(to_int64(n), std::numeric_limits<std::int64_t>::min());
    ASSERT_TRUE(read_json_number("9223372036854775808", n));
    EXPECT_EQ(to_int64(n), std::nullopt);
    ASSERT_TRUE(read_json_number("-9223372036854775809", n));
    EXPECT_EQ(to_int64(n), std::nullopt);
    ASSERT_TRUE(read_json_number("00000000000000000000000000042", n) ||
                read_decimal("00000000000000000000000000042", n));
    EXPECT_EQ(to_int64(n), 42);
}

double scaled(std::string_view text, std::int64_t shift) {
    DecimalNumber n;
    EXPECT_TRUE(read_decimal(text, n)) << text;
    return scaled_magnitude(n, shift);
}

TEST(NumberTest, ScalingIsExact) {
    // A double multiply is one ulp off on these; the shifted decimal is not.
    EXPECT_NE(1.005 * 1000.0, 1005.0);
    EXPECT_EQ(scaled("1.005", 3), 1005.0);
    EXPECT_EQ(scaled("0.123", 3), 123.0);
    EXPECT_EQ(scaled("4.35", 2), 435.0);
    EXPECT_EQ(scaled("1600041600.000", 3), 1600041600000.0);  // trailing zeros: still fast
    EXPECT_EQ(scaled("-2.5", 0), 2.5);                        // a magnitude
    EXPECT_EQ(scaled("12345", -3), 12.345);
    EXPECT_EQ(scaled("0.1", 0), 0.1);
    EXPECT_EQ(scaled("-0", 3), 0.0);
    EXPECT_EQ(scaled("0e999999999999999", 3), 0.0);
}

TEST(NumberTest, ScalingSlowPathRoundsOnce) {
    // More than 19 significant digits, or exponents beyond 10^22: the library
    // conversion of the shifted digits, rounded once.
    EXPECT_EQ(scaled("1.2345678901234567890123", 3), 1234.5678901234567890123);
    EXPECT_EQ(scaled("123456789012345678901234567890", -10), 12345678901234567890.1234567890);
    EXPECT_EQ(scaled("1e30", -3), 1e27);
    EXPECT_EQ(scaled("9007199254740993", 0), 9007199254740992.0);  // 2^53 + 1: ties to even
    // The halfway case a two-step conversion gets wrong: 2^53 + 1 then × 10.
    EXPECT_EQ(scaled("900719925474099.3", 1), 9007199254740992.0);
    EXPECT_EQ(scaled("0.000000000000000000000000000001", 30), 1.0);
    // Leading and trailing zeros around the digits do not count.
    EXPECT_EQ(scaled("0000000000000000000000001.5000000000000000000000", 1), 15.0);
}

TEST(NumberTest, ScalingRange) {
    EXPECT_EQ(scaled("1.7976931348623157e308", 0), std::numeric_limits<double>::max());
    EXPECT_TRUE(std::isinf(scaled("1.7976931348623159e308", 0)));
    EXPECT_TRUE(std::isinf(scaled("1e306", 3)));
    EXPECT_TRUE(std::isinf(scaled("1e99999999999999999999", -3)));
    EXPECT_EQ(scaled("5e-324", 0), std::numeric_limits<double>::denorm_min());
    EXPECT_EQ(scaled("1e-400", 3), 0.0);
    EXPECT_EQ(scaled("1e-99999999999999999999", 3), 0.0);
    // A written exponent balanced by many digits is not saturated away.
    const std::string long_fraction = "0." + std::string(150000, '0') + "1e150005";
    EXPECT_EQ(scaled(long_fraction, 0), 10000.0);
}

TEST(NumberTest, PowerOfTenExponent) {
    EXPECT_EQ(power_of_ten_exponent(1.0), 0);
    EXPECT_EQ(power_of_ten_exponent(1000.0), 3);
    EXPECT_EQ(power_of_ten_exponent(-0.001), -3);
    EXPECT_EQ(power_of_ten_exponent(1e22), 22);
    EXPECT_EQ(power_of_ten_exponent(1e-22), -22);
    EXPECT_EQ(power_of_ten_exponent(1e23), std::nullopt);
    EXPECT_EQ(power_of_ten_exponent(2.0), std::nullopt);
    EXPECT_EQ(power_of_ten_exponent(0.0), std::nullopt);
    EXPECT_EQ(power_of_ten_exponent(0.1 * 3), std::nullopt);
}

}  // namespace
}  // namespace mb
