// Per-series freshness and cadence (series_stats, kept by the Store), per-meter
// staleness and completeness, gaps, the stale_after key, and the index behind
// readings_v's integer times — on real SQLite files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "connectors/builtin.h"
#include "connectors/tuya/tuya_platform.h"
#include "daemon/config.h"
#include "storage/cadence.h"
#include "storage/meters.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace mb {
namespace {

using ::testing::HasSubstr;

constexpr TimeMs kT0 = 1646092800000;  // 2022-03-01T00:00:00Z
constexpr TimeMs kMin = 60 * 1000;
constexpr TimeMs kDay = 24 * 60 * kMin;
constexpr const char* kEnergy = "electricity.energy.consumption";
constexpr const char* kIndex = "electricity.energy.consumption.index";

Envelope message(const std::string& source, std::vector<Reading> readings, TimeMs received_at) {
    Envelope e;
    e.raw = RawMessage{source, "t/" + source, "{}", {}, received_at};
    e.result.readings = std::move(readings);
    return e;
}

// One day of interval readings of `step` from `day`, one message received after the day.
Envelope day_message(const std::string& source, const std::string& meter, TimeMs day, TimeMs step,
                     double value = 10) {
    std::vector<Reading> rs;
    for (TimeMs t = day; t < day + kDay; t += step)
        rs.push_back(Reading{meter, kEnergy, "Wh", Kind::interval, t, t + step, value});
    return message(source, std::move(rs), day + kDay + 5 * kMin);
}

// An Å Insite-like register index at `t`, received 2 s later.
Envelope instant(const std::string& meter, TimeMs t, double value) {
    return message("ainsite", {Reading{meter, kIndex, "Wh", Kind::cumulative, t, t, value}},
                   t + 2000);
}

class MetersTest : public ::testing::Test {
  protected:
    MetersTest() : store(Store::open(dir / "mb.db", StoreOptions{})) {}

    void apply(std::vector<Envelope> b) { store.apply(b); }

    // The series_stats row of (source, meter, quantity) as
    // first, last, last_received, readings, cadence, arrival.
    std::vector<std::int64_t> stats(const std::string& source, const std::string& meter,
                                    const std::string& quantity) {
        sql::Stmt st(store.db(),
                     "SELECT t.first_ts, t.last_ts, t.last_received, t.readings, t.cadence_ms, "
                     "t.arrival_ms FROM series_stats t JOIN series s ON s.id = t.series_id "
                     "WHERE s.source = ?1 AND s.meter = ?2 AND s.quantity = ?3");
        std::vector<std::int64_t> out;
        if (st.run(source, meter, quantity))
            for (int i = 0; i < 6; ++i) out.push_back(st.column_int(i));
        return out;
    }

    test::TempDir dir;
    Store store;
};

TEST(IntervalRing, AgreesDespiteOneGapOrOneResend) {
    IntervalRing r;
    EXPECT_EQ(r.learned(), 0);
    for (int i = 0; i < 5; ++i) r.push(15 * kMin);
    r.push(24 * 60 * kMin);  // a missing day
    EXPECT_EQ(r.learned(), 15 * kMin);
    r.push(3000);  // a resend shortly after
    EXPECT_EQ(r.learned(), 15 * kMin);
    r.push(0);  // same time twice: not an interval
    EXPECT_EQ(r.size(), IntervalRing::kSize);
    EXPECT_EQ(IntervalRing::parse(r.format()).format(), r.format());
    EXPECT_EQ(IntervalRing::parse(r.format()).learned(), 15 * kMin);
}

TEST_F(MetersTest, LearnsTheCadenceOf15_30And60MinuteDays) {
    apply({day_message("voltaware", "q", kT0, 15 * kMin),
           day_message("voltaware", "h", kT0, 30 * kMin),
           day_message("voltaware", "o", kT0, 60 * kMin)});
    EXPECT_EQ(stats("voltaware", "q", kEnergy)[4], 15 * kMin);
    EXPECT_EQ(stats("voltaware", "h", kEnergy)[4], 30 * kMin);
    EXPECT_EQ(stats("voltaware", "o", kEnergy)[4], 60 * kMin);
    // One message so far: no arrival interval yet; the next day teaches it.
    EXPECT_EQ(stats("voltaware", "q", kEnergy)[5], 0);
    apply({day_message("voltaware", "q", kT0 + kDay, 15 * kMin)});
    const auto q = stats("voltaware", "q", kEnergy);
    EXPECT_EQ(q[0], kT0);
    EXPECT_EQ(q[1], kT0 + 2 * kDay - 15 * kMin);
    EXPECT_EQ(q[2], kT0 + 2 * kDay + 5 * kMin);
    EXPECT_EQ(q[3], 192);
    EXPECT_EQ(q[4], 15 * kMin);
    EXPECT_EQ(q[5], kDay);
}

TEST_F(MetersTest, LearnsOneMinuteInstantsDespiteAResendAndAGap) {
    for (int i = 0; i < 8; ++i) apply({instant("m1", kT0 + i * kMin, 1000.0 + i)});
    Envelope resend = instant("m1", kT0 + 7 * kMin, 1007.0);  // resent 30 s later: a duplicate
    resend.raw.received_at += 30000;
    apply({resend});
    apply({instant("m1", kT0 + 20 * kMin, 1020.0)});  // after a gap
    apply({instant("m1", kT0 + 21 * kMin, 1021.0)});
    const auto s = stats("ainsite", "m1", kIndex);
    EXPECT_EQ(s[0], kT0);
    EXPECT_EQ(s[1], kT0 + 21 * kMin);
    EXPECT_EQ(s[3], 10);  // the duplicate is not a reading more
    EXPECT_EQ(s[4], kMin);
    EXPECT_EQ(s[5], kMin);
}

TEST_F(MetersTest, LearnsDailyEnergyAcrossADaylightSavingChange) {
    // French local days in UTC: 23:00Z in winter, 22:00Z from 2022-03-27 (a 23 h day).
    std::vector<Reading> rs;
    TimeMs start = kT0 + 20 * kDay - 60 * kMin;  // 2022-03-20T23:00Z
    for (int i = 0; i < 12; ++i) {
        const TimeMs end = start + kDay - (i == 6 ? 60 * kMin : 0);
        rs.push_back(Reading{"prm", kEnergy, "Wh", Kind::interval, start, end, 5000});
        start = end;
    }
    apply({message("enedis", std::move(rs), kT0 + 33 * kDay)});
    EXPECT_EQ(stats("enedis", "prm", kEnergy)[4], kDay);
}

TEST_F(MetersTest, OlderReadingsDuplicatesAndRevisionsDoNotMoveFreshnessBackwards) {
    apply({day_message("voltaware", "m", kT0 + kDay, 15 * kMin)});
    const auto before = stats("voltaware", "m", kEnergy);
    // The day before arrives late, then today's day again, then a revised value.
    Envelope older = day_message("voltaware", "m", kT0, 15 * kMin);
    older.raw.received_at = before[2] - 1000;
    apply({older});
    Envelope again = day_message("voltaware", "m", kT0 + kDay, 15 * kMin);
    again.raw.received_at = before[2] - 500;
    apply({again});
    Envelope revised = day_message("voltaware", "m", kT0 + kDay, 15 * kMin, 11);
    revised.raw.received_at = before[2] - 200;
    apply({revised});
    const auto after = stats("voltaware", "m", kEnergy);
    EXPECT_EQ(after[0], kT0);        // the first reading did move earlier
    EXPECT_EQ(after[1], before[1]);  // not the last one
    EXPECT_EQ(after[2], before[2]);  // nor the last received
    EXPECT_EQ(after[3], 192);        // new rows only
    EXPECT_EQ(after[4], 15 * kMin);
}

TEST_F(MetersTest, AMissingVoltawareDayIsAGapWithItsBoundsAndCount) {
    apply({day_message("voltaware", "m", kT0, 15 * kMin)});
    apply({day_message("voltaware", "m", kT0 + 2 * kDay, 15 * kMin)});
    apply({day_message("voltaware", "other", kT0, 15 * kMin)});
    const auto gaps = find_gaps(store.db(), GapsQuery{"voltaware", {}, {}, {}, {}});
    ASSERT_EQ(gaps.size(), 2u);
    EXPECT_EQ(gaps[0].meter, "m");
    EXPECT_EQ(gaps[0].cadence_ms, 15 * kMin);
    ASSERT_EQ(gaps[0].gaps.size(), 1u);
    EXPECT_EQ(gaps[0].gaps[0].from, kT0 + kDay);
    EXPECT_EQ(gaps[0].gaps[0].to, kT0 + 2 * kDay);
    EXPECT_EQ(gaps[0].gaps[0].missing, 96);
    EXPECT_TRUE(gaps[1].gaps.empty());
    // A range starting inside the gap still sees it, anchored on the reading before.
    const auto inside =
        find_gaps(store.db(), GapsQuery{"voltaware", "m", kEnergy, kT0 + kDay + 60 * kMin, {}});
    ASSERT_EQ(inside.size(), 1u);
    ASSERT_EQ(inside[0].gaps.size(), 1u);
    EXPECT_EQ(inside[0].gaps[0].from, kT0 + kDay);
    // A range that ends before it does not.
    const auto first_day = find_gaps(store.db(), GapsQuery{"voltaware", "m", {}, kT0, kT0 + kDay});
    EXPECT_TRUE(first_day.at(0).gaps.empty());
}

TEST_F(MetersTest, AnInsiteMeterSilentForTenCadencesIsStaleAt3xNotAt1h) {
    for (int i = 0; i < 6; ++i) {
        apply({instant("silent", kT0 + i * kMin, 1.0 * i)});
        apply({instant("alive", kT0 + i * kMin, 1.0 * i)});
    }
    for (int i = 6; i < 16; ++i) apply({instant("alive", kT0 + i * kMin, 1.0 * i)});
    apply({day_message("voltaware", "v", kT0 - kDay, 15 * kMin)});
    const TimeMs now = kT0 + 15 * kMin + 2000 + 10;  // "silent": ten minutes since its last
    const std::map<std::string, StaleRule> three_x{{"ainsite", StaleRule{}}};
    const auto all = list_meters(store.db(), MetersQuery{}, now, three_x);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].meter, "alive");
    EXPECT_FALSE(all[0].stale);
    EXPECT_EQ(all[1].meter, "silent");
    EXPECT_TRUE(all[1].stale);
    EXPECT_EQ(all[1].last_received, kT0 + 5 * kMin + 2000);
    EXPECT_EQ(all[1].series.at(0).cadence_ms, kMin);
    EXPECT_EQ(all[1].series.at(0).arrival_ms, kMin);

    MetersQuery only_stale;
    only_stale.stale_only = true;
    const auto stale = list_meters(store.db(), only_stale, now, three_x);
    ASSERT_EQ(stale.size(), 1u);
    EXPECT_EQ(stale[0].meter, "silent");
    EXPECT_EQ(count_stale_meters(store.db(), now, three_x),
              (std::map<std::string, std::uint64_t>{{"ainsite", 1}, {"voltaware", 0}}));

    const std::map<std::string, StaleRule> hour{{"ainsite", StaleRule{3600 * 1000, 3.0}}};
    EXPECT_TRUE(list_meters(store.db(), only_stale, now, hour).empty());
    EXPECT_EQ(count_stale_meters(store.db(), now, hour).at("ainsite"), 0u);
    // An hour later it is stale by "1h" too.
    EXPECT_EQ(count_stale_meters(store.db(), now + 3600 * 1000, hour).at("ainsite"), 2u);
}

// A backfill: twenty quarter-hours arriving 10 ms apart teach an arrival
// interval of 10 ms, but the meter is not due again before its cadence.
TEST_F(MetersTest, ABurstOfMessagesDoesNotMakeAMeterStaleAtOnce) {
    const TimeMs received = kT0 + kDay;
    for (TimeMs i = 0; i < 20; ++i) {
        const TimeMs t = kT0 + i * 15 * kMin;
        apply({message("voltaware", {Reading{"b", kEnergy, "Wh", Kind::interval, t, t + 15 * kMin, 1}},
                       received + i * 10)});
    }
    EXPECT_EQ(stats("voltaware", "b", kEnergy).at(5), 10);  // the arrival interval learned
    const std::map<std::string, StaleRule> three_x{{"voltaware", StaleRule{}}};
    const TimeMs last = received + 19 * 10;
    EXPECT_EQ(count_stale_meters(store.db(), last + 30 * kMin, three_x).at("voltaware"), 0u);
    EXPECT_EQ(count_stale_meters(store.db(), last + 46 * kMin, three_x).at("voltaware"), 1u);
}

TEST_F(MetersTest, CompletenessCountsPresentOverExpectedInTheWindow) {
    // Two days of 15-minute readings, of which 8 are missing on the second day.
    apply({day_message("voltaware", "m", kT0, 15 * kMin)});
    Envelope second = day_message("voltaware", "m", kT0 + kDay, 15 * kMin);
    second.result.readings.erase(second.result.readings.begin() + 10,
                                 second.result.readings.begin() + 18);
    apply({second});
    const TimeMs now = kT0 + 2 * kDay;
    MetersQuery q;
    q.window_ms = 2 * kDay;
    EXPECT_DOUBLE_EQ(list_meters(store.db(), q, now, {}).at(0).series.at(0).completeness,
                     184.0 / 192.0);
    q.window_ms = kDay;  // the second day only
    EXPECT_DOUBLE_EQ(list_meters(store.db(), q, now, {}).at(0).series.at(0).completeness,
                     88.0 / 96.0);
    q.window_ms = 3 * kDay;  // before the first reading nothing was expected
    EXPECT_DOUBLE_EQ(list_meters(store.db(), q, now, {}).at(0).series.at(0).completeness,
                     184.0 / 192.0);
}

TEST_F(MetersTest, AOneMeterTimeRangeOnTheViewUsesIndexesNotAScan) {
    apply({day_message("voltaware", "m", kT0, 15 * kMin)});
    sql::Stmt plan(store.db(),
                   "EXPLAIN QUERY PLAN SELECT * FROM readings_v WHERE source = 'voltaware' AND "
                   "meter = 'm' AND quantity = 'electricity.energy.consumption' AND "
                   "ts_start_ms >= 1646092800000 AND ts_start_ms < 1646179200000");
    std::vector<std::string> details;
    while (plan.step()) details.emplace_back(plan.column_text(3));
    ASSERT_FALSE(details.empty());
    bool by_series = false;
    for (const auto& d : details) {
        EXPECT_THAT(d, ::testing::Not(::testing::StartsWith("SCAN"))) << d;
        by_series = by_series || (d.find("readings_by_series") != std::string::npos &&
                                  d.find("ts_start>? AND ts_start<?") != std::string::npos);
    }
    EXPECT_TRUE(by_series) << ::testing::PrintToString(details);
}

TEST(StaleAfterKey, TakesADurationOrAMultipleAndNamesTheKeyWhenBad) {
    ASSERT_TRUE(parse_stale_rule("3x"));
    EXPECT_FALSE(parse_stale_rule("3x")->after_ms);
    EXPECT_DOUBLE_EQ(parse_stale_rule("2.5x")->multiple, 2.5);
    EXPECT_EQ(parse_stale_rule("15m")->after_ms, 15 * kMin);
    EXPECT_EQ(parse_stale_rule("PT15M")->after_ms, 15 * kMin);
    for (const char* bad : {"", "x", "0x", "-1x", "soon", "3 x", "0s"})
        EXPECT_FALSE(parse_stale_rule(bad)) << bad;

    const auto config = [](const std::string& connector) {
        return load_config_text(
            "[storage]\npath = \"/tmp/mb.db\"\n[brokers.local]\n"
            "host = \"127.0.0.1\"\n[[connectors]]\nbroker = \"local\"\n" +
                connector,
            "/etc/mb/t.toml", builtin_registry());
    };
    const auto fine =
        config("name = \"v\"\ntype = \"voltaware\"\ntopics = [\"v/#\"]\nstale_after = \"PT2H\"\n");
    ASSERT_TRUE(fine.config) << (fine.errors.empty() ? "" : fine.errors[0].message);
    EXPECT_EQ(stale_rules(*fine.config).at("v").after_ms, 2 * 60 * kMin);
    const auto by_default = config("name = \"v\"\ntype = \"voltaware\"\ntopics = [\"v/#\"]\n");
    ASSERT_TRUE(by_default.config);
    EXPECT_FALSE(stale_rules(*by_default.config).at("v").after_ms);
    EXPECT_DOUBLE_EQ(stale_rules(*by_default.config).at("v").multiple, 3.0);

    const auto bad =
        config("name = \"v\"\ntype = \"voltaware\"\ntopics = [\"v/#\"]\nstale_after = \"often\"\n");
    ASSERT_FALSE(bad.config);
    ASSERT_EQ(bad.errors.size(), 1u);
    EXPECT_EQ(bad.errors[0].key, "connectors[0].stale_after");
    EXPECT_THAT(bad.errors[0].message, HasSubstr("'often'"));

    // Tuya keeps its meaning: 3 minutes by default, a duration also times its devices.
    const auto tuya = [&](const std::string& extra) {
        return config("name = \"t\"\ntype = \"tuya\"\ngateways = [\"gw1\"]\n" + extra);
    };
    const auto tuya_default = tuya("");
    ASSERT_TRUE(tuya_default.config);
    EXPECT_EQ(stale_rules(*tuya_default.config).at("t").after_ms, 3 * kMin);
    const auto tuya_set = tuya("stale_after = \"10m\"\n");
    ASSERT_TRUE(tuya_set.config);
    const auto* o = dynamic_cast<const TuyaOptions*>(tuya_set.config->connectors[0].options.get());
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->stale_after.count(), 10 * kMin);
    const auto tuya_bad = tuya("stale_after = \"8d\"\n");
    ASSERT_FALSE(tuya_bad.config);
    EXPECT_EQ(tuya_bad.errors.at(0).key, "connectors[0].stale_after");
}

}  // namespace
}  // namespace mb
