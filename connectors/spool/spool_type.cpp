#include "connectors/spool/spool_type.h"

#include <filesystem>

#include "connectors/registry.h"
#include "connectors/spool/spool_connector.h"
#include "storage/writer.h"

namespace mb {

namespace fs = std::filesystem;

void register_spool(ConnectorRegistry& registry) {
    ConnectorType t;
    t.type = "spool";
    t.transport = Transport::local;
    t.description = "files of canonical readings (JSON lines) dropped into a directory";
    t.parse_options = [](TableReader& r,
                         ConnectorConfig&) -> std::shared_ptr<const ConnectorOptions> {
        auto o = std::make_shared<SpoolOptions>();
        if (auto d = r.required_string("directory")) {
            fs::path p(*d);
            if (p.is_relative()) p = fs::path(r.file()).parent_path() / p;
            o->directory = p.lexically_normal();
        }
        if (auto v = r.duration("poll_interval")) {
            if (v->count() < 10 || v->count() > 3600000)
                r.error("poll_interval", "must be between 10ms and 1h");
            else
                o->poll_interval = *v;
        }
        if (auto v = r.integer("batch_lines", 1, 100000))
            o->batch_lines = static_cast<std::size_t>(*v);
        return o;
    };
    t.make_connector = [](ConnectorContext& ctx,
                          const ConnectorConfig& cfg) -> std::unique_ptr<Connector> {
        return std::make_unique<SpoolConnector>(ctx.writer, cfg,
                                                ctx.writer.max_stored_payload());
    };
    registry.add(std::move(t));
}

}  // namespace mb
