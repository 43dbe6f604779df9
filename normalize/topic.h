// The levels of an MQTT topic or topic filter: the text between '/'
// separators (MQTT 3.1.1 §4.7.1), empty levels included, so that "a//b" has
// three and "/up" two, the first empty. One splitting rule for the decoders
// that read topics and for the configuration checks of filters.
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

// `text` cut at every `sep`: n separators give n + 1 parts.
std::vector<std::string_view> split_at(std::string_view text, char sep);

// split_at(topic, '/').
std::vector<std::string_view> topic_levels(std::string_view topic);

// The first first.size() levels of `topic` into `first`; returns how many
// levels the topic has (possibly more than were stored).
std::size_t topic_levels(std::string_view topic, std::span<std::string_view> first);

}  // namespace mb
