// meterbridge — one binary, several verbs (DESIGN.md §5):
//   run, check-config, query, stats, rejected, devices, commands, command,
//   status, akenza-downlink, tuya-password; --version.
// Exit codes: 0 ok, 64 usage, 65 bad input data (query filters, a command
// value the device cannot take), 69 the daemon or device is unavailable,
// 73 cannot open/create the database, 78 configuration error, 1 other
// failures (a command the device refused or did not answer).
#include <fmt/format.h>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

#include "connectors/akenza/akenza_type.h"
#include "connectors/builtin.h"
#include "connectors/registry.h"
#include "daemon/app.h"
#include "daemon/config.h"
#include "normalize/config/table_reader.h"
#include "daemon/control/control_client.h"
#include "normalize/detail_text.h"
#include "daemon/logging.h"
#include "daemon/table_writer.h"
#include "generated/meterbridge_version.h"
#include "normalize/time_format.h"
#include "normalize/tuya/tuya_decoder.h"
#include "storage/clock.h"
#include "storage/query.h"

namespace {

using namespace mb;

constexpr const char* kDefaultConfig = "/etc/meterbridge/meterbridge.toml";

// Loads and validates; on errors prints one line each to stderr and returns nullopt.
std::optional<Config> load_or_report(const std::string& file) {
    auto result = load_config(file, builtin_registry());
    for (const auto& w : result.warnings) fmt::print(stderr, "warning: {}\n", w);
    for (const auto& e : result.errors) fmt::print(stderr, "{}\n", e.to_string());
    return std::move(result.config);
}

std::optional<OutputFormat> parse_format(const std::string& f) {
    if (f == "table") return OutputFormat::table;
    if (f == "csv") return OutputFormat::csv;
    if (f == "json") return OutputFormat::json;
    return std::nullopt;
}

std::optional<TimeMs> parse_time_arg(const std::string& name, const std::string& value) {
    auto t = parse_iso8601(value);
    if (!t)
        fmt::print(stderr,
                   "{} '{}': expected ISO-8601 UTC, e.g. 2022-03-01 or 2022-03-01T00:00:00Z\n",
                   name, value);
    return t;
}

Cell text(std::string s) {
    return Cell{std::move(s)};
}
Cell num(std::int64_t v) {
    return Cell{std::to_string(v), true};
}
Cell num(double v) {
    return Cell{format_number(v), true};
}
Cell time_cell(std::optional<TimeMs> t) {
    if (!t) return Cell{"", false, true};
    return Cell{format_iso_ms(*t)};
}

int cmd_check_config(const std::string& file) {
    auto cfg = load_or_report(file);
    if (!cfg) return kExitConfig;
    fmt::print("{}: ok ({} broker(s), {} connector(s), {} job(s); database {})\n", file,
               cfg->brokers.size(), cfg->connectors.size(), cfg->jobs.size(),
               cfg->storage.path.string());
    return kExitOk;
}

// Broker, XMPP and akenza secrets live in this process's memory: no core dump
// may put them on disk, and no other process of the same user may read its
// memory (/proc/PID/mem, ptrace). Called before anything reads a secret.
void keep_secrets_out_of_dumps() {
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        fmt::print(stderr, "warning: prctl(PR_SET_DUMPABLE, 0): {}\n", std::strerror(errno));
    // With fs.suid_dumpable = 2 a non-dumpable process still dumps (for root): not us.
    const rlimit none{0, 0};
    if (::setrlimit(RLIMIT_CORE, &none) != 0)
        fmt::print(stderr, "warning: setrlimit(RLIMIT_CORE, 0): {}\n", std::strerror(errno));
}

int cmd_run(const std::string& file) {
    keep_secrets_out_of_dumps();
    // Blocks of 128 KiB and more (batches, sort buffers) are mapped and go back to the
    // system once freed. glibc's default raises this threshold each time such a block is
    // freed, after which they are carved from the threads' heaps and their pages stay.
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    setup_logging();
    // The database, its WAL and the control socket's directory stay the
    // daemon's and its group's (0640 files), whatever umask it was started
    // with; a stricter umask (the unit's 0027 or tighter) is kept.
    ::umask(::umask(0) | 027);
    if (::geteuid() == 0)
        spdlog::warn(
            "running as root: run meterbridge as an unprivileged user (the systemd unit uses "
            "DynamicUser=yes)");
    auto result = load_config(file, builtin_registry());
    for (const auto& w : result.warnings) spdlog::warn("{}", w);
    if (!result.config) {
        for (const auto& e : result.errors) spdlog::error("{}", e.to_string());
        spdlog::critical("invalid configuration {} ({} error(s))", file, result.errors.size());
        return kExitConfig;
    }
    App app(std::move(*result.config), builtin_registry());
    return app.run();
}

struct QueryArgs {
    std::optional<std::string> source, meter, quantity, from, to;
    std::optional<std::int64_t> limit;
    std::string format = "table";
};

int with_db(const std::string& file, const std::function<int(sql::Db&)>& fn) {
    auto cfg = load_or_report(file);
    if (!cfg) return kExitConfig;
    try {
        auto db = open_read_only(cfg->storage.path);
        return fn(db);
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}\n", e.what());
        return kExitCantCreate;
    }
}

int cmd_query(const std::string& file, const QueryArgs& a) {
    auto format = parse_format(a.format);
    if (!format) return kExitUsage;
    ReadingFilter f;
    f.source = a.source;
    f.meter = a.meter;
    f.quantity = a.quantity;
    f.limit = a.limit;
    if (a.from && !(f.from = parse_time_arg("--from", *a.from))) return kExitDataErr;
    if (a.to && !(f.to = parse_time_arg("--to", *a.to))) return kExitDataErr;
    return with_db(file, [&](sql::Db& db) {
        TableWriter out(stdout, *format,
                        {"source", "meter", "quantity", "unit", "kind", "ts_start", "ts_end",
                         "value", "received_at"});
        for_each_reading(db, f, [&](const ReadingRow& r) {
            out.row({text(r.source), text(r.meter), text(r.quantity), text(r.unit), text(r.kind),
                     text(format_iso_ms(r.ts_start)), text(format_iso_ms(r.ts_end)), num(r.value),
                     text(format_iso_ms(r.received_at))});
        });
        out.finish();
        return kExitOk;
    });
}

int cmd_stats(const std::string& file, const std::string& format_name) {
    auto format = parse_format(format_name);
    if (!format) return kExitUsage;
    return with_db(file, [&](sql::Db& db) {
        TableWriter out(stdout, *format,
                        {"source", "messages", "readings", "duplicates", "revisions", "rejected",
                         "states", "last_received_at"});
        SourceStatsRow total;
        total.source = "TOTAL";
        const auto rows = source_stats(db);
        for (const auto& r : rows) {
            out.row({text(r.source), num(r.messages), num(r.readings), num(r.duplicates),
                     num(r.revisions), num(r.rejected), num(r.states),
                     time_cell(r.last_received_at)});
            total.messages += r.messages;
            total.readings += r.readings;
            total.duplicates += r.duplicates;
            total.revisions += r.revisions;
            total.rejected += r.rejected;
            total.states += r.states;
            if (r.last_received_at &&
                (!total.last_received_at || *r.last_received_at > *total.last_received_at))
                total.last_received_at = r.last_received_at;
        }
        if (*format == OutputFormat::table && rows.size() != 1)
            out.row({text(total.source), num(total.messages), num(total.readings),
                     num(total.duplicates), num(total.revisions), num(total.rejected),
                     num(total.states), time_cell(total.last_received_at)});
        out.finish();
        return kExitOk;
    });
}

int cmd_rejected(const std::string& file, const std::optional<std::string>& source,
                 std::int64_t limit, const std::string& format_name) {
    auto format = parse_format(format_name);
    if (!format) return kExitUsage;
    return with_db(file, [&](sql::Db& db) {
        TableWriter out(stdout, *format, {"received_at", "source", "topic", "reason", "payload"});
        for_each_rejected(db, source, limit, [&](const RejectedRow& r) {
            std::string payload = r.payload;
            if (*format == OutputFormat::table) {
                for (auto& c : payload)
                    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
                if (payload.size() > 120) payload = payload.substr(0, 117) + "...";
            }
            out.row({time_cell(r.received_at), text(r.source), text(r.topic), text(r.reason),
                     text(payload)});
        });
        out.finish();
        return kExitOk;
    });
}

struct DownlinkArgs {
    std::string connector, device, topic, payload;
    int qos = 1;
};

int cmd_akenza_downlink(const std::string& file, const DownlinkArgs& a) {
    keep_secrets_out_of_dumps();
    auto cfg = load_or_report(file);
    if (!cfg) return kExitConfig;
    try {
        publish_akenza_downlink(cfg->file, cfg->connectors, cfg->brokers, a.connector, a.device, a.topic, a.payload, a.qos);
    } catch (const std::exception& e) {
        fmt::print(stderr, "akenza-downlink: {}\n", e.what());
        return kExitFailure;
    }
    fmt::print("published {} bytes to /down/***/id/{}/{} (QoS {})\n", a.payload.size(), a.device,
               a.topic, a.qos);
    return kExitOk;
}

constexpr int kExitUnavailable = 69;

Cell opt_text(const std::optional<std::string>& s) {
    if (!s) return Cell{"", false, true};
    return Cell{*s};
}

int cmd_devices(const std::string& file, const std::optional<std::string>& source,
                const std::string& format_name) {
    auto format = parse_format(format_name);
    if (!format) return kExitUsage;
    return with_db(file, [&](sql::Db& db) {
        TableWriter out(stdout, *format,
                        {"source", "gateway", "device", "product_id", "online", "last_seen",
                         "stale", "synced", "name", "ip", "mac", "location"});
        const TimeMs now = now_ms();
        for (const DeviceRow& d : load_devices(db, source)) {
            const Cell online =
                d.online ? text(*d.online ? "true" : "false") : Cell{"", false, true};
            out.row({text(d.source), text(d.gateway), text(d.device), opt_text(d.product_id),
                     online, time_cell(d.last_seen), text(d.stale_at(now) ? "true" : "false"),
                     text(d.synced_at ? "true" : "false"), opt_text(d.name), opt_text(d.ip),
                     opt_text(d.mac), opt_text(d.location)});
        }
        out.finish();
        return kExitOk;
    });
}

int cmd_commands(const std::string& file, const std::optional<std::string>& source,
                 std::int64_t limit, const std::string& format_name) {
    auto format = parse_format(format_name);
    if (!format) return kExitUsage;
    return with_db(file, [&](sql::Db& db) {
        TableWriter out(stdout, *format,
                        {"sent_at", "source", "gateway", "device", "dp", "value", "outcome",
                         "result_code", "result_msg", "answered_at", "request_id"});
        for_each_command(db, source, limit, [&](const CommandRow& c) {
            out.row({time_cell(c.sent_at), text(c.source), text(c.gateway), text(c.device),
                     text(c.dp), text(c.value), text(c.outcome),
                     c.result_code ? num(*c.result_code) : Cell{"", false, true},
                     opt_text(c.result_msg), time_cell(c.answered_at), text(c.request_id)});
        });
        out.finish();
        return kExitOk;
    });
}

struct CommandArgs {
    std::optional<std::string> connector;
    std::string gateway, device, dp, value;
    std::optional<std::string> timeout;
};

int cmd_command(const std::string& file, const CommandArgs& a) {
    auto cfg = load_or_report(file);
    if (!cfg) return kExitConfig;
    control::CommandRequest req;
    if (a.connector) {
        req.connector = *a.connector;
    } else {
        // One connector takes device commands: no need to name it.
        std::vector<std::string> tuya;
        for (const auto& c : cfg->connectors)
            if (c.type == "tuya") tuya.push_back(c.name);
        if (tuya.size() != 1) {
            fmt::print(stderr, "command: --connector is required ({} tuya connectors in {})\n",
                       tuya.size(), file);
            return kExitUsage;
        }
        req.connector = tuya.front();
    }
    req.command = DeviceCommand{a.gateway, a.device, a.dp, a.value, std::chrono::milliseconds(0)};
    if (a.timeout) {
        auto d = parse_duration(*a.timeout);
        if (!d || d->count() <= 0 || *d > std::chrono::hours(1)) {
            fmt::print(stderr,
                       "--timeout '{}': expected a duration such as 10s or PT30S, up to 1h\n",
                       *a.timeout);
            return kExitUsage;
        }
        req.command.timeout = *d;
    }
    if (!cfg->control.enabled) {
        fmt::print(stderr, "command: the control socket is disabled ([control] socket = \"\")\n");
        return kExitUnavailable;
    }
    // The daemon answers by the command's deadline; allow for its default and the way back.
    const auto wait = (req.command.timeout.count() > 0 ? req.command.timeout
                                                       : std::chrono::milliseconds(600'000)) +
                      std::chrono::seconds(5);
    control::Response r;
    try {
        r = control_call(cfg->control.socket, req, wait);
    } catch (const ControlUnavailable& e) {
        fmt::print(stderr, "command: {}\n", e.what());
        return kExitUnavailable;
    }
    const std::string code = r.code ? fmt::format("{} ", *r.code) : "";
    const std::string id =
        r.request_id.empty() ? "" : fmt::format(" (request_id {})", r.request_id);
    // The device's message and request id are its own text: shown escaped.
    if (r.status == "success") {
        fmt::print("{}{}: {} = {} on device {}{}\n", code,
                   r.msg.empty() ? "success" : display_escape(r.msg), a.dp, a.value, a.device,
                   display_escape(id));
        return kExitOk;
    }
    fmt::print(stderr, "{}: {}{}{}{}\n", r.status, code,
               r.msg.empty() ? "" : display_escape(r.msg) + ": ", display_escape(r.detail),
               display_escape(id));
    if (r.status == "invalid") return kExitDataErr;
    if (r.status == "unavailable") return kExitUnavailable;
    if (r.status == "error") return kExitUsage;
    return kExitFailure;
}

struct JobsArgs {
    std::optional<std::string> job, run;
    std::int64_t limit = 20;
    std::string format = "table";
};

int cmd_jobs(const std::string& file, const JobsArgs& a) {
    auto format = parse_format(a.format);
    if (!format) return kExitUsage;
    if (a.run) {
        auto cfg = load_or_report(file);
        if (!cfg) return kExitConfig;
        control::Response r;
        try {
            r = control_call(cfg->control.socket, control::RunJobRequest{*a.run},
                             std::chrono::seconds(10));
        } catch (const ControlUnavailable& e) {
            fmt::print(stderr, "jobs --run: {}\n", e.what());
            return kExitUnavailable;
        }
        if (r.status != "ok") {
            fmt::print(stderr, "jobs --run: {}\n", r.detail);
            return kExitUnavailable;
        }
        fmt::print("{}\n", r.detail);
        return kExitOk;
    }
    return with_db(file, [&](sql::Db& db) {
        TableWriter out(
            stdout, *format,
            {"started_at", "job", "command", "usage_point", "direction", "window_start",
             "window_end", "outcome", "records", "error", "upstream_code", "finished_at"});
        for_each_job_run(db, a.job, a.limit, [&](const JobRunRow& r) {
            out.row({time_cell(r.started_at), text(r.job), text(r.command), text(r.usage_point),
                     text(r.direction), text(r.window_start), text(r.window_end), text(r.outcome),
                     num(r.records), text(r.error), text(r.upstream_code),
                     time_cell(r.finished_at)});
        });
        out.finish();
        return kExitOk;
    });
}

int cmd_consent(const std::string& file, const std::string& format_name) {
    auto format = parse_format(format_name);
    if (!format) return kExitUsage;
    return with_db(file, [&](sql::Db& db) {
        const auto uris = load_authorize_uris(db, std::nullopt);
        if (*format == OutputFormat::table) {
            for (const auto& u : uris)
                fmt::print("{} {}: {} (requested {})\n", u.source, u.job, display_escape(u.uri),
                           format_iso_ms(u.requested_at));
            if (uris.empty())
                fmt::print("no authorize URI yet (the get_authorize_uri job runs at start)\n");
        }
        TableWriter out(stdout, *format,
                        {"source", "usage_point", "state", "granted_at", "expires_at", "job"});
        for (const auto& c : load_consents(db, std::nullopt))
            out.row({text(c.source), text(c.usage_point), text(c.state), time_cell(c.granted_at),
                     time_cell(c.expires_at), text(c.job)});
        out.finish();
        return kExitOk;
    });
}

int cmd_status(const std::string& file, const std::string& format_name) {
    auto format = parse_format(format_name);
    if (!format) return kExitUsage;
    auto cfg = load_or_report(file);
    if (!cfg) return kExitConfig;
    if (!cfg->control.enabled) {
        fmt::print(stderr, "status: the control socket is disabled ([control] socket = \"\")\n");
        return kExitUnavailable;
    }
    control::Response r;
    try {
        r = control_call(cfg->control.socket, control::StatusRequest{}, std::chrono::seconds(10));
    } catch (const ControlUnavailable& e) {
        fmt::print(stderr, "status: {}\n", e.what());
        return kExitUnavailable;
    }
    if (*format == OutputFormat::table) fmt::print("{}\n", display_escape(r.detail));
    TableWriter out(stdout, *format,
                    {"connector", "type", "state", "messages", "rejected", "reconnects", "detail"});
    for (const auto& c : r.connectors)
        out.row({text(c.name), text(c.type), text(c.state),
                 num(static_cast<std::int64_t>(c.messages)),
                 num(static_cast<std::int64_t>(c.rejected)),
                 num(static_cast<std::int64_t>(c.reconnects)), text(c.detail)});
    out.finish();
    return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"meterbridge: smart-meter readings from MQTT and XMPP into one SQLite store"};
    cli.set_version_flag("--version", std::string("meterbridge ") + MB_VERSION);
    cli.require_subcommand(1);
    std::string config = kDefaultConfig;
    auto add_config = [&](CLI::App* sub) {
        sub->add_option("-c,--config", config, "configuration file")->capture_default_str();
    };
    auto* run = cli.add_subcommand("run", "run the daemon in the foreground (systemd Type=notify)");
    add_config(run);
    auto* check = cli.add_subcommand(
        "check-config", "validate the configuration; exit 0, or 78 with one line per error");
    add_config(check);

    QueryArgs q;
    auto* query = cli.add_subcommand("query", "print stored readings");
    add_config(query);
    query->add_option("--source", q.source, "connector name");
    query->add_option("--meter", q.meter, "meter identifier");
    query->add_option("--quantity", q.quantity, "canonical quantity");
    query->add_option("--from", q.from, "ts_start >= this (ISO-8601 UTC)");
    query->add_option("--to", q.to, "ts_start < this (ISO-8601 UTC)");
    query->add_option("--limit", q.limit, "at most this many rows");
    query->add_option("--format", q.format, "table, csv or json")
        ->check(CLI::IsMember({"table", "csv", "json"}))
        ->capture_default_str();

    std::string stats_format = "table";
    auto* stats = cli.add_subcommand(
        "stats", "counts per source: messages, readings, duplicates, revisions, rejected");
    add_config(stats);
    stats->add_option("--format", stats_format, "table, csv or json")
        ->check(CLI::IsMember({"table", "csv", "json"}))
        ->capture_default_str();

    std::optional<std::string> rej_source;
    std::int64_t rej_limit = 20;
    std::string rej_format = "table";
    auto* rejected = cli.add_subcommand("rejected", "the most recent rejected messages and why");
    add_config(rejected);
    rejected->add_option("--source", rej_source, "connector name");
    rejected->add_option("--limit", rej_limit, "at most this many")->capture_default_str();
    rejected->add_option("--format", rej_format, "table, csv or json")
        ->check(CLI::IsMember({"table", "csv", "json"}))
        ->capture_default_str();

    DownlinkArgs dl;
    auto* downlink = cli.add_subcommand(
        "akenza-downlink",
        "publish a downlink to an akenza device: /down/<secret>/id/<device>/<topic>");
    add_config(downlink);
    downlink
        ->add_option("--connector", dl.connector, "the akenza connector (its broker and secret)")
        ->required();
    downlink->add_option("--device", dl.device, "device id")->required();
    downlink->add_option("--topic", dl.topic, "downlink topic (levels separated by '/')")
        ->required();
    downlink->add_option("--payload", dl.payload, "message body")->required();
    downlink->add_option("--qos", dl.qos, "0, 1 or 2")
        ->check(CLI::Range(0, 2))
        ->capture_default_str();

    std::optional<std::string> dev_source;
    std::string dev_format = "table";
    auto* devices =
        cli.add_subcommand("devices", "the device registry (Tuya): synced, online, stale");
    add_config(devices);
    devices->add_option("--source", dev_source, "connector name");
    devices->add_option("--format", dev_format, "table, csv or json")
        ->check(CLI::IsMember({"table", "csv", "json"}))
        ->capture_default_str();

    std::optional<std::string> cmds_source;
    std::int64_t cmds_limit = 20;
    std::string cmds_format = "table";
    auto* commands = cli.add_subcommand("commands", "the most recent device commands and outcomes");
    add_config(commands);
    commands->add_option("--source", cmds_source, "connector name");
    commands->add_option("--limit", cmds_limit, "at most this many")->capture_default_str();
    commands->add_option("--format", cmds_format, "table, csv or json")
        ->check(CLI::IsMember({"table", "csv", "json"}))
        ->capture_default_str();

    CommandArgs ca;
    auto* command = cli.add_subcommand(
        "command", "send a command to a device through the running daemon and wait for its answer");
    add_config(command);
    command->add_option("--connector", ca.connector, "the tuya connector (default: the only one)");
    command->add_option("--gateway", ca.gateway, "gateway id")->required();
    command->add_option("--device", ca.device, "device id (Tuya cid)")->required();
    command
        ->add_option("--dp", ca.dp,
                     "data point: switch_state, valve_state, cold_stall_type, "
                     "hot_stall_type, valve_open_degree (or its id)")
        ->required();
    command->add_option("--value", ca.value, "true/false, an enum value, or an integer")
        ->required();
    command->add_option("--timeout", ca.timeout,
                        "how long to wait for the device (default: the connector's "
                        "command_timeout, 10s)");

    std::string status_format = "table";
    auto* status = cli.add_subcommand("status", "the running daemon's connectors and counters");
    add_config(status);
    status->add_option("--format", status_format, "table, csv or json")
        ->check(CLI::IsMember({"table", "csv", "json"}))
        ->capture_default_str();

    JobsArgs ja;
    auto* jobs =
        cli.add_subcommand("jobs", "the latest job runs (Enedis requests), or run a job now");
    add_config(jobs);
    jobs->add_option("--job", ja.job, "only this job");
    jobs->add_option("--run", ja.run, "start this job now in the running daemon");
    jobs->add_option("--limit", ja.limit, "at most this many")->capture_default_str();
    jobs->add_option("--format", ja.format, "table, csv or json")
        ->check(CLI::IsMember({"table", "csv", "json"}))
        ->capture_default_str();

    std::string consent_format = "table";
    auto* consent = cli.add_subcommand(
        "consent", "the authorize URIs to send to customers, and the consents received");
    add_config(consent);
    consent->add_option("--format", consent_format, "table, csv or json")
        ->check(CLI::IsMember({"table", "csv", "json"}))
        ->capture_default_str();

    std::string pw_client, pw_user;
    auto* password = cli.add_subcommand(
        "tuya-password", "print a Tuya gateway's MQTT password: md5(clientId + username), hex");
    password->add_option("--client-id", pw_client, "the gateway's MQTT client id")->required();
    password->add_option("--username", pw_user, "the gateway's MQTT username")->required();

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = cli.exit(e);
        return rc == 0 ? 0 : kExitUsage;
    }
    try {
        if (*run) return cmd_run(config);
        if (*check) return cmd_check_config(config);
        if (*query) return cmd_query(config, q);
        if (*stats) return cmd_stats(config, stats_format);
        if (*rejected) return cmd_rejected(config, rej_source, rej_limit, rej_format);
        if (*downlink) return cmd_akenza_downlink(config, dl);
        if (*devices) return cmd_devices(config, dev_source, dev_format);
        if (*commands) return cmd_commands(config, cmds_source, cmds_limit, cmds_format);
        if (*command) return cmd_command(config, ca);
        if (*status) return cmd_status(config, status_format);
        if (*jobs) return cmd_jobs(config, ja);
        if (*consent) return cmd_consent(config, consent_format);
        if (*password) {
            fmt::print("{}\n", tuya_gateway_password(pw_client, pw_user));
            return kExitOk;
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "meterbridge: {}\n", e.what());
        return kExitFailure;
    }
    return kExitUsage;
}
