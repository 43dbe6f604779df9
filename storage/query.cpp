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
        row.source = st.column_text(0);
        row.meter = st.column_text(1);
        row.quantity = st.column_text(2);
        row.unit = st.column_text(3);
        row.kind = st.column_text(4);
        row.ts_start = st.column_int(5);
        row.ts_end = st.column_int(6);
        row.value = st.column_double(7);
        row.received_at = st.column_int(8);
        fn(row);
    }
}

std::vector<SourceStatsRow> source_stats(sql::Db& db) {
    sql::Stmt st(db,
                 "SELECT source, messages, readings, duplicates, revisions, rejected, states, "
                 "last_received_at FROM source_stats ORDER BY source");
    std::vector<SourceStatsRow> out;
    while (st.step()) {
        SourceStatsRow r;
        r.source = st.column_text(0);
        r.messages = st.column_int(1);
        r.readings = st.column_int(2);
        r.duplicates = st.column_int(3);
        r.revisions = st.column_int(4);
        r.rejected = st.column_int(5);
        r.states = st.column_int(6);
        if (!st.column_is_null(7)) r.last_received_at = st.column_int(7);
        out.push_back(std::move(r));
    }
    return out;
}

void for_each_rejected(sql::Db& db, const std::optional<std::string>& source, std::int64_t limit,
                       const std::function<void(const RejectedRow&)>& fn) {
    std::string sqltext =
        "SELECT received_at, source, topic, reason, CAST(payload AS TEXT), payload_size FROM "
        "messages "
        "WHERE reason IS NOT NULL";
    if (source) sqltext += " AND source = ?2";
    sqltext += " ORDER BY received_at DESC, id DESC LIMIT ?1";
    sql::Stmt st(db, sqltext);
    st.bind(1, limit);
    if (source) st.bind(2, *source);
    RejectedRow r;
    while (st.step()) {
        r.received_at = st.column_int(0);
        r.source = st.column_text(1);
        r.topic = st.column_text(2);
        r.reason = st.column_text(3);
        r.payload = st.column_text(4);
        r.payload_size = st.column_int(5);
        fn(r);
    }
}

namespace {

std::optional<std::string> opt_text(sql::Stmt& st, int i) {
    if (st.column_is_null(i)) return std::nullopt;
    return std::string(st.column_text(i));
}

std::optional<std::int64_t> opt_int(sql::Stmt& st, int i) {
    if (st.column_is_null(i)) return std::nullopt;
    return st.column_int(i);
}

}  // namespace

std::vector<DeviceRow> load_devices(sql::Db& db, const std::optional<std::string>& source) {
    std::string sqltext =
        "SELECT source, gateway, device, product_id, online, last_seen, first_seen, synced_at, "
        "stale_after, vendor_code, comm_type, ip, mac, name, description, location, server_id, "
        "sub_type, protocol_state FROM devices";
    if (source) sqltext += " WHERE source = ?1";
    sqltext += " ORDER BY source, gateway, device";
    sql::Stmt st(db, sqltext);
    if (source) st.bind(1, *source);
    std::vector<DeviceRow> out;
    while (st.step()) {
        DeviceRow d;
        d.source = st.column_text(0);
        d.gateway = st.column_text(1);
        d.device = st.column_text(2);
        d.product_id = opt_text(st, 3);
        if (auto o = opt_int(st, 4)) d.online = *o != 0;
        d.last_seen = opt_int(st, 5);
        d.first_seen = opt_int(st, 6);
        d.synced_at = opt_int(st, 7);
        d.stale_after_ms = opt_int(st, 8);
        d.vendor_code = opt_text(st, 9);
        d.comm_type = opt_text(st, 10);
        d.ip = opt_text(st, 11);
        d.mac = opt_text(st, 12);
        d.name = opt_text(st, 13);
        d.description = opt_text(st, 14);
        d.location = opt_text(st, 15);
        d.server_id = opt_text(st, 16);
        d.sub_type = opt_text(st, 17);
        d.protocol_state = opt_text(st, 18);
        out.push_back(std::move(d));
    }
    return out;
}

void for_each_command(sql::Db& db, const std::optional<std::string>& source, std::int64_t limit,
                      const std::function<void(const CommandRow&)>& fn) {
    std::string sqltext =
        "SELECT source, gateway, device, request_id, code, value, outcome, sent_at, result_code, "
        "result_msg, answered_at FROM commands";
    if (source) sqltext += " WHERE source = ?2";
    sqltext += " ORDER BY sent_at DESC, id DESC LIMIT ?1";
    sql::Stmt st(db, sqltext);
    st.bind(1, limit);
    if (source) st.bind(2, *source);
    while (st.step()) {
        CommandRow c;
        c.source = st.column_text(0);
        c.gateway = st.column_text(1);
        c.device = st.column_text(2);
        c.request_id = st.column_text(3);
        c.dp = st.column_text(4);
        c.value = st.column_text(5);
        c.outcome = st.column_text(6);
        c.sent_at = st.column_int(7);
        c.result_code = opt_int(st, 8);
        c.result_msg = opt_text(st, 9);
        c.answered_at = opt_int(st, 10);
        fn(c);
    }
}

void for_each_job_run(sql::Db& db, const std::optional<std::string>& job, std::int64_t limit,
                      const std::function<void(const JobRunRow&)>& fn) {
    std::string sqltext =
        "SELECT source, job, command, coalesce(usage_point, ''), coalesce(direction, ''), "
        "coalesce(window_start, ''), coalesce(window_end, ''), outcome, coalesce(error, ''), "
        "coalesce(upstream_issuer, ''), coalesce(upstream_code, ''), started_at, finished_at, "
        "records FROM job_runs";
    if (job) sqltext += " WHERE job = ?2";
    sqltext += " ORDER BY started_at DESC, id DESC LIMIT ?1";
    sql::Stmt st(db, sqltext);
    st.bind(1, limit);
    if (job) st.bind(2, *job);
    while (st.step()) {
        JobRunRow r;
        r.source = st.column_text(0);
        r.job = st.column_text(1);
        r.command = st.column_text(2);
        r.usage_point = st.column_text(3);
        r.direction = st.column_text(4);
        r.window_start = st.column_text(5);
        r.window_end = st.column_text(6);
        r.outcome = st.column_text(7);
        r.error = st.column_text(8);
        r.upstream_issuer = st.column_text(9);
        r.upstream_code = st.column_text(10);
        r.started_at = st.column_int(11);
        r.finished_at = opt_int(st, 12);
        r.records = st.column_int(13);
        fn(r);
    }
}

std::vector<JobProgressRow> load_job_progress(sql::Db& db, const std::string& source) {
    sql::Stmt st(db,
                 "SELECT source, job, usage_point, direction, done, floor FROM job_progress "
                 "WHERE source = ?1 ORDER BY job, usage_point, direction");
    st.bind(1, source);
    std::vector<JobProgressRow> out;
    while (st.step())
        out.push_back(JobProgressRow{std::string(st.column_text(0)), std::string(st.column_text(1)),
                                     std::string(st.column_text(2)), std::string(st.column_text(3)),
                                     std::string(st.column_text(4)), opt_text(st, 5)});
    return out;
}

std::vector<ConsentRow> load_consents(sql::Db& db, const std::optional<std::string>& source) {
    std::string sqltext =
        "SELECT source, usage_point, state, coalesce(job, ''), granted_at, expires_at, "
        "updated_at FROM consents";
    if (source) sqltext += " WHERE source = ?1";
    sqltext += " ORDER BY source, usage_point";
    sql::Stmt st(db, sqltext);
    if (source) st.bind(1, *source);
    std::vector<ConsentRow> out;
    while (st.step()) {
        ConsentRow c;
        c.source = st.column_text(0);
        c.usage_point = st.column_text(1);
        c.state = st.column_text(2);
        c.job = st.column_text(3);
        c.granted_at = opt_int(st, 4);
        c.expires_at = opt_int(st, 5);
        c.updated_at = st.column_int(6);
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<AuthorizeUriRow> load_authorize_uris(sql::Db& db,
                                                 const std::optional<std::string>& source) {
    std::string sqltext = "SELECT source, job, uri, requested_at FROM authorize_uris";
    if (source) sqltext += " WHERE source = ?1";
    sqltext += " ORDER BY source, job";
    sql::Stmt st(db, sqltext);
    if (source) st.bind(1, *source);
    std::vector<AuthorizeUriRow> out;
    while (st.step())
        out.push_back(AuthorizeUriRow{std::string(st.column_text(0)),
                                      std::string(st.column_text(1)),
                                      std::string(st.column_text(2)), st.column_int(3)});
    return out;
}

std::map<std::string, TimeMs> last_job_runs(sql::Db& db, const std::string& source) {
    sql::Stmt st(db, "SELECT job, max(started_at) FROM job_runs WHERE source = ?1 GROUP BY job");
    st.bind(1, source);
    std::map<std::string, TimeMs> out;
    while (st.step()) out[std::string(st.column_text(0))] = st.column_int(1);
    return out;
}

}  // namespace mb
