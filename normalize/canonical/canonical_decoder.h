// CanonicalDecoder: readings and state events already in meterbridge's
// canonical model, as JSON — the format of imports (spool files) and of
// `meterbridge query --format json`.
//
// A message is one JSON object or an array of them. A reading object:
//   {"meter": "m1", "quantity": "electricity.energy.consumption", "value": 12.5,
//    "ts_start": "2022-03-01T00:00:00.000Z", "ts_end": "2022-03-01T00:15:00.000Z"}
// optional "unit" and "kind" (default: the canonical ones of the quantity;
// "register.<id>" quantities default to no unit and kind "instant"); ts_end
// defaults to ts_start for instant and cumulative readings. Timestamps are
// ISO-8601 text or integer milliseconds. A state event object has "meter",
// "key", "value" (string) and "ts". Other fields are rejected.
//
// Pure (see decoder.h). One instance per thread: it reuses a padded buffer and
// a simdjson parser.
#pragma once

#include <simdjson.h>

#include <string>

#include "normalize/decoder.h"

namespace mb {

class CanonicalDecoder final : public Decoder {
  public:
    DecodeResult decode(const RawMessage& message) override;

  private:
    simdjson::ondemand::parser parser_;
    std::string buffer_;
};

}  // namespace mb
