#include "storage/query.h"

#include <fmt/format.h>

#include <stdexcept>
#include <system_error>

#include "storage/schema.h"

namespace mb {

sql::Db open_read_only(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        throw std::runtime_error(
            fmt::format("database {} does not exist (meterbridge run creates it)", path.string()));
    auto db = sql::Db::open(path, sql::Db::Mode::read_only);
    sqlite3_busy_timeout(db.get(), 5000);
    db.exec("PRAGMA query_only = 1");
    const int v = schema::current_version(db);
    if (v == 0)
        throw std::runtime_error(
            fmt::format("{} is not a meterbridge database (schema version 0)", path.string()));
    if (v > schema::latest_version())
        throw std::runtime_error(
            fmt::format("database {} has schema version {}, newer than this meterbridge ({})",
                        path.string(), v, schema::latest_version()));
    return db;
}

namespace {

// A listing's statement: `select`, then `filter` when `value` is set, then
// `tail`. ?1 is `limit` when there is one and `value` the next parameter;
// `filter` and `tail` name them so.
struct Listing {
    std::string_view select;             // SELECT ... FROM ... [WHERE ...]
    std::string_view filter{};           // e.g. " WHERE source = ?1"
    std::optional<std::string> value{};  // the filter's value; none: every row
    std::string_view tail{};             // ORDER BY, LIMIT
    std::optional<std::int64_t> limit{};
};

// Prepares the listing and calls `row` with the statement at each result row.
template <typename Row>
void each_row(sql::Db& db, const Listing& l, Row&& row) {
    std::string sqltext(l.select);
    if (l.value) sqltext += l.filter;
    sqltext += l.tail;
    sql::Stmt st(db, sqltext);
    int next = 1;
    if (l.limit) st.bind(next++, *l.limit);
    if (l.value) st.bind(next, *l.value);
    while (st.step()) row(st);
}

// each_row, each row read into a T whose fields `read` lists in column order.
template <typename T, typename Read>
std::vector<T> load_rows(sql::Db& db, const Listing& l, Read&& read) {
    std::vector<T> out;
    each_row(db, l, [&](const sql::Stmt& st) { read(st, out.emplace_back()); });
    return out;
}

}  // namespace

void for_each_reading(sql::Db& db, const ReadingFilter& f,
                      const std::function<void(const ReadingRow&)>& fn) {
    std::string sqltext =
        "SELECT s.source, s.meter, s.quantity, s.unit, s.kind, r.ts_start, r.ts_end, r.value, "
        "r.received_at FROM readings r JOIN series s ON s.id = r.series_id WHERE 1";
    if (f.source) sqltext += " AND s.source = :source";
    if (f.meter) sqltext += " AND s.meter = :meter";
    if (f.quantity) sqltext += " AND s.quantity = :quantity";
    if (f.from) sqltext += " AND r.ts_start >= :from";
    if (f.to) sqltext += " AND r.ts_start < :to";
    sqltext += " ORDER BY r.ts_start, s.source, s.meter, s.quantity, r.ts_end";
    if (f.limit) sqltext += " LIMIT :limit";
    sql::Stmt st(db, sqltext);
    auto idx = [&](const char* name) { return sqlite3_bind_parameter_index(st.get(), name); };
    if (f.source) st.bind(idx(":source"), *f.source);
    if (f.meter) st.bind(idx(":meter"), *f.meter);
    if (f.quantity) st.bind(idx(":quantity"), *f.quantity);
    if (f.from) st.bind(idx(":from"), *f.from);
    if (f.to) st.bind(idx(":to"), *f.to);
    if (f.limit) st.bind(idx(":limit"), *f.limit);
    ReadingRow row;
    while (st.step()) {
        st.read(row.source, row.meter, row.quantity, row.unit, row.kind, row.ts_start, row.ts_end,
                row.value, row.received_at);
        fn(row);
    }
}

std::vector<SourceStatsRow> source_stats(sql::Db& db) {
    return load_rows<SourceStatsRow>(
        db,
        {.select = "SELECT source, messages, readings, duplicates, revisions, rejected, states, "
                   "last_received_at FROM source_stats ORDER BY source"},
        [](const sql::Stmt& st, SourceStatsRow& r) {
            st.read(r.source, r.messages, r.readings, r.duplicates, r.revisions, r.rejected,
                    r.states, r.last_received_at);
        });
}

void for_each_rejected(sql::Db& db, const std::optional<std::string>& source, std::int64_t limit,
                       const std::function<void(const RejectedRow&)>& fn) {
    RejectedRow r;
    each_row(db,
             {.select = "SELECT received_at, source, topic, reason, CAST(payload AS TEXT), "
                        "payload_size FROM messages WHERE reason IS NOT NULL",
              .filter = " AND source = ?2",
              .value = source,
              .tail = " ORDER BY received_at DESC, id DESC LIMIT ?1",
              .limit = limit},
             [&](const sql::Stmt& st) {
                 st.read(r.received_at, r.source, r.topic, r.reason, r.payload, r.payload_size);
                 fn(r);
             });
}

std::vector<DeviceRow> load_devices(sql::Db& db, const std::optional<std::string>& source) {
    return load_rows<DeviceRow>(
        db,
        {.select = "SELECT source, gateway, device, product_id, online, last_seen, first_seen, "
                   "synced_at, stale_after, vendor_code, comm_type, ip, mac, name, description, "
                   "location, server_id, sub_type, protocol_state FROM devices",
         .filter = " WHERE source = ?1",
         .value = source,
         .tail = " ORDER BY source, gateway, device"},
        [](const sql::Stmt& st, DeviceRow& d) {
            st.read(d.source, d.gateway, d.device, d.product_id, d.online, d.last_seen,
                    d.first_seen, d.synced_at, d.stale_after_ms, d.vendor_code, d.comm_type, d.ip,
                    d.mac, d.name, d.description, d.location, d.server_id, d.sub_type,
                    d.protocol_state);
        });
}

void for_each_command(sql::Db& db, const std::optional<std::string>& source, std::int64_t limit,
                      const std::function<void(const CommandRow&)>& fn) {
    each_row(db,
             {.select = "SELECT source, gateway, device, request_id, code, value, outcome, "
                        "sent_at, result_code, result_msg, answered_at FROM commands",
              .filter = " WHERE source = ?2",
              .value = source,
              .tail = " ORDER BY sent_at DESC, id DESC LIMIT ?1",
              .limit = limit},
             [&](const sql::Stmt& st) {
                 CommandRow c;
                 st.read(c.source, c.gateway, c.device, c.request_id, c.dp, c.value, c.outcome,
                         c.sent_at, c.result_code, c.result_msg, c.answered_at);
                 fn(c);
             });
}

namespace {

constexpr std::string_view kJobRunColumns =
    "SELECT source, job, command, coalesce(usage_point, ''), coalesce(direction, ''), "
    "coalesce(window_start, ''), coalesce(window_end, ''), outcome, coalesce(error, ''), "
    "coalesce(upstream_issuer, ''), coalesce(upstream_code, ''), started_at, finished_at, records "
    "FROM job_runs r";

JobRunRow read_job_run(const sql::Stmt& st) {
    JobRunRow r;
    st.read(r.source, r.job, r.command, r.usage_point, r.direction, r.window_start, r.window_end,
            r.outcome, r.error, r.upstream_issuer, r.upstream_code, r.started_at, r.finished_at,
            r.records);
    return r;
}

}  // namespace

void for_each_job_run(sql::Db& db, const std::optional<std::string>& job, std::int64_t limit,
                      const std::function<void(const JobRunRow&)>& fn) {
    each_row(db,
             {.select = kJobRunColumns,
              .filter = " WHERE job = ?2",
              .value = job,
              .tail = " ORDER BY started_at DESC, id DESC LIMIT ?1",
              .limit = limit},
             [&](const sql::Stmt& st) { fn(read_job_run(st)); });
}

std::vector<JobRunRow> latest_job_runs(sql::Db& db, std::int64_t limit) {
    std::vector<JobRunRow> out;
    each_row(db,
             {.select = kJobRunColumns,
              .tail = " WHERE r.id = (SELECT id FROM job_runs WHERE source = r.source AND job = "
                      "r.job ORDER BY started_at DESC, id DESC LIMIT 1) ORDER BY source, job "
                      "LIMIT ?1",
              .limit = limit},
             [&](const sql::Stmt& st) { out.push_back(read_job_run(st)); });
    return out;
}

std::vector<JobProgressRow> load_job_progress(sql::Db& db, const std::string& source) {
    return load_rows<JobProgressRow>(
        db,
        {.select = "SELECT source, job, usage_point, direction, done, floor FROM job_progress",
         .filter = " WHERE source = ?1",
         .value = source,
         .tail = " ORDER BY job, usage_point, direction"},
        [](const sql::Stmt& st, JobProgressRow& p) {
            st.read(p.source, p.job, p.usage_point, p.direction, p.done, p.floor);
        });
}

std::vector<ConsentRow> load_consents(sql::Db& db, const std::optional<std::string>& source) {
    return load_rows<ConsentRow>(
        db,
        {.select = "SELECT source, usage_point, state, coalesce(job, ''), granted_at, "
                   "expires_at, updated_at FROM consents",
         .filter = " WHERE source = ?1",
         .value = source,
         .tail = " ORDER BY source, usage_point"},
        [](const sql::Stmt& st, ConsentRow& c) {
            st.read(c.source, c.usage_point, c.state, c.job, c.granted_at, c.expires_at,
                    c.updated_at);
        });
}

std::vector<AuthorizeUriRow> load_authorize_uris(sql::Db& db,
                                                 const std::optional<std::string>& source) {
    return load_rows<AuthorizeUriRow>(
        db,
        {.select = "SELECT source, job, uri, requested_at FROM authorize_uris",
         .filter = " WHERE source = ?1",
         .value = source,
         .tail = " ORDER BY source, job"},
        [](const sql::Stmt& st, AuthorizeUriRow& u) {
            st.read(u.source, u.job, u.uri, u.requested_at);
        });
}

std::map<std::string, TimeMs> last_job_runs(sql::Db& db, const std::string& source) {
    std::map<std::string, TimeMs> out;
    each_row(db,
             {.select = "SELECT job, max(started_at) FROM job_runs",
              .filter = " WHERE source = ?1",
              .value = source,
              .tail = " GROUP BY job"},
             [&](const sql::Stmt& st) { out[std::string(st.column_text(0))] = st.column_int(1); });
    return out;
}

}  // namespace mb
