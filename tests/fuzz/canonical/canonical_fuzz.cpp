// Fuzzes the canonical JSON decoder: any payload must give a value (readings
// or a reject reason), never a crash, hang or sanitizer report; and a result
// is either a rejection or only well-formed readings.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "normalize/canonical/canonical_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static mb::CanonicalDecoder decoder;
    mb::RawMessage m{
        "fuzz", "fuzz.jsonl:1", std::string(reinterpret_cast<const char*>(data), size), {}, 0};
    const auto r = decoder.decode(m);
    if (r.reject) {
        if (!r.readings.empty() || !r.states.empty()) std::abort();
        if (r.reject->reason().empty()) std::abort();
        return 0;
    }
    for (const auto& reading : r.readings) {
        if (!std::isfinite(reading.value) || reading.ts_end < reading.ts_start ||
            reading.meter.empty())
            std::abort();
    }
    return 0;
}
