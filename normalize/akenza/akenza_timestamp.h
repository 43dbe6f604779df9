// The time of an akenza reading or state, read from the payload field its
// mapping names (AkenzaMapping::timestamp) in one of three formats.
//
// Who calls: the akenza mapping evaluation (AkenzaPlan), on the decoder's
// thread. Pure; a time that cannot be read is a returned Reject naming the
// field, never an exception.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "normalize/akenza/akenza_slot.h"
#include "normalize/model.h"

namespace mb {

enum class AkenzaTimeFormat : std::uint8_t { iso8601, unix_s, unix_ms };

namespace akenza {

// 9999-12-31T23:59:59.999Z: anything later is a broken clock or a unit mix-up.
inline constexpr TimeMs kMaxTimeMs = 253402300799999;

// "iso8601", "unix_s", "unix_ms": the configuration's spelling.
std::string_view format_name(AkenzaTimeFormat f);

// The time `t` (present and not null) gives in `format`, into `out`, or why it
// gives none; `name` is how the detail names the field ("text/csv line 3: /ts").
std::optional<Reject> read_timestamp(const Slot& t, AkenzaTimeFormat format, std::string_view name,
                                     TimeMs& out);

}  // namespace akenza

}  // namespace mb
