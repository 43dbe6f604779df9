// `meterbridge stats`: counts per source, and their total.
#include <memory>

#include "daemon/cli/verb.h"
#include "storage/query.h"

namespace mb {

namespace {

int stats(const std::string& file, const std::string& format_name) {
    return print_rows(
        file, format_name,
        {"source", "messages", "readings", "duplicates", "revisions", "rejected", "states",
         "last_received_at"},
        [&](sql::Db& db, TableWriter& out) {
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
            if (format_name == "table" && rows.size() != 1)
                out.row({text(total.source), num(total.messages), num(total.readings),
                         num(total.duplicates), num(total.revisions), num(total.rejected),
                         num(total.states), time_cell(total.last_received_at)});
        });
}

}  // namespace

Verb add_stats_verb(CLI::App& cli, std::string& config) {
    auto format = std::make_shared<std::string>("table");
    auto* sub = cli.add_subcommand(
        "stats", "counts per source: messages, readings, duplicates, revisions, rejected");
    add_config_option(sub, config);
    add_format_option(sub, *format);
    return {sub, [&config, format] { return stats(config, *format); }};
}

}  // namespace mb
