// The calendar of the Tuya canonical mapping: the day (DP3) and month (DP2)
// intervals at the edges of the Gregorian calendar (leap years, century
// years, month and year ends, the last representable time, before the epoch
// in local time), for offsets on both sides of UTC and the clamped limits.
// The offset is the one in force at t: a DST day still counts 24 h.
#include <gtest/gtest.h>

#include <ostream>
#include <stdexcept>
#include <string>

#include "normalize/time_format.h"
#include "normalize/tuya/tuya_canonical.h"

namespace mb {
namespace {

TimeMs at(const char* iso) {
    const auto t = parse_iso8601(iso);
    if (!t) throw std::runtime_error(std::string("bad time in test: ") + iso);
    return *t;
}

struct Span {
    std::string start, end;
    bool operator==(const Span&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Span& s) {
    return os << "[" << s.start << ", " << s.end << ")";
}

// The interval of DP `dp` reported at t with the meter `offset` minutes ahead of UTC.
Span interval(int dp, TimeMs t, int offset = 0) {
    TuyaPropertyReport r;
    r.t = t;
    // Moved in, not assigned from a literal: GCC 12 at -O3 reports a false
    // -Wrestrict for a short literal assigned to an existing string.
    r.request_id = std::string("r");
    r.cid = std::string("c");
    r.dp = dp;
    r.value.type = TuyaDpType::value;
    r.value.integer = 1;
    TuyaCanonicalOptions o;
    o.utc_offset_minutes = offset;
    const auto c = dp_report_to_canonical(r, {}, o);
    if (c.readings.size() != 1) return {};
    return {format_iso_ms(c.readings[0].ts_start), format_iso_ms(c.readings[0].ts_end)};
}

constexpr int kMonth = 2;
constexpr int kDay = 3;

TEST(TuyaCanonicalCalendar, LeapYears) {
    EXPECT_EQ(interval(kMonth, at("2024-02-29T12:00:00Z")),
              (Span{"2024-02-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z"}));
    EXPECT_EQ(interval(kDay, at("2024-02-29T23:59:59.999Z")),
              (Span{"2024-02-29T00:00:00.000Z", "2024-03-01T00:00:00.000Z"}));
    EXPECT_EQ(interval(kMonth, at("2023-02-28T23:59:59.999Z")),
              (Span{"2023-02-01T00:00:00.000Z", "2023-03-01T00:00:00.000Z"}));
    // Century years: 2000 is a leap year, 2100 is not.
    EXPECT_EQ(interval(kMonth, at("2000-02-29T00:00:00Z")),
              (Span{"2000-02-01T00:00:00.000Z", "2000-03-01T00:00:00.000Z"}));
    EXPECT_EQ(interval(kDay, at("2100-02-28T10:00:00Z")),
              (Span{"2100-02-28T00:00:00.000Z", "2100-03-01T00:00:00.000Z"}));
    EXPECT_EQ(interval(kMonth, at("2100-02-28T10:00:00Z")),
              (Span{"2100-02-01T00:00:00.000Z", "2100-03-01T00:00:00.000Z"}));
}

TEST(TuyaCanonicalCalendar, MonthAndYearEnds) {
    EXPECT_EQ(interval(kMonth, at("2022-04-30T23:59:59.999Z")),
              (Span{"2022-04-01T00:00:00.000Z", "2022-05-01T00:00:00.000Z"}));
    EXPECT_EQ(interval(kMonth, at("2022-05-01T00:00:00Z")),
              (Span{"2022-05-01T00:00:00.000Z", "2022-06-01T00:00:00.000Z"}));
    EXPECT_EQ(interval(kMonth, at("2022-12-31T23:59:59.999Z")),
              (Span{"2022-12-01T00:00:00.000Z", "2023-01-01T00:00:00.000Z"}));
    EXPECT_EQ(interval(kDay, at("2022-12-31T23:59:59.999Z")),
              (Span{"2022-12-31T00:00:00.000Z", "2023-01-01T00:00:00.000Z"}));
    // The last time a message may carry: its month ends in year 10000.
    const auto last = interval(kMonth, at("9999-12-31T23:59:59.999Z"));
    EXPECT_EQ(last.start, "9999-12-01T00:00:00.000Z");
    EXPECT_EQ(interval(kMonth, tuya_max_time_ms).start, "9999-12-01T00:00:00.000Z");
}

TEST(TuyaCanonicalCalendar, OffsetsMoveTheBoundaries) {
    // East of UTC: 2022-01-31T23:30Z is already February at +01:00.
    EXPECT_EQ(interval(kMonth, at("2022-01-31T23:30:00Z"), 60),
              (Span{"2022-01-31T23:00:00.000Z", "2022-02-28T23:00:00.000Z"}));
    EXPECT_EQ(interval(kDay, at("2022-01-31T23:30:00Z"), 60),
              (Span{"2022-01-31T23:00:00.000Z", "2022-02-01T23:00:00.000Z"}));
    // West of UTC: 2023-01-01T02:00Z is still December 2022 at -05:00.
    EXPECT_EQ(interval(kMonth, at("2023-01-01T02:00:00Z"), -300),
              (Span{"2022-12-01T05:00:00.000Z", "2023-01-01T05:00:00.000Z"}));
    // A leap day that starts, in UTC, on the 28th.
    EXPECT_EQ(interval(kDay, at("2024-02-28T22:30:00Z"), 90),
              (Span{"2024-02-28T22:30:00.000Z", "2024-02-29T22:30:00.000Z"}));
    // Offsets are clamped to ±23:59.
    EXPECT_EQ(interval(kDay, at("2022-03-01T12:00:00Z"), 5000),
              interval(kDay, at("2022-03-01T12:00:00Z"), 1439));
    EXPECT_EQ(interval(kDay, at("2022-03-01T12:00:00Z"), -5000),
              interval(kDay, at("2022-03-01T12:00:00Z"), -1439));
}

TEST(TuyaCanonicalCalendar, LocalTimeBeforeTheEpoch) {
    // 1 ms after the epoch is still 1969 one hour west of UTC.
    TuyaPropertyReport r;
    r.t = 1;
    r.cid = "c";
    r.dp = kDay;
    r.value.integer = 1;
    TuyaCanonicalOptions o;
    o.utc_offset_minutes = -60;
    auto c = dp_report_to_canonical(r, {}, o);
    ASSERT_EQ(c.readings.size(), 1u);
    EXPECT_EQ(c.readings[0].ts_start, -86400000 + 3600000);  // 1969-12-31T01:00Z
    EXPECT_EQ(c.readings[0].ts_end, 3600000);                // 1970-01-01T01:00Z
    r.dp = kMonth;
    c = dp_report_to_canonical(r, {}, o);
    ASSERT_EQ(c.readings.size(), 1u);
    EXPECT_EQ(c.readings[0].ts_start, -31 * 86400000LL + 3600000);  // 1969-12-01T01:00Z
    EXPECT_EQ(c.readings[0].ts_end, 3600000);
}

TEST(TuyaCanonicalCalendar, DstDaysUseTheOffsetInForceAtT) {
    // Europe/Paris, 2024-03-31 (23 h locally): before the change the connector
    // passes +01:00, after it +02:00; either way the interval is 24 h long.
    EXPECT_EQ(interval(kDay, at("2024-03-31T00:30:00Z"), 60),
              (Span{"2024-03-30T23:00:00.000Z", "2024-03-31T23:00:00.000Z"}));
    EXPECT_EQ(interval(kDay, at("2024-03-31T12:00:00Z"), 120),
              (Span{"2024-03-30T22:00:00.000Z", "2024-03-31T22:00:00.000Z"}));
    // 2024-10-27 (25 h locally), after the change back to +01:00.
    EXPECT_EQ(interval(kMonth, at("2024-10-27T12:00:00Z"), 60),
              (Span{"2024-09-30T23:00:00.000Z", "2024-10-31T23:00:00.000Z"}));
}

}  // namespace
}  // namespace mb
