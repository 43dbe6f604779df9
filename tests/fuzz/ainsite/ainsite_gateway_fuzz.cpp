// Fuzzes the Å Insite gateway decoder. Input: the topic, a newline, the
// payload (no newline: a fixed valid topic and the whole input as payload).
// Any input must give a value, never a crash, hang or sanitizer report; an
// accepted message is exactly one reading at the time of receipt.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "normalize/ainsite/ainsite_gateway_decoder.h"
#include "normalize/quantity.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static mb::AinsiteGatewayDecoder decoder([] {
        mb::AinsiteGatewaySettings s;
        s.meter_id = mb::GatewayMeterId::gateway;
        s.registers = {
            {10, {"water.volume.index", "m3", mb::Kind::cumulative, 0.001}},
            {11, {"register.11", "degC", mb::Kind::instant, 0.1}},
            {12, {"register.12", "", std::nullopt, 3}},
        };
        return s;
    }());
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto nl = in.find('\n');
    mb::RawMessage m;
    m.source = "fuzz";
    if (nl == std::string_view::npos) {
        m.topic = "gateways/generic/1/p/Electrical/m/2";
        m.payload = std::string(in);
    } else {
        m.topic = std::string(in.substr(0, nl));
        m.payload = std::string(in.substr(nl + 1));
    }
    m.received_at = 1672576496789;
    const auto r = decoder.decode(m);
    if (r.reject) {
        if (!r.readings.empty() || !r.states.empty() || r.reject->reason().empty()) std::abort();
        return 0;
    }
    if (r.readings.size() != 1 || !r.states.empty()) std::abort();
    const auto& x = r.readings[0];
    if (!std::isfinite(x.value) || x.meter.empty() || !mb::quantity::is_valid_name(x.quantity))
        std::abort();
    if (x.ts_start != m.received_at || x.ts_end != m.received_at || x.kind == mb::Kind::interval)
        std::abort();
    if (x.value == 0 && std::signbit(x.value)) std::abort();
    return 0;
}
