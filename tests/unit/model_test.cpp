#include <gtest/gtest.h>

#include "normalize/model.h"
#include "normalize/quantity.h"
#include "normalize/time_format.h"

namespace mb {
namespace {

TEST(TimeFormat, FormatsMillisecondsAndZ) {
    EXPECT_EQ(format_iso_ms(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(format_iso_ms(1646092800000), "2022-03-01T00:00:00.000Z");
    EXPECT_EQ(format_iso_ms(1646092800123), "2022-03-01T00:00:00.123Z");
    EXPECT_EQ(format_iso_ms(-1), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(format_iso_ms(951782400000), "2000-02-29T00:00:00.000Z");
}

TEST(TimeFormat, ParsesIso8601Forms) {
    EXPECT_EQ(parse_iso8601("2022-03-01T00:00:00.000Z"), 1646092800000);
    EXPECT_EQ(parse_iso8601("2022-03-01T00:00:00Z"), 1646092800000);
    EXPECT_EQ(parse_iso8601("2022-03-01"), 1646092800000);
    EXPECT_EQ(parse_iso8601("2022-03-01T01:00:00+01:00"), 1646092800000);
    EXPECT_EQ(parse_iso8601("2022-02-28T23:00:00-01:00"), 1646092800000);
    EXPECT_EQ(parse_iso8601("2022-03-01T00:00:00.5Z"), 1646092800500);
    EXPECT_EQ(parse_iso8601("2022-03-01T00:00:00.123456Z"), 1646092800123);
}

TEST(TimeFormat, RejectsMalformedTimestamps) {
    for (const char* bad :
         {"", "2022", "2022-3-01", "2022-02-30", "2022-03-01T00:00:00",  // no zone
          "2022-03-01T24:00:00Z", "2022-03-01T00:00Z", "2022-03-01T00:00:00.Z",
          "2022-03-01T00:00:00Zjunk", "2022-03-01 00:00:00Z", "x022-03-01"})
        EXPECT_FALSE(parse_iso8601(bad).has_value()) << bad;
}

TEST(TimeFormat, RoundTrips) {
    for (TimeMs t : {TimeMs{0}, TimeMs{1646092800123}, TimeMs{4102444799999}, TimeMs{-86400001}})
        EXPECT_EQ(parse_iso8601(format_iso_ms(t)), t);
}

TEST(Quantity, CanonicalTableMatchesDesign) {
    const auto e = quantity::find("electricity.energy.consumption");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->unit, "Wh");
    EXPECT_EQ(e->kind, Kind::interval);
    EXPECT_EQ(quantity::find("water.volume.index")->kind, Kind::cumulative);
    EXPECT_EQ(quantity::find("water.volume.shared.hot")->kind, Kind::instant);
    EXPECT_EQ(quantity::find("electricity.power.production")->unit, "W");
    EXPECT_EQ(quantity::all().size(), 10u);
    EXPECT_FALSE(quantity::find("electricity.energy"));
}

TEST(Quantity, ValidNames) {
    EXPECT_TRUE(quantity::is_valid_name("register.7"));
    EXPECT_TRUE(quantity::is_valid_name("register.temp_1"));
    EXPECT_TRUE(quantity::is_valid_name("electricity.energy.production"));
    EXPECT_FALSE(quantity::is_valid_name("register."));
    EXPECT_FALSE(quantity::is_valid_name("register.a b"));
    EXPECT_FALSE(quantity::is_valid_name("energy"));
}

TEST(Model, RejectReasonText) {
    EXPECT_EQ((Reject{RejectCode::missing_field, "date"}.reason()), "missing_field: date");
    EXPECT_EQ((Reject{RejectCode::oversized, ""}.reason()), "oversized");
    EXPECT_EQ(to_string(RejectCode::unsupported_content_type), "unsupported_content_type");
    EXPECT_EQ(parse_kind("cumulative"), Kind::cumulative);
    EXPECT_FALSE(parse_kind("Cumulative"));
}

}  // namespace
}  // namespace mb

namespace mb {
namespace {

DecodeResult one_reading(TimeMs start, TimeMs end) {
    DecodeResult r;
    r.readings.push_back(
        Reading{"m1", "electricity.energy.consumption", "Wh", Kind::interval, start, end, 1});
    return r;
}

TEST(CheckReadingTimes, RejectsWhatNoMeterCanHaveMeasured) {
    const TimeMs received = 1796256000000;  // 2026-12-03T00:00:00Z
    const TimeMs day = 86400000;
    auto ok = one_reading(631152000000, 631152000000 + 900000);  // 1990-01-01: the first day kept
    check_reading_times(ok, received);
    EXPECT_TRUE(ok.ok());
    auto ends_tomorrow = one_reading(received, received + day);  // a day ending a day ahead
    check_reading_times(ends_tomorrow, received);
    EXPECT_TRUE(ends_tomorrow.ok());

    auto seconds = one_reading(1646092800, 1646093700);  // seconds given as milliseconds
    check_reading_times(seconds, received);
    ASSERT_FALSE(seconds.ok());
    EXPECT_EQ(seconds.reject->code, RejectCode::out_of_range);
    EXPECT_NE(seconds.reject->detail.find("starts at 1970-01-20T01:14:52.800Z, before 1990"),
              std::string::npos)
        << seconds.reject->detail;
    EXPECT_TRUE(seconds.readings.empty());

    auto future = one_reading(received, received + day + 1);
    check_reading_times(future, received);
    ASSERT_FALSE(future.ok());
    EXPECT_NE(future.reject->detail.find("more than a day after it was received"),
              std::string::npos);

    // A rejection from the decoder stays as it is.
    auto rejected = DecodeResult::rejected(RejectCode::malformed, "not valid JSON");
    check_reading_times(rejected, received);
    EXPECT_EQ(rejected.reject->detail, "not valid JSON");
}

}  // namespace
}  // namespace mb
