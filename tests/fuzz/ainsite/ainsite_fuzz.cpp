// Fuzzes the Å Insite consumer decoder. Input: the topic, a newline, the
// payload (no newline: a fixed valid topic and the whole input as payload).
// Any input must give a value, never a crash, hang or sanitizer report; an
// accepted message is exactly one well-formed reading.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "normalize/ainsite/ainsite_decoder.h"
#include "normalize/quantity.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Mappings with a power-of-ten scale, another scale and a negative one,
    // so that every scaling path runs.
    static mb::AinsiteDecoder decoder(mb::ainsite::RegisterMap{
        {5, {"register.5", "kWh", std::nullopt, 0.001}},
        {6, {"electricity.energy.consumption", "Wh", mb::Kind::interval, 1000}},
        {7, {"register.seven", "", std::nullopt, 2.5}},
        {8, {"register.8", "W", std::nullopt, -1}},
    });
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto nl = in.find('\n');
    mb::RawMessage m;
    m.source = "fuzz";
    if (nl == std::string_view::npos) {
        m.topic = "meters/outbound/c/s/m";
        m.payload = std::string(in);
    } else {
        m.topic = std::string(in.substr(0, nl));
        m.payload = std::string(in.substr(nl + 1));
    }
    m.received_at = 1;
    const auto r = decoder.decode(m);
    if (r.reject) {
        if (!r.readings.empty() || !r.states.empty() || r.reject->reason().empty()) std::abort();
        return 0;
    }
    if (r.readings.size() != 1 || !r.states.empty()) std::abort();
    const auto& x = r.readings[0];
    if (!std::isfinite(x.value) || x.meter.empty() || !mb::quantity::is_valid_name(x.quantity))
        std::abort();
    if (x.kind == mb::Kind::interval ? x.ts_end <= x.ts_start : x.ts_end != x.ts_start)
        std::abort();
    if (x.ts_start < 0) std::abort();
    if (x.value == 0 && std::signbit(x.value)) std::abort();
    return 0;
}
