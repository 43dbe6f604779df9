#include "storage/meters.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "storage/schema.h"

namespace mb {

namespace {

void require_v5(sql::Db& db) {
    if (schema::current_version(db) < 5)
        throw std::runtime_error(
            "this database predates per-meter freshness (schema version 5): start the daemon "
            "once (meterbridge run) to migrate it");
}

// One row of series JOIN series_stats.
struct SeriesRow {
    std::int64_t id = 0;
    std::string source, meter;
    MeterSeries s;
};

const StaleRule& rule_of(const std::map<std::string, StaleRule>& rules, const std::string& src) {
    static const StaleRule kDefault{};
    const auto it = rules.find(src);
    return it == rules.end() ? kDefault : it->second;
}

// Readings of one series in [from, ∞), through readings_by_series.
std::int64_t count_since(sql::Stmt& st, std::int64_t series_id, TimeMs from) {
    st.run(series_id, from);
    const std::int64_t n = st.column_int(0);
    st.reset();
    return n;
}

double completeness(const MeterSeries& s, std::int64_t present, TimeMs window_start) {
    if (s.cadence_ms <= 0) return 1.0;
    const TimeMs start = std::max(window_start, s.first);
    const TimeMs end = s.last + s.cadence_ms;
    if (end <= start) return 1.0;
    const auto expected = static_cast<double>((end - start + s.cadence_ms - 1) / s.cadence_ms);
    return std::min(1.0, static_cast<double>(present) / expected);
}

}  // namespace

std::string to_string(const StaleRule& rule) {
    if (rule.after_ms) return fmt::format("{}s", *rule.after_ms / 1000);
    return fmt::format("{}x", rule.multiple);
}

bool is_stale(const StaleRule& rule, TimeMs now, TimeMs last_received, std::int64_t arrival_ms,
              std::int64_t cadence_ms) {
    double limit = 0;
    if (rule.after_ms) {
        limit = static_cast<double>(*rule.after_ms);
    } else {
        // New readings cannot be due faster than the meter's own cadence: a
        // burst (a backfill, a gateway flushing its buffer) teaches arrival
        // intervals of milliseconds, which must not make it stale at once.
        const std::int64_t interval = std::max(arrival_ms, cadence_ms);
        if (interval <= 0) return false;  // nothing learned: no basis to call it late
        limit = rule.multiple * static_cast<double>(interval);
    }
    return static_cast<double>(now - last_received) > limit;
}

std::vector<MeterSummary> list_meters(sql::Db& db, const MetersQuery& q, TimeMs now,
                                      const std::map<std::string, StaleRule>& rules) {
    require_v5(db);
    std::string text =
        "SELECT s.id, s.source, s.meter, s.quantity, s.unit, s.kind, t.first_ts, t.last_ts, "
        "t.last_received, t.readings, t.cadence_ms, t.arrival_ms FROM series s "
        "JOIN series_stats t ON t.series_id = s.id";
    if (q.source) text += " WHERE s.source = ?1";
    text += " ORDER BY s.source, s.meter, s.quantity";
    sql::Stmt st(db, text);
    if (q.source) st.bind(1, *q.source);
    sql::Stmt count(db, "SELECT count(*) FROM readings WHERE series_id = ?1 AND ts_start >= ?2");
    const TimeMs window_start = now - q.window_ms;

    std::vector<MeterSummary> out;
    std::vector<std::int64_t> ids;  // of the current meter's series, in order
    std::int64_t meter_arrival = 0, meter_cadence = 0;
    // Decides the finished meter: dropped when only stale ones are asked for,
    // else its window counted (readings are read only for meters shown).
    const auto close = [&] {
        if (out.empty()) return;
        MeterSummary& m = out.back();
        m.stale =
            is_stale(rule_of(rules, m.source), now, m.last_received, meter_arrival, meter_cadence);
        if (q.stale_only && !m.stale) {
            out.pop_back();
            return;
        }
        for (std::size_t i = 0; i < m.series.size(); ++i)
            m.series[i].completeness =
                completeness(m.series[i], count_since(count, ids[i], window_start), window_start);
    };
    while (st.step()) {
        std::int64_t id = 0;
        std::string source, meter;
        MeterSeries s;
        st.read(id, source, meter, s.quantity, s.unit, s.kind, s.first, s.last, s.last_received,
                s.count, s.cadence_ms, s.arrival_ms);
        s.completeness = 1.0;
        if (out.empty() || out.back().source != source || out.back().meter != meter) {
            close();
            out.push_back(MeterSummary{std::move(source), std::move(meter), {}, 0, false});
            ids.clear();
            meter_arrival = meter_cadence = 0;
        }
        MeterSummary& m = out.back();
        m.last_received = std::max(m.last_received, s.last_received);
        meter_arrival = std::max(meter_arrival, s.arrival_ms);
        meter_cadence = std::max(meter_cadence, s.cadence_ms);
        m.series.push_back(std::move(s));
        ids.push_back(id);
    }
    close();
    return out;
}

std::map<std::string, std::uint64_t> count_stale_meters(
    sql::Db& db, TimeMs now, const std::map<std::string, StaleRule>& rules) {
    require_v5(db);
    // One pass over the per-series rows, grouped by meter: no reading is read.
    sql::Stmt st(db,
                 "SELECT s.source, max(t.last_received), max(t.arrival_ms), max(t.cadence_ms) "
                 "FROM series s JOIN series_stats t ON t.series_id = s.id "
                 "GROUP BY s.source, s.meter");
    std::map<std::string, std::uint64_t> out;
    while (st.step()) {
        std::string source;
        std::int64_t last_received = 0, arrival = 0, cadence = 0;
        st.read(source, last_received, arrival, cadence);
        auto& n = out[source];
        if (is_stale(rule_of(rules, source), now, last_received, arrival, cadence)) ++n;
    }
    return out;
}

std::vector<SeriesGaps> find_gaps(sql::Db& db, const GapsQuery& q) {
    require_v5(db);
    std::string text =
        "SELECT s.id, s.meter, s.quantity, coalesce(t.cadence_ms, 0) FROM series s "
        "LEFT JOIN series_stats t ON t.series_id = s.id WHERE s.source = ?1";
    if (q.meter) text += " AND s.meter = ?2";
    if (q.quantity) text += " AND s.quantity = ?3";
    text += " ORDER BY s.meter, s.quantity";
    sql::Stmt series(db, text);
    series.bind(1, q.source);
    if (q.meter) series.bind(2, *q.meter);
    if (q.quantity) series.bind(3, *q.quantity);
    sql::Stmt before(db,
                     "SELECT max(ts_start) FROM readings WHERE series_id = ?1 AND ts_start < ?2");
    // In index order (readings_by_series). A window function (lag) computing the
    // intervals inside SQLite measured 4-5 times slower here: it materializes.
    sql::Stmt walk(db,
                   "SELECT ts_start FROM readings WHERE series_id = ?1 AND ts_start >= ?2 AND "
                   "ts_start < ?3 ORDER BY ts_start");
    const TimeMs from = q.from.value_or(std::numeric_limits<TimeMs>::min());
    const TimeMs to = q.to.value_or(std::numeric_limits<TimeMs>::max());

    std::vector<SeriesGaps> out;
    while (series.step()) {
        SeriesGaps g;
        std::int64_t id = 0;
        series.read(id, g.meter, g.quantity, g.cadence_ms);
        g.source = q.source;
        if (g.cadence_ms > 0) {
            // The reading before the range anchors a gap that starts before it.
            std::optional<TimeMs> prev;
            if (q.from) {
                if (before.run(id, from) && !before.column_is_null(0)) prev = before.column_int(0);
                before.reset();
            }
            const TimeMs gap_from = g.cadence_ms + g.cadence_ms / 2;
            walk.bind(1, id).bind(2, from).bind(3, to);
            while (walk.step()) {
                const TimeMs ts = walk.column_int(0);
                if (prev && ts - *prev >= gap_from) {
                    // Rounded: daily series in UTC have 23 and 25 h days.
                    const auto slots = std::llround(static_cast<double>(ts - *prev) /
                                                    static_cast<double>(g.cadence_ms));
                    g.gaps.push_back(SeriesGap{*prev + g.cadence_ms, ts, slots - 1});
                }
                prev = ts;
            }
            walk.reset();
        }
        out.push_back(std::move(g));
    }
    return out;
}

}  // namespace mb
