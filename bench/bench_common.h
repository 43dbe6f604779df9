// Shared by the benchmark executables: the vendor messages they publish or
// insert (the same keys everywhere, so every tool measures the same rows),
// a clock that every process of a run shares (CLOCK_MONOTONIC), and a tiny
// "--key value" command line.
//
// Message i of a scenario is fully determined by (scenario, i, meters,
// base_day): the load generator publishes it, the SQLite ceiling inserts its
// readings directly, and the keys never collide within one run.
#pragma once

#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mb::bench {

inline std::int64_t mono_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// --key value pairs and bare --flags.
class Args {
  public:
    Args(int argc, char** argv) {
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (a.rfind("--", 0) != 0) throw std::runtime_error("unexpected argument " + a);
            a = a.substr(2);
            if (i + 1 < argc && std::string_view(argv[i + 1]).rfind("--", 0) != 0)
                values_[a] = argv[++i];
            else
                values_[a] = "";
        }
    }
    bool has(const std::string& k) const { return values_.count(k) != 0; }
    std::string str(const std::string& k, std::string def = "") const {
        auto it = values_.find(k);
        return it == values_.end() ? def : it->second;
    }
    std::int64_t num(const std::string& k, std::int64_t def) const {
        auto it = values_.find(k);
        return it == values_.end() ? def : std::strtoll(it->second.c_str(), nullptr, 10);
    }

  private:
    std::map<std::string, std::string> values_;
};

// Days since 1970-01-01 → civil date (H. Hinnant's algorithm).
inline void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
}

// "YYYY-MM-DDTHH:MM:SS.000Z" of epoch seconds, as Å Insite writes it.
inline int iso_ms(char* out, std::size_t n, std::int64_t epoch_s) {
    const std::int64_t days = epoch_s / 86400;
    const std::int64_t sod = epoch_s % 86400;
    int y;
    unsigned mo, d;
    civil_from_days(days, y, mo, d);
    return std::snprintf(out, n, "%04d-%02u-%02uT%02d:%02d:%02d.000Z", y, mo, d,
                         static_cast<int>(sod / 3600), static_cast<int>(sod / 60 % 60),
                         static_cast<int>(sod % 60));
}

enum class Kind { ainsite, voltaware };

// Default first day of the generated data: 2023-01-01.
constexpr std::int64_t kDefaultBaseDay = 19358;
constexpr int kVoltawareReadings = 96;  // 15-minute day

// Topics: meterbridge's connectors subscribe to the first set; the null
// subscriber and the Python baseline to the second (same lengths, so the same
// bytes on the wire). The daemon's persistent sessions thus never collect the
// messages of a ceiling run while it is stopped.
struct Topics {
    std::string_view ainsite_customer;
    std::string_view voltaware;
};
constexpr Topics kDaemonTopics{"bench", "voltaware/readings"};
constexpr Topics kOtherTopics{"other", "voltaware/otherone"};

// One generated message: topic, payload, QoS and the number of readings it carries.
struct Message {
    std::string topic;
    std::string payload;
    int qos = 1;
    int readings = 1;
};

// Meter k of the Å Insite scenario.
inline std::string ainsite_meter(std::int64_t k) {
    std::string s = "m";
    s += std::to_string(k);
    return s;
}

// Device k of the Voltaware scenario (UUID-shaped like the vendor's ids).
inline std::string voltaware_device(std::int64_t k) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "6ede44a4-ea21-4c17-b5c4-%012llx",
                  static_cast<unsigned long long>(k));
    return buf;
}

// Å Insite v2 single reading (the vendor document's example shape): meter
// i % meters, the (i / meters)-th minute of base_day.
inline void ainsite_message(std::int64_t i, std::int64_t meters, std::int64_t base_day,
                            const Topics& topics, Message& out) {
    const std::int64_t meter = i % meters;
    const std::int64_t seq = i / meters;
    const std::int64_t start = base_day * 86400 + seq * 60;
    char a[64], b[64];
    iso_ms(a, sizeof a, start);
    iso_ms(b, sizeof b, start + 60);
    out.topic = "meters/outbound/";
    out.topic += topics.ainsite_customer;
    out.topic += "/sub-1/";
    out.topic += ainsite_meter(meter);
    char buf[320];
    const int n = std::snprintf(buf, sizeof buf,
                                "{\n    \"smarteo_payload_schema_version\": 2,\n"
                                "    \"measurement_start_timestamp_utc\": \"%s\",\n"
                                "    \"measurement_end_timestamp_utc\": \"%s\",\n"
                                "    \"register_id\": 12,\n    \"value\": %lld.%03lld\n}\n",
                                a, b, static_cast<long long>(100 + (i % 900)),
                                static_cast<long long>((i * 7) % 1000));
    out.payload.assign(buf, static_cast<std::size_t>(n));
    out.qos = 1;
    out.readings = 1;
}

// Value of reading r (0..95) of a Voltaware message, in Wh (kWh × 1000, exact).
inline std::int64_t voltaware_wh(std::int64_t i, int r) {
    return (i * 131 + r * 137) % 2000;
}

// Voltaware day of 96 quarter-hours: device i % meters, day base_day + i / meters.
inline void voltaware_message(std::int64_t i, std::int64_t meters, std::int64_t base_day,
                              const Topics& topics, Message& out) {
    const std::int64_t device = i % meters;
    const std::int64_t day = base_day + i / meters;
    int y;
    unsigned mo, d;
    civil_from_days(day, y, mo, d);
    std::string p;
    p.reserve(96 * 64 + 200);
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "{\n  \"deviceId\": \"%s\",\n  \"dataFrequencyMins\": 15,\n"
                  "  \"date\": \"%04d-%02u-%02u\",\n  \"electricReadings\": [\n",
                  voltaware_device(device).c_str(), y, mo, d);
    p += buf;
    for (int r = 0; r < kVoltawareReadings; ++r) {
        const std::int64_t wh = voltaware_wh(i, r);
        std::snprintf(buf, sizeof buf,
                      "    {\"timestampUtcEpochSecs\": %lld, \"consumptionKwh\": %lld.%03lld}%s\n",
                      static_cast<long long>(day * 86400 + r * 900),
                      static_cast<long long>(wh / 1000), static_cast<long long>(wh % 1000),
                      r + 1 < kVoltawareReadings ? "," : "");
        p += buf;
    }
    p += "  ]\n}\n";
    out.topic = topics.voltaware;
    out.payload = std::move(p);
    out.qos = 2;
    out.readings = kVoltawareReadings;
}

// The mix: 10 % of the meters are Voltaware devices (one day per message),
// the others Å Insite meters (one minute per message); messages go round-robin
// over the meters.
inline Kind mix_kind(std::int64_t meter) {
    return meter % 10 == 0 ? Kind::voltaware : Kind::ainsite;
}

inline void mix_message(std::int64_t i, std::int64_t meters, std::int64_t base_day,
                        const Topics& topics, Message& out) {
    const std::int64_t meter = i % meters;
    const std::int64_t round = i / meters;
    // Index chosen so that the generators above produce meter `meter` at step `round`.
    if (mix_kind(meter) == Kind::voltaware)
        voltaware_message(round * meters + meter, meters, base_day, topics, out);
    else
        ainsite_message(round * meters + meter, meters, base_day, topics, out);
}

inline void make_message(std::string_view scenario, std::int64_t i, std::int64_t meters,
                         std::int64_t base_day, const Topics& topics, Message& out) {
    if (scenario == "ainsite")
        ainsite_message(i, meters, base_day, topics, out);
    else if (scenario == "voltaware")
        voltaware_message(i, meters, base_day, topics, out);
    else if (scenario == "mix")
        mix_message(i, meters, base_day, topics, out);
    else
        throw std::runtime_error("unknown scenario " + std::string(scenario) +
                                 " (ainsite | voltaware | mix)");
}

}  // namespace mb::bench
