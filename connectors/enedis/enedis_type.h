// The `enedis` connector type: Enedis DataConnect through the consometers
// XMPP proxy (EnedisConnector), its keys (enedis_options.h) and its jobs
// (consent, load curves, daily energy).
//
// Who calls: builtin_registry() (connectors/builtin.h), once at start-up.
#pragma once

namespace mb {

class ConnectorRegistry;

void register_enedis(ConnectorRegistry& registry);

}  // namespace mb
