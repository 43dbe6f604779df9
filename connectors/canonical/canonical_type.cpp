#include "connectors/canonical/canonical_type.h"

#include "connectors/mqtt/mqtt_type.h"
#include "normalize/canonical/canonical_decoder.h"

namespace mb {

void register_canonical(ConnectorRegistry& registry) {
    registry.add(make_mqtt_type(MqttTypeSpec{
        "canonical",
        "canonical readings and state events as JSON over MQTT",
        {},
        [](const ConnectorConfig&) -> std::unique_ptr<Decoder> {
            return std::make_unique<CanonicalDecoder>();
        },
        {},
    }));
}

}  // namespace mb
