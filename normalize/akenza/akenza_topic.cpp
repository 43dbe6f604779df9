#include "normalize/akenza/akenza_topic.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>

#include "normalize/topic.h"

namespace mb {

namespace {

void replace_all(std::string& s, std::string_view what, std::string_view with) {
    if (what.empty()) return;
    std::size_t pos = 0;
    while ((pos = s.find(what, pos)) != std::string::npos) {
        s.replace(pos, what.size(), with);
        pos += with.size();
    }
}

// One level of a topic we publish to or accept: MQTT forbids wildcards and NUL
// in published topics.
bool is_plain_level(std::string_view level) {
    return !level.empty() && level.find_first_of(std::string_view("/+#\0", 4)) == level.npos;
}

constexpr std::string_view kTopicShape = "expected /up/<secret>/id/<deviceId>[/<sub-topic>...]";

}  // namespace

std::string akenza_secret_problem(std::string_view secret) {
    if (secret.empty()) return "the uplink secret is empty";
    if (secret.size() < akenza_min_secret_size)  // also rules out "device"
        return fmt::format("the uplink secret is shorter than {} bytes", akenza_min_secret_size);
    if (secret.find_first_of(std::string_view("/+#\0", 4)) != secret.npos)
        return "the uplink secret contains '/', '+', '#' or NUL, which cannot appear in one MQTT "
               "topic level";
    if (is_blank(secret.front()) || is_blank(secret.back()))
        return "the uplink secret begins or ends with a blank (a stray space or newline in the "
               "file?)";
    if (!simdjson::validate_utf8(secret))
        return "the uplink secret is not valid UTF-8 (MQTT topics are UTF-8)";
    return {};
}

std::string akenza_downlink_topic(std::string_view secret, std::string_view device_id,
                                  std::string_view topic) {
    if (!is_plain_level(secret) || !is_plain_level(device_id) || topic.empty()) return {};
    for (std::string_view level : topic_levels(topic))
        if (!is_plain_level(level)) return {};
    std::string out = fmt::format("/down/{}/id/{}/{}", secret, device_id, topic);
    if (out.size() > 65535 || !simdjson::validate_utf8(out)) return {};
    return out;
}

std::string akenza_redact_topic(std::string_view topic, std::string_view secret) {
    std::string out(topic);
    replace_all(out, secret, akenza_mask);
    std::size_t start = std::string::npos;
    for (std::string_view prefix : {"/up/", "/down/", "up/", "down/"}) {
        if (out.starts_with(prefix)) {
            start = prefix.size();
            break;
        }
    }
    if (start == std::string::npos) return out;
    const std::size_t end = std::min(out.find('/', start), out.size());
    const std::string_view level = std::string_view(out).substr(start, end - start);
    if (!level.empty() && level != akenza_device_level && level != akenza_mask)
        out.replace(start, end - start, akenza_mask);
    return out;
}

void akenza_redact_text(std::string& text, std::string_view secret) {
    replace_all(text, secret, akenza_mask);
    const auto starts_level = [&](std::size_t at) {
        if (at == 0) return true;
        const char c = text[at - 1];
        return c == '/' || c == '\'' || c == '"' || c == '`' || c == '(' || is_blank(c);
    };
    const auto ends_level = [](char c) { return c == '/' || c == '\'' || c == '"' || c == '`'; };
    for (std::string_view word : {"up/", "down/"}) {
        for (std::size_t at = text.find(word); at != std::string::npos;
             at = text.find(word, at + 1)) {
            if (!starts_level(at)) continue;
            const std::size_t start = at + word.size();
            std::size_t end = start;
            while (end < text.size() && !ends_level(text[end])) ++end;
            const std::string_view level = std::string_view(text).substr(start, end - start);
            if (level.empty() || level == akenza_device_level || level == akenza_mask ||
                level == "+" || level == "#")
                continue;
            text.replace(start, end - start, akenza_mask);
        }
    }
}

namespace akenza {

void mask_secret(std::string& text, std::string_view secret) {
    replace_all(text, secret, akenza_mask);
}

bool secret_matches(std::string_view given, std::string_view secret) {
    if (secret.empty()) return false;
    unsigned diff = given.size() == secret.size() ? 0U : 1U;
    for (std::size_t i = 0; i < given.size(); ++i)
        diff |= static_cast<unsigned>(static_cast<unsigned char>(given[i]) ^
                                      static_cast<unsigned char>(secret[i % secret.size()]));
    return diff == 0;
}

std::string parse_uplink(std::string_view topic, Uplink& out) {
    if (!topic.starts_with("/up/"))
        return fmt::format("not an akenza uplink topic ({}; note the leading '/')", kTopicShape);
    const auto levels = topic_levels(topic);  // "", "up", secret, "id", deviceId, sub...
    if (levels.size() < 5) return fmt::format("too few levels ({})", kTopicShape);
    for (std::string_view level : levels)
        if (level.find_first_of(std::string_view("+#\0", 3)) != level.npos)
            return "a published topic cannot contain '+', '#' or NUL";
    if (levels[2].empty()) return fmt::format("empty secret level ({})", kTopicShape);
    if (levels[3] != "id")
        return fmt::format("the level after the secret must be 'id' ({})", kTopicShape);
    if (levels[4].empty()) return fmt::format("empty device id ({})", kTopicShape);
    out.device = levels[2] == akenza_device_level;
    out.secret = levels[2];
    out.device_id = levels[4];
    out.data_topic.clear();
    for (std::size_t i = 5; i < levels.size(); ++i) {
        if (levels[i].empty()) return fmt::format("empty sub-topic level {}", i - 4);
        if (!out.data_topic.empty()) out.data_topic += '_';
        out.data_topic += levels[i];
    }
    if (out.data_topic.empty()) out.data_topic = akenza_default_data_topic;
    return {};
}

}  // namespace akenza

}  // namespace mb
