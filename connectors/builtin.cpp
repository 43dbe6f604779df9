#include "connectors/builtin.h"

#include "connectors/ainsite_type.h"
#include "connectors/akenza_type.h"
#include "connectors/canonical_type.h"
#include "connectors/enedis_connector.h"
#include "connectors/registry.h"
#include "connectors/spool_connector.h"
#include "connectors/tuya_type.h"
#include "connectors/voltaware_type.h"

namespace mb {

// One line per connector type built into meterbridge.
void register_builtin_connectors(ConnectorRegistry& registry) {
    register_spool_connector(registry);
    register_canonical(registry);
    register_voltaware(registry);
    register_akenza(registry);
    register_ainsite(registry);
    register_tuya(registry);
    register_enedis(registry);
}

}  // namespace mb
