// Fuzzes the quoalise decoder (Enedis DataConnect responses). Input: a topic
// line and the XML when the input starts with "get_" (the topic is everything
// up to the first newline), else the whole input is the XML of an answer to the
// document's get_load_curve example. Every input is decoded with each stamping
// convention, through QuoaliseDecoder and through decode_quoalise_detailed,
// which must agree. Any input must give a value, never a crash, hang or
// sanitizer report. A rejection carries no readings and a one-line, valid UTF-8
// reason; an accepted response is one series of the requested usage point and
// quantity, time-ordered, non-overlapping intervals of one sampling step (load
// curve) or of one French day (daily) within the requested days, with finite
// values of at most 1e15.
#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "normalize/enedis/quoalise_decoder.h"

namespace {

constexpr std::string_view kDefaultTopic =
    "get_load_curve 10284856584123 production 2020-09-14 2020-09-15";
constexpr mb::TimeMs kHour = 3600000;
constexpr mb::TimeMs kDay = 86400000;

mb::TimeMs utc_midnight(date::year_month_day d) {
    return static_cast<mb::TimeMs>(date::sys_days{d}.time_since_epoch().count()) * kDay;
}

void check_rejected(const mb::DecodeResult& r) {
    if (!r.readings.empty() || !r.states.empty()) std::abort();
    const std::string reason = r.reject->reason();
    if (r.reject->detail.empty() || !simdjson::validate_utf8(reason.data(), reason.size()))
        std::abort();
    for (const char c : reason)
        if (static_cast<unsigned char>(c) < 0x20) std::abort();
}

void check_accepted(const mb::QuoaliseDecoding& d, const mb::QuoaliseRequest& req,
                    mb::StampConvention conv) {
    const auto& r = d.result;
    if (!r.states.empty()) std::abort();
    const bool daily = req.command == mb::QuoaliseCommand::daily;
    if (daily != !d.stamping.has_value()) std::abort();
    if (!daily && conv != mb::StampConvention::auto_detect && d.stamping != conv) std::abort();
    if (d.stamping == mb::StampConvention::auto_detect) std::abort();
    const std::string quantity =
        std::string(daily ? "electricity.energy." : "electricity.power.") + req.direction;
    // Paris midnight is 1 or 2 hours before UTC midnight: both windows lie in this span.
    const mb::TimeMs lo = utc_midnight(req.start_date) - 2 * kHour;
    const mb::TimeMs hi = utc_midnight(req.end_date);
    for (std::size_t i = 0; i < r.readings.size(); ++i) {
        const mb::Reading& x = r.readings[i];
        if (x.meter != req.usage_point || x.quantity != quantity ||
            x.unit != (daily ? "Wh" : "W") || x.kind != mb::Kind::interval)
            std::abort();
        if (!std::isfinite(x.value) || std::fabs(x.value) > 1e15) std::abort();
        if (x.value == 0 && std::signbit(x.value)) std::abort();
        if (x.ts_start < lo || x.ts_end > hi || x.ts_end <= x.ts_start) std::abort();
        const mb::TimeMs len = x.ts_end - x.ts_start;
        if (daily) {
            if (len != 23 * kHour && len != 24 * kHour && len != 25 * kHour) std::abort();
            const mb::TimeMs time_of_day = ((x.ts_start % kDay) + kDay) % kDay;
            if (time_of_day != 22 * kHour && time_of_day != 23 * kHour) std::abort();
        } else {
            if (len < 60000 || len > kHour || kHour % len != 0) std::abort();
            if (len != r.readings[0].ts_end - r.readings[0].ts_start) std::abort();
            if (x.ts_start % len != 0) std::abort();
        }
        if (i > 0 && r.readings[i - 1].ts_end > x.ts_start) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static mb::QuoaliseDecoder decoders[] = {
        mb::QuoaliseDecoder(mb::StampConvention::start),
        mb::QuoaliseDecoder(mb::StampConvention::end),
        mb::QuoaliseDecoder(mb::StampConvention::auto_detect),
    };
    static constexpr mb::StampConvention kConventions[] = {
        mb::StampConvention::start, mb::StampConvention::end, mb::StampConvention::auto_detect};

    const std::string_view in(reinterpret_cast<const char*>(data), size);
    std::string_view topic = kDefaultTopic;
    std::string_view payload = in;
    if (in.starts_with("get_")) {
        const auto nl = in.find('\n');
        topic = in.substr(0, nl);
        payload = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
    }
    const auto req = mb::parse_quoalise_request_topic(topic);
    if (req && mb::quoalise_request_topic(*req) != topic) std::abort();

    const mb::RawMessage m{"fuzz", std::string(topic), std::string(payload), {}, 0};
    for (std::size_t k = 0; k < 3; ++k) {
        const auto r = decoders[k].decode(m);
        if (!req) {
            if (!r.reject || r.reject->code != mb::RejectCode::bad_topic) std::abort();
            check_rejected(r);
            continue;
        }
        const auto d = mb::decode_quoalise_detailed(payload, *req, kConventions[k]);
        if (d.result.reject != r.reject || d.result.readings != r.readings) std::abort();
        if (r.reject) {
            if (d.stamping) std::abort();
            check_rejected(r);
        } else {
            check_accepted(d, *req, kConventions[k]);
        }
    }
    return 0;
}
