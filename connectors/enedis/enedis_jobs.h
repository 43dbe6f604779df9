// EnedisJobs: what the enedis connector asks the DataConnect proxy, and what it
// makes of the answers — the job list of DESIGN.md §4 run as a work queue.
//
// Transport-free: the connector (XMPP thread) asks next() for the call to send,
// sends it, and reports the answer (on_result / on_failure) or a consent
// message (on_consent). Everything learned is staged as envelopes for the
// writer: readings (through the quoalise decoder), consents, job runs, the
// days done and the floor per (job, usage point, direction), authorize URIs.
// One thread (the connector's); no I/O, the clock is a parameter.
//
// Planning (fetch_plan.h): at start, when a job's schedule fires, or a consent arrives
// for a job on "granted" usage points, each (usage point, direction) gets the
// windows still missing, newest first, within the upstream's limits. Calls go
// out one at a time, at most `rate_limit` per second. An answer marks its days
// done (even days without data: the upstream's gaps are not refetched). "No
// older data" answers (the meter's activation date) are bisected down to one
// day, which becomes the floor: older windows are dropped, the backfill ends.
// "No consent" answers end that (job, usage point, direction) for this run,
// without retries; when every direction asked of a granted usage point is
// refused and none has answered since the grant, the consent is recorded as
// revoked (expires now) and "granted" jobs leave it until a new consent.
// Other failures are retried with backoff (30 s doubling, 5 attempts), then
// left to the next run; each attempt is a job run with the upstream's words.
// run_now() also sends the job's pending retries at once.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "connectors/enedis/enedis_options.h"
#include "storage/envelope.h"

namespace mb {

// The namespace of a consent notification's <x> (a <message> from the proxy).
inline constexpr std::string_view kAuthorizeNamespace =
    "https://consometers.org/dataconnect#authorize";

// One form field of an ad-hoc command: text-single when it has one value
// and is not declared multi.
struct FormField {
    std::string var;
    std::vector<std::string> values;
    bool multi = false;
    bool operator==(const FormField&) const = default;
};

struct EnedisCall {
    std::string key;  // the job run's key: answers are reported with it
    std::string job;
    std::string node;  // get_authorize_uri | get_load_curve | get_daily
    std::vector<FormField> fields;
    std::optional<QuoaliseRequest> data;  // fetches
};

// Why a call failed.
struct EnedisFailure {
    enum class Kind : std::uint8_t { error, timeout, disconnected } kind = Kind::error;
    std::string condition;     // XMPP error condition ("undefined-condition")
    std::string text;          // the error's text, the upstream's words
    std::string issuer, code;  // <upstream-error issuer code>, code may be ""
};

// Whether an upstream error means "there is no data before this window".
bool is_no_older_data(const EnedisFailure& f);
// Whether an upstream error means "no consent covers this usage point (or
// direction)": ADAM-DC-0008 "No consent can be found…", ADAM-DC-0007 "Le client
// n'est pas titulaire du point…".
bool is_no_consent(const EnedisFailure& f);

// What the connector loaded from the database for its source.
struct EnedisState {
    struct Progress {
        DaySet done;
        std::optional<Day> floor;
    };
    // (job, usage point, direction)
    std::map<std::tuple<std::string, std::string, std::string>, Progress> progress;
    std::map<std::string, std::optional<TimeMs>> consents;  // usage point → expires_at
    std::set<std::string> authorized_jobs;                  // jobs with a stored URI
    std::map<std::string, TimeMs> last_runs;                // job → last start
};

class EnedisJobs {
  public:
    EnedisJobs(std::string source, const EnedisOptions& options, std::vector<JobConfig> jobs,
               EnedisState state, TimeMs now);

    // The call to send now, or nullopt (nothing due, rate limit, one in flight).
    std::optional<EnedisCall> next(TimeMs now, Batch& staged);
    // When next() may have something again (for the connector's timer).
    TimeMs next_wakeup(TimeMs now) const;

    void on_result(const std::string& key, std::string_view iq_xml, TimeMs now, Batch& staged);
    void on_failure(const std::string& key, const EnedisFailure& f, TimeMs now, Batch& staged);
    // A <message> with an <x xmlns=kAuthorizeNamespace> payload.
    void on_consent(std::string_view message_xml, TimeMs now, Batch& staged);

    // Starts a job now, whatever its schedule; false when there is no such job.
    bool run_now(const std::string& job, TimeMs now);

    std::size_t queued() const { return queue_.size(); }
    bool in_flight() const { return in_flight_.has_value(); }

  private:
    struct Task {
        std::string job;
        std::string usage_point, direction;  // fetches
        DayRange window{};
        int attempt = 0;
        TimeMs not_before = 0;
    };
    struct Job {
        JobConfig config;
        const EnedisJobOptions* options = nullptr;
        std::optional<TimeMs> last_run;
        bool forced = false;
    };

    const Job* find_job(const std::string& name) const;
    void schedule(TimeMs now);
    void plan(Job& job, const std::vector<std::string>& usage_points, TimeMs now, bool front);
    std::vector<std::string> granted(TimeMs now) const;
    EnedisCall make_call(const Task& t, TimeMs now, Batch& staged);
    void finish(Batch& staged, TimeMs now, const std::string& key, std::string outcome,
                std::int64_t records, const EnedisFailure* f = nullptr, std::string error = {});
    EnedisState::Progress& progress(const Task& t);
    void save_progress(const Task& t, TimeMs now, Envelope& env);
    void refuse(const Task& t, TimeMs now, Batch& staged);
    TimeMs min_gap() const;  // between two calls, in ms

    std::string source_;
    EnedisOptions options_;
    std::vector<Job> jobs_;
    EnedisState state_;
    std::deque<Task> queue_;
    std::optional<std::pair<std::string, Task>> in_flight_;  // key, task
    TimeMs last_sent_ = 0;
    std::uint64_t counter_ = 0;
    std::string key_prefix_;
    // Since the last consent of a usage point: the directions the upstream
    // refused, and whether any fetch answered.
    std::map<std::string, std::set<std::string>> refused_;
    std::set<std::string> served_;
};

// The authorize URI with the job's parameters appended (duration,
// redirect_uri URL-encoded, test_client).
std::string authorize_uri_with(const std::string& uri, const EnedisAuthorizeJob& job);

}  // namespace mb
