#include "normalize/model.h"

#include <fmt/format.h>

#include "normalize/time_format.h"

namespace mb {

std::string_view to_string(Kind k) {
    switch (k) {
        case Kind::interval:
            return "interval";
        case Kind::instant:
            return "instant";
        case Kind::cumulative:
            return "cumulative";
    }
    return "interval";
}

std::optional<Kind> parse_kind(std::string_view s) {
    if (s == "interval") return Kind::interval;
    if (s == "instant") return Kind::instant;
    if (s == "cumulative") return Kind::cumulative;
    return std::nullopt;
}

std::string_view to_string(RejectCode c) {
    switch (c) {
        case RejectCode::malformed:
            return "malformed";
        case RejectCode::missing_field:
            return "missing_field";
        case RejectCode::wrong_type:
            return "wrong_type";
        case RejectCode::unknown_field:
            return "unknown_field";
        case RejectCode::invalid_value:
            return "invalid_value";
        case RejectCode::out_of_range:
            return "out_of_range";
        case RejectCode::duplicate_timestamp:
            return "duplicate_timestamp";
        case RejectCode::bad_topic:
            return "bad_topic";
        case RejectCode::unauthorized:
            return "unauthorized";
        case RejectCode::oversized:
            return "oversized";
        case RejectCode::unsupported_content_type:
            return "unsupported_content_type";
        case RejectCode::not_regular_file:
            return "not_regular_file";
        case RejectCode::unknown_device:
            return "unknown_device";
        case RejectCode::unit_conflict:
            return "unit_conflict";
        case RejectCode::upstream_error:
            return "upstream_error";
    }
    return "malformed";
}

std::string Reject::reason() const {
    std::string r{to_string(code)};
    if (!detail.empty()) {
        r += ": ";
        r += detail;
    }
    return r;
}

namespace {
constexpr TimeMs kEarliestReading = 631152000000;  // 1990-01-01T00:00:00Z
constexpr TimeMs kDay = 86400000;
// A running total over the current calendar month (Tuya's monthly volume) ends up
// to a month after its report: 31 days, plus the day of clock skew.
constexpr TimeMs kLatestEnd = 32 * kDay;
}  // namespace

std::optional<std::string> implausible_time(TimeMs start, TimeMs end, TimeMs received_at) {
    const char* at = start == end ? "is at" : "starts at";
    if (start < kEarliestReading)
        return fmt::format(
            "{} {}, before 1990: seconds read as milliseconds, or a meter clock never set?", at,
            format_iso_ms(start));
    if (start > received_at + kDay)
        return fmt::format("{} {}, more than a day after it was received ({})", at,
                           format_iso_ms(start), format_iso_ms(received_at));
    if (end > received_at + kLatestEnd)
        return fmt::format(
            "ends at {}, more than 32 days after it was received ({}): no interval runs past "
            "the current month",
            format_iso_ms(end), format_iso_ms(received_at));
    return std::nullopt;
}

std::optional<Reject> check_times(const DecodeResult& result, TimeMs received_at) {
    if (result.reject) return std::nullopt;
    for (std::size_t i = 0; i < result.readings.size(); ++i) {
        const Reading& r = result.readings[i];
        if (auto why = implausible_time(r.ts_start, r.ts_end, received_at))
            return Reject{RejectCode::out_of_range, fmt::format("reading {} ({} of meter {}) {}", i,
                                                                r.quantity, r.meter, *why)};
    }
    for (std::size_t i = 0; i < result.states.size(); ++i) {
        const StateEvent& e = result.states[i];
        if (auto why = implausible_time(e.ts, e.ts, received_at))
            return Reject{
                RejectCode::out_of_range,
                fmt::format("state event {} ({} of meter {}) {}", i, e.key, e.meter, *why)};
    }
    return std::nullopt;
}

}  // namespace mb
