// Gateways that invent device ids, through a real broker into the real
// binary: status messages listing thousands of cids nobody synced, syncs far
// past max_devices, reports for unknown cids. Whatever the ids, the registry,
// the state rows, the log and the daemon's memory stay bounded, every refused
// message is stored with its reason, and a real device goes on being served.
#include <gtest/gtest.h>
#include <signal.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "tests/support/mosquitto_broker.h"
#include "tests/support/mqtt_publisher.h"
#include "tests/support/process.h"
#include "tests/support/tuya_gateway.h"
#include "tests/support/view_rows.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace mb::test {
namespace {

using namespace std::chrono_literals;

constexpr int kMaxDevices = 50;

// The daemon's resident memory, in KiB (/proc/PID/status).
std::int64_t proc_status_kib(pid_t pid, const char* field) {
    std::ifstream in(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field, 0) == 0) return std::stoll(line.substr(std::strlen(field) + 1));
    return -1;
}

std::size_t lines_with(const std::string& text, const std::string& needle) {
    std::istringstream in(text);
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);)
        if (line.find(needle) != std::string::npos) ++n;
    return n;
}

TEST(TuyaFaults, InventedCidsLeaveRegistryStatesLogAndMemoryBounded) {
    TempDir dir;
    MosquittoBroker broker(dir / "broker");
    const auto db = dir / "mb.db";
    write_file(dir / "mb.toml", fmt::format(R"([storage]
path = "{}"
synchronous = "normal"

[brokers.local]
host = "127.0.0.1"
port = {}

[[connectors]]
name = "tuya"
type = "tuya"
broker = "local"
gateways = ["gw-1", "gw-2"]
stale_after = "2s"
max_devices = {}
)",
                                            db.string(), broker.port(), kMaxDevices));
    Process daemon({MB_BINARY, "run", "-c", (dir / "mb.toml").string()}, dir.path());
    ASSERT_TRUE(daemon.wait_for_log("subscribed to", 10s)) << daemon.stderr_text();

    // A real device on gw-1, served before, during and after the flood.
    TuyaGateway gw(broker.port(), "gw-1");
    const auto report = [&](const std::string& rid, int value, std::int64_t t) {
        gw.publish("properties/report",
                   fmt::format(R"({{"t":{},"request_id":"{}","param":{{"cid":"real","id":"1",)"
                               R"("value":{}}}}})",
                               t, rid, value));
        // The flood's answers arrive on the same topic: look for this one's.
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto r = gw.next("properties/report/response", 1s);
            if (r && r->payload.find(fmt::format(R"("request_id":"{}")", rid)) != std::string::npos)
                return r->payload.find(R"("code":0})") != std::string::npos;
        }
        return false;
    };
    gw.publish("devices/sync",
               R"({"t":1646092800,"request_id":"s-real","param":{"cid":"real","product_id":"p"}})");
    ASSERT_TRUE(gw.next("devices/sync/response", 10s).has_value());
    ASSERT_TRUE(report("real-0", 100, 1646092800));
    const std::int64_t rss_before = proc_status_kib(daemon.pid(), "VmRSS:");

    // The flood: 40 status messages of 5,000 invented cids each (20 per gateway),
    // 1,000 syncs of invented cids per gateway, 1,000 reports of unknown cids.
    constexpr int kStatus = 40, kPerStatus = 5000, kSyncs = 1000, kReports = 1000;
    std::int64_t peak_rss = rss_before;
    {
        MqttPublisher pub(broker.port(), "flood");
        for (int m = 0; m < kStatus; ++m) {
            std::string st = R"({"t":1646092800,"request_id":"st","param":[)";
            for (int i = 0; i < kPerStatus; ++i)
                st += fmt::format(R"({}{{"cid":"fake-{}-{}","status":true}})", i ? "," : "", m, i);
            st += "]}";
            pub.publish(fmt::format("gateway_id/gw-{}/devices/status", 1 + m % 2), st, 1);
        }
        for (int g = 1; g <= 2; ++g)
            for (int i = 0; i < kSyncs; ++i)
                pub.publish(fmt::format("gateway_id/gw-{}/devices/sync", g),
                            fmt::format(R"({{"t":1646092800,"request_id":"s-{}-{}","param":)"
                                        R"({{"cid":"inv-{}-{}","product_id":"p"}}}})",
                                        g, i, g, i),
                            1);
        for (int i = 0; i < kReports; ++i)
            pub.publish("gateway_id/gw-1/properties/report",
                        fmt::format(R"({{"t":1646092800,"request_id":"r-{}","param":)"
                                    R"({{"cid":"nope-{}","id":"1","value":1}}}})",
                                    i, i),
                        1);
        ASSERT_TRUE(pub.wait_all_acked(60s));
    }
    // Every refused message is stored with its reason: each status (no synced cid
    // in it), the syncs past max_devices, the reports.
    const std::int64_t refused =
        kStatus + (kSyncs - (kMaxDevices - 1)) + (kSyncs - kMaxDevices) + kReports;
    ASSERT_TRUE(eventually(
        [&] {
            peak_rss = std::max(peak_rss, proc_status_kib(daemon.pid(), "VmRSS:"));
            return scalar(db, "SELECT count(*) FROM rejected_v") >= refused;
        },
        120s))
        << scalar(db, "SELECT count(*) FROM rejected_v") << "\n"
        << daemon.stderr_text();
    // The registered devices fall silent: they go stale, in one line per check.
    ASSERT_TRUE(eventually(
        [&] {
            peak_rss = std::max(peak_rss, proc_status_kib(daemon.pid(), "VmRSS:"));
            return scalar(db, "SELECT count(*) FROM states_v WHERE key = 'stale'") >=
                   2 * kMaxDevices;
        },
        30s))
        << daemon.stderr_text();
    // The real device still gets through, and is back from stale.
    ASSERT_TRUE(report("real-1", 200, 1646092900));

    EXPECT_EQ(scalar(db, "SELECT count(*) FROM rejected_v"), refused);
    EXPECT_EQ(scalar(db,
                     "SELECT count(*) FROM rejected_v WHERE reason LIKE "
                     "'unknown_device: devices/status: none of the 5000 cid(s)%'"),
              kStatus);
    EXPECT_EQ(scalar(db,
                     "SELECT count(*) FROM rejected_v WHERE reason LIKE "
                     "'out_of_range: 400 %max_devices is 50%'"),
              2 * kSyncs - 2 * kMaxDevices + 1);
    EXPECT_EQ(rows(db, "SELECT gateway, count(*) FROM devices GROUP BY gateway ORDER BY gateway"),
              (std::vector<std::string>{fmt::format("gw-1|{}", kMaxDevices),
                                        fmt::format("gw-2|{}", kMaxDevices)}));
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM states_v WHERE meter LIKE 'fake-%'"), 0);
    // One `stale` state per registered device, one `false` for the real one.
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM states_v"), 2 * kMaxDevices + 1);
    EXPECT_EQ(rows(db, "SELECT value FROM readings_v WHERE meter = 'real' ORDER BY ts_start"),
              (std::vector<std::string>{"100.0", "200.0"}));

    const std::int64_t hwm = proc_status_kib(daemon.pid(), "VmHWM:");
    daemon.signal(SIGTERM);
    ASSERT_EQ(daemon.wait(30s), 0) << daemon.stderr_text();
    const std::string log = daemon.stderr_text();
    // Stale devices: one line per check (once a second), not one per device (100 went stale).
    EXPECT_LE(lines_with(log, "stale"), 10u) << log;
    EXPECT_GE(lines_with(log, "device(s) stale"), 1u) << log;
    // The refused syncs: one note a minute at most, and the rest at stop; the
    // invented status cids: only as the example of the bounded reject log
    // (the first rejection, then one count a minute and one at stop).
    EXPECT_GE(lines_with(log, "syncs refused (max_devices reached)"), 1u) << log;
    EXPECT_LE(lines_with(log, "syncs refused (max_devices reached)"), 3u) << log;
    EXPECT_LE(lines_with(log, "fake-"), 3u) << log;
    EXPECT_EQ(lines_with(log, "fake-"), lines_with(log, "(unknown_device)")) << log;
    // Bounded by max_devices: the info line of each device synced, and a few others.
    EXPECT_LE(std::count(log.begin(), log.end(), '\n'), 2 * kMaxDevices + 30) << log;

    RecordProperty("rss_before_kib", std::to_string(rss_before));
    RecordProperty("peak_rss_kib", std::to_string(peak_rss));
    RecordProperty("vmhwm_kib", std::to_string(hwm));
    std::cout << "RSS before the flood " << rss_before << " KiB, peak " << peak_rss << " KiB\n";
    // Sanitizers' shadow memory and quarantine make RSS meaningless there.
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    EXPECT_LT(peak_rss - rss_before, 16 * 1024) << "KiB grown by the flood";
#endif
}

}  // namespace
}  // namespace mb::test
