// `meterbridge help [VERB]`, and the answer to a verb that does not exist:
// its name and the closest visible verb, as git and systemctl give them.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/cli/verb.h"

namespace mb {

namespace {

// Edits from `a` to `b`, a swap of neighbours counting as one ("qurey").
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i)
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

// Hidden verbs (group "") are the build's: never offered to an operator.
std::vector<const CLI::App*> listed_verbs(const CLI::App& cli) {
    std::vector<const CLI::App*> out;
    for (const CLI::App* sub : cli.get_subcommands({}))
        if (!sub->get_group().empty()) out.push_back(sub);
    return out;
}

const CLI::App* find_verb(const CLI::App& cli, std::string_view name) {
    for (const CLI::App* sub : cli.get_subcommands({}))
        if (sub->get_name() == name) return sub;
    return nullptr;
}

int unknown_verb(const CLI::App& cli, std::string_view name) {
    const CLI::App* best = nullptr;
    std::size_t best_distance = 0;
    for (const CLI::App* v : listed_verbs(cli)) {
        const std::size_t d = edit_distance(name, v->get_name());
        if (!best || d < best_distance) {
            best = v;
            best_distance = d;
        }
    }
    // Two edits at most, and fewer than half the word: "stat" → "stats", not "xyz" → "run".
    std::string hint;
    if (best && best_distance <= 2 && best_distance * 2 < name.size())
        hint = fmt::format("; did you mean '{}'?", best->get_name());
    fmt::print(stderr, "meterbridge: unknown verb '{}'{}\nRun 'meterbridge help' for the verbs.\n",
               name, hint);
    return kExitUsage;
}

}  // namespace

std::optional<int> refuse_unknown_verb(const CLI::App& cli, int argc, char** argv) {
    // The first word that is not an option names the verb: the command line
    // itself has only --help and --version.
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg.starts_with('-')) continue;
        if (find_verb(cli, arg)) return std::nullopt;
        return unknown_verb(cli, arg);
    }
    return std::nullopt;
}

Verb add_help_verb(CLI::App& cli) {
    auto verb = std::make_shared<std::string>();
    auto* sub = cli.add_subcommand("help", "the verbs, or the options of one verb (as --help)");
    sub->add_option("VERB", *verb, "the verb to explain");
    return {sub, [&cli, verb] {
                // What --help prints. cli.help() itself would print this verb's
                // help, the subcommand that was parsed.
                if (verb->empty()) {
                    fmt::print("{}", cli.get_formatter()->make_help(&cli, cli.get_name(),
                                                                    CLI::AppFormatMode::Normal));
                    return kExitOk;
                }
                const CLI::App* v = find_verb(cli, *verb);
                if (!v) return unknown_verb(cli, *verb);
                fmt::print("{}", v->help(cli.get_name()));
                return kExitOk;
            }};
}

}  // namespace mb
