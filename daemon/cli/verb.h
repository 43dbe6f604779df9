// The verbs of the `meterbridge` command line: each verb file (daemon/cli/
// <verb>.cpp) adds its subcommand with its options and returns what runs when
// it is chosen; main.cpp only assembles them. Also what several verbs share:
// the -c/--config and --format options, loading the configuration, opening
// the database read-only, table cells.
//
// Exit codes (DESIGN.md §5): 0 ok, 64 usage, 65 bad input data (query
// filters, a command value the device cannot take, a job the daemon does
// not have), 69 the daemon or device
// is unavailable, 73 cannot open/create the database, 75 (`run`) another
// daemon holds the database, 77 permission denied (the database, the
// configuration or the control socket refuses this user), 78 configuration
// error, 1 other failures (a command the device refused or did not answer).
//
// Who calls: main(), on the main thread, once per process. A verb's options
// live in state its run function owns (captured), valid until it returns.
#pragma once

#include <CLI/CLI.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "daemon/app.h"
#include "daemon/config.h"
#include "daemon/table_writer.h"
#include "normalize/model.h"
#include "storage/sqlite.h"

namespace mb {

class ConnectorRegistry;
struct ControlUnavailable;

inline constexpr const char* kDefaultConfig = "/etc/meterbridge/meterbridge.toml";
inline constexpr int kExitUnavailable = 69;

// One subcommand and what runs when it is the one given.
struct Verb {
    CLI::App* command = nullptr;
    std::function<int()> run;
};

// The verbs, in the order `meterbridge --help` lists them. `config` is the
// -c/--config value every verb that takes one writes.
Verb add_run_verb(CLI::App& cli, std::string& config);
Verb add_check_config_verb(CLI::App& cli, std::string& config);
Verb add_query_verb(CLI::App& cli, std::string& config);
Verb add_meters_verb(CLI::App& cli, std::string& config);
Verb add_gaps_verb(CLI::App& cli, std::string& config);
Verb add_stats_verb(CLI::App& cli, std::string& config);
Verb add_rejected_verb(CLI::App& cli, std::string& config);
Verb add_devices_verb(CLI::App& cli, std::string& config);
Verb add_commands_verb(CLI::App& cli, std::string& config);
Verb add_command_verb(CLI::App& cli, std::string& config);
Verb add_status_verb(CLI::App& cli, std::string& config);
Verb add_jobs_verb(CLI::App& cli, std::string& config);
Verb add_consent_verb(CLI::App& cli, std::string& config);
Verb add_types_verb(CLI::App& cli, const ConnectorRegistry& registry);
// The verbs the registry's rows supply (connectors/vendor_verb.h).
std::vector<Verb> add_vendor_verbs(CLI::App& cli, std::string& config,
                                   const ConnectorRegistry& registry);
// `help [VERB]`: the command line's help, or one verb's. Added last, after
// every other verb.
Verb add_help_verb(CLI::App& cli);
// Before parsing: when the first word that is not an option names no verb,
// prints it with the closest listed verb and returns 64.
std::optional<int> refuse_unknown_verb(const CLI::App& cli, int argc, char** argv);
// Hidden: `manual 1|5|completion` (the man pages and the bash completion, made
// by the build from `cli` and `registry`) and `names` (for the completion).
std::vector<Verb> add_manual_verbs(CLI::App& cli, std::string& config,
                                   const ConnectorRegistry& registry);

// The values of --format, in the order the help lists them.
inline constexpr std::array<const char*, 3> kFormats{"table", "csv", "json"};

// -c/--config, bound to `config`.
void add_config_option(CLI::App* sub, std::string& config);
// --format table|csv|json, bound to `format` (default "table").
void add_format_option(CLI::App* sub, std::string& format);

// Whether a verb reads the secrets the configuration names (run, check-config,
// akenza-downlink) or never does (the read verbs, status, command): then the
// secret files are not checked, and an operator who may not read them can work.
enum class Secrets { checked, not_needed };
// Loads and validates; on errors prints one line each to stderr (at priority
// err under systemd: report(), daemon/logging.h) and returns
// nullopt, and then sets `failure` (when given) to the exit code: 77 when this
// user may not read the file, else 78.
std::optional<Config> load_or_report(const std::string& file, int* failure = nullptr,
                                     Secrets secrets = Secrets::checked);
// Prints "VERB: what" for a control-socket failure; returns 77 when the socket
// or the daemon refused this user, else 69.
int report_control_failure(const char* verb, const ControlUnavailable& e);
std::optional<OutputFormat> parse_format(const std::string& f);
// Loads the configuration and opens its database read-only for `fn`:
// 78 on a bad configuration, 77 when this user may not read the configuration
// or the database, 73 when the database cannot be opened.
int with_db(const std::string& file, const std::function<int(sql::Db&)>& fn);
// The listing verbs: prints the rows `fill` writes from that database as a
// table of `columns` in `format_name` (table, csv or json); exit as with_db,
// 64 for an unknown format.
int print_rows(const std::string& file, const std::string& format_name,
               std::vector<std::string> columns,
               const std::function<void(sql::Db&, TableWriter&)>& fill);

// Broker, XMPP and akenza secrets live in this process's memory: no core dump
// may put them on disk, and no other process of the same user may read its
// memory (/proc/PID/mem, ptrace). Called before anything reads a secret.
void keep_secrets_out_of_dumps();

Cell text(std::string s);
Cell num(std::int64_t v);
Cell num(double v);
Cell time_cell(std::optional<TimeMs> t);
Cell opt_text(const std::optional<std::string>& s);

}  // namespace mb
