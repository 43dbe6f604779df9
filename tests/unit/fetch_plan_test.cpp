#include "connectors/enedis/fetch_plan.h"

#include <gtest/gtest.h>

#include "normalize/time_format.h"

namespace mb {
namespace {

Day day(const char* s) {
    return *parse_day(s);
}
DayRange range(const char* a, const char* b) {
    return {day(a), day(b)};
}
TimeMs at(const char* iso) {
    return *parse_iso8601(iso);
}

TEST(DaySet, MergesOverlappingAndAdjacentRangesAndListsWhatIsMissing) {
    DaySet s;
    s.add(range("2024-01-10", "2024-01-15"));
    s.add(range("2024-01-01", "2024-01-05"));
    s.add(range("2024-01-05", "2024-01-07"));  // adjacent: merged
    s.add(range("2024-01-14", "2024-01-20"));  // overlapping: merged
    EXPECT_EQ(s.to_string(), "2024-01-01/2024-01-07 2024-01-10/2024-01-20");
    EXPECT_TRUE(s.contains(day("2024-01-06")));
    EXPECT_FALSE(s.contains(day("2024-01-07")));
    EXPECT_EQ(
        s.missing(range("2023-12-30", "2024-01-25")),
        (std::vector<DayRange>{range("2023-12-30", "2024-01-01"), range("2024-01-07", "2024-01-10"),
                               range("2024-01-20", "2024-01-25")}));
    EXPECT_TRUE(s.missing(range("2024-01-02", "2024-01-06")).empty());
    EXPECT_EQ(DaySet::parse(s.to_string()), s);
    EXPECT_EQ(DaySet::parse(""), DaySet{});
    EXPECT_FALSE(DaySet::parse("2024-01-05/2024-01-01").has_value());
    EXPECT_FALSE(DaySet::parse("2024-02-30/2024-03-01").has_value());
    EXPECT_FALSE(DaySet::parse("2024-01-01").has_value());
}

TEST(ParisDays, DstDaysAre23And25Hours) {
    EXPECT_EQ(paris_midnight(day("2024-03-31")), at("2024-03-30T23:00:00Z"));
    EXPECT_EQ(paris_midnight(day("2024-04-01")), at("2024-03-31T22:00:00Z"));
    EXPECT_EQ(paris_midnight(day("2024-10-28")) - paris_midnight(day("2024-10-27")), 25 * 3600000);
    EXPECT_EQ(paris_day(at("2024-03-31T22:30:00Z")), day("2024-04-01"));
    EXPECT_EQ(paris_day(at("2024-01-01T00:00:00Z")), day("2024-01-01"));
    EXPECT_EQ(paris_day(at("2023-12-31T22:59:59Z")), day("2023-12-31"));
    EXPECT_EQ(paris_minute_of_day(at("2024-07-01T06:30:00Z")), 8 * 60 + 30);
}

TEST(FetchPlan, YesterdayIsWantedOnlyOncePublished) {
    FetchPlanInput in;
    in.backfill_days = 10;
    in.now = at("2024-05-20T05:59:00Z");  // 07:59 in Paris: yesterday not yet published
    EXPECT_EQ(wanted_range(in), range("2024-05-10", "2024-05-19"));
    in.now = at("2024-05-20T06:00:00Z");  // 08:00
    EXPECT_EQ(wanted_range(in), range("2024-05-10", "2024-05-20"));
    in.floor = day("2024-05-15");  // the meter was commissioned then
    EXPECT_EQ(wanted_range(in), range("2024-05-15", "2024-05-20"));
    in.floor = day("2024-06-01");
    EXPECT_TRUE(wanted_range(in).empty());
}

TEST(FetchPlan, WindowsAreNewestFirstWithinTheUpstreamLimitAndSkipWhatIsDone) {
    FetchPlanInput in;
    in.kind = FetchKind::load_curve;
    in.backfill_days = 30;
    in.now = at("2024-05-31T12:00:00Z");
    in.done.add(range("2024-05-20", "2024-05-25"));
    EXPECT_EQ(plan_windows(in),
              (std::vector<DayRange>{
                  range("2024-05-25", "2024-05-31"), range("2024-05-13", "2024-05-20"),
                  range("2024-05-06", "2024-05-13"), range("2024-05-01", "2024-05-06")}));
    in.kind = FetchKind::daily;
    in.backfill_days = 800;
    in.done = DaySet{};
    const auto w = plan_windows(in);
    ASSERT_EQ(w.size(), 3u);
    for (const auto& x : w) EXPECT_LE(x.days(), 365);
    EXPECT_EQ(w.front().to, day("2024-05-31"));
    EXPECT_EQ(w.back().from, day("2022-03-23"));
    in.done.add(wanted_range(in));
    EXPECT_TRUE(plan_windows(in).empty());
}

TEST(Schedule, ParsesTheThreeFormsAndSaysWhyNot) {
    std::string why;
    EXPECT_EQ(parse_schedule("once", why)->kind, Schedule::Kind::once);
    const auto d = parse_schedule("daily 08:30", why);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->minute_of_day, 510);
    const auto e = parse_schedule("every 6h", why);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->period, std::chrono::hours(6));
    EXPECT_FALSE(parse_schedule("daily 25:00", why));
    EXPECT_NE(why.find("HH:MM"), std::string::npos);
    EXPECT_FALSE(parse_schedule("every 1m", why));
    EXPECT_FALSE(parse_schedule("hourly", why));
    EXPECT_NE(why.find("once"), std::string::npos);
}

TEST(Schedule, NextRunsFollowParisTimeAcrossDst) {
    std::string why;
    const auto daily = *parse_schedule("daily 08:30", why);
    const TimeMs now = at("2024-03-30T12:00:00Z");
    EXPECT_EQ(next_run(daily, std::nullopt, now), now);  // never ran: now
    // Ran on 30 March (CET, 07:30Z); the next is 31 March 08:30 CEST = 06:30Z.
    EXPECT_EQ(next_run(daily, at("2024-03-30T07:30:00Z"), now), at("2024-03-31T06:30:00Z"));
    const auto every = *parse_schedule("every 6h", why);
    EXPECT_EQ(next_run(every, at("2024-03-30T07:00:00Z"), now), at("2024-03-30T13:00:00Z"));
    EXPECT_EQ(next_run(every, at("2024-03-29T07:00:00Z"), now), now);  // overdue: now
    const auto once = *parse_schedule("once", why);
    EXPECT_EQ(next_run(once, std::nullopt, now), now);
    EXPECT_FALSE(next_run(once, now, now).has_value());
}

}  // namespace
}  // namespace mb
