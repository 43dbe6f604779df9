// Hostile and broken input through a real broker to the real binary: each
// message is rejected with its own specific reason, stored with it, and the
// daemon keeps ingesting. Decoder unit tests cover each rule in detail; this
// proves the whole path on the running daemon.
#include <gtest/gtest.h>
#include <signal.h>

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "tests/support/mosquitto_broker.h"
#include "tests/support/mqtt_publisher.h"
#include "tests/support/process.h"
#include "tests/support/view_rows.h"
#include "tests/support/eventually.h"
#include "tests/support/fixture.h"
#include "tests/support/temp_dir.h"

namespace mb::test {
namespace {

using namespace std::chrono_literals;

struct BadInput {
    const char* what;
    std::string topic, payload;
    const char* reason;  // a specific part of the stored reason
};

std::string canonical(const std::string& value, const std::string& ts_start,
                      const std::string& ts_end) {
    return fmt::format(
        R"({{"meter":"m1","quantity":"electricity.energy.consumption","value":{},"ts_start":{},"ts_end":{}}})",
        value, ts_start, ts_end);
}

TEST(BadInput, EachIsRejectedWithItsReasonAndTheDaemonKeepsIngesting) {
    TempDir dir;
    MosquittoBroker broker(dir / "broker");
    const auto db = dir / "mb.db";
    write_file(dir / "mb.toml", fmt::format(R"([storage]
path = "{}"

[brokers.local]
host = "127.0.0.1"
port = {}

[[connectors]]
name = "feed"
type = "canonical"
broker = "local"
topics = ["meters/+/readings"]
max_payload = "64KiB"

[[connectors]]
name = "ainsite"
type = "ainsite"
broker = "local"
topics = ["meters/outbound/cust-42/#"]
)",
                                            db.string(), broker.port()));
    Process d({MB_BINARY, "run", "-c", (dir / "mb.toml").string()}, dir.path());
    ASSERT_TRUE(eventually(
        [&] {
            const auto log = d.stderr_text();
            const auto first = log.find("subscribed to");
            return first != std::string::npos &&
                   log.find("subscribed to", first + 1) != std::string::npos;
        },
        10s))
        << d.stderr_text();

    std::string nested(20000, '[');
    nested += std::string(20000, ']');
    const std::vector<BadInput> inputs = {
        {"oversized", "meters/a/readings", std::string(70000, ' ') + canonical("1", "0", "900000"),
         "oversized"},
        {"deeply nested JSON", "meters/a/readings", nested, "must be an object"},
        {"invalid UTF-8", "meters/a/readings",
         R"({"meter":"m)" + std::string("\xff\xfe") +
             R"(","quantity":"electricity.energy.consumption","value":1,"ts_start":0,"ts_end":900000})",
         "not valid UTF-8"},
        {"huge number", "meters/a/readings", canonical("1e400", "1646092800000", "1646093700000"),
         "value"},
        {"NaN", "meters/a/readings", canonical("NaN", "1646092800000", "1646093700000"), "JSON"},
        {"Infinity", "meters/a/readings", canonical("Infinity", "1646092800000", "1646093700000"),
         "JSON"},
        {"negative timestamp", "meters/a/readings", canonical("1", "-900000", "0"), "before 1990"},
        {"far-future timestamp", "meters/a/readings",
         canonical("1", "99999999999999", "100000000900000"), "more than a day after"},
        {"not JSON at all", "meters/a/readings",
         R"(<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>)",
         "JSON"},
        {"wrong topic shape", "meters/outbound/cust-42/sub-1/m1/extra", R"({"value":1})",
         "bad_topic"},
    };
    {
        MqttPublisher pub(broker.port());
        for (const auto& in : inputs) pub.publish(in.topic, in.payload, 1);
        pub.publish("meters/a/readings", canonical("42.5", "1646092800000", "1646093700000"), 1);
        ASSERT_TRUE(pub.wait_all_acked(20s));
    }
    ASSERT_TRUE(eventually(
        [&] {
            return scalar(db, "SELECT count(*) FROM rejected_v") ==
                       static_cast<std::int64_t>(inputs.size()) &&
                   scalar(db, "SELECT count(*) FROM readings") == 1;
        },
        20s))
        << scalar(db, "SELECT count(*) FROM rejected_v") << "\n"
        << d.stderr_text();
    const auto reasons = rows(db, "SELECT topic, reason FROM rejected_v ORDER BY received_at");
    ASSERT_EQ(reasons.size(), inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        EXPECT_NE(reasons[i].find(inputs[i].reason), std::string::npos)
            << inputs[i].what << ": " << reasons[i];
        std::cout << inputs[i].what << " → " << reasons[i] << "\n";
    }
    // Distinct inputs get distinct explanations.
    EXPECT_EQ(scalar(db, "SELECT count(DISTINCT reason) FROM rejected_v"),
              static_cast<std::int64_t>(inputs.size()) - 1);  // NaN and Infinity share one
    EXPECT_EQ(rows(db, "SELECT value FROM readings_v"), std::vector<std::string>{"42.5"});
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait(20s), 0) << d.stderr_text();
}

// The daemon's peak resident memory so far, in KiB (/proc/PID/status).
std::int64_t vm_hwm_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(std::strlen("VmHWM:")));
    return -1;
}

// One publish of 32 MiB on a connector whose max_payload is 256 KiB, at the
// protocol of the test's parameter. The daemon keeps at most
// max_stored_payload bytes of it: with MQTT 3.1.1 libmosquitto still reads
// the whole packet (and copies its payload once), so the peak grows by about
// twice the payload, and a third copy of the daemon's own would show; with
// MQTT 5 the Maximum Packet Size announced in CONNECT keeps the broker from
// sending it at all (mosquitto drops it for this client and logs it).
class OversizedPublish : public ::testing::TestWithParam<int> {};

TEST_P(OversizedPublish, CostsAtMostTheLibrarysCopiesAndIsStoredCapped) {
    const int protocol = GetParam();
    constexpr std::size_t kPayload = std::size_t{32} << 20;
    TempDir dir;
    MosquittoBroker broker(dir / "broker");
    const auto db = dir / "mb.db";
    write_file(dir / "mb.toml",
               fmt::format(R"([storage]
path = "{}"
max_stored_payload = "16KiB"

[brokers.local]
host = "127.0.0.1"
port = {}
protocol = "{}"

[[connectors]]
name = "feed"
type = "canonical"
broker = "local"
topics = ["meters/+/readings"]
max_payload = "256KiB"
)",
                           db.string(), broker.port(), protocol == 5 ? "5" : "3.1.1"));
    Process d({MB_BINARY, "run", "-c", (dir / "mb.toml").string()}, dir.path());
    ASSERT_TRUE(d.wait_for_log("subscribed to", 10s)) << d.stderr_text();
    const std::int64_t before = vm_hwm_kib(d.pid());
    {
        MqttPublisher pub(broker.port(), "pub-big", protocol);
        pub.publish("meters/a/readings", std::string(kPayload, 'x'), 1);
        pub.publish("meters/a/readings", canonical("42.5", "1646092800000", "1646093700000"), 1);
        ASSERT_TRUE(pub.wait_all_acked(60s));
    }
    ASSERT_TRUE(eventually([&] { return scalar(db, "SELECT count(*) FROM readings") == 1; }, 60s))
        << d.stderr_text();
    const std::int64_t growth_kib = vm_hwm_kib(d.pid()) - before;
    RecordProperty("peak_growth_kib", std::to_string(growth_kib));
    std::cout << "MQTT " << (protocol == 5 ? "5" : "3.1.1") << ": peak RSS grew by "
              << growth_kib / 1024 << " MiB for a " << (kPayload >> 20) << " MiB publish\n";
    const auto rejected = rows(db, "SELECT reason, length(payload) FROM rejected_v");
    const auto sizes = rows(db, "SELECT payload_size FROM messages WHERE reason IS NOT NULL");
    if (protocol == 5) {
        EXPECT_TRUE(rejected.empty()) << rejected.front();
        EXPECT_NE(broker.log().find("Dropping too large outgoing PUBLISH"), std::string::npos)
            << broker.log();
        // Sanitizers' shadow memory and quarantine make RSS meaningless there.
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
        EXPECT_LT(growth_kib, 8 * 1024) << "KiB";
#endif
    } else {
        ASSERT_EQ(rejected.size(), 1u);
        EXPECT_EQ(
            rejected[0],
            fmt::format("oversized: {} bytes, the limit (max_payload) is 262144|16384", kPayload));
        EXPECT_EQ(sizes, std::vector<std::string>{std::to_string(kPayload)});
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
        EXPECT_LT(growth_kib, static_cast<std::int64_t>(kPayload / 1024 * 5 / 2)) << "KiB";
#endif
    }
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait(20s), 0) << d.stderr_text();
}

std::string protocol_name(const ::testing::TestParamInfo<int>& p) {
    return p.param == 5 ? "v5" : "v311";
}
INSTANTIATE_TEST_SUITE_P(Mqtt, OversizedPublish, ::testing::Values(4, 5), protocol_name);

}  // namespace
}  // namespace mb::test
