// Fuzzes the akenza decoder: any topic, content type and payload must give a
// value (readings/states or a reject reason), never a crash, hang or sanitizer
// report; an accepted message holds only well-formed readings; no reason and
// no redacted message ever holds the secret.
//
// Input: byte 0 selects the content type (bits 0-2), the decoder (bit 3: the
// second one reads CSV without header, ';'-separated, and accepts device
// credentials) and the topic (bits 4-7: one of 15 fixed topics, or 15 = the
// topic is the next line of the input). The rest is the payload.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "normalize/akenza/akenza_decoder.h"
#include "normalize/quantity.h"

namespace {

constexpr std::string_view kSecret = "s3cr3t-Secret-42";
constexpr mb::TimeMs kMaxTimeMs = 253402300799999;

mb::AkenzaMapping reading(std::string topic, std::string pointer, std::string q, double scale = 1) {
    mb::AkenzaMapping m;
    m.data_topic = std::move(topic);
    m.pointer = std::move(pointer);
    if (auto info = mb::quantity::find(q)) {
        m.unit = info->unit;
        m.kind = info->kind;
    }
    m.quantity = std::move(q);
    m.scale = scale;
    return m;
}

mb::AkenzaMapping timed(mb::AkenzaMapping m, std::string pointer, mb::AkenzaTimeFormat f) {
    m.timestamp = std::move(pointer);
    m.timestamp_format = f;
    return m;
}

mb::AkenzaMapping state(std::string topic, std::string pointer, std::string key) {
    mb::AkenzaMapping m;
    m.data_topic = std::move(topic);
    m.pointer = std::move(pointer);
    m.state_key = std::move(key);
    return m;
}

mb::AkenzaOptions options(bool second) {
    using mb::AkenzaTimeFormat;
    mb::AkenzaOptions o;
    o.secret = kSecret;
    o.accept_device_credentials = second;
    o.csv_header = !second;
    o.csv_delimiter = second ? ';' : ',';
    auto energy = reading("default", "/energy", "electricity.energy.consumption.index", 1000);
    energy.required = !second;
    auto power = reading("timed", "/power", "electricity.power.consumption");
    power.duration_ms = 900000;
    auto day = reading("water", "/day", "water.volume.day");
    day.duration_ms = 86400000;
    day.stamp = mb::AkenzaStamp::start;
    o.mappings = {
        energy,
        reading("default", "/temperature", "register.temperature"),
        state("default", "/door_open", "door_open"),
        reading("default", "/0", "register.c0"),
        reading("default", "/1", "register.c1", -1e300),
        timed(reading("timed", "/energy", "electricity.energy.consumption.index", 1000), "/time",
              AkenzaTimeFormat::iso8601),
        timed(power, "/time", AkenzaTimeFormat::iso8601),
        timed(reading("nested", "/data/0/value", "water.volume.index"), "/data/0/ts",
              AkenzaTimeFormat::unix_s),
        reading("nested", "/meta/a~1b", "register.ab"),
        reading("nested", "/meta/m~0n", "register.mn"),
        timed(reading("ms", "/v", "register.v"), "/t", AkenzaTimeFormat::unix_ms),
        reading("alerts_critical", "/level", "register.alert_level"),
        state("alerts_critical", "/message", "alert_message"),
        reading("plain", "", "register.power"),
        state("plainstate", "", "relay"),
        timed(reading("csv", "/energy", "electricity.energy.consumption.index", 1000), "/time",
              AkenzaTimeFormat::iso8601),
        timed(reading("csv", "/temperature", "register.temperature"), "/ts",
              AkenzaTimeFormat::unix_s),
        state("csv", "/door", "door"),
        state("foo", "/foo", "foo"),
        reading("root", "", "register.x"),
        timed(day, "/date", AkenzaTimeFormat::iso8601),
    };
    return o;
}

const char* const kContentTypes[8] = {"",
                                      "application/json",
                                      "text/plain",
                                      "text/csv",
                                      "application/xml",
                                      "text/csv; charset=utf-8",
                                      "application/json; charset=latin1",
                                      "x/y"};

const char* const kTopics[15] = {
    "/up/s3cr3t-Secret-42/id/dev-1",
    "/up/s3cr3t-Secret-42/id/dev-1/timed",
    "/up/s3cr3t-Secret-42/id/dev-1/nested",
    "/up/s3cr3t-Secret-42/id/dev-1/ms",
    "/up/s3cr3t-Secret-42/id/dev-1/alerts/critical",
    "/up/s3cr3t-Secret-42/id/dev-1/plain",
    "/up/s3cr3t-Secret-42/id/dev-1/plainstate",
    "/up/s3cr3t-Secret-42/id/dev-1/csv",
    "/up/s3cr3t-Secret-42/id/dev-1/root",
    "/up/s3cr3t-Secret-42/id/dev-1/water",
    "/up/device/id/dev-1",
    "/up/s3cr3t-Secret-42/id/dev-1/foo",
    "/up/s3cr3t-Secret-41/id/dev-1",
    "/up/s3cr3t-Secret-42/id/dev-1/nothing",
    "/down/s3cr3t-Secret-42/id/dev-1/x",
};

bool holds_secret(std::string_view s) {
    return s.find(kSecret) != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static mb::AkenzaDecoder first(options(false));
    static mb::AkenzaDecoder second(options(true));
    if (size == 0) return 0;
    const std::uint8_t selector = data[0];
    std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string topic;
    const unsigned topic_index = selector >> 4U;
    if (topic_index < 15) {
        topic = kTopics[topic_index];
    } else {
        const std::size_t nl = rest.find('\n');
        topic = std::string(rest.substr(0, nl));
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
    mb::AkenzaDecoder& decoder = (selector & 8U) != 0 ? second : first;
    mb::RawMessage m{"fuzz", topic, std::string(rest), kContentTypes[selector & 7U], 1709290800000};

    const auto r = decoder.decode(m);
    if (r.reject) {
        if (!r.readings.empty() || !r.states.empty()) std::abort();
        if (r.reject->detail.empty() || holds_secret(r.reject->reason())) std::abort();
    } else {
        if (r.readings.empty() && r.states.empty()) std::abort();
        for (const auto& reading : r.readings) {
            if (!std::isfinite(reading.value) || reading.ts_end < reading.ts_start ||
                reading.ts_start < 0 || reading.ts_end > kMaxTimeMs || reading.meter.empty() ||
                !mb::quantity::is_valid_name(reading.quantity))
                std::abort();
            if (reading.kind != mb::Kind::interval && reading.ts_start != reading.ts_end)
                std::abort();
        }
        for (const auto& s : r.states)
            if (s.meter.empty() || s.key.empty()) std::abort();
    }

    decoder.redact(m);
    if (holds_secret(m.topic) || holds_secret(m.payload)) std::abort();

    const std::string down = mb::akenza_downlink_topic(kSecret, topic, std::string(rest));
    if (!down.empty() && (!down.starts_with("/down/") ||
                          down.find_first_of("+#") != std::string::npos || down.size() > 65535))
        std::abort();
    return 0;
}
