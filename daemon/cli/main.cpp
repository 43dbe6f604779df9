// meterbridge — one binary, several verbs (DESIGN.md §5): run, check-config,
// query, stats, rejected, devices, commands, command, status, jobs, consent,
// types, the verbs the connector rows supply (akenza-downlink,
// tuya-password), help, and the build's hidden `manual` and `names`;
// --version. Each verb is its own file (verb.h); this one only assembles
// them. Exit codes: verb.h.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "connectors/builtin.h"
#include "daemon/cli/verb.h"
#include "generated/meterbridge_version.h"

int main(int argc, char** argv) {
    using namespace mb;
    // Named, not argv[0]: help and usage read "meterbridge VERB" however it was started.
    CLI::App cli{"meterbridge: smart-meter readings from MQTT and XMPP into one SQLite store",
                 "meterbridge"};
    cli.set_version_flag("--version", std::string("meterbridge ") + MB_VERSION);
    cli.require_subcommand(1);
    std::string config = kDefaultConfig;
    std::vector<Verb> verbs{
        add_run_verb(cli, config),      add_check_config_verb(cli, config),
        add_query_verb(cli, config),    add_meters_verb(cli, config),
        add_gaps_verb(cli, config),     add_stats_verb(cli, config),
        add_rejected_verb(cli, config), add_devices_verb(cli, config),
        add_commands_verb(cli, config), add_command_verb(cli, config),
        add_status_verb(cli, config),   add_jobs_verb(cli, config),
        add_consent_verb(cli, config),  add_types_verb(cli, builtin_registry()),
    };
    for (Verb& v : add_vendor_verbs(cli, config, builtin_registry())) verbs.push_back(std::move(v));
    for (Verb& v : add_manual_verbs(cli, config, builtin_registry())) verbs.push_back(std::move(v));
    verbs.push_back(add_help_verb(cli));

    if (auto rc = refuse_unknown_verb(cli, argc, argv)) return *rc;

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = cli.exit(e);
        return rc == 0 ? 0 : kExitUsage;
    }
    try {
        for (const Verb& v : verbs)
            if (*v.command) return v.run();
    } catch (const std::exception& e) {
        fmt::print(stderr, "meterbridge: {}\n", e.what());
        return kExitFailure;
    }
    return kExitUsage;
}
