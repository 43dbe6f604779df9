// AinsiteGatewayDecoder: Å Insite's suggested standard format for devices that
// publish meter data (seed 001, "Publish meter data over MQTT"), connector
// type "ainsite-gateway": meterbridge takes the place of Å Insite's broker
// side and ingests what gateways publish.
//
// Topic: seven non-empty levels
//   <l1>/<l2>/<service_account_id>/<parser_id>/<utility>/<meter_external_id>/<register_type_id>
// where l1..l4 are the gateway's prefix (the document: "something like
// gateways/generic/<service_account_id>/<parser_id>", so l1/l2 are not
// checked), utility is one of Electrical, Thermal, Water, NaturalGas
// (else invalid_value) and register_type_id a decimal integer (else bad_topic).
// Payload: a bare decimal number in JSON grammar ("123.456"), at most 64
// bytes, surrounding ASCII whitespace ignored; NaN, Inf, hex, "1,5", a sign
// "+" or trailing text are malformed.
// Reading: dated at the time of receipt (the document: "We will use the
// current timestamp as the meter reading timestamp"), ts_start = ts_end =
// received_at. Register 2 of an Electrical meter is the accumulated energy
// (electricity.energy.consumption.index, Wh, ×1000, cumulative); register 2
// of another utility is register.2 cumulative with no unit (its energy is not
// electricity); any other register is register.<id>, instant, no unit, unless
// configured (a configured register applies to every utility).
//
// Pure (see decoder.h); keeps no state between messages.
#pragma once

#include <cstdint>
#include <string_view>

#include "normalize/decoder.h"
#include "normalize/ainsite/register_map.h"

namespace mb {

// What becomes Reading::meter.
enum class GatewayMeterId : std::uint8_t {
    external,  // <meter_external_id>, as the document names the meter
    gateway,   // <service_account_id>/<parser_id>/<meter_external_id>: external ids are
               // chosen per gateway, so several gateways may use the same one
};

struct AinsiteGatewaySettings {
    ainsite::RegisterMap registers;  // validated by connectors/ainsite/ainsite_type.cpp
    GatewayMeterId meter_id = GatewayMeterId::external;
};

// The document's topic shape has this many levels.
inline constexpr std::size_t kGatewayTopicLevels = 7;
// Every gateway of the standard format.
inline constexpr std::string_view kGatewayDefaultFilter = "gateways/generic/+/+/+/+/+";
// A numeric payload longer than this is not a meter reading.
inline constexpr std::size_t kGatewayMaxPayload = 64;

// Electrical, Thermal, Water or NaturalGas (the document's table, case-sensitive).
bool is_gateway_utility(std::string_view utility);

class AinsiteGatewayDecoder final : public Decoder {
  public:
    explicit AinsiteGatewayDecoder(AinsiteGatewaySettings settings = {});

    DecodeResult decode(const RawMessage& message) override;

  private:
    AinsiteGatewaySettings settings_;
};

}  // namespace mb
