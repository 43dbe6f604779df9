// The `akenza` connector type: an MQTT connector running AkenzaDecoder on
// akenza device uplinks (/up/<secret>/id/<deviceId>[/<sub-topic>...]).
//
// Its keys (the tables in akenza_type.cpp, `meterbridge types akenza`):
// secret_file, accept_device_credentials, csv_header, csv_delimiter and
// [[connectors.mappings]]. The secret is read from its file only when the
// decoder is built (make_akenza_decoder), so that the loaded Config never
// holds it. The row supplies the verb `akenza-downlink`.
//
// Who calls: builtin_registry() (connectors/builtin.h) once at start-up; the MQTT
// connector calls make_decoder on the main thread when it builds a connector.
#pragma once

#include <memory>
#include <string>

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
