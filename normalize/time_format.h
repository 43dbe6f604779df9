// UTC timestamp text <-> milliseconds, shared by decoders, the store's CLI
// output and tests. Pure functions; callable from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "normalize/model.h"

namespace mb {

// "2022-03-01T00:00:00.000Z" — always milliseconds and 'Z' (the views' format).
std::string format_iso_ms(TimeMs t);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)" and "YYYY-MM-DD" (midnight UTC).
// Fractions beyond milliseconds are truncated. Returns nullopt on anything else.
std::optional<TimeMs> parse_iso8601(std::string_view s);

// An ISO-8601 duration of a positive span: "PT15M", "P1D", "PT1M30S",
// "PT0.5S"; "" for zero or less (not known).
std::string format_iso_duration(std::int64_t ms);

}  // namespace mb
