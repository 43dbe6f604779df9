#include "normalize/enedis/quoalise_number.h"

#include "normalize/topic.h"

namespace mb::quoalise {

std::optional<std::int64_t> parse_interval_seconds(std::string_view text) {
    const std::string_view s = trim_blanks(text);
    if (s.empty()) return std::nullopt;
    constexpr std::size_t kMaxDigits = 9;
    if (is_digit(s.front())) {
        if (s.size() > kMaxDigits) return std::nullopt;
        std::int64_t v = 0;
        for (char c : s) {
            if (!is_digit(c)) return std::nullopt;
            v = v * 10 + (c - '0');
        }
        return v;
    }
    if (s.front() != 'P') return std::nullopt;
    constexpr std::string_view kDateUnits = "WD";
    constexpr std::string_view kTimeUnits = "HMS";
    constexpr std::array<std::int64_t, 2> kDateSeconds{604800, 86400};
    constexpr std::array<std::int64_t, 3> kTimeSeconds{3600, 60, 1};
    std::int64_t total = 0;
    bool in_time = false;
    bool any = false;
    bool time_component = false;
    std::size_t next_unit = 0;  // designators must come in order, each once
    std::size_t i = 1;
    while (i < s.size()) {
        if (s[i] == 'T') {
            if (in_time) return std::nullopt;
            in_time = true;
            next_unit = 0;
            ++i;
            continue;
        }
        const std::size_t start = i;
        std::int64_t v = 0;
        while (i < s.size() && is_digit(s[i]) && i - start < kMaxDigits)
            v = v * 10 + (s[i++] - '0');
        if (i == start || i == s.size()) return std::nullopt;
        const std::string_view units = in_time ? kTimeUnits : kDateUnits;
        const std::size_t u = units.find(s[i], next_unit);
        if (u == std::string_view::npos) return std::nullopt;
        total += v * (in_time ? kTimeSeconds[u] : kDateSeconds[u]);
        next_unit = u + 1;
        any = true;
        time_component = time_component || in_time;
        ++i;
    }
    if (!any || (in_time && !time_component)) return std::nullopt;
    return total;
}

}  // namespace mb::quoalise
