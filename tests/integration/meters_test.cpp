// `meterbridge meters` and `gaps` against what the real daemon stored from a
// real broker: a Voltaware meter with a missing day, and an Å Insite meter
// that falls silent while another keeps reporting.
#include <gtest/gtest.h>
#include <signal.h>

#include <fmt/format.h>
#include <simdjson.h>

#include <set>
#include <thread>

#include "tests/support/eventually.h"
#include "tests/support/http_client.h"
#include "tests/support/mosquitto_broker.h"
#include "tests/support/mqtt_publisher.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/view_rows.h"

namespace mb::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr std::int64_t kDay1 = 1646092800;  // 2022-03-01T00:00:00Z, seconds

// A Voltaware day of 96 quarter hours (the vendor's message shape).
std::string voltaware_day(const std::string& device, std::int64_t day, const std::string& date) {
    std::string readings;
    for (int i = 0; i < 96; ++i)
        readings += fmt::format("{}{{\"timestampUtcEpochSecs\": {}, \"consumptionKwh\": 0.{:03}}}",
                                i ? ", " : "", day + i * 900, i + 1);
    return fmt::format(
        "{{\"deviceId\": \"{}\", \"dataFrequencyMins\": 15, \"date\": \"{}\", "
        "\"electricReadings\": [{}]}}",
        device, date, readings);
}

// An Å Insite v2 reading of register 12 (as in the vendor's document) over the
// second `n` seconds after 12:00: time runs sixty times faster than on a real
// meter, so that ten silent cadences pass in ten seconds.
std::string ainsite_second(int n) {
    const auto at = [](int sec) {
        return fmt::format("2023-01-01T12:{:02}:{:02}.000Z", sec / 60, sec % 60);
    };
    return fmt::format(
        "{{\"smarteo_payload_schema_version\": 2, \"measurement_start_timestamp_utc\": \"{}\", "
        "\"measurement_end_timestamp_utc\": \"{}\", \"register_id\": 12, \"value\": {}}}",
        at(n), at(n + 1), 1000 + n);
}

class MetersCliTest : public ::testing::Test {
  protected:
    void SetUp() override {
        write_file(config(),
                   fmt::format("[storage]\npath = \"{}\"\nsynchronous = \"normal\"\n\n"
                               "[http]\nlisten = \"127.0.0.1:0\"\n\n"
                               "[brokers.local]\nhost = \"127.0.0.1\"\nport = {}\n\n"
                               "[[connectors]]\nname = \"voltaware\"\ntype = \"voltaware\"\n"
                               "broker = \"local\"\ntopics = [\"voltaware/readings\"]\n\n"
                               "[[connectors]]\nname = \"ainsite\"\ntype = \"ainsite\"\n"
                               "broker = \"local\"\ntopics = [\"meters/outbound/c1/#\"]\n"
                               "stale_after = \"3x\"\n",
                               db().string(), broker.port()));
        daemon = std::make_unique<Process>(
            std::vector<std::string>{MB_BINARY, "run", "-c", config().string()}, dir.path());
        ASSERT_TRUE(daemon->wait_for_log("subscribed to", 10s)) << daemon->stderr_text();
    }
    void TearDown() override {
        if (!daemon) return;
        daemon->signal(SIGTERM);
        EXPECT_EQ(daemon->wait(20s), 0) << daemon->stderr_text();
    }
    fs::path config() const { return dir / "mb.toml"; }
    fs::path db() const { return dir / "mb.db"; }
    RunResult cli(std::vector<std::string> args) {
        args.insert(args.begin(), MB_BINARY);
        args.insert(args.begin() + 2, {"-c", config().string()});
        return run_binary(args);
    }
    std::int64_t readings(const std::string& where) {
        return count(db(), "SELECT count(*) FROM readings_v WHERE " + where);
    }

    TempDir dir;
    MosquittoBroker broker{dir / "broker"};
    std::unique_ptr<Process> daemon;
};

TEST_F(MetersCliTest, AMissingVoltawareDayIsAGapAndASilentInsiteMeterIsStale) {
    MqttPublisher pub(broker.port());
    // Voltaware: 1 and 3 March, not 2 March.
    pub.publish("voltaware/readings", voltaware_day("dev-a", kDay1, "2022-03-01"), 1);
    pub.publish("voltaware/readings", voltaware_day("dev-a", kDay1 + 2 * 86400, "2022-03-03"), 1);
    ASSERT_TRUE(eventually([&] { return readings("source = 'voltaware'") == 192; }, 10s));
    // Å Insite: two meters report a one-second reading every second (their
    // cadence and arrival interval).
    const std::string silent = "meters/outbound/c1/s1/meter-silent";
    const std::string alive = "meters/outbound/c1/s1/meter-alive";
    int second = 0;
    for (; second < 6; ++second) {
        pub.publish(silent, ainsite_second(second), 1);
        pub.publish(alive, ainsite_second(second), 1);
        std::this_thread::sleep_for(1s);
    }
    ASSERT_TRUE(eventually([&] { return readings("source = 'ainsite'") == 12; }, 10s))
        << ::testing::PrintToString(rows(db(), "SELECT reason FROM rejected_v"));
    // meter-silent stops; meter-alive goes on for ten of its intervals and more.
    for (; second < 16; ++second) {
        std::this_thread::sleep_for(1s);
        pub.publish(alive, ainsite_second(second), 1);
    }
    ASSERT_TRUE(eventually([&] { return readings("meter = 'meter-alive'") == 16; }, 10s));

    // meters --stale: only the silent one (silent for 10 s, stale after 3 × ~1 s).
    auto r = cli({"meters", "--stale", "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
    std::set<std::string> stale;
    simdjson::dom::array rows;
    ASSERT_EQ(doc.get_array().get(rows), simdjson::SUCCESS) << r.out;
    for (simdjson::dom::element row : rows) {
        EXPECT_EQ(std::string_view(row["stale"].get_string().value()), "yes");
        stale.insert(std::string(row["meter"].get_string().value()));
    }
    EXPECT_EQ(stale, (std::set<std::string>{"meter-silent"})) << r.out;
    // The daemon's /metrics counts the same stale meter, per source.
    const std::uint16_t port = logged_port(*daemon);
    ASSERT_NE(port, 0) << daemon->stderr_text();
    const auto metrics = http_get(port, "/metrics").body;
    EXPECT_EQ(sample(metrics, R"(meterbridge_meters_stale{source="ainsite"})"), 1) << metrics;
    EXPECT_EQ(sample(metrics, R"(meterbridge_meters_stale{source="voltaware"})"), 0) << metrics;

    // meters: every meter, with its learned cadence; the Voltaware one is 50% complete
    // over the days it covers.
    r = cli({"meters", "--window", "P100000D", "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
    std::map<std::string, simdjson::dom::element> by_meter;
    ASSERT_EQ(doc.get_array().get(rows), simdjson::SUCCESS) << r.out;
    for (simdjson::dom::element row : rows)
        by_meter[std::string(row["meter"].get_string().value())] = row;
    ASSERT_EQ(by_meter.size(), 3u) << r.out;
    EXPECT_EQ(std::string_view(by_meter["dev-a"]["cadence"].get_string().value()), "PT15M");
    EXPECT_EQ(by_meter["dev-a"]["readings"].get_int64().value(), 192);
    EXPECT_NEAR(by_meter["dev-a"]["completeness"].get_double().value(), 192.0 / 288.0, 1e-6);
    EXPECT_EQ(std::string_view(by_meter["meter-alive"]["cadence"].get_string().value()), "PT1S");
    EXPECT_EQ(std::string_view(by_meter["meter-alive"]["stale"].get_string().value()), "no");
    EXPECT_EQ(std::string_view(by_meter["meter-silent"]["stale"].get_string().value()), "yes");

    // gaps: 2 March, 96 quarter hours, as a table and as JSON.
    r = cli({"gaps", "--source", "voltaware"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("2022-03-02T00:00:00.000Z"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("(1 row)"), std::string::npos) << r.out;
    r = cli({"gaps", "--source", "voltaware", "--meter", "dev-a", "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
    ASSERT_EQ(doc.get_array().get(rows), simdjson::SUCCESS) << r.out;
    ASSERT_EQ(rows.size(), 1u) << r.out;
    simdjson::dom::element gap = rows.at(0).value();
    EXPECT_EQ(std::string_view(gap["from"].get_string().value()), "2022-03-02T00:00:00.000Z");
    EXPECT_EQ(std::string_view(gap["to"].get_string().value()), "2022-03-03T00:00:00.000Z");
    EXPECT_EQ(gap["missing"].get_int64().value(), 96);
    EXPECT_EQ(std::string_view(gap["cadence"].get_string().value()), "PT15M");
    // The Å Insite meters have none.
    r = cli({"gaps", "--source", "ainsite", "--format", "csv"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "source,meter,quantity,cadence,from,to,missing\n");

    // Usage: gaps needs --source; a bad window is refused.
    EXPECT_NE(cli({"gaps"}).exit_code, 0);
    r = cli({"meters", "--window", "soon"});
    EXPECT_EQ(r.exit_code, 65);
    EXPECT_NE(r.err.find("--window"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mb::test
