// `type = "canonical"`: readings already in meterbridge's canonical model
// (normalize/canonical/canonical_decoder.h), published over MQTT by systems that
// integrate with meterbridge directly.
#pragma once

namespace mb {
class ConnectorRegistry;
void register_canonical(ConnectorRegistry& registry);
}  // namespace mb
