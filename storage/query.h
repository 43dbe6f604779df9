// Read-only access for operators' CLI verbs (query, stats, rejected, devices,
// commands) and for connectors that load their state at start-up.
//
// Who calls: CLI verbs, on the main thread of a short-lived process, while
// the daemon may be writing. The connection is opened read-only (it cannot
// write, whatever the SQL) with a busy timeout; WAL lets it read while the
// writer commits. Errors throw sql::SqliteError or std::runtime_error with a
// message fit for an operator.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "normalize/model.h"
#include "storage/sqlite.h"

namespace mb {

sql::Db open_read_only(const std::filesystem::path& path);

struct ReadingFilter {
    std::optional<std::string> source, meter, quantity;
    std::optional<TimeMs> from;  // ts_start >= from
    std::optional<TimeMs> to;    // ts_start < to
    std::optional<std::int64_t> limit;
};

struct ReadingRow {
    std::string source, meter, quantity, unit, kind;
    TimeMs ts_start = 0, ts_end = 0;
    double value = 0;
    TimeMs received_at = 0;
};

// Rows in (ts_start, source, meter, quantity) order.
void for_each_reading(sql::Db& db, const ReadingFilter& filter,
                      const std::function<void(const ReadingRow&)>& fn);

struct SourceStatsRow {
    std::string source;
    std::int64_t messages = 0, readings = 0, duplicates = 0, revisions = 0, rejected = 0,
                 states = 0;
    std::optional<TimeMs> last_received_at;
};

std::vector<SourceStatsRow> source_stats(sql::Db& db);

struct RejectedRow {
    TimeMs received_at = 0;
    std::string source, topic, reason, payload;
    std::int64_t payload_size = 0;
};

// Newest first.
void for_each_rejected(sql::Db& db, const std::optional<std::string>& source, std::int64_t limit,
                       const std::function<void(const RejectedRow&)>& fn);

// A row of the device registry (devices_v, with the raw times).
struct DeviceRow {
    std::string source, gateway, device;
    std::optional<std::string> product_id;
    std::optional<bool> online;
    std::optional<TimeMs> last_seen, first_seen, synced_at;
    std::optional<std::int64_t> stale_after_ms;
    std::optional<std::string> vendor_code, comm_type, ip, mac, name, description, location,
        server_id, sub_type, protocol_state;
    // Whether nothing was heard for longer than stale_after at `now`.
    bool stale_at(TimeMs now) const {
        return last_seen && stale_after_ms && *last_seen + *stale_after_ms < now;
    }
};

// Every device, or those of one source, ordered by source, gateway, device.
std::vector<DeviceRow> load_devices(sql::Db& db, const std::optional<std::string>& source = {});

struct CommandRow {
    std::string source, gateway, device, request_id, dp, value, outcome;
    TimeMs sent_at = 0;
    std::optional<std::int64_t> result_code;
    std::optional<std::string> result_msg;
    std::optional<TimeMs> answered_at;
};

// Newest first.
void for_each_command(sql::Db& db, const std::optional<std::string>& source, std::int64_t limit,
                      const std::function<void(const CommandRow&)>& fn);

struct JobRunRow {
    std::string source, job, command, usage_point, direction, window_start, window_end, outcome,
        error, upstream_issuer, upstream_code;
    TimeMs started_at = 0;
    std::optional<TimeMs> finished_at;
    std::int64_t records = 0;
};

// Newest first; `job` filters when set.
void for_each_job_run(sql::Db& db, const std::optional<std::string>& job, std::int64_t limit,
                      const std::function<void(const JobRunRow&)>& fn);
// The latest run of each (source, job), at most `limit`, ordered by source and job.
std::vector<JobRunRow> latest_job_runs(sql::Db& db, std::int64_t limit);

struct JobProgressRow {
    std::string source, job, usage_point, direction, done;
    std::optional<std::string> floor;
};
std::vector<JobProgressRow> load_job_progress(sql::Db& db, const std::string& source);

struct ConsentRow {
    std::string source, usage_point, state, job;
    std::optional<TimeMs> granted_at, expires_at;
    TimeMs updated_at = 0;
};
std::vector<ConsentRow> load_consents(sql::Db& db, const std::optional<std::string>& source);

struct AuthorizeUriRow {
    std::string source, job, uri;
    TimeMs requested_at = 0;
};
std::vector<AuthorizeUriRow> load_authorize_uris(sql::Db& db,
                                                 const std::optional<std::string>& source);

// job → the start of its latest run, for one source.
std::map<std::string, TimeMs> last_job_runs(sql::Db& db, const std::string& source);

}  // namespace mb
