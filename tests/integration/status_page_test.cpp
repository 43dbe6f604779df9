// The status page as a real browser sees it: rendered from a real database,
// loaded from a file by Debian's headless Chromium, checked in the DOM the
// browser built, and photographed.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "daemon/http/status_model.h"
#include "daemon/http/status_page.h"
#include "normalize/time_format.h"
#include "storage/query.h"
#include "storage/store.h"
#include "tests/support/chromium.h"
#include "tests/support/process.h"
#include "tests/support/status_fixture.h"
#include "tests/support/temp_dir.h"

namespace mb {
namespace {

using test::StatusFixture;

std::size_t count(const std::string& hay, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
    return n;
}

// The text between `<tag id="id"` and the next `</tag>`.
std::string element(const std::string& dom, const std::string& tag, const std::string& id) {
    const auto start = dom.find("<" + tag + " id=\"" + id + "\"");
    if (start == std::string::npos) return {};
    const auto end = dom.find("</" + tag + ">", start);
    return dom.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

struct Png {
    std::uintmax_t bytes = 0;
    std::uint32_t width = 0, height = 0;
};

Png read_png(const std::filesystem::path& p) {
    const auto data = test::read_file(p);
    Png png;
    png.bytes = data.size();
    // The signature, then the IHDR chunk: length, "IHDR", width, height (big-endian).
    if (data.size() < 24 || data.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 ||
        data.compare(12, 4, "IHDR") != 0)
        return png;
    auto be32 = [&](std::size_t at) {
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(data[at + i]);
        return v;
    };
    png.width = be32(16);
    png.height = be32(20);
    return png;
}

class StatusPageBrowserTest : public ::testing::Test {
  protected:
    StatusPageBrowserTest() {
        auto store = Store::open(dir / "mb.db", StoreOptions{});
        StatusFixture::fill(store);
    }

    // The page as the daemon would serve it for `target`, written to a file.
    std::filesystem::path render(const std::string& target) {
        auto db = open_read_only(dir / "mb.db");
        auto page = http::load_status_page(db, http::parse_page_query(target), StatusFixture::kNow);
        // What the daemon fills from its live state.
        page.daemon = http::DaemonCounters{97, 116, 3, 1, 1, 0};
        page.connectors = {{"voltaware", "voltaware", "running", "", 3, 1, 0},
                           {"enedis", "enedis", "reconnecting", "connection refused", 0, 0, 4}};
        page.stale.push_back({"ainsite", StatusFixture::kHostile, StatusFixture::kNow - 30000});
        if (page.chart)
            page.chart->gaps.push_back({StatusFixture::kGapFrom, StatusFixture::kGapTo, 8});
        const auto path = dir / "status.html";
        test::write_file(path, http::render_status_page(page));
        return path;
    }

    test::TempDir dir;
};

TEST_F(StatusPageBrowserTest, TheBrowserShowsTheTablesAndOnePointPerStoredReading) {
    const auto html =
        render("/?source=voltaware&meter=m1&quantity=" + StatusFixture::kEnergy + "&window=P1D");
    const auto dom = test::chromium_dump_dom(html);

    const auto connectors = element(dom, "table", "connectors");
    ASSERT_FALSE(connectors.empty()) << dom;
    EXPECT_NE(connectors.find("<td class=\"bad\">reconnecting</td>"), std::string::npos);
    EXPECT_NE(connectors.find("connection refused"), std::string::npos);
    EXPECT_NE(connectors.find("<td class=\"n\">4</td>"), std::string::npos);  // reconnects

    const auto rejects = element(dom, "table", "rejects");
    EXPECT_NE(rejects.find("malformed: not valid JSON at &lt;b&gt;"), std::string::npos) << rejects;
    EXPECT_NE(rejects.find("voltaware/readings"), std::string::npos);
    EXPECT_NE(element(dom, "table", "jobs").find("no_consent"), std::string::npos);
    EXPECT_NE(element(dom, "table", "consents").find("22516914714270"), std::string::npos);
    EXPECT_NE(element(dom, "table", "sources").find("voltaware"), std::string::npos);

    // The hostile meter id is text in the stale table and the series list, never an element.
    EXPECT_EQ(count(dom, "<script"), 0u);
    EXPECT_EQ(
        count(element(dom, "table", "stale"), "&lt;script&gt;alert(\"m\")&lt;/script&gt;&amp;'"),
        1u);
    EXPECT_EQ(
        count(element(dom, "table", "series"), "&lt;script&gt;alert(\"m\")&lt;/script&gt;&amp;'"),
        1u);

    // One point per stored reading of the window, carrying its exact end time and value.
    auto db = open_read_only(dir / "mb.db");
    const auto stored = StatusFixture::stored_day(db);
    ASSERT_EQ(stored.size(), 88u);
    static const std::regex point(
        R"re(<circle class="pt"[^>]* data-start="([^"]+)" data-ts="([^"]+)" data-value="([^"]+)")re");
    std::vector<std::smatch> points;
    for (std::sregex_iterator it(dom.begin(), dom.end(), point), end; it != end; ++it)
        points.push_back(*it);
    ASSERT_EQ(points.size(), stored.size());
    for (std::size_t i = 0; i < stored.size(); ++i) {
        EXPECT_EQ(points[i][1].str(), format_iso_ms(stored[i].ts_start));
        EXPECT_EQ(points[i][2].str(), format_iso_ms(stored[i].ts_end));
        EXPECT_EQ(std::stod(points[i][3].str()), stored[i].value) << points[i][3].str();
    }
    EXPECT_NE(dom.find("<rect class=\"gap\""), std::string::npos);
    EXPECT_NE(
        dom.find("data-from=\"2022-03-01T06:00:00.000Z\" data-to=\"2022-03-01T08:00:00.000Z\""),
        std::string::npos);
}

TEST_F(StatusPageBrowserTest, AScreenshotShowsThePage) {
    const auto html = render("/?source=voltaware&meter=m1&quantity=" + StatusFixture::kEnergy);
    test::chromium_screenshot(html, dir / "status.png");
    // The same browser's picture of an empty page, for comparison.
    test::write_file(dir / "blank.html", "<!DOCTYPE html><html><body></body></html>");
    test::chromium_screenshot(dir / "blank.html", dir / "blank.png");

    const auto page = read_png(dir / "status.png"), blank = read_png(dir / "blank.png");
    EXPECT_EQ(page.width, 1280u);
    EXPECT_EQ(page.height, 2000u);
    EXPECT_EQ(blank.width, 1280u);
    // Text, tables and a chart compress far worse than one flat colour.
    EXPECT_GT(page.bytes, 20u * 1024) << page.bytes;
    EXPECT_GT(page.bytes, 5 * blank.bytes) << page.bytes << " vs blank " << blank.bytes;
}

TEST_F(StatusPageBrowserTest, ABadQueryIsAMessageOnAWorkingPage) {
    const auto dom = test::chromium_dump_dom(render("/?window=P2D&meter=<b>"));
    const auto errors = element(dom, "div", "errors");
    EXPECT_NE(errors.find("window must be P1D, P7D or P30D, not 'P2D'"), std::string::npos)
        << errors;
    EXPECT_NE(errors.find("missing: source, quantity"), std::string::npos);
    EXPECT_FALSE(element(dom, "table", "connectors").empty());
    EXPECT_EQ(count(dom, "<circle"), 0u);
    // The typed meter is kept in the form, as text.
    const auto form = element(dom, "form", "choose");
    EXPECT_NE(form.find("name=\"meter\" value=\"&lt;b&gt;\""), std::string::npos) << form;
    EXPECT_EQ(count(form, "<b>"), 0u);
}

}  // namespace
}  // namespace mb
