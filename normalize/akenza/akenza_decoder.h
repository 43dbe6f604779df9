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
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "normalize/decoder.h"

namespace mb {

inline constexpr std::string_view akenza_default_data_topic = "default";
// The secret level of device-credential uplinks.
inline constexpr std::string_view akenza_device_level = "device";
inline constexpr std::string_view akenza_mask = "***";
// A shorter secret would make redact() mangle ordinary payload text.
inline constexpr std::size_t akenza_min_secret_size = 8;

enum class AkenzaTimeFormat : std::uint8_t { iso8601, unix_s, unix_ms };

// Which end of an interval reading the message's timestamp marks.
enum class AkenzaStamp : std::uint8_t { start, end };

// One payload field → one reading (quantity) or one state event (state_key).
struct AkenzaMapping {
    std::string data_topic{akenza_default_data_topic};
    std::string pointer;    // RFC 6901; "" is the whole payload
    std::string quantity;   // a reading, or
    std::string state_key;  // a state event (exactly one of the two)
    std::string unit;       // the canonical one for canonical quantities
    Kind kind = Kind::instant;
    TimeMs duration_ms = 0;  // interval readings only
    AkenzaStamp stamp = AkenzaStamp::end;
    double scale = 1.0;
    bool required = false;                 // absent → reject missing_field instead of skipping
    std::optional<std::string> timestamp;  // pointer; absent → received_at
    AkenzaTimeFormat timestamp_format = AkenzaTimeFormat::iso8601;
};

struct AkenzaOptions {
    std::string secret;  // "" accepts no secret uplink (device-credential only)
    bool accept_device_credentials = false;
    bool csv_header = true;
    char csv_delimiter = ',';
    std::vector<AkenzaMapping> mappings;
};

// Why `pointer` is not an RFC 6901 JSON pointer, or "" when it is one.
std::string akenza_pointer_problem(std::string_view pointer);

// Why `m` cannot be used, or "" (the config loader reports the same rules with
// positions; this is the decoder's own guard).
std::string akenza_mapping_problem(const AkenzaMapping& m);

// Why `secret` cannot be an uplink secret, or "". Never contains the secret.
std::string akenza_secret_problem(std::string_view secret);

// "/down/<secret>/id/<deviceId>/<topic>" (topic may have several levels), or
// "" when a part is empty, has an empty level, a wildcard ('+', '#') or NUL, or
// the result exceeds MQTT's 65535 bytes.
std::string akenza_downlink_topic(std::string_view secret, std::string_view device_id,
                                  std::string_view topic);

// `topic` with the secret level of any /up/<x>/... or /down/<x>/... topic
// (also without the leading '/') replaced by "***" unless it is "device", and
// every occurrence of `secret` (if not empty) masked too.
std::string akenza_redact_topic(std::string_view topic, std::string_view secret);

// Masks, in any text (a log line of the MQTT library, a decoded value, an
// error message), every occurrence of `secret` (if not empty) and the secret
// level of every akenza topic it quotes: the level after "up/" or "down/"
// where that word begins a level (after '/', a quote, a blank, or at the
// start), up to the next '/', quote or the end, unless it is "device", a
// wildcard or empty. It may mask more than a secret, never less.
void akenza_redact_text(std::string& text, std::string_view secret);

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

    // A mapped field's value, as read from one JSON document, text payload or CSV line.
    struct Slot {
        enum class Type : std::uint8_t { absent, null, number, string, boolean, object, array };
        Type type = Type::absent;
        bool boolean = false;
        bool representable = false;  // number: fits a double
        bool integral = false;       // number: an integer that fits int64
        double number = 0;
        std::int64_t integer = 0;
        std::string text;  // string content, or the number as written
    };

    // The pointers and mappings of one data topic.
    struct Plan {
        std::vector<std::string> pointers;
        std::vector<std::vector<std::string>> tokens;  // unescaped, per pointer
        struct Target {
            std::size_t mapping;
            std::size_t value_slot;
            std::optional<std::size_t> timestamp_slot;
        };
        std::vector<Target> targets;
    };

  private:
    DecodeResult reject(RejectCode code, std::string detail) const;
    DecodeResult decode_json(const RawMessage& m, const Plan& plan, const std::string& meter);
    DecodeResult decode_text(const RawMessage& m, const Plan& plan, const std::string& meter);
    DecodeResult decode_csv(const RawMessage& m, const Plan& plan, const std::string& meter);
    // Adds the readings/states of one row of slots; returns a rejection or nullopt.
    std::optional<DecodeResult> emit(const Plan& plan, const std::vector<Slot>& slots,
                                     const std::string& meter, TimeMs received_at,
                                     std::string_view where, DecodeResult& out) const;

    AkenzaOptions options_;
    std::map<std::string, Plan, std::less<>> plans_;
    simdjson::ondemand::parser parser_;
    std::string buffer_;
    std::vector<Slot> slots_;
    std::vector<std::vector<std::size_t>> scratch_;  // pointer candidates per JSON depth
};

}  // namespace mb
