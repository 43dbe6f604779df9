// Fuzzes the Voltaware decoder: any payload must give a value (readings or a
// reject reason), never a crash, hang or sanitizer report. An accepted message
// is always one whole UTC day of contiguous, time-ordered intervals of one
// meter with finite, non-negative Wh; a rejection carries no readings and a
// one-line, valid UTF-8 reason. Decoding the same payload twice with the same
// (reused) decoder gives the same result.
#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "normalize/voltaware/voltaware_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static mb::VoltawareDecoder decoder;
    const mb::RawMessage m{"fuzz",
                           "voltaware/readings",
                           std::string(reinterpret_cast<const char*>(data), size),
                           {},
                           0};
    const auto r = decoder.decode(m);
    const auto again = decoder.decode(m);
    if (r.reject != again.reject || r.readings != again.readings) std::abort();
    if (r.reject) {
        if (!r.readings.empty() || !r.states.empty()) std::abort();
        const std::string reason = r.reject->reason();
        if (r.reject->detail.empty() || !simdjson::validate_utf8(reason.data(), reason.size()))
            std::abort();
        for (const char c : reason)
            if (static_cast<unsigned char>(c) < 0x20) std::abort();
        return 0;
    }
    const std::size_t n = r.readings.size();
    if (n != 24 && n != 48 && n != 96) std::abort();
    if (!r.states.empty()) std::abort();
    const mb::TimeMs step = 86400000 / static_cast<mb::TimeMs>(n);
    const mb::TimeMs day = r.readings[0].ts_start;
    if (day < 0 || day % 86400000 != 0) std::abort();
    for (std::size_t i = 0; i < n; ++i) {
        const auto& x = r.readings[i];
        if (x.meter.empty() || x.meter != r.readings[0].meter) std::abort();
        if (x.quantity != "electricity.energy.consumption" || x.unit != "Wh" ||
            x.kind != mb::Kind::interval)
            std::abort();
        if (x.ts_start != day + static_cast<mb::TimeMs>(i) * step || x.ts_end != x.ts_start + step)
            std::abort();
        if (!std::isfinite(x.value) || x.value < 0 || std::signbit(x.value)) std::abort();
    }
    return 0;
}
