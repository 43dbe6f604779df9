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
constexpr TimeMs kFutureSlack = 86400000;
}  // namespace

void check_reading_times(DecodeResult& result, TimeMs received_at) {
    if (result.reject) return;
    for (std::size_t i = 0; i < result.readings.size(); ++i) {
        const Reading& r = result.readings[i];
        std::string why;
        if (r.ts_start < kEarliestReading)
            why = fmt::format(
                "reading {} ({} of meter {}) starts at {}, before 1990: seconds read as "
                "milliseconds, or a meter clock never set?",
                i, r.quantity, r.meter, format_iso_ms(r.ts_start));
        else if (r.ts_end > received_at + kFutureSlack)
            why = fmt::format(
                "reading {} ({} of meter {}) ends at {}, more than a day after it was received "
                "({})",
                i, r.quantity, r.meter, format_iso_ms(r.ts_end), format_iso_ms(received_at));
        if (!why.empty()) {
            result = DecodeResult::rejected(RejectCode::out_of_range, std::move(why));
            return;
        }
    }
}

}  // namespace mb
