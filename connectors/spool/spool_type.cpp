#include "connectors/spool/spool_type.h"

#include <filesystem>

#include "connectors/registry.h"
#include "connectors/spool/spool_connector.h"
#include "storage/writer.h"

namespace mb {

namespace fs = std::filesystem;

constexpr KeySpec kSpoolKeys[] = {
    {.name = "directory",
     .required = true,
     .description = "the directory files are dropped into (relative to the config file)"},
    {.name = "poll_interval",
     .type = KeyType::duration,
     .default_value = "1s",
     .range = "10ms..1h",
     .description = "how often the directory is looked at"},
    {.name = "batch_lines",
     .type = KeyType::integer,
     .default_value = "1000",
     .min = 1,
     .max = 100000,
     .description = "lines submitted to the writer at once"},
};

void register_spool(ConnectorRegistry& registry) {
    ConnectorType t;
    t.type = "spool";
    t.transport = Transport::local;
    t.description = "files of canonical readings (JSON lines) dropped into a directory";
    t.keys = kSpoolKeys;
    t.parse_options = [](TableReader& r,
                         ConnectorConfig&) -> std::shared_ptr<const ConnectorOptions> {
        r.declare(kSpoolKeys);
        auto o = std::make_shared<SpoolOptions>();
        if (auto d = r.text("directory")) {
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
        if (auto v = r.integer("batch_lines"))
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
