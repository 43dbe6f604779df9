// `meterbridge status`: the running daemon's connectors and counters, asked
// through its control socket. Exits 0 when the daemon is healthy, 75 when it
// is degraded (the reasons on stderr), 69 when it cannot be reached.
#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "daemon/cli/verb.h"
#include "daemon/control/control_client.h"
#include "normalize/detail_text.h"

namespace mb {

namespace {

// "summary": the status line; "daemon": its counters (null from a daemon that
// does not send them); "health" and "reasons": the verdict the exit code gives.
std::string daemon_json(const control::Response& r) {
    std::string reasons;
    for (const auto& reason : r.reasons) reasons += (reasons.empty() ? "" : ",") + json_string(reason);
    return "\"summary\":" + json_string(r.detail) +
           ",\"daemon\":" + (r.daemon ? control::render(*r.daemon) : "null") +
           ",\"health\":" + (r.health.empty() ? "null" : json_string(r.health)) +
           ",\"reasons\":[" + reasons + "]";
}

int status(const std::string& file, const std::string& format_name) {
    auto format = parse_format(format_name);
    if (!format) return kExitUsage;
    int failure = kExitConfig;
    auto cfg = load_or_report(file, &failure, Secrets::not_needed);
    if (!cfg) return failure;
    if (!cfg->control.enabled) {
        fmt::print(stderr, "status: the control socket is disabled ([control] socket = \"\")\n");
        return kExitUnavailable;
    }
    control::Response r;
    try {
        r = control_call(cfg->control.socket, control::StatusRequest{}, std::chrono::seconds(10));
    } catch (const ControlUnavailable& e) {
        return report_control_failure("status", e);
    }
    if (*format == OutputFormat::table) fmt::print("{}\n", display_escape(r.detail));
    // JSON holds what the table shows: the daemon-wide line, as text and as numbers.
    if (*format == OutputFormat::json) fmt::print("{{{},\"connectors\":", daemon_json(r));
    TableWriter out(stdout, *format,
                    {"connector", "type", "state", "messages", "rejected", "reconnects", "detail"});
    for (const auto& c : r.connectors)
        out.row({text(c.name), text(c.type), text(c.state),
                 num(static_cast<std::int64_t>(c.messages)),
                 num(static_cast<std::int64_t>(c.rejected)),
                 num(static_cast<std::int64_t>(c.reconnects)), text(c.detail)});
    out.finish();
    if (*format == OutputFormat::json) fmt::print("}}\n");
    if (r.health == "degraded") {
        for (const auto& reason : r.reasons) fmt::print(stderr, "status: degraded: {}\n", display_escape(reason));
        return kExitTempFail;
    }
    return kExitOk;
}

}  // namespace

Verb add_status_verb(CLI::App& cli, std::string& config) {
    auto format = std::make_shared<std::string>("table");
    auto* sub = cli.add_subcommand("status", "the running daemon's connectors and counters");
    add_config_option(sub, config);
    add_format_option(sub, *format);
    return {sub, [&config, format] { return status(config, *format); }};
}

}  // namespace mb
