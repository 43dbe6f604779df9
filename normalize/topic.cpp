#include "normalize/topic.h"

namespace mb {

namespace {

// Calls part(index, text) for each part of `text` between `sep`s; returns the count.
template <typename Part>
std::size_t for_each_part(std::string_view text, char sep, Part&& part) {
    std::size_t count = 0;
    for (std::size_t start = 0;;) {
        const std::size_t end = text.find(sep, start);
        part(count++, text.substr(start, end == std::string_view::npos ? end : end - start));
        if (end == std::string_view::npos) return count;
        start = end + 1;
    }
}

}  // namespace

std::vector<std::string_view> split_at(std::string_view text, char sep) {
    std::vector<std::string_view> out;
    for_each_part(text, sep, [&](std::size_t, std::string_view p) { out.push_back(p); });
    return out;
}

std::vector<std::string_view> topic_levels(std::string_view topic) {
    return split_at(topic, '/');
}

std::size_t topic_levels(std::string_view topic, std::span<std::string_view> first) {
    return for_each_part(topic, '/', [&](std::size_t i, std::string_view level) {
        if (i < first.size()) first[i] = level;
    });
}

}  // namespace mb
