// How an MQTT vendor type becomes a registry row: it names its decoder and
// parses its own keys; the MQTT connector (mqtt_connector.h) does the rest —
// broker session, subscriptions, acknowledge-after-commit, back-pressure,
// reconnects, payload size limit.
//
// Who calls: each vendor's register_<vendor>()
// (connectors/<vendor>/<vendor>_type.cpp), from builtin_registry(), once.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "connectors/mqtt/mqtt_protocol.h"
#include "connectors/registry.h"
#include "normalize/decoder.h"

namespace mb {

struct MqttTypeSpec {
    std::string type;
    std::string description;
    // The type's own keys (as ConnectorType::parse_options). May be empty.
    std::function<std::shared_ptr<const ConnectorOptions>(TableReader&, ConnectorConfig&)>
        parse_options;
    // Builds the decoder of one connector from its config (options included).
    // Called on the main thread; the decoder is then used only by that
    // connector's thread. May throw std::runtime_error (e.g. an unreadable
    // secret file): the daemon reports it and does not start.
    std::function<std::unique_ptr<Decoder>(const ConnectorConfig&)> make_decoder;
    // For a protocol that answers its devices (Tuya): used instead of
    // make_decoder when set. Same thread and error rules.
    std::function<std::unique_ptr<MqttProtocol>(const ConnectorContext&, const ConnectorConfig&)>
        make_protocol;
    // The type's own keys as data (ConnectorType::keys): what parse_options reads.
    std::span<const KeySpec> keys{};
    // CLI verbs the type supplies (ConnectorType::verbs).
    std::vector<VendorVerb> verbs{};
};

// A registry row with transport MQTT whose connector is an MqttConnector
// running the spec's decoder.
ConnectorType make_mqtt_type(MqttTypeSpec spec);

}  // namespace mb
