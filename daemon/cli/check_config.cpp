// `meterbridge check-config`: validates the configuration; exit 0, or 78 with
// one line per error.
#include <fmt/format.h>

#include "daemon/cli/verb.h"

namespace mb {

Verb add_check_config_verb(CLI::App& cli, std::string& config) {
    auto* sub = cli.add_subcommand(
        "check-config", "validate the configuration; exit 0, or 78 with one line per error");
    add_config_option(sub, config);
    return {sub, [&config] {
                auto cfg = load_or_report(config);
                if (!cfg) return kExitConfig;
                fmt::print("{}: ok ({} broker(s), {} connector(s), {} job(s); database {})\n",
                           config, cfg->brokers.size(), cfg->connectors.size(), cfg->jobs.size(),
                           cfg->storage.path.string());
                return kExitOk;
            }};
}

}  // namespace mb
