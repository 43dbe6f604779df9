// The `tuya` connector type: the platform side of the Tuya IoT Edge Gateway
// protocol (TuyaPlatform) on an MQTT connector.
//
// Its keys (the table in tuya_type.cpp, `meterbridge types tuya`): gateways
// (required; the subscriptions gateway_id/<gw>/{devices/sync,
// properties/report, devices/status, commands/response} are derived from it,
// `topics` is refused), volume_scale, time_zone, stale_after,
// command_timeout, pair_window, max_devices. The row supplies the verb
// `tuya-password`.
//
// Who calls: builtin_registry() (connectors/builtin.h) once at start-up; the connector is
// built on the main thread (it reads the registry rows of its source from the
// database then).
#pragma once

#include "connectors/mqtt/mqtt_type.h"
#include "connectors/tuya/tuya_platform.h"

namespace mb {

class ConnectorRegistry;

MqttTypeSpec tuya_type_spec();
void register_tuya(ConnectorRegistry& registry);

}  // namespace mb
