// The verbs connector rows supply (connectors/vendor_verb.h), made into
// subcommands: their arguments become options, a configuration is loaded for
// the verbs that use one, and their result or error is printed.
#include <fmt/format.h>

#include <memory>

#include "connectors/registry.h"
#include "daemon/cli/verb.h"

namespace mb {

namespace {

struct VerbState {
    const VendorVerb* verb = nullptr;
    VerbInput input;
};

int run_vendor_verb(const std::string& config, VerbState& s) {
    const VendorVerb& v = *s.verb;
    if (v.reads_secrets) keep_secrets_out_of_dumps();
    std::optional<Config> cfg;
    if (v.uses_config) {
        cfg = load_or_report(config);
        if (!cfg) return kExitConfig;
        s.input.config_file = cfg->file;
        s.input.brokers = &cfg->brokers;
        s.input.connectors = &cfg->connectors;
    }
    std::string out;
    try {
        out = v.run(s.input);
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: {}\n", v.name, e.what());
        return kExitFailure;
    }
    fmt::print("{}\n", out);
    return kExitOk;
}

}  // namespace

std::vector<Verb> add_vendor_verbs(CLI::App& cli, std::string& config,
                                   const ConnectorRegistry& registry) {
    std::vector<Verb> verbs;
    for (const ConnectorType& t : registry.types()) {
        for (const VendorVerb& v : t.verbs) {
            auto s = std::make_shared<VerbState>();
            s->verb = &v;
            auto* sub = cli.add_subcommand(v.name, v.help);
            if (v.uses_config) add_config_option(sub, config);
            for (const VerbArgument& a : v.arguments) {
                const std::string name(a.name);
                CLI::Option* o = nullptr;
                if (a.type == ArgumentType::integer) {
                    std::int64_t& value = s->input.integers[name];
                    value = a.default_value;
                    o = sub->add_option("--" + name, value, std::string(a.help))
                            ->check(CLI::Range(a.min, a.max))
                            ->capture_default_str();
                } else {
                    o = sub->add_option("--" + name, s->input.text[name], std::string(a.help));
                }
                if (a.required) o->required();
            }
            verbs.push_back({sub, [&config, s] { return run_vendor_verb(config, *s); }});
        }
    }
    return verbs;
}

}  // namespace mb
