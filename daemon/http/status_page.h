// The status page (GET /): what the daemon and its database say right now,
// as one self-contained HTML document with a server-drawn SVG chart.
//
// Who calls: the HTTP route of "/" on the listener's io_context thread, after
// load_status_page() (status_model.h) and the daemon's live state filled a
// StatusPage; tests call it directly. render_status_page() is a pure function
// of its input: no I/O, no clock (`now` is part of the input), no errors
// (every input has a rendering; a bad query is shown as a message on the page).
//
// The document has no JavaScript and no external resource (inline CSS, the
// system fonts), so it works offline and under the strict policy below, which
// it also carries as a <meta> element. Every text from outside (meter ids,
// topics, payloads, errors) is escaped. What it draws is bounded whatever the
// input holds: the k* limits below.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/control/control_protocol.h"
#include "daemon/http/http_types.h"
#include "normalize/model.h"
#include "storage/query.h"

namespace mb::http {

// The Content-Security-Policy the listener should send with the page.
inline constexpr std::string_view kStatusPageCsp =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
inline constexpr std::string_view kStatusPageContentType = "text/html; charset=utf-8";

inline constexpr std::size_t kMaxChartPoints = 2000;  // beyond: min and max per pixel column
inline constexpr std::size_t kMaxRejects = 50;
inline constexpr std::size_t kMaxSeriesChoices = 500;
inline constexpr std::size_t kMaxRows = 200;            // stale meters, jobs, consents, gaps
inline constexpr std::size_t kPayloadExcerpt = 160;     // bytes of a rejected payload shown
inline constexpr std::size_t kMaxParameterBytes = 256;  // of one query parameter

// The chart's time window, ending at `now`.
enum class Window : std::uint8_t { day, week, month };
std::string_view to_string(Window w);  // "P1D", "P7D", "P30D"
TimeMs window_ms(Window w);

// What the query string of GET / asked for.
struct PageQuery {
    std::optional<std::string> source, meter, quantity;
    Window window = Window::day;
    // Why (parts of) the query were not understood; the page shows them.
    std::vector<std::string> errors;
    bool chosen() const { return source && meter && quantity; }
};

// The daemon's counters since it started and the writer's queue.
struct DaemonCounters {
    std::uint64_t messages = 0, readings = 0, duplicates = 0, revisions = 0, rejected = 0,
                  queued = 0;
};

struct StaleMeter {
    std::string source, meter;
    std::optional<TimeMs> last_received;
};

// One series a chart can be drawn for (the series table).
struct SeriesChoice {
    std::string source, meter, quantity, unit, kind;
};

struct ChartPoint {
    TimeMs ts_start = 0, ts_end = 0;
    double value = 0;
};

// Missing intervals [from, to) of the chosen series.
struct ChartGap {
    TimeMs from = 0, to = 0;
    std::int64_t missing = 0;
};

struct Chart {
    SeriesChoice series;
    TimeMs from = 0, to = 0;           // the window: readings with ts_start in [from, to)
    std::vector<ChartPoint> readings;  // in time order
    bool readings_truncated = false;   // more were stored than loaded
    std::vector<ChartGap> gaps;
};

struct StatusPage {
    TimeMs now = 0;
    PageQuery query;
    std::vector<std::string> errors;       // besides query.errors
    std::optional<DaemonCounters> daemon;  // none: not known (e.g. rendered offline)
    std::vector<control::ConnectorStatus> connectors;
    std::vector<SourceStatsRow> sources;
    std::vector<StaleMeter> stale;
    std::vector<RejectedRow> rejects;  // newest first
    std::vector<JobRunRow> jobs;       // the latest run of each job
    std::vector<ConsentRow> consents;
    std::vector<SeriesChoice> series;
    bool series_truncated = false;
    std::optional<Chart> chart;  // the chosen series, when it exists
};

std::string render_status_page(const StatusPage& page);
// The page as the route's answer: 200, text/html, the rendered body, and
// kStatusPageCsp as its Content-Security-Policy header.
Response status_page_response(const StatusPage& page);

// The pieces of the chart, public for their tests.
namespace chart {

inline constexpr int kWidth = 1130, kHeight = 380;
inline constexpr int kLeft = 80, kRight = 50, kTop = 20, kBottom = 60;
inline constexpr int kPlotWidth = kWidth - kLeft - kRight;  // 1000 pixel columns
inline constexpr int kPlotHeight = kHeight - kTop - kBottom;

// Time → x and value → y, in SVG user units. Times outside [t0, t1] and values
// outside [v0, v1] map outside the plot; an empty range maps to its middle.
struct Scale {
    TimeMs t0 = 0, t1 = 1;
    double v0 = 0, v1 = 1;
    double x(TimeMs t) const;
    double y(double v) const;
};

// The points drawn of `readings` (each drawn at its ts_end) over [t0, t1]:
// all of them when there are at most `max_points`, else for each of the
// `columns` pixel columns the lowest and the highest value in it. Indices
// into `readings`, ascending.
std::vector<std::size_t> downsample(const std::vector<ChartPoint>& readings, TimeMs t0, TimeMs t1,
                                    std::size_t max_points = kMaxChartPoints,
                                    std::size_t columns = kPlotWidth);

// Round tick values covering [lo, hi] (about `count` of them).
std::vector<double> value_ticks(double lo, double hi, int count = 5);
// Tick times (UTC multiples of a round step) inside [t0, t1], at most `max_count`.
std::vector<TimeMs> time_ticks(TimeMs t0, TimeMs t1, int max_count = 10);

}  // namespace chart

// `s` made safe as HTML text or a quoted attribute value: controls and invalid
// UTF-8 made visible (display_escape), then & < > " ' as character references.
std::string html_escape(std::string_view s);

}  // namespace mb::http
