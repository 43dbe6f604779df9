#include "storage/schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>
#include <vector>

#include "storage/backup.h"
#include "storage/cadence.h"

namespace mb::schema {

namespace {

// ISO-8601 UTC text with milliseconds of an integer ms timestamp, in plain SQL
// so that the views work from any sqlite3 shell. Floor division keeps
// pre-1970 values right (SQLite's / and % truncate toward zero).
#define MB_ISO(x)                                     \
    "(strftime('%Y-%m-%dT%H:%M:%S', ((" x ") - (((" x \
    ") % 1000 + 1000) % 1000)) / 1000, "              \
    "'unixepoch') || printf('.%03dZ', ((" x ") % 1000 + 1000) % 1000))"

constexpr std::string_view kV1 = R"sql(
CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,
    received_at  INTEGER NOT NULL,
    source       TEXT    NOT NULL,
    topic        TEXT    NOT NULL,
    content_type TEXT,
    reason       TEXT,              -- NULL: accepted; else why it was rejected
    payload      BLOB,              -- capped for rejected; NULLed by retention for accepted
    payload_size INTEGER NOT NULL   -- size as received, before any cap
);
CREATE INDEX messages_rejected ON messages (received_at) WHERE reason IS NOT NULL;

CREATE TABLE series (
    id       INTEGER PRIMARY KEY,
    source   TEXT NOT NULL,
    meter    TEXT NOT NULL,
    quantity TEXT NOT NULL,
    unit     TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('interval', 'instant', 'cumulative')),
    UNIQUE (source, meter, quantity)
);

-- Time first: readings arrive in time order, so inserts append (DESIGN.md §7).
CREATE TABLE readings (
    ts_start    INTEGER NOT NULL,
    series_id   INTEGER NOT NULL REFERENCES series (id),
    ts_end      INTEGER NOT NULL,
    value       REAL    NOT NULL,
    received_at INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    PRIMARY KEY (ts_start, series_id, ts_end)
) WITHOUT ROWID;
CREATE INDEX readings_by_series ON readings (series_id, ts_start);

CREATE TABLE revisions (
    id             INTEGER PRIMARY KEY,
    series_id      INTEGER NOT NULL REFERENCES series (id),
    ts_start       INTEGER NOT NULL,
    ts_end         INTEGER NOT NULL,
    old_value      REAL    NOT NULL,
    new_value      REAL    NOT NULL,
    old_message_id INTEGER NOT NULL,
    new_message_id INTEGER NOT NULL,
    revised_at     INTEGER NOT NULL
);
CREATE INDEX revisions_by_key ON revisions (series_id, ts_start);

CREATE TABLE states (
    ts          INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    meter       TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    PRIMARY KEY (ts, source, meter, key)
) WITHOUT ROWID;

CREATE TABLE source_stats (
    source           TEXT PRIMARY KEY,
    messages         INTEGER NOT NULL DEFAULT 0,
    readings         INTEGER NOT NULL DEFAULT 0,
    duplicates       INTEGER NOT NULL DEFAULT 0,
    revisions        INTEGER NOT NULL DEFAULT 0,
    rejected         INTEGER NOT NULL DEFAULT 0,
    states           INTEGER NOT NULL DEFAULT 0,
    last_received_at INTEGER
);

CREATE TABLE consents (
    source      TEXT NOT NULL,
    usage_point TEXT NOT NULL,
    job         TEXT,
    state       TEXT NOT NULL,
    granted_at  INTEGER,
    expires_at  INTEGER,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (source, usage_point)
);

CREATE TABLE devices (
    source     TEXT NOT NULL,
    gateway    TEXT NOT NULL,
    device     TEXT NOT NULL,
    product_id TEXT,
    online     INTEGER,
    last_seen  INTEGER,
    PRIMARY KEY (source, gateway, device)
);

-- How far payload retention has gone (messages.id), so each pass is a short range scan.
CREATE TABLE maintenance (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
)sql";

// readings_v: the series joined to their readings, times as ISO text, then
// `extra` columns (v5 adds the integer times).
std::string readings_view(std::string_view extra) {
    return std::string(R"sql(CREATE VIEW readings_v AS
SELECT s.source, s.meter, s.quantity, s.unit, s.kind,
       )sql") + MB_ISO("r.ts_start") +
           R"sql( AS ts_start,
       )sql" + MB_ISO("r.ts_end") +
           R"sql( AS ts_end,
       r.value,
       )sql" + MB_ISO("r.received_at") +
           R"sql( AS received_at)sql" + std::string(extra) +
           R"sql(
FROM readings r JOIN series s ON s.id = r.series_id;)sql";
}

// The contract views (DESIGN.md §3). Recreated by migrations that change them.
const std::string kViews = std::string(R"sql(
DROP VIEW IF EXISTS readings_v;
DROP VIEW IF EXISTS states_v;
DROP VIEW IF EXISTS rejected_v;
DROP VIEW IF EXISTS revisions_v;
DROP VIEW IF EXISTS consents_v;
DROP VIEW IF EXISTS devices_v;
)sql") + readings_view("") + R"sql(
CREATE VIEW states_v AS
SELECT source, meter, key, value, )sql" +
                           MB_ISO("ts") + R"sql( AS ts FROM states;
CREATE VIEW rejected_v AS
SELECT )sql" + MB_ISO("received_at") +
                           R"sql( AS received_at, source, topic, reason,
       CAST(payload AS TEXT) AS payload
FROM messages WHERE reason IS NOT NULL;
CREATE VIEW revisions_v AS
SELECT s.source, s.meter, s.quantity,
       )sql" + MB_ISO("v.ts_start") +
                           R"sql( AS ts_start,
       )sql" + MB_ISO("v.ts_end") +
                           R"sql( AS ts_end,
       v.old_value, v.new_value,
       )sql" + MB_ISO("v.revised_at") +
                           R"sql( AS revised_at
FROM revisions v JOIN series s ON s.id = v.series_id;
CREATE VIEW consents_v AS
SELECT source, usage_point, state,
       CASE WHEN granted_at IS NULL THEN NULL ELSE )sql" +
                           MB_ISO("granted_at") + R"sql( END AS granted_at,
       CASE WHEN expires_at IS NULL THEN NULL ELSE )sql" +
                           MB_ISO("expires_at") + R"sql( END AS expires_at,
       job
FROM consents;
CREATE VIEW devices_v AS
SELECT source, gateway, device, product_id, online,
       CASE WHEN last_seen IS NULL THEN NULL ELSE )sql" +
                           MB_ISO("last_seen") + R"sql( END AS last_seen
FROM devices;
)sql";

// v2: the device registry's descriptive columns (Tuya device sync), its
// per-device protocol state, and the commands sent to devices with their outcome.
constexpr std::string_view kV2 = R"sql(
ALTER TABLE devices ADD COLUMN vendor_code TEXT;
ALTER TABLE devices ADD COLUMN comm_type TEXT;
ALTER TABLE devices ADD COLUMN ip TEXT;
ALTER TABLE devices ADD COLUMN mac TEXT;
ALTER TABLE devices ADD COLUMN name TEXT;
ALTER TABLE devices ADD COLUMN description TEXT;
ALTER TABLE devices ADD COLUMN location TEXT;
ALTER TABLE devices ADD COLUMN server_id TEXT;
ALTER TABLE devices ADD COLUMN sub_type TEXT;
ALTER TABLE devices ADD COLUMN first_seen INTEGER;
ALTER TABLE devices ADD COLUMN synced_at INTEGER;      -- NULL: reported but never synced
ALTER TABLE devices ADD COLUMN stale_after INTEGER;    -- ms without uplink before it is stale
ALTER TABLE devices ADD COLUMN protocol_state TEXT;    -- e.g. Tuya first/last reading pairing

CREATE TABLE commands (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    request_id  TEXT    NOT NULL,
    gateway     TEXT    NOT NULL,
    device      TEXT    NOT NULL,
    dp          INTEGER NOT NULL,
    code        TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    sent_at     INTEGER NOT NULL,
    deadline    INTEGER NOT NULL,
    outcome     TEXT    NOT NULL DEFAULT 'pending'
                CHECK (outcome IN ('pending', 'success', 'error', 'timeout', 'aborted')),
    result_code INTEGER,
    result_msg  TEXT,
    answered_at INTEGER,
    UNIQUE (source, request_id)
);
CREATE INDEX commands_by_time ON commands (sent_at);
)sql";

// Views added by v2. devices_v keeps exactly its contract columns; the
// registry's details, and `stale`, are in device_registry_v. `stale` is
// computed at read time, so it is right even while the daemon is down.
const std::string kViewsV2 = std::string(R"sql(
DROP VIEW IF EXISTS device_registry_v;
DROP VIEW IF EXISTS commands_v;
CREATE VIEW device_registry_v AS
SELECT source, gateway, device, product_id, online,
       CASE WHEN last_seen IS NULL THEN NULL ELSE )sql") +
                             MB_ISO("last_seen") + R"sql( END AS last_seen,
       CASE WHEN last_seen IS NULL OR stale_after IS NULL THEN NULL
            WHEN last_seen + stale_after < CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
            THEN 1 ELSE 0 END AS stale,
       synced_at IS NOT NULL AS synced,
       vendor_code, comm_type, ip, mac, name, description, location, server_id, sub_type,
       CASE WHEN first_seen IS NULL THEN NULL ELSE )sql" +
                             MB_ISO("first_seen") + R"sql( END AS first_seen
FROM devices;
CREATE VIEW commands_v AS
SELECT source, gateway, device, request_id, code AS dp, value, )sql" +
                             MB_ISO("sent_at") + R"sql( AS sent_at,
       outcome, result_code, result_msg,
       CASE WHEN answered_at IS NULL THEN NULL ELSE )sql" +
                             MB_ISO("answered_at") + R"sql( END AS answered_at
FROM commands;
)sql";

// The job_runs table as v3 created it and v4 rebuilt it (under a temporary
// name): they differ only in the outcomes the CHECK allows. The text is part of
// existing databases (sqlite_master keeps it), so each migration's stays as it ran.
std::string job_runs_table(std::string_view name, std::string_view outcomes) {
    return fmt::format(R"sql(CREATE TABLE {} (
    id              INTEGER PRIMARY KEY,
    source          TEXT    NOT NULL,
    job             TEXT    NOT NULL,
    command         TEXT    NOT NULL,
    usage_point     TEXT,
    direction       TEXT,
    window_start    TEXT,              -- YYYY-MM-DD, French local days, inclusive
    window_end      TEXT,              -- exclusive
    started_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    outcome         TEXT    NOT NULL
                    CHECK (outcome IN ({})),
    records         INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    upstream_issuer TEXT,
    upstream_code   TEXT,
    run_key         TEXT    NOT NULL,  -- the connector's id of the request
    UNIQUE (source, run_key)
);
)sql",
                       name, outcomes);
}

// v3: what the Enedis jobs did and know — one row per request (window,
// outcome, the upstream's words), the days done per (job, usage point,
// direction) so a restart resumes without refetching, and the authorize URIs.
const std::string kV3 = "\n" +
                        job_runs_table("job_runs",
                                       "'running', 'ok', 'error', 'no_older_data', 'timeout',\n"
                                       "                                       'disconnected', "
                                       "'aborted'") +
                        R"sql(CREATE INDEX job_runs_by_job ON job_runs (source, job, started_at);

CREATE TABLE job_progress (
    source      TEXT NOT NULL,
    job         TEXT NOT NULL,
    usage_point TEXT NOT NULL,
    direction   TEXT NOT NULL,
    done        TEXT NOT NULL DEFAULT '',  -- day ranges "YYYY-MM-DD/YYYY-MM-DD ..."
    floor       TEXT,                      -- no data before this day (the upstream said so)
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (source, job, usage_point, direction)
);

CREATE TABLE authorize_uris (
    source       TEXT NOT NULL,
    job          TEXT NOT NULL,
    uri          TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    PRIMARY KEY (source, job)
);
)sql";

const std::string kViewsV3 = std::string(R"sql(
DROP VIEW IF EXISTS job_runs_v;
CREATE VIEW job_runs_v AS
SELECT source, job, command, usage_point, direction, window_start, window_end,
       )sql") + MB_ISO("started_at") +
                             R"sql( AS started_at,
       CASE WHEN finished_at IS NULL THEN NULL ELSE )sql" +
                             MB_ISO("finished_at") + R"sql( END AS finished_at,
       outcome, records, error, upstream_issuer, upstream_code
FROM job_runs;
)sql";

// v4: a job run may end in 'no_consent' (the upstream's ADAM-DC-0008). SQLite
// cannot change a CHECK in place: the table is rebuilt, its rows kept.
const std::string kV4 =
    "\nDROP VIEW IF EXISTS job_runs_v;\n" +
    job_runs_table("job_runs_v4",
                   "'running', 'ok', 'error', 'no_older_data', 'no_consent',\n"
                   "                                       'timeout', 'disconnected', 'aborted'") +
    R"sql(INSERT INTO job_runs_v4 SELECT * FROM job_runs;
DROP TABLE job_runs;
ALTER TABLE job_runs_v4 RENAME TO job_runs;
CREATE INDEX job_runs_by_job ON job_runs (source, job, started_at);
)sql";

// v5: readings_v gains the integer times (DESIGN.md §8). The view stays a
// plain join so that SQLite flattens it: a filter on (source, meter, quantity,
// ts_start_ms) then finds the series by its unique key and the readings by
// readings_by_series (series_id, ts_start), never a scan. series_stats holds
// what `meters` needs per series, kept by the writer once per batch, so
// freshness never scans readings.
const std::string kV5 =
    "\nDROP VIEW IF EXISTS readings_v;\n" +
    readings_view(",\n       r.ts_start AS ts_start_ms,\n       r.ts_end AS ts_end_ms") + R"sql(

CREATE TABLE series_stats (
    series_id     INTEGER PRIMARY KEY,        -- series.id
    first_ts      INTEGER NOT NULL,           -- earliest ts_start stored
    last_ts       INTEGER NOT NULL,           -- latest ts_start stored
    last_received INTEGER NOT NULL,           -- latest received_at of a reading of it
    readings      INTEGER NOT NULL,           -- rows stored (duplicates and revisions excluded)
    cadence_ms    INTEGER NOT NULL DEFAULT 0, -- learned interval between readings; 0: unknown
    arrival_ms    INTEGER NOT NULL DEFAULT 0, -- learned interval between messages; 0: unknown
    steps         TEXT    NOT NULL DEFAULT '',  -- recent reading intervals (storage/cadence.h)
    arrivals      TEXT    NOT NULL DEFAULT ''   -- recent message intervals
);
INSERT INTO series_stats (series_id, first_ts, last_ts, last_received, readings)
SELECT series_id, min(ts_start), max(ts_start), max(received_at), count(*)
FROM readings GROUP BY series_id;
)sql";

#undef MB_ISO

// The recent intervals of every series already stored (v5): from its latest
// readings, through readings_by_series, one short range per series.
void backfill_intervals(sql::Db& db) {
    std::vector<std::int64_t> ids;
    {
        sql::Stmt all(db, "SELECT series_id FROM series_stats");
        while (all.step()) ids.push_back(all.column_int(0));
    }
    // Enough readings to see several messages of day-sized ones (a Voltaware day is 96).
    sql::Stmt latest(db,
                     "SELECT ts_start, received_at FROM readings WHERE series_id = ?1 "
                     "ORDER BY ts_start DESC LIMIT 1000");
    sql::Stmt save(db,
                   "UPDATE series_stats SET steps = ?2, cadence_ms = ?3, arrivals = ?4, "
                   "arrival_ms = ?5 WHERE series_id = ?1");
    for (const std::int64_t id : ids) {
        std::vector<std::int64_t> ts, received;
        latest.bind(1, id);
        while (latest.step()) {
            ts.push_back(latest.column_int(0));
            received.push_back(latest.column_int(1));
        }
        latest.reset();
        std::sort(ts.begin(), ts.end());
        ts.erase(std::unique(ts.begin(), ts.end()), ts.end());
        std::sort(received.begin(), received.end());
        received.erase(std::unique(received.begin(), received.end()), received.end());
        IntervalRing steps, arrivals;
        const auto learn = [](IntervalRing& ring, const std::vector<std::int64_t>& v) {
            const std::size_t from =
                v.size() > IntervalRing::kSize + 1 ? v.size() - IntervalRing::kSize - 1 : 0;
            for (std::size_t i = from + 1; i < v.size(); ++i) ring.push(v[i] - v[i - 1]);
        };
        learn(steps, ts);
        learn(arrivals, received);
        save.run(id, steps.format(), steps.learned(), arrivals.format(), arrivals.learned());
        save.reset();
    }
}

const std::string kV1All = std::string(kV1) + kViews;
const std::string kV2All = std::string(kV2) + kViewsV2;
const std::string kV3All = kV3 + kViewsV3;
const std::string kV4All = kV4 + kViewsV3;

const std::array<Migration, 5> kMigrations{{
    {1,
     "initial schema: messages, series, readings, revisions, states, stats, consents, devices, "
     "views",
     kV1All},
    {2, "device registry details and protocol state; commands and their outcomes", kV2All},
    {3, "job runs, job progress (days done, floor), authorize URIs", kV3All},
    {4, "job runs may end in no_consent", kV4All},
    {5, "readings_v with integer times; per-series freshness and learned cadence", kV5},
}};

}  // namespace

std::span<const Migration> migrations() {
    return kMigrations;
}

int latest_version() {
    return kMigrations.back().version;
}

int current_version(sql::Db& db) {
    return static_cast<int>(db.scalar_int("PRAGMA user_version").value_or(0));
}

void migrate(sql::Db& db, int target) {
    if (target < 0) target = latest_version();
    const int current = current_version(db);
    if (current > latest_version())
        throw std::runtime_error(
            fmt::format("database schema version {} is newer than this meterbridge supports ({}); "
                        "upgrade meterbridge or use another database",
                        current, latest_version()));
    // All pending migrations in one transaction: a reader (an operator's
    // sqlite3, `meterbridge query`) sees the old schema or the new one, never a
    // half-migrated database.
    if (current >= target) return;
    // An existing database is copied first, as it is, for a way back (storage/backup.h).
    if (const auto copy = pre_migration_copy_path(db, target); current > 0 && !copy.empty())
        backup_database(db, copy);
    sql::Transaction tx(db);
    for (const auto& m : kMigrations) {
        if (m.version <= current || m.version > target) continue;
        db.exec(std::string(m.sql).c_str());
        if (m.version == 5) backfill_intervals(db);
        db.exec(fmt::format("PRAGMA user_version = {}", m.version).c_str());
    }
    tx.commit();
}

}  // namespace mb::schema
