// `meterbridge gaps`: the missing intervals of each series of a source, by
// the series' learned cadence.
#include <fmt/format.h>

#include <memory>

#include "daemon/cli/verb.h"
#include "normalize/time_format.h"
#include "storage/meters.h"

namespace mb {

namespace {

struct GapsArgs {
    std::string source;
    std::optional<std::string> meter, quantity, from, to;
    std::string format = "table";
};

int gaps(const std::string& file, const GapsArgs& a) {
    GapsQuery q;
    q.source = a.source;
    q.meter = a.meter;
    q.quantity = a.quantity;
    for (auto [name, arg, out] :
         {std::tuple{"--from", &a.from, &q.from}, std::tuple{"--to", &a.to, &q.to}}) {
        if (!*arg) continue;
        *out = parse_iso8601(**arg);
        if (!*out) {
            fmt::print(stderr,
                       "{} '{}': expected ISO-8601 UTC, e.g. 2022-03-01 or 2022-03-01T00:00:00Z\n",
                       name, **arg);
            return kExitDataErr;
        }
    }
    return print_rows(
        file, a.format, {"source", "meter", "quantity", "cadence", "from", "to", "missing"},
        [&](sql::Db& db, TableWriter& out) {
            for (const SeriesGaps& s : find_gaps(db, q))
                for (const SeriesGap& g : s.gaps)
                    out.row({text(s.source), text(s.meter), text(s.quantity),
                             text(format_iso_duration(s.cadence_ms)), text(format_iso_ms(g.from)),
                             text(format_iso_ms(g.to)), num(g.missing)});
        });
}

}  // namespace

Verb add_gaps_verb(CLI::App& cli, std::string& config) {
    auto a = std::make_shared<GapsArgs>();
    auto* sub = cli.add_subcommand("gaps", "the missing intervals of each series, by its cadence");
    add_config_option(sub, config);
    sub->add_option("--source", a->source, "connector name")->required();
    sub->add_option("--meter", a->meter, "meter identifier");
    sub->add_option("--quantity", a->quantity, "canonical quantity");
    sub->add_option("--from", a->from, "readings with ts_start >= this (ISO-8601 UTC)");
    sub->add_option("--to", a->to, "readings with ts_start < this (ISO-8601 UTC)");
    add_format_option(sub, a->format);
    return {sub, [&config, a] { return gaps(config, *a); }};
}

}  // namespace mb
