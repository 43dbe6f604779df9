#include "connectors/enedis/enedis_type.h"

#include <fmt/format.h>

#include <stdexcept>

#include "connectors/enedis/enedis_connector.h"
#include "connectors/enedis/enedis_options.h"
#include "connectors/registry.h"
#include "normalize/config/secret.h"
#include "storage/query.h"

namespace mb {

void register_enedis(ConnectorRegistry& registry) {
    ConnectorType t;
    t.type = "enedis";
    t.transport = Transport::xmpp;
    t.description =
        "Enedis DataConnect through the consometers XMPP proxy (consent, load curves, "
        "daily energy)";
    t.keys = enedis_keys();
    t.jobs = enedis_jobs();
    t.parse_options = parse_enedis_options;
    t.parse_job = parse_enedis_job;
    t.make_connector = [](ConnectorContext& ctx,
                          const ConnectorConfig& cfg) -> std::unique_ptr<Connector> {
        const auto* o = dynamic_cast<const EnedisOptions*>(cfg.options.get());
        if (!o) throw std::runtime_error(fmt::format("connector {}: no enedis options", cfg.name));
        std::vector<JobConfig> jobs;
        for (const auto& j : ctx.jobs)
            if (j.connector == cfg.name) jobs.push_back(j);
        EnedisState state;
        {
            auto db = open_read_only(ctx.database);
            for (const auto& p : load_job_progress(db, cfg.name)) {
                auto& s = state.progress[{p.job, p.usage_point, p.direction}];
                s.done = DaySet::parse(p.done).value_or(DaySet{});
                if (p.floor) s.floor = parse_day(*p.floor);
            }
            for (const auto& c : load_consents(db, cfg.name))
                state.consents[c.usage_point] = c.expires_at;
            for (const auto& u : load_authorize_uris(db, cfg.name))
                state.authorized_jobs.insert(u.job);
            state.last_runs = last_job_runs(db, cfg.name);
        }
        std::string password;
        try {
            password = read_secret_file(o->password_file);
        } catch (const std::exception& e) {
            throw std::runtime_error(
                fmt::format("connector {}: password_file: {}", cfg.name, e.what()));
        }
        return std::make_unique<EnedisConnector>(ctx.writer, cfg, *o, std::move(jobs),
                                                 std::move(state), std::move(password));
    };
    registry.add(std::move(t));
}

}  // namespace mb
