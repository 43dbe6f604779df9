#include "daemon/http/status_model.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "storage/query.h"
#include "storage/store.h"
#include "tests/support/status_fixture.h"
#include "tests/support/temp_dir.h"

namespace mb::http {
namespace {

using test::StatusFixture;

bool has_error(const std::vector<std::string>& errors, const std::string& part) {
    for (const auto& e : errors)
        if (e.find(part) != std::string::npos) return true;
    return false;
}

TEST(PageQuery, ReadsTheChosenSeriesAndWindow) {
    const auto q = parse_page_query(
        "/?source=voltaware&meter=a%2Fb+c%3C&quantity=electricity.energy.consumption&window=P7D");
    EXPECT_TRUE(q.errors.empty());
    ASSERT_TRUE(q.chosen());
    EXPECT_EQ(*q.meter, "a/b c<");
    EXPECT_EQ(q.window, Window::week);
    EXPECT_EQ(window_ms(q.window), 7 * StatusFixture::kDay);

    const auto plain = parse_page_query("/");
    EXPECT_TRUE(plain.errors.empty());
    EXPECT_FALSE(plain.chosen());
    EXPECT_EQ(plain.window, Window::day);
    // The empty form: every field empty means nothing chosen, no error.
    const auto empty = parse_page_query("/?source=&meter=&quantity=&window=P1D");
    EXPECT_TRUE(empty.errors.empty());
    EXPECT_FALSE(empty.source.has_value());
}

TEST(PageQuery, NamesWhatItDoesNotUnderstand) {
    EXPECT_TRUE(has_error(parse_page_query("/?window=P2D").errors,
                          "window must be P1D, P7D or P30D, not 'P2D'"));
    EXPECT_TRUE(has_error(parse_page_query("/?colour=red").errors, "unknown parameter 'colour'"));
    EXPECT_TRUE(has_error(parse_page_query("/?meter=%zz").errors,
                          "'meter=%zz' is not valid percent-encoding"));
    EXPECT_TRUE(has_error(parse_page_query("/?meter=%4").errors, "not valid percent-encoding"));
    EXPECT_TRUE(
        has_error(parse_page_query("/?source=a&source=b").errors, "'source' is given twice"));
    EXPECT_TRUE(has_error(parse_page_query("/?meter=" + std::string(300, 'x')).errors,
                          "'meter' is longer than 256 bytes"));
    EXPECT_TRUE(has_error(parse_page_query("/?source=a&meter=b").errors,
                          "a chart needs source, meter and quantity; missing: quantity"));
    std::string many = "/?";
    for (int i = 0; i < 40; ++i) many += "x=1&";
    const auto m = parse_page_query(many);
    EXPECT_TRUE(has_error(m.errors, "more than 16 parameters"));
    EXPECT_LE(m.errors.size(), 17u);
    // A hostile value is quoted, not echoed raw, in the message.
    const auto h = parse_page_query("/?window=%3Cscript%3E%0A");
    ASSERT_EQ(h.errors.size(), 1u);
    EXPECT_EQ(h.errors[0].find('\n'), std::string::npos);
}

class StatusModelTest : public ::testing::Test {
  protected:
    StatusModelTest() {
        auto store = Store::open(dir / "mb.db", StoreOptions{});
        StatusFixture::fill(store);
    }
    test::TempDir dir;
};

TEST_F(StatusModelTest, LoadsEverythingTheDatabaseKnows) {
    auto db = open_read_only(dir / "mb.db");
    const auto q = parse_page_query(
        "/?source=voltaware&meter=m1&quantity=" + StatusFixture::kEnergy + "&window=P1D");
    const auto p = load_status_page(db, q, StatusFixture::kNow);
    EXPECT_TRUE(p.errors.empty()) << p.errors.front();
    EXPECT_EQ(p.now, StatusFixture::kNow);

    ASSERT_EQ(p.sources.size(), 3u);  // ainsite, enedis (its job records), voltaware
    EXPECT_EQ(p.sources[2].source, "voltaware");
    EXPECT_EQ(p.sources[2].readings, 92);
    EXPECT_EQ(p.sources[2].rejected, 1);

    ASSERT_EQ(p.rejects.size(), 1u);
    EXPECT_EQ(p.rejects[0].reason, "malformed: not valid JSON at <b>");
    EXPECT_EQ(p.rejects[0].payload, "{\"consumptionKwh\": <b>oops");

    ASSERT_EQ(p.jobs.size(), 2u);  // the latest run of each job
    EXPECT_EQ(p.jobs[0].job, "curve");
    EXPECT_EQ(p.jobs[1].job, "daily");
    EXPECT_EQ(p.jobs[1].outcome, "no_consent");
    EXPECT_EQ(p.jobs[1].started_at, StatusFixture::kDay0 + StatusFixture::kHour);
    EXPECT_EQ(p.jobs[0].records, 48);

    ASSERT_EQ(p.consents.size(), 1u);
    EXPECT_EQ(p.consents[0].state, "granted");

    ASSERT_EQ(p.series.size(), 2u);
    EXPECT_EQ(p.series[0].meter, StatusFixture::kHostile);
    EXPECT_EQ(p.series[0].kind, "cumulative");
    EXPECT_EQ(p.series[1].meter, "m1");
    EXPECT_FALSE(p.series_truncated);

    // The chart: exactly the stored readings whose start lies in the window.
    ASSERT_TRUE(p.chart.has_value());
    EXPECT_EQ(p.chart->series.unit, "Wh");
    EXPECT_EQ(p.chart->from, StatusFixture::kDay0);
    EXPECT_EQ(p.chart->to, StatusFixture::kNow);
    const auto stored = StatusFixture::stored_day(db);
    ASSERT_EQ(stored.size(), 88u);
    ASSERT_EQ(p.chart->readings.size(), stored.size());
    for (std::size_t i = 0; i < stored.size(); ++i) {
        EXPECT_EQ(p.chart->readings[i].ts_start, stored[i].ts_start);
        EXPECT_EQ(p.chart->readings[i].ts_end, stored[i].ts_end);
        EXPECT_EQ(p.chart->readings[i].value, stored[i].value);
    }
    EXPECT_FALSE(p.chart->readings_truncated);
}

TEST_F(StatusModelTest, TheWindowEndsAtNow) {
    auto db = open_read_only(dir / "mb.db");
    const auto q = parse_page_query(
        "/?source=voltaware&meter=m1&quantity=" + StatusFixture::kEnergy + "&window=P7D");
    const auto p = load_status_page(db, q, StatusFixture::kNow);
    ASSERT_TRUE(p.chart.has_value());
    EXPECT_EQ(p.chart->readings.size(), 92u);  // the day before too
    const auto earlier = load_status_page(db, q, StatusFixture::kDay0);
    ASSERT_TRUE(earlier.chart.has_value());
    EXPECT_EQ(earlier.chart->readings.size(), 4u);
}

TEST_F(StatusModelTest, AnUnknownSeriesIsAMessageNotAChart) {
    auto db = open_read_only(dir / "mb.db");
    const auto p = load_status_page(
        db, parse_page_query("/?source=voltaware&meter=nope&quantity=x"), StatusFixture::kNow);
    EXPECT_FALSE(p.chart.has_value());
    EXPECT_TRUE(has_error(p.errors, "no series 'voltaware' / 'nope' / 'x' is stored"));
    EXPECT_EQ(p.series.size(), 2u);  // the rest of the page is there
}

TEST_F(StatusModelTest, TheChartReadsThroughTheSeriesIndexNotAScan) {
    auto db = open_read_only(dir / "mb.db");
    sql::Stmt st(db, "EXPLAIN QUERY PLAN " + std::string(kChartReadingsSql));
    std::string plan;
    while (st.step()) plan += std::string(st.column_text(3)) + "\n";
    EXPECT_NE(plan.find("USING INDEX readings_by_series (series_id=? AND ts_start>? AND "
                        "ts_start<?)"),
              std::string::npos)
        << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

TEST(StatusModel, ADatabaseErrorIsShownNotThrown) {
    test::TempDir dir;
    // A file with no meterbridge tables: every query fails.
    auto db = sql::Db::open(dir / "empty.db", sql::Db::Mode::read_write_create);
    const auto p = load_status_page(db, PageQuery{}, StatusFixture::kNow);
    EXPECT_TRUE(has_error(p.errors, "the database could not be read: "));
    EXPECT_NE(render_status_page(p).find("the database could not be read"), std::string::npos);
}

}  // namespace
}  // namespace mb::http
