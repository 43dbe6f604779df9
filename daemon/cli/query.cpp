// `meterbridge query`: stored readings, filtered.
#include <fmt/format.h>

#include <memory>

#include "daemon/cli/verb.h"
#include "normalize/time_format.h"
#include "storage/query.h"

namespace mb {

namespace {

struct QueryArgs {
    std::optional<std::string> source, meter, quantity, from, to;
    std::optional<std::int64_t> limit;
    std::string format = "table";
};

std::optional<TimeMs> parse_time_arg(const std::string& name, const std::string& value) {
    auto t = parse_iso8601(value);
    if (!t)
        fmt::print(stderr,
                   "{} '{}': expected ISO-8601 UTC, e.g. 2022-03-01 or 2022-03-01T00:00:00Z\n",
                   name, value);
    return t;
}

int query(const std::string& file, const QueryArgs& a) {
    ReadingFilter f;
    f.source = a.source;
    f.meter = a.meter;
    f.quantity = a.quantity;
    f.limit = a.limit;
    if (a.from && !(f.from = parse_time_arg("--from", *a.from))) return kExitDataErr;
    if (a.to && !(f.to = parse_time_arg("--to", *a.to))) return kExitDataErr;
    return print_rows(file, a.format,
                      {"source", "meter", "quantity", "unit", "kind", "ts_start", "ts_end", "value",
                       "received_at"},
                      [&](sql::Db& db, TableWriter& out) {
                          for_each_reading(db, f, [&](const ReadingRow& r) {
                              out.row({text(r.source), text(r.meter), text(r.quantity),
                                       text(r.unit), text(r.kind), text(format_iso_ms(r.ts_start)),
                                       text(format_iso_ms(r.ts_end)), num(r.value),
                                       text(format_iso_ms(r.received_at))});
                          });
                      });
}

}  // namespace

Verb add_query_verb(CLI::App& cli, std::string& config) {
    auto q = std::make_shared<QueryArgs>();
    auto* sub = cli.add_subcommand("query", "print stored readings");
    add_config_option(sub, config);
    sub->add_option("--source", q->source, "connector name");
    sub->add_option("--meter", q->meter, "meter identifier");
    sub->add_option("--quantity", q->quantity, "canonical quantity");
    sub->add_option("--from", q->from, "ts_start >= this (ISO-8601 UTC)");
    sub->add_option("--to", q->to, "ts_start < this (ISO-8601 UTC)");
    sub->add_option("--limit", q->limit, "at most this many rows");
    add_format_option(sub, q->format);
    return {sub, [&config, q] { return query(config, *q); }};
}

}  // namespace mb
