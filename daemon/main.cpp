// meterbridge — one binary, several verbs (DESIGN.md §5):
//   run, check-config, query, stats, rejected; --version.
// Exit codes: 0 ok, 64 usage, 65 bad input data (query filters), 73 cannot
// open/create the database, 78 configuration error, 1 other failures.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include "connectors/akenza_type.h"
#include "connectors/registry.h"
#include "daemon/app.h"
#include "daemon/config.h"
#include "daemon/logging.h"
#include "daemon/table_writer.h"
#include "generated/meterbridge_version.h"
#include "normalize/time_format.h"
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

int cmd_run(const std::string& file) {
    setup_logging();
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
    auto cfg = load_or_report(file);
    if (!cfg) return kExitConfig;
    try {
        publish_akenza_downlink(*cfg, a.connector, a.device, a.topic, a.payload, a.qos);
    } catch (const std::exception& e) {
        fmt::print(stderr, "akenza-downlink: {}\n", e.what());
        return kExitFailure;
    }
    fmt::print("published {} bytes to /down/***/id/{}/{} (QoS {})\n", a.payload.size(), a.device, a.topic, a.qos);
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
    auto* downlink = cli.add_subcommand("akenza-downlink",
                                        "publish a downlink to an akenza device: /down/<secret>/id/<device>/<topic>");
    add_config(downlink);
    downlink->add_option("--connector", dl.connector, "the akenza connector (its broker and secret)")->required();
    downlink->add_option("--device", dl.device, "device id")->required();
    downlink->add_option("--topic", dl.topic, "downlink topic (levels separated by '/')")->required();
    downlink->add_option("--payload", dl.payload, "message body")->required();
    downlink->add_option("--qos", dl.qos, "0, 1 or 2")->check(CLI::Range(0, 2))->capture_default_str();

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
    } catch (const std::exception& e) {
        fmt::print(stderr, "meterbridge: {}\n", e.what());
        return kExitFailure;
    }
    return kExitUsage;
}
