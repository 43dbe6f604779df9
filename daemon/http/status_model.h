// What the status page (status_page.h) shows from the database, and the query
// string of GET / that chooses its chart.
//
// Who calls: the HTTP route of "/" on the listener's io_context thread, with a
// read-only connection of its own (WAL: it never blocks the writer); tests.
// load_status_page() reads only bounded amounts (the k* limits of
// status_page.h, kMaxLoadedReadings) and uses the series id and the
// readings_by_series index for the chart, never the ISO views. It does not
// throw: a database error becomes a message on the page. Connectors, the
// daemon's counters, stale meters and the chart's gaps are live state or
// computed elsewhere: the caller fills them into the result.
#pragma once

#include <cstddef>
#include <string_view>

#include "daemon/http/status_page.h"
#include "storage/sqlite.h"

namespace mb::http {

// Readings of one chart loaded at most (30 days of one-minute readings are 43,200).
inline constexpr std::size_t kMaxLoadedReadings = 100000;

// The statement that loads a chart's readings: ?1 series id, ?2..?3 the
// ts_start range, ?4 the limit. Public for the test of its query plan.
extern const std::string_view kChartReadingsSql;

// Reads `?source=&meter=&quantity=&window=` of a request target ("/?…"). Never
// throws: what is not understood is named in PageQuery::errors (and left out).
PageQuery parse_page_query(std::string_view target);

// Everything from the database for the page at `now`; the chart's window ends at `now`.
StatusPage load_status_page(sql::Db& read_only, const PageQuery& query, TimeMs now);

}  // namespace mb::http
