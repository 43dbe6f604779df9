// The hidden verbs the build and the shell completion use:
//   `meterbridge manual 1`           meterbridge(1) in roff: every verb of this command line
//                                    with its options and help, the exit codes
//   `meterbridge manual 5`           meterbridge.toml(5) in roff: every key of every connector
//                                    type, broker and job, from the registry's key tables
//   `meterbridge manual completion`  the bash completion: verbs, options, --format values
//   `meterbridge names -c FILE connectors|jobs`  names for the completion, read from FILE
// The build runs `manual` once the binary is linked (daemon/CMakeLists.txt), so
// the pages and the completion are made from the same tables that parse the
// command line and check the configuration, and cannot drift from them.
#include <fmt/format.h>

#include <array>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/builtin.h"
#include "connectors/mqtt/mqtt_config.h"
#include "connectors/registry.h"
#include "daemon/cli/verb.h"
#include "generated/meterbridge_version.h"

namespace mb {

namespace {

// Text for roff: backslashes and dashes escaped, no line starting with a
// control character.
std::string roff(std::string_view s) {
    std::string out;
    for (const char c : s) {
        if (c == '\\')
            out += "\\e";
        else if (c == '-')
            out += "\\-";
        else
            out += c;
    }
    if (!out.empty() && (out.front() == '.' || out.front() == '\'')) out.insert(0, "\\&");
    return out;
}

struct ExitCode {
    int code;
    std::string_view meaning;
};
constexpr std::array kExitCodes{
    ExitCode{kExitOk, "success"},
    ExitCode{kExitFailure, "other failure (also: the device refused a command or did not answer)"},
    ExitCode{kExitUsage, "usage: unknown verb (the closest one is named) or option"},
    ExitCode{kExitDataErr,
             "bad filter or command value, or jobs --run names a job the daemon does not "
             "have (its jobs are listed)"},
    ExitCode{kExitUnavailable, "the daemon is not reachable, or the command could not be sent"},
    ExitCode{kExitSoftware, "run: draining the queue at SIGTERM took too long"},
    ExitCode{kExitCantCreate, "the database cannot be opened or does not exist"},
    ExitCode{kExitTempFail,
             "run: another meterbridge run holds the database (its pid is named); status: the "
             "daemon is degraded (a connector not running, the storage writer stalled)"},
    ExitCode{kExitNoPerm,
             "permission denied: the configuration, the database or the control socket refuses "
             "this user (join the daemon's group)"},
    ExitCode{kExitConfig, "configuration error"},
};

// The verbs as the command line has them, hidden ones (group "") left out.
std::vector<const CLI::App*> visible_verbs(const CLI::App& cli) {
    std::vector<const CLI::App*> out;
    for (const CLI::App* sub : cli.get_subcommands({}))
        if (!sub->get_group().empty()) out.push_back(sub);
    return out;
}

std::vector<const CLI::Option*> visible_options(const CLI::App& verb) {
    std::vector<const CLI::Option*> out;
    for (const CLI::Option* o : verb.get_options({}))
        if (!o->get_group().empty() && o->get_name() != "--help") out.push_back(o);
    return out;
}

std::string option_label(const CLI::Option& o) {
    if (o.get_positional()) return fmt::format("\\fI{}\\fR", roff(o.get_name(true)));
    std::string label;
    for (const auto& s : o.get_snames()) label += fmt::format("\\fB\\-{}\\fR, ", roff(s));
    for (const auto& l : o.get_lnames()) label += fmt::format("\\fB\\-\\-{}\\fR, ", roff(l));
    label.resize(label.size() - 2);
    if (o.get_type_size() != 0) label += fmt::format(" \\fI{}\\fR", roff(o.get_type_name()));
    return label;
}

void page_1(const CLI::App& cli) {
    fmt::print(".TH METERBRIDGE 1 \"\" \"meterbridge {}\" \"User Commands\"\n", MB_VERSION);
    fmt::print(".SH NAME\nmeterbridge \\- {}\n", roff(cli.get_description().substr(
                                                       cli.get_description().find(": ") + 2)));
    fmt::print(
        ".SH SYNOPSIS\n.B meterbridge\n.I verb\n[\\fB\\-c\\fR \\fIFILE\\fR] "
        "[\\fIoptions\\fR]\n.br\n.B meterbridge \\-\\-version\n");
    fmt::print(
        ".SH DESCRIPTION\nmeterbridge receives smart-meter data from vendor MQTT topics, an XMPP "
        "service and spool files, normalizes it into canonical readings and stores them in "
        "SQLite with deduplication and a revision history. \\fBmeterbridge run\\fR is the "
        "daemon (systemd Type=notify); the other verbs read its database read-only or talk to "
        "it through its control socket. \\fB\\-c\\fR defaults to {}; its keys are in "
        "\\fBmeterbridge.toml\\fR(5).\n",
        roff(kDefaultConfig));
    fmt::print(".SH VERBS\n");
    for (const CLI::App* v : visible_verbs(cli)) {
        fmt::print(".TP\n.B {}\n{}\n", roff(v->get_name()), roff(v->get_description()));
        const auto options = visible_options(*v);
        if (options.empty()) continue;
        fmt::print(".RS\n");
        for (const CLI::Option* o : options) {
            std::string text(o->get_description());
            if (!o->get_default_str().empty() && o->get_default_str() != "[]")
                text += fmt::format(" (default: {})", o->get_default_str());
            fmt::print(".TP\n{}\n{}\n", option_label(*o), roff(text));
        }
        fmt::print(".RE\n");
    }
    fmt::print(".SH EXIT STATUS\n");
    for (const ExitCode& e : kExitCodes) fmt::print(".TP\n.B {}\n{}\n", e.code, roff(e.meaning));
    fmt::print(
        ".SH FILES\n.TP\n.I {}\nthe configuration (root:meterbridge 0640 in the package)\n"
        ".TP\n.I /var/lib/meterbridge/\nthe database, its lock file (\\fIPATH\\fR.lock), the "
        "copies taken before schema migrations (\\fIPATH\\fR.pre\\-v\\fIN\\fR) and spool/ "
        "under the packaged unit\n.TP\n.I /run/meterbridge/control.sock\nthe control socket of "
        "the packaged configuration; members of group meterbridge may use it and read the "
        "database\n",
        roff(kDefaultConfig));
    fmt::print(
        ".SH SEE ALSO\n\\fBmeterbridge.toml\\fR(5), \\fBsqlite3\\fR(1), "
        "\\fBsystemd.service\\fR(5); /usr/share/doc/meterbridge/README.md and "
        "/usr/share/doc/meterbridge/docs/\n");
}

void key_entries(std::span<const KeySpec> keys, const std::string& prefix) {
    for (const KeySpec& k : keys) {
        const std::string name = prefix + std::string(k.name);
        std::string facts(to_string(k.type));
        if (k.required)
            facts += ", required";
        else if (!k.default_value.empty())
            facts += fmt::format(", default {}", k.default_value);
        const std::string range = describe_range(k);
        if (!range.empty()) facts += fmt::format(", {}", range);
        fmt::print(".TP\n\\fB{}\\fR ({})\n{}\n", roff(name), roff(facts), roff(k.description));
        if (k.type == KeyType::tables) key_entries(k.keys, name + "[].");
        if (k.type == KeyType::table) key_entries(k.keys, name + ".<id>.");
    }
}

void page_5(const ConnectorRegistry& registry) {
    fmt::print(".TH METERBRIDGE.TOML 5 \"\" \"meterbridge {}\" \"File Formats\"\n", MB_VERSION);
    fmt::print(".SH NAME\nmeterbridge.toml \\- the configuration of meterbridge\n");
    fmt::print(
        ".SH DESCRIPTION\nA TOML file, by default {}. \\fBmeterbridge check\\-config\\fR "
        "validates it (exit 0, or 78 with one line per problem). The tables \\fB[storage]\\fR, "
        "\\fB[log]\\fR, \\fB[control]\\fR and \\fB[http]\\fR (\\fBlisten\\fR, default "
        "127.0.0.1:9477: /metrics and /healthz) are described in "
        "/usr/share/doc/meterbridge/docs/configuration.md; the connector and job keys below "
        "are the tables the loader checks, and \\fBmeterbridge types\\fR \\fITYPE\\fR prints "
        "them too. Secrets are read from *_file keys; a bare name is looked up in "
        "$CREDENTIALS_DIRECTORY (systemd LoadCredential=).\n",
        roff(kDefaultConfig));
    fmt::print(".SH BROKERS\nEach \\fB[brokers.\\fINAME\\fB]\\fR table:\n");
    key_entries(broker_keys(), "");
    fmt::print(".SH CONNECTORS\nEvery \\fB[[connectors]]\\fR table:\n");
    key_entries(connector_keys(), "");
    fmt::print(".PP\nEvery MQTT connector besides:\n");
    key_entries(mqtt_connector_keys(), "");
    fmt::print(".SH JOBS\nEvery \\fB[[jobs]]\\fR table:\n");
    key_entries(job_keys(), "");
    fmt::print(".SH CONNECTOR TYPES\n");
    for (const std::string& name : registry.type_names()) {
        const ConnectorType& t = *registry.find(name);
        fmt::print(".SS type = \"{}\" ({})\n{}\n", roff(t.type), roff(to_string(t.transport)),
                   roff(t.description));
        if (t.keys.empty()) fmt::print(".PP\nNo keys of its own.\n");
        key_entries(t.keys, "");
        for (const JobSpec& j : t.jobs) {
            fmt::print(".PP\nA job with \\fBcommand = \"{}\"\\fR ({}):\n", roff(j.command),
                       roff(j.description));
            key_entries(j.keys, "");
        }
    }
    fmt::print(".SH SEE ALSO\n\\fBmeterbridge\\fR(1); /usr/share/doc/meterbridge/docs/\n");
}

std::string words(const std::vector<std::string>& w) {
    std::string out;
    for (const auto& s : w) out += (out.empty() ? "" : " ") + s;
    return out;
}

void completion(const CLI::App& cli) {
    std::vector<std::string> verbs;
    for (const CLI::App* v : visible_verbs(cli)) verbs.push_back(v->get_name());
    fmt::print(
        "# bash completion for meterbridge, made by `meterbridge manual completion`.\n"
        "_meterbridge_names() {{  # connectors|jobs, from the -c file on the line\n"
        "    local i conf={}\n"
        "    for ((i = 1; i < ${{#COMP_WORDS[@]}} - 1; i++)); do\n"
        "        case ${{COMP_WORDS[i]}} in -c | --config) conf=${{COMP_WORDS[i + 1]}} ;; esac\n"
        "    done\n"
        "    meterbridge names -c \"$conf\" \"$1\" 2>/dev/null\n"
        "}}\n"
        "_meterbridge() {{\n"
        "    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD - 1]}} verb= i\n"
        "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
        "        [[ ${{COMP_WORDS[i]}} != -* ]] && verb=${{COMP_WORDS[i]}} && break\n"
        "    done\n"
        "    if [[ -z $verb ]]; then\n"
        "        COMPREPLY=($(compgen -W \"{} --version --help\" -- \"$cur\"))\n"
        "        return\n"
        "    fi\n"
        "    case $prev in\n"
        "    -c | --config) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
        "    --format) COMPREPLY=($(compgen -W \"{}\" -- \"$cur\")); return ;;\n"
        "    --source | --connector) COMPREPLY=($(compgen -W \"$(_meterbridge_names connectors)\" "
        "-- \"$cur\")); return ;;\n"
        "    --job | --run) COMPREPLY=($(compgen -W \"$(_meterbridge_names jobs)\" -- \"$cur\")); "
        "return ;;\n"
        "    esac\n"
        "    local opts=\n"
        "    case $verb in\n",
        kDefaultConfig, words(verbs), words({kFormats.begin(), kFormats.end()}));
    for (const CLI::App* v : visible_verbs(cli)) {
        std::vector<std::string> opts;
        if (v->get_name() == "help") opts = verbs;  // `help VERB`
        for (const CLI::Option* o : visible_options(*v)) {
            if (o->get_positional()) continue;
            for (const auto& s : o->get_snames()) opts.push_back("-" + s);
            for (const auto& l : o->get_lnames()) opts.push_back("--" + l);
        }
        fmt::print("    {}) opts=\"{}\" ;;\n", v->get_name(), words(opts));
    }
    fmt::print(
        "    esac\n"
        "    COMPREPLY=($(compgen -W \"$opts --help\" -- \"$cur\"))\n"
        "}}\n"
        "complete -F _meterbridge meterbridge\n");
}

int names(const std::string& file, const std::string& what) {
    auto cfg = load_or_report(file, nullptr, Secrets::not_needed);
    if (!cfg) return kExitConfig;
    if (what == "connectors")
        for (const auto& c : cfg->connectors) fmt::print("{}\n", c.name);
    else
        for (const auto& j : cfg->jobs) fmt::print("{}\n", j.name);
    return kExitOk;
}

}  // namespace

std::vector<Verb> add_manual_verbs(CLI::App& cli, std::string& config,
                                   const ConnectorRegistry& registry) {
    auto page = std::make_shared<std::string>();
    auto* manual = cli.add_subcommand("manual", "the manual pages and the bash completion");
    manual->group("");  // hidden: the build's, not an operator's
    manual->add_option("PAGE", *page, "1, 5 or completion")
        ->required()
        ->check(CLI::IsMember({"1", "5", "completion"}));
    auto what = std::make_shared<std::string>();
    auto* list = cli.add_subcommand("names", "the connector or job names of a configuration");
    list->group("");
    add_config_option(list, config);
    list->add_option("WHAT", *what, "connectors or jobs")
        ->required()
        ->check(CLI::IsMember({"connectors", "jobs"}));
    return {
        {manual,
         [&cli, &registry, page] {
             if (*page == "1")
                 page_1(cli);
             else if (*page == "5")
                 page_5(registry);
             else
                 completion(cli);
             return kExitOk;
         }},
        {list, [&config, what] { return names(config, *what); }},
    };
}

}  // namespace mb
