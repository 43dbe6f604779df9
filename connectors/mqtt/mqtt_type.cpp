#include "connectors/mqtt/mqtt_type.h"

#include <fmt/format.h>

#include "connectors/mqtt/mqtt_connector.h"

namespace mb {

ConnectorType make_mqtt_type(MqttTypeSpec spec) {
    ConnectorType t;
    t.type = spec.type;
    t.transport = Transport::mqtt;
    t.description = spec.description;
    t.keys = spec.keys;
    t.verbs = std::move(spec.verbs);
    t.parse_options = std::move(spec.parse_options);
    t.make_connector = [make_decoder = std::move(spec.make_decoder),
                        make_protocol = std::move(spec.make_protocol)](
                           ConnectorContext& ctx,
                           const ConnectorConfig& cfg) -> std::unique_ptr<Connector> {
        const auto it = ctx.brokers.find(cfg.broker);
        if (it == ctx.brokers.end())
            throw std::runtime_error(
                fmt::format("connector {}: broker {} is not defined", cfg.name, cfg.broker));
        if (make_protocol)
            return std::make_unique<MqttConnector>(ctx.writer, cfg, it->second,
                                                   make_protocol(ctx, cfg));
        return std::make_unique<MqttConnector>(ctx.writer, cfg, it->second, make_decoder(cfg));
    };
    return t;
}

}  // namespace mb
