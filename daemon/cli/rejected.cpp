// `meterbridge rejected`: the most recent rejected messages and why.
#include <memory>

#include "daemon/cli/verb.h"
#include "storage/query.h"

namespace mb {

namespace {

struct RejectedArgs {
    std::optional<std::string> source;
    std::int64_t limit = 20;
    std::string format = "table";
};

int rejected(const std::string& file, const RejectedArgs& a) {
    const bool table = a.format == "table";
    return print_rows(file, a.format, {"received_at", "source", "topic", "reason", "payload"},
                      [&](sql::Db& db, TableWriter& out) {
                          for_each_rejected(db, a.source, a.limit, [&](const RejectedRow& r) {
                              std::string payload = r.payload;
                              if (table) {
                                  for (auto& c : payload)
                                      if (c == '\n' || c == '\r' || c == '\t') c = ' ';
                                  if (payload.size() > 120)
                                      payload = payload.substr(0, 117) + "...";
                              }
                              out.row({time_cell(r.received_at), text(r.source), text(r.topic),
                                       text(r.reason), text(payload)});
                          });
                      });
}

}  // namespace

Verb add_rejected_verb(CLI::App& cli, std::string& config) {
    auto a = std::make_shared<RejectedArgs>();
    auto* sub = cli.add_subcommand("rejected", "the most recent rejected messages and why");
    add_config_option(sub, config);
    sub->add_option("--source", a->source, "connector name");
    sub->add_option("--limit", a->limit, "at most this many")->capture_default_str();
    add_format_option(sub, a->format);
    return {sub, [&config, a] { return rejected(config, *a); }};
}

}  // namespace mb
