// AinsiteDecoder: Å Insite's MQTT service for data consumers (seed 001,
// "Subscribe to meter data over MQTT"), connector type "ainsite".
//
// Topic: meters/outbound/<customer-id>/<subscription-id>/<meter-id>, exactly
// five non-empty levels; meter = <meter-id>. Anything else is bad_topic.
// Payload: one JSON object whose "smarteo_payload_schema_version" (an integer,
// required) selects the fields, all required, no others:
//   1: data_timestamp_utc, system_timestamp_utc, register_id, meter_reading
//      → one cumulative reading at data_timestamp_utc (the document sends
//        version 1 for register 2 only: another register is invalid_value);
//   2: measurement_start_timestamp_utc, measurement_end_timestamp_utc,
//      register_id, value → one interval reading [start, end), end > start
//      (version 2 is for "all other register types": register 2 is invalid_value).
// Timestamps are text exactly "YYYY-MM-DDTHH:MM:SS.mmmZ" (the document's form;
// no other precision or zone), not before 1970. register_id is an integer
// 0..2147483647. Numbers are scaled from their decimal text (register_map.h).
// system_timestamp_utc is validated but not stored (the reading is dated by
// the measurement).
//
// Pure (see decoder.h). One instance per thread: it reuses a padded buffer and
// a simdjson parser.
#pragma once

#include <simdjson.h>

#include <string>

#include "normalize/decoder.h"
#include "normalize/ainsite/register_map.h"

namespace mb {

class AinsiteDecoder final : public Decoder {
  public:
    // `registers`: configured mappings, already validated (connectors/ainsite/ainsite_type.cpp).
    explicit AinsiteDecoder(ainsite::RegisterMap registers = {});

    DecodeResult decode(const RawMessage& message) override;

  private:
    ainsite::RegisterMap registers_;
    simdjson::ondemand::parser parser_;
    std::string buffer_;
};

}  // namespace mb
