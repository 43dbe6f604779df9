#include "storage/store.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "storage/schema.h"

namespace mb {

namespace {

// Empty text is stored as NULL.
std::optional<std::string_view> null_if_empty(const std::string& v) {
    if (v.empty()) return std::nullopt;
    return v;
}

}  // namespace

std::size_t Store::SeriesKeyHash::operator()(const SeriesKeyView& k) const {
    const std::hash<std::string_view> h;
    std::size_t seed = h(k.source);
    seed ^= h(k.meter) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
    seed ^= h(k.quantity) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
    return seed;
}

Store Store::open(const std::filesystem::path& path, StoreOptions options) {
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    auto db = sql::Db::open(path, sql::Db::Mode::read_write_create);
    sqlite3_busy_timeout(db.get(), static_cast<int>(options.busy_timeout.count()));
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = OFF");  // lineage is enforced by the writer, not per row
    // The hot right edge of the indexes; negative: KiB.
    const auto kib = std::max<std::size_t>(options.cache_bytes / 1024, 64);
    db.exec(fmt::format("PRAGMA cache_size = -{}", kib).c_str());
    schema::migrate(db);
    Store s(std::move(db), options);
    s.prepare();
    // Replaces the automatic checkpoint: see checkpoint().
    sqlite3_wal_hook(
        s.db_.get(),
        [](void* pages, sqlite3*, const char*, int n) {
            *static_cast<int*>(pages) = n;
            return SQLITE_OK;
        },
        s.wal_pages_.get());
    return s;
}

void Store::checkpoint() {
    if (*wal_pages_ < kCheckpointPages) return;
    *wal_pages_ = 0;  // the next commit reports what is left
    const int rc =
        sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    // Busy: another connection is checkpointing (the writer's own checkpointer).
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        throw sql::SqliteError(rc, fmt::format("sqlite checkpoint: {}", sqlite3_errmsg(db_.get())));
}

Store::Store(sql::Db db, StoreOptions options) : db_(std::move(db)), options_(options) {}

void Store::prepare() {
    insert_message_ = sql::Stmt(db_,
                                "INSERT INTO messages (received_at, source, topic, content_type, "
                                "reason, payload, payload_size) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    find_series_ = sql::Stmt(
        db_,
        "SELECT id, unit, kind FROM series WHERE source = ?1 AND meter = ?2 AND quantity = ?3");
    insert_series_ = sql::Stmt(
        db_,
        "INSERT INTO series (source, meter, quantity, unit, kind) VALUES (?1, ?2, ?3, ?4, ?5)");
    insert_reading_ = sql::Stmt(db_,
                                "INSERT OR IGNORE INTO readings (ts_start, series_id, ts_end, "
                                "value, received_at, message_id) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    find_reading_ = sql::Stmt(db_,
                              "SELECT value, message_id FROM readings WHERE ts_start = ?1 AND "
                              "series_id = ?2 AND ts_end = ?3");
    update_reading_ = sql::Stmt(db_,
                                "UPDATE readings SET value = ?4, received_at = ?5, message_id = ?6 "
                                "WHERE ts_start = ?1 AND series_id = ?2 AND ts_end = ?3");
    insert_revision_ = sql::Stmt(
        db_,
        "INSERT INTO revisions (series_id, ts_start, ts_end, old_value, new_value, old_message_id, "
        "new_message_id, revised_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    find_state_ = sql::Stmt(
        db_, "SELECT value FROM states WHERE ts = ?1 AND source = ?2 AND meter = ?3 AND key = ?4");
    upsert_state_ = sql::Stmt(
        db_,
        "INSERT INTO states (ts, source, meter, key, value, received_at, message_id) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (ts, source, meter, key) DO UPDATE SET "
        "value = excluded.value, received_at = excluded.received_at, message_id = "
        "excluded.message_id");
    upsert_stats_ = sql::Stmt(
        db_,
        "INSERT INTO source_stats (source, messages, readings, duplicates, revisions, rejected, "
        "states, "
        "last_received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (source) DO UPDATE "
        "SET "
        "messages = messages + excluded.messages, readings = readings + excluded.readings, "
        "duplicates = duplicates + excluded.duplicates, revisions = revisions + "
        "excluded.revisions, "
        "rejected = rejected + excluded.rejected, states = states + excluded.states, "
        "last_received_at = CASE WHEN excluded.last_received_at IS NULL THEN last_received_at "
        "ELSE max(coalesce(last_received_at, 0), excluded.last_received_at) END");
    prune_ = sql::Stmt(
        db_,
        "UPDATE messages SET payload = NULL WHERE id > ?1 AND id <= ?2 AND received_at < ?3 "
        "AND reason IS NULL AND payload IS NOT NULL");
    first_young_ = sql::Stmt(
        db_, "SELECT min(id) FROM messages WHERE id > ?1 AND id <= ?2 AND received_at >= ?3");
    max_message_id_ = sql::Stmt(
        db_,
        "SELECT max(id) FROM (SELECT id FROM messages WHERE id > ?1 ORDER BY id LIMIT ?2) "
        "WHERE 1");
    // A sync replaces the descriptive fields (an absent one is cleared); other
    // updates only touch what they carry.
    upsert_device_ = sql::Stmt(db_, R"sql(
INSERT INTO devices (source, gateway, device, product_id, online, last_seen, vendor_code,
                     comm_type, ip, mac, name, description, location, server_id, sub_type,
                     first_seen, synced_at, stale_after, protocol_state)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?6, ?16, ?17, ?18)
ON CONFLICT (source, gateway, device) DO UPDATE SET
    product_id = CASE WHEN ?16 IS NOT NULL THEN excluded.product_id ELSE product_id END,
    vendor_code = CASE WHEN ?16 IS NOT NULL THEN excluded.vendor_code ELSE vendor_code END,
    comm_type = CASE WHEN ?16 IS NOT NULL THEN excluded.comm_type ELSE comm_type END,
    ip = CASE WHEN ?16 IS NOT NULL THEN excluded.ip ELSE ip END,
    mac = CASE WHEN ?16 IS NOT NULL THEN excluded.mac ELSE mac END,
    name = CASE WHEN ?16 IS NOT NULL THEN excluded.name ELSE name END,
    description = CASE WHEN ?16 IS NOT NULL THEN excluded.description ELSE description END,
    location = CASE WHEN ?16 IS NOT NULL THEN excluded.location ELSE location END,
    server_id = CASE WHEN ?16 IS NOT NULL THEN excluded.server_id ELSE server_id END,
    sub_type = CASE WHEN ?16 IS NOT NULL THEN excluded.sub_type ELSE sub_type END,
    synced_at = CASE WHEN ?19 THEN NULL ELSE coalesce(excluded.synced_at, synced_at) END,
    online = coalesce(excluded.online, online),
    last_seen = max(coalesce(last_seen, excluded.last_seen), excluded.last_seen),
    first_seen = coalesce(first_seen, excluded.first_seen),
    stale_after = coalesce(excluded.stale_after, stale_after),
    protocol_state = coalesce(excluded.protocol_state, protocol_state)
)sql");
    insert_command_ = sql::Stmt(db_,
                                "INSERT OR IGNORE INTO commands (source, request_id, gateway, "
                                "device, dp, code, value, sent_at, deadline) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    // A late answer (after the timeout) is recorded, the outcome stays timeout.
    answer_command_ = sql::Stmt(db_,
                                "UPDATE commands SET answered_at = ?3, result_code = ?4, "
                                "result_msg = ?5, outcome = CASE WHEN outcome = 'pending' THEN "
                                "(CASE WHEN ?4 = 0 THEN 'success' ELSE 'error' END) ELSE outcome "
                                "END WHERE source = ?1 AND request_id = ?2");
    close_command_ = sql::Stmt(db_,
                               "UPDATE commands SET outcome = ?3, result_code = ?4, result_msg = "
                               "?5 WHERE source = ?1 AND request_id = ?2 AND outcome = 'pending'");
    upsert_consent_ = sql::Stmt(db_, R"sql(
INSERT INTO consents (source, usage_point, job, state, granted_at, expires_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (source, usage_point) DO UPDATE SET
    job = coalesce(excluded.job, job), state = excluded.state,
    granted_at = coalesce(excluded.granted_at, granted_at),
    expires_at = coalesce(excluded.expires_at, expires_at), updated_at = excluded.updated_at
)sql");
    insert_run_ = sql::Stmt(db_,
                            "INSERT OR IGNORE INTO job_runs (source, run_key, job, command, "
                            "usage_point, direction, window_start, window_end, started_at, "
                            "outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'running')");
    finish_run_ = sql::Stmt(db_,
                            "UPDATE job_runs SET finished_at = ?3, outcome = ?4, records = ?5, "
                            "error = ?6, upstream_issuer = ?7, upstream_code = ?8 "
                            "WHERE source = ?1 AND run_key = ?2");
    upsert_progress_ = sql::Stmt(db_, R"sql(
INSERT INTO job_progress (source, job, usage_point, direction, done, floor, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (source, job, usage_point, direction) DO UPDATE SET
    done = excluded.done, floor = excluded.floor, updated_at = excluded.updated_at
)sql");
    upsert_uri_ = sql::Stmt(db_,
                            "INSERT INTO authorize_uris (source, job, uri, requested_at) VALUES "
                            "(?1, ?2, ?3, ?4) ON CONFLICT (source, job) DO UPDATE SET uri = "
                            "excluded.uri, requested_at = excluded.requested_at");
    find_freshness_ = sql::Stmt(db_,
                                "SELECT first_ts, last_ts, last_received, readings, steps, "
                                "arrivals FROM series_stats WHERE series_id = ?1");
    insert_freshness_ = sql::Stmt(db_,
                                  "INSERT INTO series_stats (series_id, first_ts, last_ts, "
                                  "last_received, readings, cadence_ms, arrival_ms, steps, "
                                  "arrivals) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    // An update in place: cheaper than REPLACE's delete and insert.
    update_freshness_ =
        sql::Stmt(db_,
                  "UPDATE series_stats SET first_ts = ?2, last_ts = ?3, "
                  "last_received = ?4, readings = ?5, cadence_ms = ?6, "
                  "arrival_ms = ?7, steps = ?8, arrivals = ?9 WHERE series_id = ?1");
    get_maint_ = sql::Stmt(db_, "SELECT value FROM maintenance WHERE key = ?1");
    set_maint_ = sql::Stmt(db_,
                           "INSERT INTO maintenance (key, value) VALUES (?1, ?2) ON CONFLICT (key) "
                           "DO UPDATE SET value = excluded.value");
}

const Store::SeriesInfo* Store::lookup_series(const std::string& source, const Reading& r,
                                              std::string& why) {
    // A day's readings share their series: compare with the last one before hashing.
    const SeriesCache::value_type* entry = last_series_;
    if (!entry || entry->first.meter != r.meter || entry->first.quantity != r.quantity ||
        entry->first.source != source) {
        auto it = series_cache_.find(SeriesKeyView{source, r.meter, r.quantity});
        if (it == series_cache_.end()) {
            if (!find_series_.run(source, r.meter, r.quantity)) {
                find_series_.reset();
                return nullptr;  // new series: created on insert
            }
            auto kind = parse_kind(find_series_.column_text(2)).value_or(Kind::interval);
            it = series_cache_
                     .emplace(SeriesKey{source, r.meter, r.quantity},
                              SeriesInfo{find_series_.column_int(0),
                                         std::string(find_series_.column_text(1)), kind})
                     .first;
            find_series_.reset();
        }
        entry = &*it;
        last_series_ = entry;
    }
    const SeriesInfo& info = entry->second;
    if (info.unit != r.unit || info.kind != r.kind) {
        why =
            fmt::format("{} of meter {} is stored as {} {}, this message says {} {}", r.quantity,
                        r.meter, to_string(info.kind), info.unit.empty() ? "(no unit)" : info.unit,
                        to_string(r.kind), r.unit.empty() ? "(no unit)" : r.unit);
    }
    return &info;
}

std::int64_t Store::create_series(const std::string& source, const Reading& r) {
    insert_series_.run(source, r.meter, r.quantity, r.unit, to_string(r.kind));
    const std::int64_t id = sqlite3_last_insert_rowid(db_.get());
    last_series_ =
        &*series_cache_
              .emplace(SeriesKey{source, r.meter, r.quantity}, SeriesInfo{id, r.unit, r.kind})
              .first;
    return id;
}

std::int64_t Store::insert_message(const RawMessage& m, const std::string* reason) {
    std::optional<sql::Blob> payload;  // none: not kept
    if (reason)
        payload = sql::Blob{std::string_view(m.payload).substr(0, options_.max_stored_payload)};
    else if (options_.raw_retention.count() > 0)
        payload = sql::Blob{m.payload};
    insert_message_.run(m.received_at, m.source, m.topic, null_if_empty(m.content_type),
                        reason ? std::optional<std::string_view>(*reason) : std::nullopt, payload,
                        static_cast<std::int64_t>(m.received_size.value_or(m.payload.size())));
    return sqlite3_last_insert_rowid(db_.get());
}

std::string_view to_string(CommandOutcome o) {
    switch (o) {
        case CommandOutcome::pending:
            return "pending";
        case CommandOutcome::success:
            return "success";
        case CommandOutcome::error:
            return "error";
        case CommandOutcome::timeout:
            return "timeout";
        case CommandOutcome::aborted:
            return "aborted";
    }
    return "?";
}

void Store::write_state(const std::string& source, const StateEvent& e, std::int64_t message_id,
                        TimeMs received_at, ApplyStats& st) {
    const bool same =
        find_state_.run(e.ts, source, e.meter, e.key) && find_state_.column_text(0) == e.value;
    find_state_.reset();
    if (same) {
        st.duplicates++;
        return;
    }
    upsert_state_.run(e.ts, source, e.meter, e.key, e.value, received_at, message_id);
    st.states++;
}

void Store::write_device(const std::string& source, const DeviceUpdate& d) {
    const auto online = d.online ? std::optional<std::int64_t>(*d.online ? 1 : 0) : std::nullopt;
    const auto synced_at = d.synced ? std::optional<TimeMs>(d.seen) : std::nullopt;
    upsert_device_.run(source, d.gateway, d.device, d.product_id, online, d.seen, d.vendor_code,
                       d.comm_type, d.ip, d.mac, d.name, d.description, d.location, d.server_id,
                       d.sub_type, synced_at, d.stale_after_ms, d.protocol_state,
                       static_cast<std::int64_t>(d.released ? 1 : 0));
}

void Store::write_command(const std::string& source, const CommandRecord& c) {
    using Step = CommandRecord::Step;
    if (c.step == Step::sent) {
        insert_command_.run(source, c.request_id, c.gateway, c.device,
                            static_cast<std::int64_t>(c.dp), c.code, c.value, c.at, c.deadline);
        return;
    }
    const auto result_code =
        c.result_code ? std::optional<std::int64_t>(*c.result_code) : std::nullopt;
    if (c.step == Step::answered) {
        answer_command_.run(source, c.request_id, c.at, result_code, c.result_msg);
        return;
    }
    close_command_.run(
        source, c.request_id,
        to_string(c.step == Step::timed_out ? CommandOutcome::timeout : CommandOutcome::aborted),
        result_code, c.result_msg);
}

void Store::write_job_records(const std::string& source, const Envelope& env) {
    for (const ConsentUpdate& c : env.consents)
        upsert_consent_.run(source, c.usage_point, null_if_empty(c.job), c.state, c.granted_at,
                            c.expires_at, c.at);
    for (const JobRunRecord& r : env.job_runs) {
        if (r.step == JobRunRecord::Step::started)
            insert_run_.run(source, r.run_key, r.job, r.command, null_if_empty(r.usage_point),
                            null_if_empty(r.direction), null_if_empty(r.window_start),
                            null_if_empty(r.window_end), r.at);
        else
            finish_run_.run(source, r.run_key, r.at, r.outcome, r.records, null_if_empty(r.error),
                            null_if_empty(r.upstream_issuer), null_if_empty(r.upstream_code));
    }
    for (const JobProgressUpdate& p : env.progress)
        upsert_progress_.run(source, p.job, p.usage_point, p.direction, p.done, p.floor, p.at);
    for (const AuthorizeUriRecord& u : env.authorize_uris)
        upsert_uri_.run(source, u.job, u.uri, u.at);
}

std::string_view reason_code(std::string_view reason) {
    return reason.substr(0, reason.find(':'));
}

ApplyStats Store::apply(std::span<const Envelope> batch, ApplyDetail* detail) {
    ApplyStats total;
    std::vector<ApplyDetail::Rejects> rejects;
    // Per-source counters for source_stats; sources per batch are few.
    std::vector<std::pair<std::string, ApplyStats>> per_source;
    std::vector<std::int64_t> last_seen;
    auto source_index = [&](const std::string& src) -> std::uint32_t {
        for (std::uint32_t i = 0; i < per_source.size(); ++i)
            if (per_source[i].first == src) return i;
        per_source.emplace_back(src, ApplyStats{});
        last_seen.push_back(0);
        return static_cast<std::uint32_t>(per_source.size() - 1);
    };

    sql::Transaction tx(db_);
    struct AfterApply {
        Store& s;
        bool ok = false;
        ~AfterApply() {
            // A failed transaction must not leave ids of rolled-back series in the cache.
            if (!ok) {
                s.series_cache_.clear();
                s.last_series_ = nullptr;
                s.freshness_.clear();
            }
            // The buffer of an unusually large batch is not kept for the next one.
            if (s.rows_.capacity() > s.options_.kept_rows_capacity) {
                s.rows_.clear();
                s.rows_.shrink_to_fit();
            }
        }
    } guard{*this};

    rows_.clear();
    for (const Envelope& env : batch) {
        const RawMessage& m = env.raw;
        const std::uint32_t si = source_index(m.source);
        ApplyStats& st = per_source[si].second;
        // What the connector learned stands whether or not the message is accepted.
        for (const DeviceUpdate& d : env.devices) write_device(m.source, d);
        for (const CommandRecord& c : env.commands) write_command(m.source, c);
        write_job_records(m.source, env);
        if (env.record_only) {
            for (const StateEvent& e : env.result.states)
                write_state(m.source, e, 0, m.received_at, st);
            continue;
        }
        last_seen[si] = std::max(last_seen[si], m.received_at);
        st.messages++;
        // Emptied whole rather than kept in LRU order: nothing to update on the hot
        // path (a hit costs what it did), and between messages no pointer into it
        // (infos_, last_series_) is alive.
        if (series_cache_.size() >= options_.series_cache_entries) {
            series_cache_.clear();
            last_series_ = nullptr;
        }

        std::string reason;
        infos_.clear();  // the series of each reading, found while checking them
        if (env.result.reject) {
            reason = env.result.reject->reason();
        } else if (auto bad = check_times(env.result, m.received_at)) {
            // Here rather than in each connector: no path can skip it.
            reason = bad->reason();
        } else {
            // Check every reading before writing anything: a message is stored whole or rejected
            // whole.
            for (const Reading& r : env.result.readings) {
                if (!std::isfinite(r.value)) {
                    reason = fmt::format("invalid_value: {} of meter {} is not a finite number",
                                         r.quantity, r.meter);
                    break;
                }
                if (r.ts_end < r.ts_start) {
                    reason = fmt::format("invalid_value: {} of meter {} ends before it starts",
                                         r.quantity, r.meter);
                    break;
                }
                std::string why;
                infos_.push_back(lookup_series(m.source, r, why));
                if (!why.empty()) {
                    reason = "unit_conflict: " + why;
                    break;
                }
            }
        }
        if (!reason.empty()) {
            insert_message(m, &reason);
            st.rejected++;
            if (detail) {
                const std::string_view code = reason_code(reason);
                auto it = std::find_if(rejects.begin(), rejects.end(), [&](const auto& r) {
                    return r.source == m.source && r.code == code;
                });
                if (it == rejects.end())
                    rejects.push_back({m.source, std::string(code), 1, reason, m.topic});
                else
                    it->count++;
            }
            continue;
        }

        const std::int64_t message_id = insert_message(m, nullptr);
        const auto& readings = env.result.readings;
        for (std::size_t i = 0; i < readings.size(); ++i) {
            const Reading& r = readings[i];
            const SeriesInfo* info = infos_[i];
            if (!info) {
                // New when checked; an earlier reading of this message may have created it.
                std::string why;
                info = lookup_series(m.source, r, why);
            }
            const std::int64_t series_id = info ? info->id : create_series(m.source, r);
            rows_.push_back(
                Row{r.ts_start, series_id, r.ts_end, r.value, m.received_at, message_id, si});
        }
        for (const StateEvent& e : env.result.states)
            write_state(m.source, e, message_id, m.received_at, st);
    }

    // Key order turns inserts into appends; stable keeps arrival order for equal keys.
    std::stable_sort(rows_.begin(), rows_.end(), [](const Row& a, const Row& b) {
        return std::tie(a.ts_start, a.series_id, a.ts_end) <
               std::tie(b.ts_start, b.series_id, b.ts_end);
    });
    // Between batches, not inside one: the touched entries point into it.
    if (freshness_.size() >= options_.series_cache_entries) freshness_.clear();
    touched_.clear();
    touched_index_.clear();
    // Rows come in ts_start order, so each series' readings come in time order:
    // its reading intervals are learned in one pass, without sorting again.
    std::int64_t last_id = -1;
    std::size_t last_touched = 0;
    auto touch = [&](const Row& row) -> BatchSeries& {
        if (row.series_id != last_id) {
            const auto [it, added] = touched_index_.try_emplace(row.series_id, touched_.size());
            if (added) {
                BatchSeries b;
                b.fresh = &freshness(row.series_id);
                b.min_ts = b.max_ts = row.ts_start;
                // The step from the latest stored reading (only forwards: a
                // resent or back-filled older reading says nothing of it).
                b.prev_ts = b.fresh->stored ? b.fresh->last_ts : row.ts_start;
                touched_.emplace_back(row.series_id, b);
            }
            last_touched = it->second;
            last_id = row.series_id;
        }
        BatchSeries& b = touched_[last_touched].second;
        if (row.ts_start > b.prev_ts) {
            b.fresh->steps.push(row.ts_start - b.prev_ts);
            b.prev_ts = row.ts_start;
        }
        b.max_ts = std::max(b.max_ts, row.ts_start);
        const auto received_end = b.received.begin() + static_cast<std::ptrdiff_t>(b.n_received);
        if (std::find(b.received.begin(), received_end, row.received_at) == received_end) {
            if (b.n_received < b.received.size()) {
                b.received[b.n_received++] = row.received_at;
            } else {  // more messages than slots: the newest ones count
                auto oldest = std::min_element(b.received.begin(), b.received.end());
                *oldest = std::max(*oldest, row.received_at);
            }
        }
        return b;
    };
    for (const Row& row : rows_) {
        ApplyStats& st = per_source[row.source_index].second;
        BatchSeries& batch_series = touch(row);
        insert_reading_.run(row.ts_start, row.series_id, row.ts_end, row.value, row.received_at,
                            row.message_id);
        if (sqlite3_changes(db_.get()) > 0) {
            st.readings++;
            batch_series.new_rows++;
            continue;
        }
        find_reading_.run(row.ts_start, row.series_id, row.ts_end);
        const double old_value = find_reading_.column_double(0);
        const std::int64_t old_message = find_reading_.column_int(1);
        find_reading_.reset();
        if (old_value == row.value) {
            st.duplicates++;
            continue;
        }
        insert_revision_.run(row.series_id, row.ts_start, row.ts_end, old_value, row.value,
                             old_message, row.message_id, row.received_at);
        update_reading_.run(row.ts_start, row.series_id, row.ts_end, row.value, row.received_at,
                            row.message_id);
        st.revisions++;
    }

    save_freshness(touched_);

    for (std::size_t i = 0; i < per_source.size(); ++i) {
        const auto& [src, st] = per_source[i];
        const auto count = [](std::uint64_t n) { return static_cast<std::int64_t>(n); };
        std::optional<TimeMs> last;  // none: only connector records, nothing was received
        if (last_seen[i] > 0) last = last_seen[i];
        upsert_stats_.run(src, count(st.messages), count(st.readings), count(st.duplicates),
                          count(st.revisions), count(st.rejected), count(st.states), last);
        total += st;
    }
    tx.commit();
    guard.ok = true;
    if (detail) {
        detail->last_received.clear();
        for (std::size_t i = 0; i < per_source.size(); ++i)
            if (last_seen[i] > 0) detail->last_received.emplace_back(per_source[i].first, last_seen[i]);
        detail->per_source = std::move(per_source);
        detail->rejects = std::move(rejects);
    }
    return total;
}

Store::Freshness& Store::freshness(std::int64_t series_id) {
    auto [it, added] = freshness_.try_emplace(series_id);
    if (added && find_freshness_.run(series_id)) {
        Freshness& f = it->second;
        f.first_ts = find_freshness_.column_int(0);
        f.last_ts = find_freshness_.column_int(1);
        f.last_received = find_freshness_.column_int(2);
        f.readings = find_freshness_.column_int(3);
        f.steps = IntervalRing::parse(find_freshness_.column_text(4));
        f.arrivals = IntervalRing::parse(find_freshness_.column_text(5));
        f.stored = true;
    }
    find_freshness_.reset();
    return it->second;
}

void Store::save_freshness(std::span<const std::pair<std::int64_t, BatchSeries>> touched) {
    for (const auto& [id, b] : touched) {
        Freshness& f = *b.fresh;
        // The messages' spacing: from the last one stored, then between this batch's.
        // At most 8: insertion sort (std::sort's unrolled prefix trips -Warray-bounds here).
        std::array<std::int64_t, 8> rec = b.received;
        for (std::size_t i = 1; i < b.n_received; ++i)
            for (std::size_t j = i; j > 0 && rec[j - 1] > rec[j]; --j)
                std::swap(rec[j - 1], rec[j]);
        std::int64_t prev = f.stored ? f.last_received : 0;
        for (std::size_t i = 0; i < b.n_received; ++i) {
            if (prev > 0) f.arrivals.push(rec[i] - prev);
            prev = std::max(prev, rec[i]);
        }
        sql::Stmt& save = f.stored ? update_freshness_ : insert_freshness_;
        if (!f.stored) {
            f.first_ts = b.min_ts;
            f.last_ts = b.max_ts;
        } else {
            f.first_ts = std::min(f.first_ts, b.min_ts);
            f.last_ts = std::max(f.last_ts, b.max_ts);
        }
        f.last_received = std::max(f.last_received, rec[b.n_received - 1]);
        f.readings += b.new_rows;
        f.stored = true;
        save.run(id, f.first_ts, f.last_ts, f.last_received, f.readings, f.steps.learned(),
                 f.arrivals.learned(), f.steps.format(), f.arrivals.format());
    }
}

std::uint64_t Store::prune(std::int64_t now_ms, std::size_t max_messages) {
    const std::int64_t cutoff = now_ms - options_.raw_retention.count();
    sql::Transaction tx(db_);
    std::int64_t from =
        get_maint_.run(std::string_view("pruned_message_id")) ? get_maint_.column_int(0) : 0;
    get_maint_.reset();

    // Walk forward in chunks of ids. Within a chunk clear what is older than the
    // cutoff; the watermark only moves up to the first message that is not, so
    // a message that arrived out of time order is looked at again next time.
    std::uint64_t cleared = 0;
    std::size_t budget = max_messages;
    while (budget > 0) {
        const std::size_t chunk = std::min<std::size_t>(budget, 2000);
        if (!max_message_id_.run(from, static_cast<std::int64_t>(chunk)) ||
            max_message_id_.column_is_null(0))
            break;
        const std::int64_t to = max_message_id_.column_int(0);
        max_message_id_.reset();
        prune_.run(from, to, cutoff);
        cleared += static_cast<std::uint64_t>(sqlite3_changes(db_.get()));
        const bool has_young =
            first_young_.run(from, to, cutoff) && !first_young_.column_is_null(0);
        const std::int64_t young = has_young ? first_young_.column_int(0) : 0;
        first_young_.reset();
        if (has_young) {
            from = young - 1;
            break;
        }
        from = to;
        budget -= chunk;
    }
    set_maint_.run(std::string_view("pruned_message_id"), from);
    tx.commit();
    return cleared;
}

}  // namespace mb
