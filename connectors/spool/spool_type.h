// The `spool` connector type: files of canonical readings (JSON lines)
// dropped into a directory, read by SpoolConnector (no broker). Its keys
// (directory, poll_interval, batch_lines) are the table in spool_type.cpp.
//
// Who calls: builtin_registry() (connectors/builtin.h), once.
#pragma once

namespace mb {

class ConnectorRegistry;

void register_spool(ConnectorRegistry& registry);

}  // namespace mb
