#include "normalize/akenza/akenza_timestamp.h"

#include <fmt/format.h>

#include <array>
#include <cmath>

#include "normalize/time_format.h"

namespace mb::akenza {

namespace {

// By AkenzaTimeFormat.
constexpr std::array<std::string_view, 3> kFormatNames{"iso8601", "unix_s", "unix_ms"};

Reject rejected(RejectCode code, std::string detail) {
    return Reject{code, std::move(detail)};
}

}  // namespace

std::string_view format_name(AkenzaTimeFormat f) {
    const auto i = static_cast<std::size_t>(f);
    return i < kFormatNames.size() ? kFormatNames[i] : "?";
}

std::optional<Reject> read_timestamp(const Slot& t, AkenzaTimeFormat format, std::string_view name,
                                     TimeMs& out) {
    TimeMs ts = 0;
    if (format == AkenzaTimeFormat::iso8601) {
        if (t.type != Slot::Type::string)
            return rejected(RejectCode::wrong_type,
                            fmt::format("{} must be ISO-8601 text (timestamp_format = "
                                        "\"iso8601\"), got {}",
                                        name, type_name(t.type)));
        const auto parsed = parse_iso8601(t.text);
        if (!parsed)
            return rejected(RejectCode::invalid_value,
                            fmt::format("{} '{}' is not an ISO-8601 timestamp with a zone", name,
                                        shorten(t.text)));
        ts = *parsed;
    } else {
        const std::string_view fname = format_name(format);
        if (t.type != Slot::Type::number)
            return rejected(RejectCode::wrong_type,
                            fmt::format("{} must be a number (timestamp_format = \"{}\"), "
                                        "got {}",
                                        name, fname, type_name(t.type)));
        const bool seconds = format == AkenzaTimeFormat::unix_s;
        const double limit = static_cast<double>(seconds ? kMaxTimeMs / 1000 : kMaxTimeMs);
        if (!seconds && !t.integral)
            return rejected(RejectCode::wrong_type,
                            fmt::format("{} must be an integer number of milliseconds "
                                        "(timestamp_format = \"unix_ms\"), got {}",
                                        name, shorten(t.text)));
        if (!t.representable || t.number < 0 || t.number > limit)
            return rejected(RejectCode::out_of_range,
                            fmt::format("{} {} is outside 1970-01-01 .. 9999-12-31 "
                                        "(timestamp_format = \"{}\")",
                                        name, shorten(t.text), fname));
        if (t.integral)
            ts = seconds ? t.integer * 1000 : t.integer;
        else
            ts = static_cast<TimeMs>(std::llround(t.number * 1000.0));
    }
    if (ts < 0 || ts > kMaxTimeMs)
        return rejected(
            RejectCode::out_of_range,
            fmt::format("{} {} is outside 1970-01-01 .. 9999-12-31", name, shorten(t.text)));
    out = ts;
    return std::nullopt;
}

}  // namespace mb::akenza
