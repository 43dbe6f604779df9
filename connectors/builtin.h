// The built-in connector types. Contract: adds one row per type (voltaware,
// ainsite, ainsite-gateway, tuya, akenza, enedis) to `registry`; called once, by
// builtin_registry(), and must not depend on any other static initialisation.
#pragma once

namespace mb {

class ConnectorRegistry;

void register_builtin_connectors(ConnectorRegistry& registry);

}  // namespace mb
