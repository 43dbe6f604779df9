// Fuzzes the Tuya protocol layer: the first byte picks the entry point (the
// four uplink parsers, the topic parser, the command-value validator, the
// pairing-state parser), the rest is the input. Any input must give a value,
// never a crash, hang or sanitizer report. An error carries a code of the
// document's table and a one-line, valid UTF-8 detail; an answerable error's
// response and every accepted report's canonical output are well-formed (the
// response is valid JSON, readings finite and non-negative, the new pairing
// state round-trips through its text form). Parsing twice gives the same result.
#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "normalize/tuya/tuya_canonical.h"
#include "normalize/tuya/tuya_decoder.h"

namespace {

void check_line(std::string_view s) {
    if (!simdjson::validate_utf8(s.data(), s.size())) std::abort();
    for (const char c : s)
        if (static_cast<unsigned char>(c) < 0x20) std::abort();
}

void check_json(const std::string& s) {
    static simdjson::dom::parser p;
    simdjson::dom::element e;
    if (p.parse(s).get(e)) std::abort();
}

template <class R>
void check_error(const R& r) {
    if (r.ok() == r.error.has_value()) std::abort();
    if (!r.error) return;
    const mb::TuyaError& e = *r.error;
    if (e.msg().empty() || e.detail.empty()) std::abort();
    check_line(e.detail);
    check_line(mb::tuya_reject(e).reason());
    if (e.answerable()) check_json(mb::tuya_error_response(1627280000, e));
}

void check_report(const mb::TuyaPropertyReport& r) {
    static mb::TuyaPairing state;  // carried across inputs, like the connector does
    const auto c = mb::dp_report_to_canonical(r, state);
    for (const auto& x : c.readings) {
        if (x.meter != r.cid || x.unit != "m3") std::abort();
        if (!std::isfinite(x.value) || x.value < 0) std::abort();
        if (x.ts_end < x.ts_start) std::abort();
    }
    if (c.readings.size() + c.states.size() > 1) std::abort();
    const auto back = mb::tuya_pairing_from_string(mb::tuya_pairing_to_string(c.pairing));
    if (!back || *back != c.pairing) std::abort();
    state = c.pairing;
    check_json(mb::tuya_success(1627280000, r.request_id, r.cid));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static mb::TuyaParser parser;
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 7) {
        case 0: {
            const auto r = parser.device_sync(in);
            check_error(r);
            if (r.ok() && (r.value->cid.empty() || r.value->product_id.empty())) std::abort();
            break;
        }
        case 1: {
            const auto r = parser.property_report(in);
            check_error(r);
            const auto again = parser.property_report(in);
            if (r.value != again.value || r.error != again.error) std::abort();
            if (r.ok()) check_report(*r.value);
            break;
        }
        case 2: {
            const auto r = parser.devices_status(in);
            check_error(r);
            if (r.ok() && r.value->devices.empty()) std::abort();
            break;
        }
        case 3: {
            const auto r = parser.command_response(in);
            check_error(r);
            break;
        }
        case 4: {
            static const std::string gws[] = {"gw-1", "{gateway_id}"};
            const auto r = mb::tuya_parse_topic(in, gws);
            if (r.topic.has_value() == r.reject.has_value()) std::abort();
            if (r.topic && mb::tuya_topic(r.topic->gateway, r.topic->kind) != in) std::abort();
            if (r.reject) check_line(r.reject->reason());
            break;
        }
        case 5: {
            const auto nl = in.find('\n');
            if (nl == std::string_view::npos) break;
            const auto r = mb::tuya_command_value(in.substr(0, nl), in.substr(nl + 1));
            check_error(r);
            if (r.ok()) {
                const auto* dp = mb::tuya_find_dp(in.substr(0, nl));
                if (!dp || !dp->writable) std::abort();
                check_json(mb::tuya_command(1, "c", "r", dp->id, *r.value));
            }
            break;
        }
        default: {
            const auto p = mb::tuya_pairing_from_string(in);
            if (p && mb::tuya_pairing_to_string(*p) != in) std::abort();
            break;
        }
    }
    return 0;
}
