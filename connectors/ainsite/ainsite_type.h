// The Å Insite connector types (seed 001), both MQTT:
//   "ainsite"          — the consumer side: meters/outbound/<customer-id>/... JSON payloads
//                        (normalize/ainsite/ainsite_decoder.h);
//   "ainsite-gateway"  — the device side: gateways/generic/... bare numbers
//                        (normalize/ainsite/ainsite_gateway_decoder.h).
// Each row parses its own keys (the tables in ainsite_type.cpp, `meterbridge
// types ainsite`): `registers` (both),
// `meter_id` (gateway), and checks `topics` against the vendor's topic shape:
// a consumer filter must name its customer id (meters/outbound/<customer-id>/…),
// a gateway filter must be able to match a 7-level gateway topic. The gateway
// type subscribes to kGatewayDefaultFilter when `topics` is absent.
//
// Who calls: register_ainsite() from builtin_registry() (connectors/builtin.h), once.
// Parsing runs on the main thread while a config is loaded.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "connectors/registry.h"
#include "connectors/connector_config.h"
#include "normalize/ainsite/ainsite_gateway_decoder.h"
#include "normalize/decoder.h"
#include "normalize/ainsite/register_map.h"

namespace mb {

struct AinsiteOptions final : ConnectorOptions {
    ainsite::RegisterMap registers;
};

struct AinsiteGatewayOptions final : ConnectorOptions {
    AinsiteGatewaySettings settings;
};

// Adds the rows "ainsite" and "ainsite-gateway".
void register_ainsite(ConnectorRegistry& registry);

// Why `filter` (a valid MQTT filter) does not suit the type, or "" when it does.
std::string ainsite_filter_problem(std::string_view filter);
std::string ainsite_gateway_filter_problem(std::string_view filter);

// The decoders of a parsed connector (the rows' make_decoder). Options of
// another type are a programming error: std::runtime_error.
std::unique_ptr<Decoder> make_ainsite_decoder(const ConnectorConfig& config);
std::unique_ptr<Decoder> make_ainsite_gateway_decoder(const ConnectorConfig& config);

}  // namespace mb
