// Per-meter freshness, completeness and gaps, read from the database.
//
// Who calls: the `meters` and `gaps` verbs (a read-only connection of their
// own, storage/query.h) and the daemon (stale meters for /metrics and the
// status page, on its own read-only connection). Any thread, one Db per
// thread. Freshness comes from series_stats (kept by the writer, one row per
// series): list_meters reads readings only to count those in the window, and
// count_stale_meters never does. find_gaps walks each chosen series' readings
// through readings_by_series. Errors throw sql::SqliteError, or
// std::runtime_error for a database older than schema version 5.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "normalize/model.h"
#include "storage/sqlite.h"

namespace mb {

// When a meter is stale: nothing arrived for it for `after_ms` when set, else
// for `multiple` times its learned arrival interval, or its cadence when that
// is longer (a burst of messages does not make readings due faster than the
// meter takes them; a meter with neither is never stale).
struct StaleRule {
    std::optional<std::int64_t> after_ms;
    double multiple = 3.0;
};

// "3x", or the duration in seconds ("900s"), for messages and the CLI.
std::string to_string(const StaleRule& rule);

struct MetersQuery {
    std::optional<std::string> source;
    bool stale_only = false;
    std::int64_t window_ms = 7LL * 86400 * 1000;  // completeness over [now - window, now)
};

struct SeriesGap {
    TimeMs from, to;  // [from, to): no reading starts in it
    std::int64_t missing;
};

struct MeterSeries {
    std::string quantity, unit, kind;
    TimeMs first, last, last_received;
    std::int64_t count, cadence_ms, arrival_ms;  // 0: not learned yet
    // Readings present in the window over those its cadence expects between
    // the later of the window start and the first reading, and the end of the
    // latest reading's slot (a meter that fell silent is `stale`, not
    // incomplete). 1 when nothing is expected yet; at most 1.
    double completeness;
};

struct MeterSummary {
    std::string source, meter;
    std::vector<MeterSeries> series;  // by quantity
    TimeMs last_received;
    bool stale;
};

// Meters by source and meter id. `rules` by source; a source without one
// takes StaleRule{} ("3x").
std::vector<MeterSummary> list_meters(sql::Db& db, const MetersQuery& q, TimeMs now,
                                      const std::map<std::string, StaleRule>& rules);

// Stale meters per source, every source that has meters (0s included).
std::map<std::string, std::uint64_t> count_stale_meters(
    sql::Db& db, TimeMs now, const std::map<std::string, StaleRule>& rules);

struct GapsQuery {
    std::string source;
    std::optional<std::string> meter, quantity;
    std::optional<TimeMs> from, to;  // readings with from <= ts_start < to
};

struct SeriesGaps {
    std::string source, meter, quantity;
    std::int64_t cadence_ms;  // 0: not learned, no gaps listed
    std::vector<SeriesGap> gaps;
};

// The missing intervals of each series of the source (by meter, quantity):
// where consecutive readings are at least one and a half cadences apart,
// [previous + cadence, next) with round(interval / cadence) - 1 readings missing.
std::vector<SeriesGaps> find_gaps(sql::Db& db, const GapsQuery& q);

// Whether a meter whose latest reading arrived at `last_received` is stale at
// `now` under `rule`, given its learned arrival interval and cadence (0: unknown).
bool is_stale(const StaleRule& rule, TimeMs now, TimeMs last_received, std::int64_t arrival_ms,
              std::int64_t cadence_ms);

}  // namespace mb
