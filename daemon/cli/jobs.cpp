// `meterbridge jobs`: the latest job runs (Enedis requests), or run a job now
// in the running daemon.
#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "daemon/cli/verb.h"
#include "daemon/control/control_client.h"
#include "storage/query.h"

namespace mb {

namespace {

struct JobsArgs {
    std::optional<std::string> job, run;
    std::int64_t limit = 20;
    std::string format = "table";
};

int run_now(const std::string& file, const std::string& job) {
    int failure = kExitConfig;
    auto cfg = load_or_report(file, &failure, Secrets::not_needed);
    if (!cfg) return failure;
    control::Response r;
    try {
        r = control_call(cfg->control.socket, control::RunJobRequest{job},
                         std::chrono::seconds(10));
    } catch (const ControlUnavailable& e) {
        return report_control_failure("jobs --run", e);
    }
    if (r.status != "ok") {
        fmt::print(stderr, "jobs --run: {}\n", r.detail);
        // The daemon answered: a job it does not have is a mistake in the request.
        return r.status == "invalid" ? kExitDataErr : kExitUnavailable;
    }
    fmt::print("{}\n", r.detail);
    return kExitOk;
}

int jobs(const std::string& file, const JobsArgs& a) {
    if (!parse_format(a.format)) return kExitUsage;
    if (a.run) return run_now(file, *a.run);
    return print_rows(
        file, a.format,
        {"started_at", "job", "command", "usage_point", "direction", "window_start", "window_end",
         "outcome", "records", "error", "upstream_code", "finished_at"},
        [&](sql::Db& db, TableWriter& out) {
            for_each_job_run(db, a.job, a.limit, [&](const JobRunRow& r) {
                out.row({time_cell(r.started_at), text(r.job), text(r.command), text(r.usage_point),
                         text(r.direction), text(r.window_start), text(r.window_end),
                         text(r.outcome), num(r.records), text(r.error), text(r.upstream_code),
                         time_cell(r.finished_at)});
            });
        });
}

}  // namespace

Verb add_jobs_verb(CLI::App& cli, std::string& config) {
    auto a = std::make_shared<JobsArgs>();
    auto* sub =
        cli.add_subcommand("jobs", "the latest job runs (Enedis requests), or run a job now");
    add_config_option(sub, config);
    sub->add_option("--job", a->job, "only this job");
    sub->add_option("--run", a->run, "start this job now in the running daemon");
    sub->add_option("--limit", a->limit, "at most this many")->capture_default_str();
    add_format_option(sub, a->format);
    return {sub, [&config, a] { return jobs(config, *a); }};
}

}  // namespace mb
