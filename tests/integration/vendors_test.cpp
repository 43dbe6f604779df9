// Every vendor type end to end: the vendor's own message formats published
// with a real MQTT client at the vendor's QoS to a real mosquitto, ingested by
// the real binary, asserted row by row in the contract views.
#include <gtest/gtest.h>
#include <signal.h>

#include <fmt/format.h>

#include <thread>

#include "storage/query.h"
#include "tests/support/mosquitto_broker.h"
#include "tests/support/mqtt_publisher.h"
#include "tests/support/process.h"
#include "tests/support/view_rows.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace mb::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string fixture(const std::string& vendor, const std::string& name) {
    return read_file(fs::path(MB_SOURCE_DIR) / "tests" / "fixtures" / vendor / name);
}

class VendorTest : public ::testing::Test {
  protected:
    // `connectors`: the [[connectors]] tables (broker "local" is defined here).
    void start(const std::string& connectors) {
        write_file(
            dir / "mb.toml",
            fmt::format(
                "[storage]\npath = \"{}\"\nsynchronous = \"normal\"\n\n[brokers.local]\nhost = "
                "\"127.0.0.1\"\nport = {}\nprotocol = \"5\"\n\n{}",
                db().string(), broker.port(), connectors));
        daemon = std::make_unique<Process>(
            std::vector<std::string>{MB_BINARY, "run", "-c", (dir / "mb.toml").string()},
            dir.path());
        ASSERT_TRUE(daemon->wait_for_log("subscribed to", 10s)) << daemon->stderr_text();
    }
    void stop() {
        daemon->signal(SIGTERM);
        EXPECT_EQ(daemon->wait(20s), 0) << daemon->stderr_text();
    }
    fs::path db() const { return dir / "mb.db"; }
    std::int64_t messages() {
        return count(db(), "SELECT coalesce(sum(messages), 0) FROM source_stats");
    }

    TempDir dir;
    MosquittoBroker broker{dir / "broker"};
    std::unique_ptr<Process> daemon;
};

TEST_F(VendorTest, VoltawareDaysAtQos2AreStoredOnceAndMalformedOnesExplained) {
    start(
        "[[connectors]]\nname = \"voltaware\"\ntype = \"voltaware\"\nbroker = \"local\"\n"
        "topics = [\"voltaware/readings\"]\n");
    MqttPublisher pub(broker.port());
    pub.publish("voltaware/readings", fixture("voltaware", "day_15min.json"), 2);
    pub.publish("voltaware/readings", fixture("voltaware", "day_30min.json"), 2);
    pub.publish("voltaware/readings", fixture("voltaware", "document_example.json"), 2);
    pub.publish("voltaware/readings", fixture("voltaware", "reject_invalid_frequency_20.json"), 2);
    ASSERT_TRUE(pub.wait_all_acked(20s));
    ASSERT_TRUE(eventually([&] { return messages() == 4; })) << daemon->stderr_text();

    EXPECT_EQ(count(db(), "SELECT count(*) FROM readings_v WHERE source = 'voltaware'"), 96 + 48);
    const auto first = rows(db(), "SELECT * FROM readings_v ORDER BY ts_start, ts_end LIMIT 2");
    ASSERT_EQ(first.size(), 2u);
    // The integer times close the row; received_at, before them, is the daemon's clock.
    const std::string ms = "|1646092800000|1646093700000";
    ASSERT_GT(first[0].size(), ms.size()) << first[0];
    EXPECT_EQ(first[0].substr(first[0].size() - ms.size()), ms);
    const std::string head = first[0].substr(0, first[0].size() - ms.size());
    EXPECT_EQ(
        head,
        "voltaware|6ede44a4-ea21-4c17-b5c4-37eb3875e554|electricity.energy.consumption|Wh|interval|"
        "2022-03-01T00:00:00.000Z|2022-03-01T00:15:00.000Z|1.0|" +
            head.substr(head.rfind('|') + 1));
    // The 30-minute day: 48 half-hours ending at the next UTC midnight.
    EXPECT_EQ(rows(db(),
                   "SELECT count(*), min(ts_start), max(ts_end) FROM readings_v WHERE ts_start "
                   "LIKE '2023-11-21T%'"),
              std::vector<std::string>{"48|2023-11-21T00:00:00.000Z|2023-11-22T00:00:00.000Z"});
    const auto rejected =
        rows(db(), "SELECT topic, reason FROM rejected_v ORDER BY received_at, reason");
    ASSERT_EQ(rejected.size(), 2u);
    std::string all = rejected[0] + "\n" + rejected[1];
    EXPECT_NE(all.find("voltaware/readings|malformed: not valid JSON at electricReadings[1]"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("voltaware/readings|invalid_value: dataFrequencyMins 20 not in {15,30,60}"),
              std::string::npos)
        << all;

    // A resent day: no new row, 96 duplicates.
    pub.publish("voltaware/readings", fixture("voltaware", "day_15min.json"), 2);
    ASSERT_TRUE(pub.wait_all_acked(20s));
    ASSERT_TRUE(eventually([&] { return messages() == 5; }));
    EXPECT_EQ(count(db(), "SELECT count(*) FROM readings_v"), 96 + 48);
    EXPECT_EQ(count(db(), "SELECT duplicates FROM source_stats WHERE source = 'voltaware'"), 96);
    stop();
}

TEST_F(VendorTest, AkenzaUplinksAreAuthenticatedMappedAndTheirSecretNeverStored) {
    const std::string secret = "s3cr3t-uplink-key";
    write_file(dir / "akenza.secret", secret + "\n");
    start(fmt::format(R"([[connectors]]
name = "akenza"
type = "akenza"
broker = "local"
topics = ["/up/+/id/#"]
secret_file = "{}"

[[connectors.mappings]]
pointer = "/foo"
state_key = "foo"

[[connectors.mappings]]
pointer = "/energy"
quantity = "electricity.energy.consumption.index"
scale = 1000
timestamp = "/time"

[[connectors.mappings]]
data_topic = "power"
pointer = ""
quantity = "register.power"
unit = "W"
)",
                      (dir / "akenza.secret").string()));
    MqttPublisher pub(broker.port(), "akenza-device", 5);
    // The document's example payload, on the document's uplink topic shape.
    pub.publish("/up/" + secret + "/id/dev-1", fixture("akenza", "doc_payload_foo_bar.json"), 1);
    pub.publish("/up/" + secret + "/id/dev-1", R"({"energy": 1.5, "time": "2024-03-01T10:00:00Z"})",
                1);
    pub.publish("/up/" + secret + "/id/dev-1/power", "230.5", 1, "text/plain");
    pub.publish("/up/" + secret + "/id/dev-1", fixture("akenza", "doc_payload.xml"), 1,
                "application/xml");
    pub.publish("/up/wrong-secret-value/id/dev-1", R"({"energy": 2})", 1);
    pub.publish(
        "/up/" + secret + "/id/dev-1",
        R"({"energy": 3, "time": "2024-03-01T11:00:00Z", "note": ")" + secret + R"(", "x": 12x})",
        1);
    ASSERT_TRUE(pub.wait_all_acked(20s));
    ASSERT_TRUE(eventually([&] { return messages() == 6; })) << daemon->stderr_text();

    EXPECT_EQ(rows(db(), "SELECT source, meter, key, value FROM states_v"),
              std::vector<std::string>{"akenza|dev-1|foo|bar"});
    EXPECT_EQ(rows(db(),
                   "SELECT meter, quantity, unit, kind, ts_start, ts_end, value FROM readings_v "
                   "WHERE quantity "
                   "LIKE 'electricity%'"),
              std::vector<std::string>{"dev-1|electricity.energy.consumption.index|Wh|cumulative|"
                                       "2024-03-01T10:00:00.000Z|2024-03-01T10:00:00.000Z|1500.0"});
    EXPECT_EQ(rows(db(),
                   "SELECT meter, quantity, unit, kind, value FROM readings_v WHERE quantity = "
                   "'register.power'"),
              std::vector<std::string>{"dev-1|register.power|W|instant|230.5"});
    const auto rejected = rows(db(), "SELECT topic, reason FROM rejected_v ORDER BY received_at");
    ASSERT_EQ(rejected.size(), 3u);
    EXPECT_EQ(rejected[0].substr(0, rejected[0].find('|')), "/up/***/id/dev-1");
    EXPECT_NE(rejected[0].find("unsupported_content_type"), std::string::npos) << rejected[0];
    EXPECT_EQ(rejected[1].substr(0, rejected[1].find('|')), "/up/***/id/dev-1");
    EXPECT_NE(rejected[1].find("|unauthorized"), std::string::npos) << rejected[1];
    EXPECT_NE(rejected[2].find("|malformed"), std::string::npos) << rejected[2];
    // No stored topic, payload or reason holds the secret (nor the wrong one).
    for (const std::string& value : {secret, std::string("wrong-secret-value")})
        EXPECT_EQ(count(db(), "SELECT count(*) FROM messages WHERE instr(topic, '" + value +
                                  "') OR instr(CAST(payload AS TEXT), '" + value +
                                  "') OR instr(reason, '" + value + "')"),
                  0)
            << value;
    EXPECT_EQ(count(db(), "SELECT count(*) FROM messages WHERE CAST(payload AS TEXT) LIKE '%***%'"),
              1);

    // A downlink from the CLI reaches a real subscriber on /down/<secret>/id/<device>/<topic>.
    Process sub({"/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()),
                 "-t", "/down/#", "-C", "1", "-v", "-W", "15"},
                dir.path());
    std::this_thread::sleep_for(300ms);
    auto r = run_binary({MB_BINARY, "akenza-downlink", "-c", (dir / "mb.toml").string(),
                         "--connector", "akenza", "--device", "dev-1", "--topic", "config/interval",
                         "--payload", R"({"interval":15})"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find(secret), std::string::npos) << r.out;
    ASSERT_EQ(sub.wait(15s), 0) << sub.stderr_text();
    EXPECT_EQ(sub.stdout_text(),
              "/down/" + secret + "/id/dev-1/config/interval {\"interval\":15}\n");

    r = run_binary({MB_BINARY, "akenza-downlink", "-c", (dir / "mb.toml").string(), "--connector",
                    "akenza", "--device", "dev+1", "--topic", "x", "--payload", "{}"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("cannot build a downlink topic"), std::string::npos) << r.err;
    stop();
}

// At [log] level = "trace" libmosquitto's own lines name every topic the
// daemon receives; a mapped state may carry the secret in its value, and a
// device id may be it; a downlink the broker cannot take is reported with
// its topic. The secret (and a wrong one, maybe another connector's real
// secret) must show nowhere: not in the daemon's log, not anywhere in the
// database, not in the CLI's output.
TEST(AkenzaSecret, IsNeverLoggedStoredOrPrintedEvenAtLogLevelTrace) {
    const std::string secret = "s3cr3t-uplink-key";
    const std::string wrong = "wrong-secret-value";
    TempDir dir;
    // The broker takes no packet over 1 KiB (and says so in its CONNACK).
    MosquittoBroker broker(dir / "broker", std::nullopt,
                           "allow_anonymous true\nmax_packet_size 1024\n");
    write_file(dir / "akenza.secret", secret + "\n");
    const auto db = dir / "mb.db";
    write_file(dir / "mb.toml",
               fmt::format(R"([storage]
path = "{}"
synchronous = "normal"

[log]
level = "trace"

[brokers.local]
host = "127.0.0.1"
port = {}
protocol = "5"

[[connectors]]
name = "akenza"
type = "akenza"
broker = "local"
topics = ["/up/+/id/#"]
secret_file = "{}"

[[connectors.mappings]]
pointer = "/door"
state_key = "door"

[[connectors.mappings]]
pointer = "/energy"
quantity = "register.energy"
)",
                           db.string(), broker.port(), (dir / "akenza.secret").string()));
    Process d({MB_BINARY, "run", "-c", (dir / "mb.toml").string()}, dir.path());
    ASSERT_TRUE(d.wait_for_log("subscribed to", 10s)) << d.stderr_text();
    {
        MqttPublisher pub(broker.port(), "akenza-device", 5);
        pub.publish("/up/" + secret + "/id/dev-1",
                    R"({"door": "opened with )" + secret + R"(", "energy": 1.5})", 1);
        pub.publish("/up/" + secret + "/id/" + secret, R"({"energy": 2.5})", 1);
        pub.publish("/up/" + wrong + "/id/dev-1", R"({"energy": 3.5})", 1);
        ASSERT_TRUE(pub.wait_all_acked(20s));
    }
    ASSERT_TRUE(eventually([&] {
        return count(db, "SELECT coalesce(sum(messages), 0) FROM source_stats") == 3;
    })) << d.stderr_text();
    EXPECT_EQ(rows(db, "SELECT meter, key, value FROM states_v"),
              std::vector<std::string>{"dev-1|door|opened with ***"});
    EXPECT_EQ(rows(db, "SELECT meter, value FROM readings_v ORDER BY value"),
              (std::vector<std::string>{"dev-1|1.5", "***|2.5"}));

    // A downlink larger than the broker takes fails in the library, naming the topic.
    const auto r = run_binary({MB_BINARY, "akenza-downlink", "-c", (dir / "mb.toml").string(),
                               "--connector", "akenza", "--device", "dev-1", "--topic", "config",
                               "--payload", std::string(2000, 'x')});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("/down/***/id/dev-1/config"), std::string::npos) << r.err;

    d.signal(SIGTERM);
    EXPECT_EQ(d.wait(20s), 0) << d.stderr_text();
    const std::string log = d.stderr_text();
    // libmosquitto's lines were there, masked.
    EXPECT_NE(log.find("received PUBLISH"), std::string::npos) << log;
    EXPECT_NE(log.find("'/up/***/id/dev-1'"), std::string::npos) << log;
    const auto dump = run_binary({"/usr/bin/sqlite3", db.string(), ".dump"});
    ASSERT_EQ(dump.exit_code, 0) << dump.err;
    ASSERT_NE(dump.out.find("INSERT INTO"), std::string::npos);
    for (const std::string& value : {secret, wrong}) {
        EXPECT_EQ(log.find(value), std::string::npos) << value << " in the log:\n" << log;
        EXPECT_EQ(dump.out.find(value), std::string::npos) << value << " in the database";
        EXPECT_EQ((r.out + r.err).find(value), std::string::npos) << value << ": " << r.err;
    }
}

// An MQTT 5 broker acknowledges a downlink its ACL refuses with a reason
// code: that is a failure, reported without the secret.
TEST(AkenzaDownlink, RefusedByTheBrokersAclIsAFailureThatHidesTheSecret) {
    const std::string secret = "s3cr3t-uplink-key";
    TempDir dir;
    write_file(dir / "acl", "topic readwrite /up/#\ntopic read /down/#\n");
    MosquittoBroker broker(
        dir / "broker", std::nullopt,
        fmt::format("allow_anonymous true\nacl_file {}\n", (dir / "acl").string()));
    write_file(dir / "akenza.secret", secret + "\n");
    write_file(dir / "mb.toml", fmt::format(R"([storage]
path = "{}"

[brokers.local]
host = "127.0.0.1"
port = {}
protocol = "5"

[[connectors]]
name = "akenza"
type = "akenza"
broker = "local"
topics = ["/up/+/id/#"]
secret_file = "{}"

[[connectors.mappings]]
pointer = "/energy"
quantity = "register.energy"
)",
                                            (dir / "mb.db").string(), broker.port(),
                                            (dir / "akenza.secret").string()));
    const auto r = run_binary({MB_BINARY, "akenza-downlink", "-c", (dir / "mb.toml").string(),
                               "--connector", "akenza", "--device", "dev-1", "--topic", "config",
                               "--payload", "{}", "--qos", "1"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("the broker refused the publication to /down/***/id/dev-1/config: Not "
                         "authorized"),
              std::string::npos)
        << r.err;
    EXPECT_EQ((r.out + r.err).find(secret), std::string::npos) << r.out << r.err;
}

TEST_F(VendorTest, AinsiteConsumerAndGatewayMessagesOfTheDocument) {
    start(R"([[connectors]]
name = "ainsite"
type = "ainsite"
broker = "local"
topics = ["meters/outbound/cust-42/#"]

[[connectors]]
name = "gateways"
type = "ainsite-gateway"
broker = "local"
[connectors.registers.10]
quantity = "water.volume.index"
scale = 0.001
)");
    MqttPublisher pub(broker.port());
    // The document's v1 and v2 payloads at its QoS 1, on its topic shape.
    pub.publish("meters/outbound/cust-42/sub-1/meter-7", fixture("ainsite", "consumer_doc_v1.json"),
                1);
    pub.publish("meters/outbound/cust-42/sub-1/meter-7", fixture("ainsite", "consumer_doc_v2.json"),
                1);
    pub.publish("meters/outbound/cust-42/sub-1/meter-7",
                fixture("ainsite", "consumer_bad_version_3.json"), 1);
    // The document's gateway topics with its bare-number payload.
    auto topic = [](std::string t) { return t.substr(0, t.find_last_not_of("\n") + 1); };
    pub.publish(topic(fixture("ainsite", "gateway_doc_topic_electrical.txt")),
                fixture("ainsite", "gateway_doc_payload.txt"), 1);
    pub.publish(topic(fixture("ainsite", "gateway_doc_topic_water.txt")),
                fixture("ainsite", "gateway_doc_payload.txt"), 1);
    pub.publish("gateways/generic/42/p/Steam/M1/2", "1", 1);
    ASSERT_TRUE(pub.wait_all_acked(20s));
    ASSERT_TRUE(eventually([&] { return messages() == 6; })) << daemon->stderr_text();

    EXPECT_EQ(
        rows(db(),
             "SELECT meter, quantity, unit, kind, ts_start, ts_end, value FROM readings_v WHERE "
             "source = "
             "'ainsite' ORDER BY quantity"),
        (std::vector<std::string>{
            "meter-7|electricity.energy.consumption.index|Wh|cumulative|2023-01-01T12:34:56.789Z|"
            "2023-01-01T12:34:56.789Z|123456.0",
            "meter-7|register.12||interval|2023-01-01T12:00:00.000Z|2023-01-01T12:01:00.000Z|123."
            "456"}));
    EXPECT_EQ(rows(db(),
                   "SELECT meter, quantity, unit, kind, value, ts_start = received_at FROM "
                   "readings_v WHERE "
                   "source = 'gateways' ORDER BY quantity"),
              (std::vector<std::string>{
                  "MAIN_SUPPLY|electricity.energy.consumption.index|Wh|cumulative|123456.0|1",
                  "Toilets|water.volume.index|m3|cumulative|0.123456|1"}));
    const auto rejected =
        rows(db(), "SELECT source, topic, reason FROM rejected_v ORDER BY source");
    ASSERT_EQ(rejected.size(), 2u);
    EXPECT_EQ(rejected[0].substr(0, rejected[0].find('|', 8)),
              "ainsite|meters/outbound/cust-42/sub-1/meter-7");
    EXPECT_NE(rejected[0].find("|invalid_value:"), std::string::npos) << rejected[0];
    EXPECT_NE(rejected[1].find("gateways|gateways/generic/42/p/Steam/M1/2|invalid_value:"),
              std::string::npos)
        << rejected[1];
    stop();
}

TEST_F(VendorTest, AinsiteSubscriptionWithoutTheCustomerIdIsAConfigError) {
    write_file(dir / "bad.toml",
               fmt::format("[storage]\npath = \"{}\"\n\n[brokers.local]\nhost = \"127.0.0.1\"\n"
                           "port = {}\n\n[[connectors]]\nname = \"ainsite\"\ntype = \"ainsite\"\n"
                           "broker = \"local\"\ntopics = [\"#\"]\n",
                           db().string(), broker.port()));
    auto r = run_binary({MB_BINARY, "check-config", "-c", (dir / "bad.toml").string()});
    EXPECT_EQ(r.exit_code, 78);
    EXPECT_NE(r.err.find("connectors[0].topics"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("customer"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mb::test
