#include "daemon/http/status_page.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <limits>

#include "normalize/detail_text.h"
#include "normalize/time_format.h"

namespace mb::http {

namespace {

constexpr TimeMs kSecond = 1000, kMinute = 60 * kSecond, kHour = 60 * kMinute, kDay = 24 * kHour;

// Shortest text that reads back as the same double: what the data attributes
// carry, so that a test compares them with the stored values exactly.
std::string exact(double v) {
    return fmt::format("{}", v);
}

// "2022-03-01 00:15:00" (UTC, the header says so).
std::string table_time(TimeMs t) {
    auto s = format_iso_ms(t);
    s[10] = ' ';
    return s.substr(0, 19);
}

std::string table_time(const std::optional<TimeMs>& t) {
    return t ? table_time(*t) : std::string("—");
}

std::string duration_text(TimeMs ms) {
    if (ms < 0) ms = 0;
    const auto d = ms / kDay, h = ms % kDay / kHour, m = ms % kHour / kMinute,
               s = ms % kMinute / kSecond;
    if (d > 0) return fmt::format("{}d {}h", d, h);
    if (h > 0) return fmt::format("{}h {}m", h, m);
    if (m > 0) return fmt::format("{}m {}s", m, s);
    return fmt::format("{}s", s);
}

// The page's URL for one series and window, ready for an href="" (escaped).
std::string series_href(std::string_view source, std::string_view meter, std::string_view quantity,
                        Window w) {
    return html_escape(fmt::format("?source={}&meter={}&quantity={}&window={}",
                                   percent_encode(source), percent_encode(meter),
                                   percent_encode(quantity), to_string(w)));
}

void cell(std::string& out, std::string_view text, std::string_view cls = {}) {
    if (cls.empty())
        out += "<td>";
    else
        fmt::format_to(std::back_inserter(out), "<td class=\"{}\">", cls);
    out += html_escape(text);
    out += "</td>";
}

void num_cell(std::string& out, std::uint64_t v) {
    fmt::format_to(std::back_inserter(out), "<td class=\"n\">{}</td>", v);
}

// One table of the page: its id, headings, what it says when empty, and what
// its rows are called when the list is cut at `max`.
struct TableSpec {
    std::string_view id;
    std::initializer_list<std::string_view> head;
    std::string_view empty, what;
    std::size_t max = kMaxRows;
    std::string_view row_class{};
};

// `cells` writes the <td>s of one row.
template <typename Row, typename Cells>
void table(std::string& out, const TableSpec& t, const std::vector<Row>& rows, Cells&& cells) {
    auto o = std::back_inserter(out);
    if (rows.empty()) {
        fmt::format_to(o, "<p class=\"note\">{}</p>", t.empty);
        return;
    }
    fmt::format_to(o, "<table id=\"{}\"><thead><tr>", t.id);
    for (const auto h : t.head) fmt::format_to(o, "<th>{}</th>", h);
    out += "</tr></thead><tbody>";
    const auto n = std::min(rows.size(), t.max);
    for (std::size_t i = 0; i < n; ++i) {
        if (t.row_class.empty())
            out += "<tr>";
        else
            fmt::format_to(o, "<tr class=\"{}\">", t.row_class);
        cells(rows[i]);
        out += "</tr>";
    }
    out += "</tbody></table>";
    if (rows.size() > n)
        fmt::format_to(o, "<p class=\"note\">Showing {} of {} {}.</p>", n, rows.size(), t.what);
}

constexpr std::string_view kStyle = R"css(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI","DejaVu Sans",sans-serif;margin:1em 2em;color:#1b1b1b;background:#fff}
h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.15em;margin:1.4em 0 .4em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.3em 0}th,td{padding:.15em .6em;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#17632a}.bad{color:#a21b1b;font-weight:600}.note{color:#555}
.errors{border:2px solid #a21b1b;background:#fff3f3;padding:.4em 1em}
code{font-family:"DejaVu Sans Mono",monospace;font-size:.9em;word-break:break-all}
svg.chart{border:1px solid #ddd;background:#fff}svg text{font-size:12px;fill:#333}
.plot{fill:#fcfcfc;stroke:#999}.grid{stroke:#e6e6e6}.gap{fill:#f4b6b6;fill-opacity:.6}
.line{fill:none;stroke:#1f5fa8;stroke-width:1.2}.pt{fill:#1f5fa8}
.empty{font-size:16px;fill:#666}form{margin:.5em 0}input,select{font:inherit}
td.chosen{background:#eef4fb;font-weight:600}
)css";

void render_errors(std::string& out, const StatusPage& p) {
    std::vector<std::string> all = p.query.errors;
    all.insert(all.end(), p.errors.begin(), p.errors.end());
    if (all.empty()) return;
    out +=
        "<div id=\"errors\" class=\"errors\"><p>The request could not be answered fully:</p><ul>";
    for (const auto& e : all)
        fmt::format_to(std::back_inserter(out), "<li>{}</li>", html_escape(e));
    out += "</ul></div>";
}

void render_daemon(std::string& out, const StatusPage& p) {
    out += "<h2>Daemon</h2>";
    if (!p.daemon) {
        out += "<p id=\"daemon\" class=\"note\">The daemon's counters are not available.</p>";
        return;
    }
    const auto& d = *p.daemon;
    fmt::format_to(std::back_inserter(out),
                   "<p id=\"daemon\">Since start: <b>{}</b> messages, <b>{}</b> new readings, "
                   "{} duplicates, {} revisions, <b>{}</b> rejected; {} rows queued for the "
                   "writer.</p>",
                   d.messages, d.readings, d.duplicates, d.revisions, d.rejected, d.queued);
}

void render_connectors(std::string& out, const StatusPage& p) {
    out += "<h2>Connectors</h2>";
    table(out,
          {.id = "connectors",
           .head = {"name", "type", "state", "detail", "messages", "rejected", "reconnects"},
           .empty = "No connectors are configured.",
           .what = "connectors"},
          p.connectors, [&](const control::ConnectorStatus& c) {
              cell(out, c.name);
              cell(out, c.type);
              cell(out, c.state, c.state == "running" ? "ok" : "bad");
              cell(out, c.detail);
              num_cell(out, c.messages);
              num_cell(out, c.rejected);
              num_cell(out, c.reconnects);
          });
}

void render_sources(std::string& out, const StatusPage& p) {
    out += "<h2>Sources (stored since the database was created)</h2>";
    table(out,
          {.id = "sources",
           .head = {"source", "messages", "readings", "duplicates", "revisions", "rejected",
                    "states", "last received (UTC)"},
           .empty = "Nothing stored yet.",
           .what = "sources"},
          p.sources, [&](const SourceStatsRow& s) {
              cell(out, s.source);
              for (const auto v :
                   {s.messages, s.readings, s.duplicates, s.revisions, s.rejected, s.states})
                  num_cell(out, static_cast<std::uint64_t>(v));
              cell(out, table_time(s.last_received_at));
          });
}

void render_stale(std::string& out, const StatusPage& p) {
    out += "<h2>Stale meters</h2>";
    table(out,
          {.id = "stale",
           .head = {"source", "meter", "last received (UTC)", "silent for"},
           .empty = "No meter is stale.",
           .what = "stale meters"},
          p.stale, [&](const StaleMeter& s) {
              cell(out, s.source);
              cell(out, s.meter);
              cell(out, table_time(s.last_received));
              cell(out, s.last_received ? duration_text(p.now - *s.last_received) : "never", "bad");
          });
}

void render_rejects(std::string& out, const StatusPage& p) {
    out += "<h2>Latest rejected messages</h2>";
    table(out,
          {.id = "rejects",
           .head = {"received (UTC)", "source", "topic", "reason", "payload (excerpt)"},
           .empty = "No rejected message is stored.",
           .what = "rejected messages",
           .max = kMaxRejects,
           .row_class = "reject"},
          p.rejects, [&](const RejectedRow& r) {
              cell(out, table_time(r.received_at));
              cell(out, r.source);
              cell(out, r.topic);
              cell(out, r.reason, "reason");
              // printable() cuts on a character boundary and makes controls visible.
              fmt::format_to(std::back_inserter(out), "<td><code>{}</code>",
                             html_escape(printable(r.payload, kPayloadExcerpt)));
              if (static_cast<std::size_t>(r.payload_size) > r.payload.size())
                  fmt::format_to(std::back_inserter(out),
                                 " <span class=\"note\">({} bytes received)</span>",
                                 r.payload_size);
              out += "</td>";
          });
}

void render_jobs(std::string& out, const StatusPage& p) {
    out += "<h2>Enedis jobs (latest run of each)</h2>";
    table(out,
          {.id = "jobs",
           .head = {"source", "job", "command", "usage point", "direction", "window",
                    "started (UTC)", "outcome", "records", "error"},
           .empty = "No job has run.",
           .what = "jobs"},
          p.jobs, [&](const JobRunRow& j) {
              cell(out, j.source);
              cell(out, j.job);
              cell(out, j.command);
              cell(out, j.usage_point);
              cell(out, j.direction);
              cell(out,
                   j.window_start.empty() ? std::string() : j.window_start + " – " + j.window_end);
              cell(out, table_time(j.started_at));
              cell(out, j.outcome, j.outcome == "ok" || j.outcome == "running" ? "ok" : "bad");
              num_cell(out, static_cast<std::uint64_t>(j.records));
              cell(out, j.error);
          });
    out += "<h2>Consents</h2>";
    table(out,
          {.id = "consents",
           .head = {"source", "usage point", "state", "job", "granted (UTC)", "expires (UTC)"},
           .empty = "No consent is recorded.",
           .what = "consents"},
          p.consents, [&](const ConsentRow& c) {
              const bool expired = c.expires_at && *c.expires_at <= p.now;
              cell(out, c.source);
              cell(out, c.usage_point);
              cell(out, c.state, c.state == "granted" && !expired ? "ok" : "bad");
              cell(out, c.job);
              cell(out, table_time(c.granted_at));
              cell(out, table_time(c.expires_at), expired ? "bad" : "");
          });
}

void render_form(std::string& out, const StatusPage& p) {
    const auto& q = p.query;
    auto input = [&](std::string_view name, const std::optional<std::string>& v) {
        fmt::format_to(std::back_inserter(out),
                       "<label>{0} <input name=\"{0}\" value=\"{1}\" size=\"24\"></label> ", name,
                       html_escape(v.value_or("")));
    };
    out += "<form id=\"choose\" method=\"get\">";
    input("source", q.source);
    input("meter", q.meter);
    input("quantity", q.quantity);
    out += "<label>window <select name=\"window\">";
    for (const auto w : {Window::day, Window::week, Window::month})
        fmt::format_to(std::back_inserter(out), "<option{}>{}</option>",
                       w == q.window ? " selected" : "", to_string(w));
    out += "</select></label> <button type=\"submit\">Show</button></form>";
}

// "03-01 00:15" below a day, "2022-03-01" from a day on.
std::string tick_label(TimeMs t, TimeMs step) {
    const auto iso = format_iso_ms(t);
    if (step >= kDay) return iso.substr(0, 10);
    return iso.substr(5, 5) + " " + iso.substr(11, 5);
}

int decimals_for(double step) {
    if (step >= 1) return 0;
    return static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
}

void render_svg(std::string& out, const Chart& c) {
    using namespace chart;
    TimeMs t1 = c.to;
    for (const auto& r : c.readings) t1 = std::max(t1, r.ts_end);
    const auto kept = downsample(c.readings, c.from, t1);

    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto i : kept) {
        lo = std::min(lo, c.readings[i].value);
        hi = std::max(hi, c.readings[i].value);
    }
    const auto vticks = kept.empty() ? std::vector<double>{} : value_ticks(lo, hi);
    Scale s{c.from, t1, vticks.empty() ? 0.0 : vticks.front(),
            vticks.empty() ? 1.0 : vticks.back()};

    auto o = std::back_inserter(out);
    fmt::format_to(o,
                   "<svg class=\"chart\" id=\"chart-svg\" xmlns=\"http://www.w3.org/2000/svg\" "
                   "width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\" "
                   "aria-label=\"{2}\" data-from=\"{3}\" data-to=\"{4}\" data-points=\"{5}\">",
                   kWidth, kHeight, html_escape(c.series.meter + " " + c.series.quantity),
                   format_iso_ms(c.from), format_iso_ms(t1), kept.size());
    fmt::format_to(o, "<rect class=\"plot\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>", kLeft,
                   kTop, kPlotWidth, kPlotHeight);

    // Gaps first: points and lines are drawn over them.
    out += "<g class=\"gaps\">";
    for (std::size_t i = 0; i < c.gaps.size() && i < kMaxRows; ++i) {
        const auto& g = c.gaps[i];
        const auto a = std::max(g.from, s.t0), b = std::min(g.to, s.t1);
        if (b <= a) continue;
        const double x0 = s.x(a), x1 = s.x(b);
        fmt::format_to(o,
                       "<rect class=\"gap\" x=\"{:.2f}\" y=\"{}\" width=\"{:.2f}\" height=\"{}\" "
                       "data-from=\"{}\" data-to=\"{}\" data-missing=\"{}\"><title>missing: {} – "
                       "{} ({} readings)</title></rect>",
                       x0, kTop, std::max(x1 - x0, 1.0), kPlotHeight, format_iso_ms(g.from),
                       format_iso_ms(g.to), g.missing, table_time(g.from), table_time(g.to),
                       g.missing);
    }
    out += "</g>";

    // Time axis (UTC).
    const auto tt = time_ticks(s.t0, s.t1);
    const TimeMs tstep = tt.size() >= 2 ? tt[1] - tt[0] : kDay;
    out += "<g class=\"xticks\">";
    for (const auto t : tt) {
        const double x = s.x(t);
        fmt::format_to(o,
                       "<line class=\"grid\" x1=\"{0:.2f}\" y1=\"{1}\" x2=\"{0:.2f}\" y2=\"{2}\"/>"
                       "<text x=\"{0:.2f}\" y=\"{3}\" text-anchor=\"middle\" data-t=\"{4}\">{5}"
                       "</text>",
                       x, kTop, kTop + kPlotHeight, kTop + kPlotHeight + 16, format_iso_ms(t),
                       tick_label(t, tstep));
    }
    fmt::format_to(o,
                   "</g><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">time (UTC); each interval "
                   "is drawn as a point at its end</text>",
                   kLeft + kPlotWidth / 2, kHeight - 12);

    // Value axis, with the unit.
    out += "<g class=\"yticks\">";
    const int dec = vticks.size() >= 2 ? decimals_for(vticks[1] - vticks[0]) : 0;
    for (const auto v : vticks) {
        const double y = s.y(v);
        fmt::format_to(o,
                       "<line class=\"grid\" x1=\"{0}\" y1=\"{1:.2f}\" x2=\"{2}\" y2=\"{1:.2f}\"/>"
                       "<text x=\"{3}\" y=\"{4:.2f}\" text-anchor=\"end\">{5:.{6}f}</text>",
                       kLeft, y, kLeft + kPlotWidth, kLeft - 6, y + 4, v, dec);
    }
    fmt::format_to(o, "</g><text class=\"unit\" x=\"{}\" y=\"{}\" text-anchor=\"start\">{}</text>",
                   8, kTop + 4, html_escape(c.series.unit.empty() ? "(no unit)" : c.series.unit));

    if (kept.empty()) {
        fmt::format_to(o,
                       "<text class=\"empty\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">No "
                       "readings in this window.</text></svg>",
                       kLeft + kPlotWidth / 2, kTop + kPlotHeight / 2);
        return;
    }

    // The line, broken where a gap lies between two points.
    auto gap_between = [&](TimeMs a, TimeMs b) {
        return std::any_of(c.gaps.begin(), c.gaps.end(),
                           [&](const ChartGap& g) { return g.from < b && g.to > a; });
    };
    out += "<g class=\"lines\">";
    std::string pts;
    auto flush = [&] {
        if (pts.find(' ') != std::string::npos)
            fmt::format_to(o, "<polyline class=\"line\" points=\"{}\"/>", pts);
        pts.clear();
    };
    for (std::size_t k = 0; k < kept.size(); ++k) {
        const auto& r = c.readings[kept[k]];
        if (k > 0 && gap_between(c.readings[kept[k - 1]].ts_end, r.ts_end)) flush();
        if (!pts.empty()) pts += ' ';
        pts += fmt::format("{:.2f},{:.2f}", s.x(r.ts_end), s.y(r.value));
    }
    flush();
    out += "</g><g class=\"points\">";
    const double radius = kept.size() > 300 ? 1.5 : 2.5;
    for (const auto i : kept) {
        const auto& r = c.readings[i];
        const auto v = exact(r.value);
        fmt::format_to(
            o,
            "<circle class=\"pt\" cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"{}\" data-start=\"{}\" "
            "data-ts=\"{}\" data-value=\"{}\"><title>{} – {}: {} {}</title></circle>",
            s.x(r.ts_end), s.y(r.value), radius, format_iso_ms(r.ts_start), format_iso_ms(r.ts_end),
            v, table_time(r.ts_start), table_time(r.ts_end), v, html_escape(c.series.unit));
    }
    out += "</g></svg>";
    if (t1 > c.to)
        fmt::format_to(o,
                       "<p class=\"note\">The time axis runs on to {} UTC, the end of the latest "
                       "interval (a running total ends in the future).</p>",
                       table_time(t1));
    if (kept.size() < c.readings.size())
        fmt::format_to(o,
                       "<p class=\"note\" id=\"downsampled\">{} readings in the window; {} drawn: "
                       "the lowest and the highest of each pixel column.</p>",
                       c.readings.size(), kept.size());
}

void render_chart(std::string& out, const StatusPage& p) {
    out += "<h2>Readings of one meter</h2>";
    render_form(out, p);
    if (!p.chart) {
        out += "<p class=\"note\" id=\"chart-empty\">";
        out += p.query.chosen() ? "This series is not stored."
                                : "Choose a series below (or type source, meter and quantity).";
        out += "</p>";
    } else {
        const auto& c = *p.chart;
        fmt::format_to(std::back_inserter(out),
                       "<p id=\"chart-title\"><b>{}</b> / <b>{}</b> / {} ({}, {}), {}: {} to {} "
                       "UTC</p>",
                       html_escape(c.series.source), html_escape(c.series.meter),
                       html_escape(c.series.quantity), html_escape(c.series.kind),
                       html_escape(c.series.unit), to_string(p.query.window), table_time(c.from),
                       table_time(c.to));
        out += "<p>";
        for (const auto w : {Window::day, Window::week, Window::month})
            fmt::format_to(std::back_inserter(out), "<a href=\"{}\">{}</a> ",
                           series_href(c.series.source, c.series.meter, c.series.quantity, w),
                           to_string(w));
        out += "</p>";
        render_svg(out, c);
        if (c.readings_truncated)
            out += "<p class=\"note\">Only the first readings of the window were loaded.</p>";
        table(out,
              {.id = "gaps",
               .head = {"missing from (UTC)", "to", "readings missing"},
               .empty = "No gaps known in this window.",
               .what = "gaps"},
              c.gaps, [&](const ChartGap& g) {
                  cell(out, table_time(g.from));
                  cell(out, table_time(g.to));
                  num_cell(out, static_cast<std::uint64_t>(g.missing));
              });
    }

    out += "<h3>Stored series</h3>";
    table(out,
          {.id = "series",
           .head = {"source", "meter", "quantity", "unit", "kind"},
           .empty = "No series is stored yet.",
           .what = "series",
           .max = kMaxSeriesChoices},
          p.series, [&](const SeriesChoice& s) {
              const bool chosen = p.chart && p.chart->series.source == s.source &&
                                  p.chart->series.meter == s.meter &&
                                  p.chart->series.quantity == s.quantity;
              cell(out, s.source);
              cell(out, s.meter);
              fmt::format_to(std::back_inserter(out), "<td{}><a href=\"{}\">{}</a></td>",
                             chosen ? " class=\"chosen\"" : "",
                             series_href(s.source, s.meter, s.quantity, p.query.window),
                             html_escape(s.quantity));
              cell(out, s.unit);
              cell(out, s.kind);
          });
    if (p.series_truncated)
        out +=
            "<p class=\"note\">More series are stored than listed: type the meter in the "
            "form.</p>";
}

}  // namespace

std::string_view to_string(Window w) {
    switch (w) {
        case Window::day:
            return "P1D";
        case Window::week:
            return "P7D";
        case Window::month:
            return "P30D";
    }
    return "P1D";
}

TimeMs window_ms(Window w) {
    switch (w) {
        case Window::day:
            return kDay;
        case Window::week:
            return 7 * kDay;
        case Window::month:
            return 30 * kDay;
    }
    return kDay;
}

std::string html_escape(std::string_view s) {
    const std::string shown = needs_display_escape(s) ? display_escape(s) : std::string(s);
    std::string out;
    out.reserve(shown.size());
    for (const char c : shown) {
        const std::string_view ref = c == '&'    ? "&amp;"
                                     : c == '<'  ? "&lt;"
                                     : c == '>'  ? "&gt;"
                                     : c == '"'  ? "&quot;"
                                     : c == '\'' ? "&#39;"
                                                 : std::string_view{};
        if (ref.empty())
            out += c;
        else
            out += ref;
    }
    return out;
}

namespace chart {

double Scale::x(TimeMs t) const {
    if (t1 <= t0) return kLeft + kPlotWidth / 2.0;
    return kLeft + static_cast<double>(t - t0) * kPlotWidth / static_cast<double>(t1 - t0);
}

double Scale::y(double v) const {
    if (!(v1 > v0)) return kTop + kPlotHeight / 2.0;
    return kTop + kPlotHeight - (v - v0) * kPlotHeight / (v1 - v0);
}

std::vector<std::size_t> downsample(const std::vector<ChartPoint>& readings, TimeMs t0, TimeMs t1,
                                    std::size_t max_points, std::size_t columns) {
    std::vector<std::size_t> out;
    if (readings.size() <= max_points) {
        out.resize(readings.size());
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = i;
        return out;
    }
    // Two points per column: keep within the bound whatever `columns` says.
    columns = std::max<std::size_t>(1, std::min(columns, max_points / 2));
    constexpr auto kNone = std::numeric_limits<std::size_t>::max();
    std::vector<std::size_t> lowest(columns, kNone), highest(columns, kNone);
    const double span = t1 > t0 ? static_cast<double>(t1 - t0) : 1.0;
    for (std::size_t i = 0; i < readings.size(); ++i) {
        const double f = static_cast<double>(readings[i].ts_end - t0) / span;
        const auto col = static_cast<std::size_t>(
            std::clamp(f * static_cast<double>(columns), 0.0, static_cast<double>(columns - 1)));
        if (lowest[col] == kNone || readings[i].value < readings[lowest[col]].value)
            lowest[col] = i;
        if (highest[col] == kNone || readings[i].value > readings[highest[col]].value)
            highest[col] = i;
    }
    for (std::size_t col = 0; col < columns; ++col) {
        if (lowest[col] == kNone) continue;
        out.push_back(std::min(lowest[col], highest[col]));
        if (highest[col] != lowest[col]) out.push_back(std::max(lowest[col], highest[col]));
    }
    // Readings come in ts_start order; their ends need not be.
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<double> value_ticks(double lo, double hi, int count) {
    if (!std::isfinite(lo) || !std::isfinite(hi) || hi < lo) return {0, 1};
    if (hi == lo) {
        const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
        lo -= pad;
        hi += pad;
    }
    const double raw = (hi - lo) / std::max(count, 1);
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double norm = raw / mag;
    const double step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
    const auto first = std::floor(lo / step), last = std::ceil(hi / step);
    std::vector<double> out;
    for (double k = first; k <= last && out.size() < 64; k += 1) out.push_back(k * step);
    if (out.size() < 2) out.push_back((last + 1) * step);
    return out;
}

std::vector<TimeMs> time_ticks(TimeMs t0, TimeMs t1, int max_count) {
    static constexpr std::array<TimeMs, 16> kSteps{
        kMinute,   5 * kMinute, 15 * kMinute, 30 * kMinute, kHour,    2 * kHour,
        3 * kHour, 6 * kHour,   12 * kHour,   kDay,         2 * kDay, 4 * kDay,
        7 * kDay,  14 * kDay,   28 * kDay,    56 * kDay};
    std::vector<TimeMs> out;
    if (t1 <= t0 || max_count < 1) return out;
    TimeMs step = kSteps.back();
    // Ticks in [t0, t1] at a step: at most span / step + 1.
    const auto fits = [&](TimeMs st) { return (t1 - t0) / st + 1 <= max_count; };
    for (const auto st : kSteps)
        if (fits(st)) {
            step = st;
            break;
        }
    while (!fits(step)) step *= 2;
    // The first multiple of step at or after t0 (division truncates toward zero,
    // which already rounds up before 1970).
    TimeMs first = t0 / step * step;
    if (first < t0) first += step;
    for (TimeMs t = first; t <= t1; t += step) out.push_back(t);
    return out;
}

}  // namespace chart

std::string render_status_page(const StatusPage& p) {
    std::string out;
    out.reserve(64 * 1024);
    out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
    fmt::format_to(std::back_inserter(out),
                   "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
                   html_escape(kStatusPageCsp));
    out +=
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>meterbridge status</title><style>";
    out += kStyle;
    out += "</style></head><body>";
    fmt::format_to(std::back_inserter(out),
                   "<h1>meterbridge</h1><p class=\"note\" id=\"now\" data-now=\"{}\">Status at {} "
                   "UTC. This page is read-only; reload it for fresh figures.</p>",
                   format_iso_ms(p.now), table_time(p.now));
    render_errors(out, p);
    render_daemon(out, p);
    render_connectors(out, p);
    render_sources(out, p);
    render_stale(out, p);
    render_chart(out, p);
    render_rejects(out, p);
    render_jobs(out, p);
    out += "</body></html>\n";
    return out;
}

Response status_page_response(const StatusPage& page) {
    Response r;
    r.content_type = std::string(kStatusPageContentType);
    r.body = render_status_page(page);
    r.headers.emplace_back("Content-Security-Policy", std::string(kStatusPageCsp));
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return r;
}

}  // namespace mb::http
