// AkenzaDecoder: uplinks of devices speaking akenza's MQTT device API
// (shared/seeds 004), turned into readings and state events through field
// mappings configured per connector.
//
// Topics: /up/<secret>/id/<deviceId>[/<sub>/<topics>...] (the first level is
// empty: the topic starts with '/'), and /up/device/id/<deviceId>[/...] for
// devices authenticated by the broker with a JWT. The sub-topic levels joined
// with '_' form the data topic ("alerts/critical" → "alerts_critical"); no
// sub-topic is the data topic "default". meter = deviceId.
//
// The secret level authenticates the uplink: it must equal the configured
// secret (compared in constant time), else the message is rejected
// `unauthorized`. Device-credential uplinks are accepted only when configured:
// meterbridge cannot check the JWT, it trusts the broker to have done so.
//
// Payloads (by the MQTT v5 Content Type; absent → JSON): application/json is
// addressed by RFC 6901 pointers; text/plain is one value at the pointer "";
// text/csv is a header line naming the columns (or none, and the columns are
// "/0", "/1", ...) then one or more data lines, each decoded like an object
// whose keys are the columns. application/xml, application/octet-stream and
// any other type are rejected `unsupported_content_type`.
//
// Pure (see decoder.h). One instance per thread: it reuses a padded buffer and
// a simdjson parser. redact() must run on every message before it is stored.
//
// Its parts: akenza_topic.h (topics, the secret, redaction), akenza_mapping.h
// (mappings and their evaluation), akenza_json_walker.h and csv.h (reading the
// payload), akenza_slot.h and akenza_timestamp.h (the values read). This header
// includes the first two: they are the decoder's configuration and checks.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "normalize/akenza/akenza_mapping.h"
#include "normalize/akenza/akenza_slot.h"
#include "normalize/akenza/akenza_topic.h"
#include "normalize/decoder.h"

namespace mb {

struct AkenzaOptions {
    std::string secret;  // "" accepts no secret uplink (device-credential only)
    bool accept_device_credentials = false;
    bool csv_header = true;
    char csv_delimiter = ',';
    std::vector<AkenzaMapping> mappings;
};

class AkenzaDecoder final : public Decoder {
  public:
    // Throws std::invalid_argument on options that akenza_*_problem rejects,
    // or on two mappings of one data topic with the same quantity or state key
    // (they would produce one dedup key twice). The message never holds the secret.
    explicit AkenzaDecoder(AkenzaOptions options);

    DecodeResult decode(const RawMessage& message) override;

    // Masks secrets in what will be stored: the topic's secret level (also a
    // wrong one: it may be another connector's real secret) and any occurrence
    // of the configured secret in the payload; in a payload cut short
    // (received_size), also a start of the secret at its very end.
    void redact(RawMessage& message) const override;

    // akenza_redact_text with the configured secret.
    void redact_text(std::string& text) const override;

  private:
    using Plan = akenza::Plan;
    using Slot = akenza::Slot;

    DecodeResult reject(RejectCode code, std::string detail) const;
    DecodeResult reject(Reject r) const { return reject(r.code, std::move(r.detail)); }
    // A payload in which no mapped field has a value: `what` says so, "{}"
    // standing for the mapped pointers.
    DecodeResult nothing_mapped(const Plan& plan, std::string_view what) const;
    DecodeResult decode_json(const RawMessage& m, const Plan& plan, const std::string& meter);
    DecodeResult decode_text(const RawMessage& m, const Plan& plan, const std::string& meter);
    DecodeResult decode_csv(const RawMessage& m, const Plan& plan, const std::string& meter);

    AkenzaOptions options_;
    std::map<std::string, Plan, std::less<>> plans_;
    simdjson::ondemand::parser parser_;
    std::string buffer_;
    std::vector<Slot> slots_;
    std::vector<std::vector<std::size_t>> scratch_;  // pointer candidates per JSON depth
};

}  // namespace mb
