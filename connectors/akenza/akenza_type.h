// The `akenza` connector type: an MQTT connector running AkenzaDecoder on
// akenza device uplinks (/up/<secret>/id/<deviceId>[/<sub-topic>...]).
//
// Its keys (docs/vendors/akenza.md): secret_file, accept_device_credentials,
// csv_header, csv_delimiter and [[connectors.mappings]]. The secret is read
// from its file only when the decoder is built (make_akenza_decoder), so that
// the loaded Config never holds it.
//
// Who calls: register_builtin_connectors() once at start-up; the MQTT
// connector calls make_decoder on the main thread when it builds a connector.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "connectors/mqtt/mqtt_type.h"
#include "connectors/connector_config.h"
#include "normalize/akenza/akenza_decoder.h"

namespace mb {

class ConnectorRegistry;

struct AkenzaConnectorOptions : ConnectorOptions {
    std::string secret_file;  // as written; "" when only device credentials are accepted
    AkenzaOptions decoder;    // decoder.secret stays empty here
};

// The registry row's spec (type, keys, decoder factory).
MqttTypeSpec akenza_type_spec();

// Reads the secret file and builds the decoder of one connector. Throws
// std::runtime_error naming the connector, the key and the path (never the
// secret) when the file is missing, empty or holds an unusable secret.
std::unique_ptr<AkenzaDecoder> make_akenza_decoder(const ConnectorConfig& config);

void register_akenza(ConnectorRegistry& registry);

}  // namespace mb

namespace mb {

// Publishes `payload` to /down/<secret>/id/<device_id>/<topic> on the broker
// of the akenza connector named `connector` (its secret read from its
// secret_file), waiting for the broker's acknowledgement. For the CLI verb
// `akenza-downlink`. Throws std::runtime_error with a message fit for an
// operator (never containing the secret).
// `connectors` and `brokers` are those of the configuration `file`.
void publish_akenza_downlink(const std::filesystem::path& file,
                             const std::vector<ConnectorConfig>& connectors,
                             const std::map<std::string, BrokerConfig>& brokers,
                             const std::string& connector, const std::string& device_id,
                             const std::string& topic, const std::string& payload, int qos);

}  // namespace mb
