#include "daemon/http/status_page.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include "normalize/time_format.h"

namespace mb::http {
namespace {

constexpr TimeMs kT0 = 1646092800000;  // 2022-03-01T00:00:00Z
constexpr TimeMs k15m = 15 * 60 * 1000;
constexpr TimeMs kDay = 24 * 60 * 60 * 1000;

std::size_t count(const std::string& hay, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
    return n;
}

// A day of 15-minute readings of one meter, the window being that day.
StatusPage day_page(std::size_t readings = 96) {
    StatusPage p;
    p.now = kT0 + kDay;
    p.query.source = "voltaware";
    p.query.meter = "m1";
    p.query.quantity = "electricity.energy.consumption";
    Chart c;
    c.series = {"voltaware", "m1", "electricity.energy.consumption", "Wh", "interval"};
    c.from = kT0;
    c.to = kT0 + kDay;
    for (std::size_t i = 0; i < readings; ++i) {
        const auto start = kT0 + static_cast<TimeMs>(i) * k15m;
        c.readings.push_back({start, start + k15m, 100.0 + static_cast<double>(i % 7) * 12.5});
    }
    p.chart = c;
    return p;
}

struct Circle {
    double cx, cy;
    std::string start, ts, value;
};

std::vector<Circle> circles(const std::string& html) {
    static const std::regex re(
        R"re(<circle class="pt" cx="([0-9.]+)" cy="([0-9.]+)" r="[0-9.]+" data-start="([^"]+)" data-ts="([^"]+)" data-value="([^"]+)">)re");
    std::vector<Circle> out;
    for (std::sregex_iterator it(html.begin(), html.end(), re), end; it != end; ++it)
        out.push_back({std::stod((*it)[1]), std::stod((*it)[2]), (*it)[3], (*it)[4], (*it)[5]});
    return out;
}

TEST(StatusPage, EscapesEveryOutsideText) {
    const std::string hostile = "<script>alert(\"x\")</script>&'\x1b[2J";
    auto p = day_page(3);
    p.chart->series.meter = hostile;
    p.query.meter = hostile;
    p.series.push_back({"voltaware", hostile, "electricity.energy.consumption", "Wh", "interval"});
    p.connectors.push_back({"mqtt<b>", "voltaware", "reconnecting", hostile, 1, 2, 3});
    p.stale.push_back({"voltaware", hostile, kT0});
    p.rejects.push_back({kT0, "voltaware", "t/" + hostile, "malformed: " + hostile,
                         "{\"x\":\"" + hostile + "\"}", 40});
    JobRunRow job;
    job.source = "enedis";
    job.job = "daily";
    job.outcome = "error";
    job.error = hostile;
    p.jobs.push_back(job);
    ConsentRow consent;
    consent.source = "enedis";
    consent.usage_point = hostile;
    consent.state = "granted";
    p.consents.push_back(consent);
    p.query.errors.push_back("window must be P1D, P7D or P30D, not " + hostile);

    const auto html = render_status_page(p);
    EXPECT_EQ(count(html, "<script"), 0u);
    EXPECT_EQ(count(html, "<b>alert"), 0u);
    EXPECT_EQ(html.find('\x1b'), std::string::npos);
    EXPECT_EQ(count(html, "mqtt<b>"), 0u);
    // As text: in the chart title, the series list, connectors, stale, rejects
    // (topic and reason; the payload is cut), jobs, consents, the error, the form.
    const std::string escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;\\e[2J";
    EXPECT_GE(count(html, escaped), 10u) << html;
    // In links, percent-encoded.
    EXPECT_NE(html.find("meter=%3Cscript%3Ealert%28%22x%22%29%3C%2Fscript%3E%26%27%1B%5B2J"),
              std::string::npos);
    EXPECT_NE(html.find("mqtt&lt;b&gt;"), std::string::npos);
}

TEST(StatusPage, HtmlEscapeHandlesQuotesAmpersandsAndInvalidUtf8) {
    EXPECT_EQ(html_escape("a&b<c>\"d'"), "a&amp;b&lt;c&gt;&quot;d&#39;");
    EXPECT_EQ(html_escape("caf\xc3\xa9"), "caf\xc3\xa9");  // valid UTF-8 kept
    EXPECT_EQ(html_escape("x\xff\n"), "x\\xff\\n");
}

TEST(StatusPage, IsAnHtmlResponse) {
    const auto r = status_page_response(day_page());
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
    EXPECT_EQ(r.body, render_status_page(day_page()));
    EXPECT_TRUE(r.body.starts_with("<!DOCTYPE html>"));
}

TEST(StatusPage, CarriesNoScriptAndItsOwnContentSecurityPolicy) {
    const auto html = render_status_page(day_page());
    EXPECT_EQ(count(html, "<script"), 0u);
    EXPECT_EQ(count(html, "http://"), 1u);  // the SVG namespace, not a resource
    EXPECT_EQ(count(html, "https://"), 0u);
    EXPECT_NE(html.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                        "&#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:\">"),
              std::string::npos);
}

TEST(StatusPageChart, ScaleMapsTheWindowOntoThePlot) {
    const chart::Scale s{kT0, kT0 + kDay, 0, 400};
    EXPECT_DOUBLE_EQ(s.x(kT0), chart::kLeft);
    EXPECT_DOUBLE_EQ(s.x(kT0 + kDay), chart::kLeft + chart::kPlotWidth);
    EXPECT_DOUBLE_EQ(s.x(kT0 + kDay / 4), chart::kLeft + chart::kPlotWidth / 4.0);
    EXPECT_DOUBLE_EQ(s.y(0), chart::kTop + chart::kPlotHeight);
    EXPECT_DOUBLE_EQ(s.y(400), chart::kTop);
    EXPECT_DOUBLE_EQ(s.y(100), chart::kTop + chart::kPlotHeight * 0.75);
    // A degenerate range draws in the middle rather than dividing by zero.
    const chart::Scale flat{kT0, kT0, 5, 5};
    EXPECT_DOUBLE_EQ(flat.x(kT0), chart::kLeft + chart::kPlotWidth / 2.0);
    EXPECT_DOUBLE_EQ(flat.y(5), chart::kTop + chart::kPlotHeight / 2.0);
}

TEST(StatusPageChart, EachReadingIsAPointAtItsIntervalEndWithItsExactTimeAndValue) {
    auto p = day_page(96);
    p.chart->readings[5].value = 0.1 + 0.2;  // not a short decimal: must round-trip
    const auto html = render_status_page(p);
    const auto c = circles(html);
    ASSERT_EQ(c.size(), 96u);
    const auto [lo, hi] = std::minmax_element(
        p.chart->readings.begin(), p.chart->readings.end(),
        [](const ChartPoint& a, const ChartPoint& b) { return a.value < b.value; });
    const auto ticks = chart::value_ticks(lo->value, hi->value);
    const chart::Scale s{kT0, kT0 + kDay, ticks.front(), ticks.back()};
    for (std::size_t i = 0; i < c.size(); ++i) {
        const auto& r = p.chart->readings[i];
        EXPECT_EQ(c[i].start, format_iso_ms(r.ts_start));
        EXPECT_EQ(c[i].ts, format_iso_ms(r.ts_end));
        EXPECT_EQ(std::stod(c[i].value), r.value) << c[i].value;
        EXPECT_NEAR(c[i].cx, s.x(r.ts_end), 0.006);
        EXPECT_NEAR(c[i].cy, s.y(r.value), 0.006);
    }
    EXPECT_EQ(c[5].value, "0.30000000000000004");
    EXPECT_EQ(c[0].ts, "2022-03-01T00:15:00.000Z");
    EXPECT_NE(html.find("each interval is drawn as a point at its end"), std::string::npos);
    EXPECT_NE(html.find(">Wh</text>"), std::string::npos);  // the unit on the value axis
    EXPECT_EQ(html.find("id=\"downsampled\""), std::string::npos);
}

TEST(StatusPageChart, AxesHaveRoundUtcTicks) {
    const auto t = chart::time_ticks(kT0, kT0 + kDay);
    ASSERT_GE(t.size(), 4u);
    EXPECT_LE(t.size(), 10u);
    for (const auto x : t) EXPECT_EQ(x % (3 * 60 * 60 * 1000), 0);  // 3-hour steps for a day
    EXPECT_EQ(t.front(), kT0);
    const auto week = chart::time_ticks(kT0 + 1, kT0 + 7 * kDay + 1);
    ASSERT_FALSE(week.empty());
    for (const auto x : week) EXPECT_EQ(x % kDay, 0);  // midnights UTC
    EXPECT_EQ(week.front(), kT0 + kDay);

    const auto v = chart::value_ticks(3, 97);
    EXPECT_EQ(v.front(), 0);
    EXPECT_EQ(v.back(), 100);
    EXPECT_EQ(v[1] - v[0], 20);
    const auto flat = chart::value_ticks(5, 5);  // one value: a range around it
    EXPECT_LT(flat.front(), 5);
    EXPECT_GT(flat.back(), 5);

    const auto html = render_status_page(day_page());
    EXPECT_NE(html.find("data-t=\"2022-03-01T03:00:00.000Z\">03-01 03:00</text>"),
              std::string::npos);
    EXPECT_NE(html.find("time (UTC)"), std::string::npos);
}

TEST(StatusPageChart, DownsamplesToMinAndMaxPerPixelColumnBeyondTheBound) {
    std::vector<ChartPoint> r;
    const std::size_t n = 86400;  // a day of one-second readings
    for (std::size_t i = 0; i < n; ++i) {
        const auto ts = kT0 + static_cast<TimeMs>(i) * 1000;
        r.push_back({ts, ts + 1000, std::sin(static_cast<double>(i) / 500.0) * 1000});
    }
    r[40000].value = 5000;   // a spike must survive
    r[60000].value = -5000;  // and a dip
    const auto kept = chart::downsample(r, kT0, kT0 + kDay + 1000);
    EXPECT_LE(kept.size(), kMaxChartPoints);
    EXPECT_GT(kept.size(), kMaxChartPoints / 2);
    EXPECT_TRUE(std::is_sorted(kept.begin(), kept.end()));
    EXPECT_NE(std::find(kept.begin(), kept.end(), 40000u), kept.end());
    EXPECT_NE(std::find(kept.begin(), kept.end(), 60000u), kept.end());
    // At the bound nothing is dropped.
    std::vector<ChartPoint> few(r.begin(), r.begin() + kMaxChartPoints);
    EXPECT_EQ(chart::downsample(few, kT0, kT0 + kDay).size(), kMaxChartPoints);
    // A smaller bound holds too, whatever the number of columns.
    EXPECT_LE(chart::downsample(r, kT0, kT0 + kDay, 100, 1000).size(), 100u);

    auto p = day_page(0);
    p.chart->readings = r;
    const auto html = render_status_page(p);
    EXPECT_LE(circles(html).size(), kMaxChartPoints);
    EXPECT_NE(html.find("id=\"downsampled\""), std::string::npos);
    EXPECT_NE(html.find("86400 readings in the window"), std::string::npos);
    EXPECT_NE(html.find("data-value=\"5000\""), std::string::npos);
    EXPECT_NE(html.find("data-value=\"-5000\""), std::string::npos);
}

TEST(StatusPageChart, GapsAreShadedOverTheirTimeRangeAndBreakTheLine) {
    auto p = day_page(96);
    // 06:00–08:00 missing; and one reaching before the window (clipped to it).
    std::erase_if(p.chart->readings, [](const ChartPoint& r) {
        return r.ts_start >= kT0 + 6 * 4 * k15m && r.ts_start < kT0 + 8 * 4 * k15m;
    });
    p.chart->gaps.push_back({kT0 + 6 * 4 * k15m, kT0 + 8 * 4 * k15m, 8});
    p.chart->gaps.push_back({kT0 - kDay, kT0 + k15m, 97});
    const auto html = render_status_page(p);
    const chart::Scale s{kT0, kT0 + kDay, 0, 1};
    const auto rect = fmt::format(
        "<rect class=\"gap\" x=\"{:.2f}\" y=\"{}\" width=\"{:.2f}\" height=\"{}\" "
        "data-from=\"2022-03-01T06:00:00.000Z\" data-to=\"2022-03-01T08:00:00.000Z\" "
        "data-missing=\"8\">",
        s.x(kT0 + 6 * 4 * k15m), chart::kTop, s.x(kT0 + 8 * 4 * k15m) - s.x(kT0 + 6 * 4 * k15m),
        chart::kPlotHeight);
    EXPECT_NE(html.find(rect), std::string::npos) << rect;
    const auto clipped = fmt::format("<rect class=\"gap\" x=\"{:.2f}\" y=\"{}\" width=\"{:.2f}\"",
                                     s.x(kT0), chart::kTop, s.x(kT0 + k15m) - s.x(kT0));
    EXPECT_NE(html.find(clipped), std::string::npos) << clipped;
    EXPECT_EQ(count(html, "<rect class=\"gap\""), 2u);
    // One line before the gap, one after (the clipped gap ends before the first point's end).
    EXPECT_EQ(count(html, "<polyline class=\"line\""), 2u);
    EXPECT_EQ(circles(html).size(), 88u);
    EXPECT_NE(html.find("<table id=\"gaps\">"), std::string::npos);
}

TEST(StatusPageChart, EmptyStatesAreReadable) {
    auto p = day_page(0);
    auto html = render_status_page(p);
    EXPECT_NE(html.find("No readings in this window."), std::string::npos);
    EXPECT_EQ(circles(html).size(), 0u);
    EXPECT_EQ(count(html, "<polyline"), 0u);
    EXPECT_NE(html.find("class=\"xticks\"><line"), std::string::npos);  // the time axis stays

    StatusPage none;
    none.now = kT0;
    html = render_status_page(none);
    EXPECT_NE(html.find("id=\"chart-empty\""), std::string::npos);
    EXPECT_EQ(html.find("<svg"), std::string::npos);
    EXPECT_NE(html.find("No series is stored yet."), std::string::npos);
    EXPECT_NE(html.find("No connectors are configured."), std::string::npos);
    EXPECT_NE(html.find("No meter is stale."), std::string::npos);
    EXPECT_NE(html.find("The daemon's counters are not available."), std::string::npos);
}

TEST(StatusPage, ListsAreBounded) {
    StatusPage p;
    p.now = kT0 + kDay;
    for (int i = 0; i < 80; ++i)
        p.rejects.push_back(
            {kT0 + i, "voltaware", "t", "malformed: x", std::string(5000, 'a'), 70000});
    for (std::size_t i = 0; i < kMaxRows + 10; ++i)
        p.stale.push_back({"ainsite", fmt::format("m{}", i), kT0});
    const auto html = render_status_page(p);
    EXPECT_EQ(count(html, "<tr class=\"reject\">"), kMaxRejects);
    EXPECT_NE(html.find(std::string(kPayloadExcerpt, 'a')), std::string::npos);
    EXPECT_EQ(html.find(std::string(kPayloadExcerpt + 1, 'a')), std::string::npos);
    EXPECT_NE(html.find("(70000 bytes received)"), std::string::npos);
    EXPECT_NE(html.find(fmt::format("Showing {} of {} stale meters.", kMaxRows, kMaxRows + 10)),
              std::string::npos);
    EXPECT_NE(html.find(">1d 0h</td>"), std::string::npos);  // silent for
}

}  // namespace
}  // namespace mb::http
