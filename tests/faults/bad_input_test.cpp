// Hostile and broken input through a real broker to the real binary: each
// message is rejected with its own specific reason, stored with it, and the
// daemon keeps ingesting. Decoder unit tests cover each rule in detail; this
// proves the whole path on the running daemon.
#include <gtest/gtest.h>
#include <signal.h>

#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "tests/integration/mosquitto_broker.h"
#include "tests/integration/mqtt_publisher.h"
#include "tests/integration/process.h"
#include "tests/integration/view_rows.h"
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

}  // namespace
}  // namespace mb::test
