// `meterbridge commands`: the most recent device commands and their outcomes.
#include <memory>

#include "daemon/cli/verb.h"
#include "storage/query.h"

namespace mb {

namespace {

struct CommandsArgs {
    std::optional<std::string> source;
    std::int64_t limit = 20;
    std::string format = "table";
};

int commands(const std::string& file, const CommandsArgs& a) {
    return print_rows(
        file, a.format,
        {"sent_at", "source", "gateway", "device", "dp", "value", "outcome", "result_code",
         "result_msg", "answered_at", "request_id"},
        [&](sql::Db& db, TableWriter& out) {
            for_each_command(db, a.source, a.limit, [&](const CommandRow& c) {
                out.row({time_cell(c.sent_at), text(c.source), text(c.gateway), text(c.device),
                         text(c.dp), text(c.value), text(c.outcome),
                         c.result_code ? num(*c.result_code) : Cell{"", false, true},
                         opt_text(c.result_msg), time_cell(c.answered_at), text(c.request_id)});
            });
        });
}

}  // namespace

Verb add_commands_verb(CLI::App& cli, std::string& config) {
    auto a = std::make_shared<CommandsArgs>();
    auto* sub = cli.add_subcommand("commands", "the most recent device commands and outcomes");
    add_config_option(sub, config);
    sub->add_option("--source", a->source, "connector name");
    sub->add_option("--limit", a->limit, "at most this many")->capture_default_str();
    add_format_option(sub, a->format);
    return {sub, [&config, a] { return commands(config, *a); }};
}

}  // namespace mb
