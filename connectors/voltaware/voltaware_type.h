// The `voltaware` connector type: an MQTT subscription to the topics Voltaware
// publishers use (configured with `topics`), decoded by VoltawareDecoder. The
// format is fixed by Voltaware, so the type has no keys of its own beyond the
// common MQTT ones; any other key is a config error.
//
// Who calls: builtin_registry() (connectors/builtin.h), once at start-up.
#pragma once

#include "connectors/mqtt/mqtt_type.h"

namespace mb {

class ConnectorRegistry;

// The row's spec, exposed so that tests can build its decoder.
MqttTypeSpec voltaware_type_spec();

void register_voltaware(ConnectorRegistry& registry);

}  // namespace mb
