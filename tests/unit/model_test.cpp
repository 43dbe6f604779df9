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

TEST(CheckTimes, RejectsWhatNoMeterCanHaveMeasured) {
    const TimeMs received = 1796256000000;  // 2026-12-03T00:00:00Z
    const TimeMs day = 86400000;
    // 1990-01-01: the first day kept.
    EXPECT_FALSE(check_times(one_reading(631152000000, 631152000000 + 900000), received));
    // A day ending a day ahead; the running total of a month that has just begun.
    EXPECT_FALSE(check_times(one_reading(received, received + day), received));
    EXPECT_FALSE(check_times(one_reading(received - 3600000, received + 31 * day), received));

    const auto seconds = check_times(one_reading(1646092800, 1646093700), received);
    ASSERT_TRUE(seconds);  // seconds given as milliseconds
    EXPECT_EQ(seconds->code, RejectCode::out_of_range);
    EXPECT_EQ(seconds->detail,
              "reading 0 (electricity.energy.consumption of meter m1) starts at "
              "1970-01-20T01:14:52.800Z, before 1990: seconds read as milliseconds, or a meter "
              "clock never set?");

    const auto future = check_times(one_reading(received + day + 1, received + day + 2), received);
    ASSERT_TRUE(future);
    EXPECT_EQ(future->detail,
              "reading 0 (electricity.energy.consumption of meter m1) starts at "
              "2026-12-04T00:00:00.001Z, more than a day after it was received "
              "(2026-12-03T00:00:00.000Z)");
    const auto endless = check_times(one_reading(received, received + 32 * day + 1), received);
    ASSERT_TRUE(endless);
    EXPECT_EQ(endless->detail,
              "reading 0 (electricity.energy.consumption of meter m1) ends at "
              "2027-01-04T00:00:00.001Z, more than 32 days after it was received "
              "(2026-12-03T00:00:00.000Z): no interval runs past the current month");

    // State events follow the same rule.
    DecodeResult states;
    states.states = {StateEvent{"w7", "valve_state", "open", received},
                     StateEvent{"w7", "valve_state", "open", 31536000000}};
    const auto state = check_times(states, received);
    ASSERT_TRUE(state);
    EXPECT_EQ(state->detail,
              "state event 1 (valve_state of meter w7) is at 1971-01-01T00:00:00.000Z, before "
              "1990: seconds read as milliseconds, or a meter clock never set?");
    states.states[1].ts = received + day + 1;
    ASSERT_TRUE(check_times(states, received));
    states.states[1].ts = received + day;
    EXPECT_FALSE(check_times(states, received));

    // A rejection from the decoder is not looked at again.
    EXPECT_FALSE(
        check_times(DecodeResult::rejected(RejectCode::malformed, "not valid JSON"), received));
}

}  // namespace
}  // namespace mb
