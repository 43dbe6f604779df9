// VoltawareDecoder: messages of Voltaware's "MQTT Smart Meter Integration API"
// (shared/seeds/000): one JSON object per device and day,
//   {"deviceId": "6ede44a4-…", "dataFrequencyMins": 15, "date": "2022-03-01",
//    "electricReadings": [{"timestampUtcEpochSecs": 1646092800, "consumptionKwh": 0.111}, …]}
//
// Voltaware discards any message not exactly in that format, so this decoder is
// strict: every field is required with its JSON type, no other field is allowed,
// dataFrequencyMins is 15, 30 or 60, and electricReadings holds exactly one
// reading per interval of the UTC day `date` (96, 48 or 24), each stamped with
// the start of its interval, in any order. The first violation rejects the
// whole message with a specific reason.
//
// Each reading becomes electricity.energy.consumption in Wh, kind interval,
// [timestampUtcEpochSecs, + dataFrequencyMins), meter = deviceId, emitted in
// time order. Wh are computed from the number's decimal text with the decimal
// point shifted (0.123 kWh → exactly 123 Wh, the closest double to the decimal
// value × 1000), never as a binary product.
//
// Pure (see decoder.h). One instance per thread: it reuses a padded buffer and
// a simdjson parser.
#pragma once

#include <simdjson.h>

#include <memory>
#include <string>

#include "normalize/decoder.h"

namespace mb {

class VoltawareDecoder final : public Decoder {
  public:
    DecodeResult decode(const RawMessage& message) override;

  private:
    simdjson::ondemand::parser parser_;
    std::string buffer_;
    // Only to tell broken JSON from valid JSON of the wrong shape when the
    // message is not an object (on-demand does not validate what it skips).
    std::unique_ptr<simdjson::dom::parser> validator_;
};

}  // namespace mb
