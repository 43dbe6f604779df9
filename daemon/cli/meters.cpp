// `meterbridge meters`: per meter and quantity its first and last reading,
// last received, learned cadence and arrival interval, completeness over a
// window and whether the meter is stale by its connector's `stale_after`.
#include <fmt/format.h>

#include <memory>

#include "daemon/cli/verb.h"
#include "normalize/config/table_reader.h"
#include "normalize/time_format.h"
#include "storage/clock.h"
#include "storage/meters.h"

namespace mb {

namespace {

struct MetersArgs {
    std::optional<std::string> source;
    bool stale = false;
    std::string window = "P7D";
    std::string format = "table";
};

int meters(const std::string& file, const MetersArgs& a) {
    const auto window = parse_duration(a.window);
    if (!window || window->count() <= 0) {
        fmt::print(stderr, "--window '{}': expected a positive duration, e.g. P7D, P30D or 24h\n",
                   a.window);
        return kExitDataErr;
    }
    int failure = kExitConfig;
    const auto cfg = load_or_report(file, &failure, Secrets::not_needed);
    if (!cfg) return failure;
    const auto rules = stale_rules(*cfg);
    MetersQuery q;
    q.source = a.source;
    q.stale_only = a.stale;
    q.window_ms = window->count();
    return print_rows(
        file, a.format,
        {"source", "meter", "quantity", "unit", "kind", "first", "last", "last_received",
         "readings", "cadence", "arrival", "completeness", "stale"},
        [&](sql::Db& db, TableWriter& out) {
            for (const MeterSummary& m : list_meters(db, q, now_ms(), rules))
                for (const MeterSeries& s : m.series)
                    out.row({text(m.source), text(m.meter), text(s.quantity), text(s.unit),
                             text(s.kind), text(format_iso_ms(s.first)),
                             text(format_iso_ms(s.last)), text(format_iso_ms(s.last_received)),
                             num(s.count), text(format_iso_duration(s.cadence_ms)),
                             text(format_iso_duration(s.arrival_ms)), num(s.completeness),
                             text(m.stale ? "yes" : "no")});
        });
}

}  // namespace

Verb add_meters_verb(CLI::App& cli, std::string& config) {
    auto a = std::make_shared<MetersArgs>();
    auto* sub = cli.add_subcommand(
        "meters",
        "per meter: its quantities, first and last reading, cadence, completeness, stale flag");
    add_config_option(sub, config);
    sub->add_option("--source", a->source, "connector name");
    sub->add_flag("--stale", a->stale, "only the meters that are stale (connector's stale_after)");
    sub->add_option("--window", a->window, "completeness over this window up to now (default P7D)");
    add_format_option(sub, a->format);
    return {sub, [&config, a] { return meters(config, *a); }};
}

}  // namespace mb
