// `meterbridge consent`: the authorize URIs to send to customers, and the
// consents received.
#include <fmt/format.h>

#include <memory>

#include "daemon/cli/verb.h"
#include "normalize/detail_text.h"
#include "normalize/time_format.h"
#include "storage/query.h"

namespace mb {

namespace {

int consent(const std::string& file, const std::string& format_name) {
    auto format = parse_format(format_name);
    if (!format) return kExitUsage;
    return with_db(file, [&](sql::Db& db) {
        const auto uris = load_authorize_uris(db, std::nullopt);
        if (*format == OutputFormat::table) {
            for (const auto& u : uris)
                fmt::print("{} {}: {} (requested {})\n", u.source, u.job, display_escape(u.uri),
                           format_iso_ms(u.requested_at));
            if (uris.empty())
                fmt::print("no authorize URI yet (the get_authorize_uri job runs at start)\n");
        }
        TableWriter out(stdout, *format,
                        {"source", "usage_point", "state", "granted_at", "expires_at", "job"});
        for (const auto& c : load_consents(db, std::nullopt))
            out.row({text(c.source), text(c.usage_point), text(c.state), time_cell(c.granted_at),
                     time_cell(c.expires_at), text(c.job)});
        out.finish();
        return kExitOk;
    });
}

}  // namespace

Verb add_consent_verb(CLI::App& cli, std::string& config) {
    auto format = std::make_shared<std::string>("table");
    auto* sub = cli.add_subcommand(
        "consent", "the authorize URIs to send to customers, and the consents received");
    add_config_option(sub, config);
    add_format_option(sub, *format);
    return {sub, [&config, format] { return consent(config, *format); }};
}

}  // namespace mb
