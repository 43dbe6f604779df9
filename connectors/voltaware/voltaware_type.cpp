#include "connectors/voltaware/voltaware_type.h"

#include "connectors/registry.h"
#include "normalize/voltaware/voltaware_decoder.h"

namespace mb {

MqttTypeSpec voltaware_type_spec() {
    MqttTypeSpec spec;
    spec.type = "voltaware";
    spec.description = "Voltaware daily readings (one JSON message per device and UTC day)";
    spec.make_decoder = [](const ConnectorConfig&) -> std::unique_ptr<Decoder> {
        return std::make_unique<VoltawareDecoder>();
    };
    return spec;
}

void register_voltaware(ConnectorRegistry& registry) {
    registry.add(make_mqtt_type(voltaware_type_spec()));
}

}  // namespace mb
