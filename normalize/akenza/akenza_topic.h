// The topics and the secret of akenza's MQTT device API (shared/seeds 004):
// reading an uplink topic, writing a downlink topic, checking the uplink
// secret, and masking it in whatever is stored or logged.
//
// Who calls: AkenzaDecoder (every uplink, on its thread), the akenza connector
// row (config checks, the downlink verb) and its MQTT log hook (any thread).
// Pure functions on caller-owned strings; a topic or secret that does not fit
// is a returned reason or an empty result, never an exception.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mb {

inline constexpr std::string_view akenza_default_data_topic = "default";
// The secret level of device-credential uplinks.
inline constexpr std::string_view akenza_device_level = "device";
inline constexpr std::string_view akenza_mask = "***";
// A shorter secret would make redact() mangle ordinary payload text.
inline constexpr std::size_t akenza_min_secret_size = 8;

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

namespace akenza {

// Every occurrence of `secret` (if not empty) in `text` replaced by "***".
void mask_secret(std::string& text, std::string_view secret);

// Whether the secret level `given` is the configured `secret` (never when that
// is empty). Takes a time that depends only on the length of `given` (which its
// sender knows), never on where it differs from the secret.
bool secret_matches(std::string_view given, std::string_view secret);

// /up/<secret>/id/<deviceId>[/<sub>/<topics>...], the views into the topic.
struct Uplink {
    bool device = false;  // the secret level is "device"
    std::string_view secret;
    std::string_view device_id;
    std::string data_topic;  // sub-topic levels joined with '_', or "default"
};

// Reads an uplink topic into `out`; returns a bad_topic detail or "". Details
// never echo the secret level.
std::string parse_uplink(std::string_view topic, Uplink& out);

}  // namespace akenza

}  // namespace mb
