#include "storage/cadence.h"

#include <algorithm>
#include <charconv>

namespace mb {

IntervalRing IntervalRing::parse(std::string_view text) {
    IntervalRing r;
    while (!text.empty()) {
        const auto space = text.find(' ');
        const std::string_view token = text.substr(0, space);
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
        if (ec == std::errc() && end == token.data() + token.size()) r.push(v);
        if (space == std::string_view::npos) break;
        text.remove_prefix(space + 1);
    }
    return r;
}

std::string IntervalRing::format() const {
    std::string out;
    for (std::size_t i = 0; i < n_; ++i) {
        if (i > 0) out += ' ';
        out += std::to_string(v_[i]);
    }
    return out;
}

void IntervalRing::push(std::int64_t interval_ms) {
    if (interval_ms <= 0) return;
    if (n_ == kSize) {
        std::move(v_.begin() + 1, v_.end(), v_.begin());
        --n_;
    }
    v_[n_++] = interval_ms;
}

std::int64_t IntervalRing::learned() const {
    if (n_ == 0) return 0;
    // Insertion sort of at most kSize values.
    std::array<std::int64_t, kSize> sorted{};
    for (std::size_t i = 0; i < n_; ++i) {
        std::size_t j = i;
        for (; j > 0 && sorted[j - 1] > v_[i]; --j) sorted[j] = sorted[j - 1];
        sorted[j] = v_[i];
    }
    return sorted[(n_ - 1) / 2];
}

}  // namespace mb
