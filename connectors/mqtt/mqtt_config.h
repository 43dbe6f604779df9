// The MQTT transport's configuration keys and rules: the [brokers.NAME]
// tables, and the keys every MQTT connector has (broker, topics, qos,
// clean_session, client_id) with their rules — plaintext only to loopback
// hosts unless asked for, qos and clean_session warnings, one client id per
// broker. Key tables as data (key_spec.h), shown by `meterbridge types`.
//
// Who calls: load_config() (daemon/config.cpp), on the main thread, while a
// configuration is loaded. Problems are reported on the TableReader (file,
// line, column, key), never thrown.
#pragma once

#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <utility>

#include "connectors/connector_config.h"
#include "connectors/registry.h"
#include "normalize/config/key_spec.h"
#include "normalize/config/table_reader.h"

namespace mb {

std::span<const KeySpec> broker_keys();
std::span<const KeySpec> mqtt_connector_keys();

// Reads one [brokers.NAME] table (declares broker_keys() on `r`, calls
// finish()). Relative file names resolve against `base_dir`; TLS files are
// checked to be readable now, so that a typo fails check-config.
BrokerConfig read_broker(TableReader& r, const std::string& name,
                         const std::filesystem::path& base_dir);

// The MQTT keys of the [[connectors]] tables of one configuration.
class MqttConnectorRules {
  public:
    explicit MqttConnectorRules(const std::map<std::string, BrokerConfig>& brokers)
        : brokers_(brokers) {}

    // Before the row's own keys: declares and reads mqtt_connector_keys()
    // into `c`. Returns false when `topics` is there but invalid (reported).
    bool read(TableReader& r, ConnectorConfig& c);
    // After the row's own keys (which may derive the topics): the connector
    // subscribes to something, and its client id is unique on its broker.
    void check(TableReader& r, const ConnectorConfig& c, bool topics_valid);

  private:
    const std::map<std::string, BrokerConfig>& brokers_;
    // (broker, client id) → connector: two clients with one id on one broker
    // would take turns kicking each other off.
    std::map<std::pair<std::string, std::string>, std::string> client_ids_;
};

// A connector of another transport: each MQTT key it has is an error.
void refuse_mqtt_keys(TableReader& r, const ConnectorConfig& c, Transport transport);

}  // namespace mb
