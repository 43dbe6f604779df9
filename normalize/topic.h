// Cutting vendor text into parts. Chiefly the levels of an MQTT topic or
// topic filter: the text between '/' separators (MQTT 3.1.1 §4.7.1), empty
// levels included, so that "a//b" has three and "/up" two, the first empty.
// One splitting rule for the decoders that read topics and for the
// configuration checks of filters; also separated fields and blank trimming.
//
// Who calls: decoders (per message: the span form allocates nothing) and
// config checks. Pure functions; the views point into the caller's text;
// any thread; no errors.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace mb {

// Space, tab, CR and LF: XML's white space, and the blanks around a CSV cell,
// a text payload or a MIME parameter.
inline bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// `text` without the blanks at either end.
inline std::string_view trim_blanks(std::string_view text) {
    while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
    return text;
}

// `text` cut at every `sep`: n separators give n + 1 parts.
std::vector<std::string_view> split_at(std::string_view text, char sep);

// split_at(topic, '/').
std::vector<std::string_view> topic_levels(std::string_view topic);

// The first first.size() levels of `topic` into `first`; returns how many
// levels the topic has (possibly more than were stored).
std::size_t topic_levels(std::string_view topic, std::span<std::string_view> first);

}  // namespace mb
