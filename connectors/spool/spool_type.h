// The `spool` connector type: files of canonical readings (JSON lines)
// dropped into a directory, read by SpoolConnector (no broker).
//
// Who calls: register_builtin_connectors(), once at start-up.
#pragma once

namespace mb {

class ConnectorRegistry;

void register_spool(ConnectorRegistry& registry);

}  // namespace mb
