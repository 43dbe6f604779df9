// The MQTT connector of the real binary against a real mosquitto: delivery,
// deduplication, rejections, persistent sessions, broker restarts, SIGKILL of
// the daemon mid-stream (acknowledge-after-commit), and TLS verification.
#include <gtest/gtest.h>
#include <signal.h>

#include <fmt/format.h>

#include <random>
#include <thread>

#include "connectors/builtin.h"
#include "connectors/registry.h"
#include "daemon/config.h"
#include "storage/query.h"
#include "storage/store.h"
#include "storage/writer.h"
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

constexpr TimeMs kT0 = 1646092800000;

std::string reading(int i, double value) {
    const TimeMs s = kT0 + static_cast<TimeMs>(i) * 900000;
    return fmt::format(
        R"({{"meter":"m{}","quantity":"electricity.energy.consumption","value":{},"ts_start":{},"ts_end":{}}})",
        i % 7, value, s, s + 900000);
}

class MqttTest : public ::testing::Test {
  protected:
    fs::path db() const { return dir / "mb.db"; }
    fs::path config() const { return dir / "mb.toml"; }
    void write_config(const std::string& broker_extra = "", const std::string& host = "127.0.0.1") {
        write_file(config(),
                   fmt::format(
                       "[storage]\npath = \"{}\"\nsynchronous = \"normal\"\n\n"
                       "[brokers.local]\nhost = \"{}\"\nport = {}\nkeepalive = \"10s\"\n{}\n\n"
                       "[[connectors]]\nname = \"feed\"\ntype = \"canonical\"\nbroker = \"local\"\n"
                       "topics = [\"meters/+/readings\"]\nqos = 1\n",
                       db().string(), host, broker->port(), broker_extra));
    }
    std::unique_ptr<Process> start_daemon() {
        return std::make_unique<Process>(
            std::vector<std::string>{MB_BINARY, "run", "-c", config().string()}, dir.path());
    }
    std::int64_t readings() { return scalar(db(), "SELECT count(*) FROM readings"); }

    TempDir dir;
    std::unique_ptr<MosquittoBroker> broker = std::make_unique<MosquittoBroker>(dir / "broker");
};

TEST_F(MqttTest, StoresPublishedReadingsOnceAndExplainsRejections) {
    write_config();
    auto d = start_daemon();
    ASSERT_TRUE(d->wait_for_log("subscribed to", 10s)) << d->stderr_text();
    MqttPublisher pub(broker->port());
    for (int i = 0; i < 300; ++i)
        pub.publish("meters/a/readings", reading(i, i * 1.5), i % 2 ? 1 : 2);
    ASSERT_TRUE(pub.wait_all_acked(20s));
    ASSERT_TRUE(eventually([&] { return readings() == 300; }, 20s))
        << readings() << d->stderr_text();

    // QoS 1 redelivery, resends: same keys, same values → duplicates, no new rows.
    for (int i = 0; i < 300; ++i) pub.publish("meters/b/readings", reading(i, i * 1.5), 1);
    // One revision, one malformed message.
    pub.publish("meters/a/readings", reading(5, 99.25), 1);
    pub.publish("meters/a/readings",
                R"({"meter":"m1","quantity":"electricity.energy.consumption","value":1})", 1);
    ASSERT_TRUE(pub.wait_all_acked(20s));
    ASSERT_TRUE(
        eventually([&] { return scalar(db(), "SELECT messages FROM source_stats") == 602; }, 20s))
        << scalar(db(), "SELECT messages FROM source_stats") << " messages, " << pub.requeued()
        << " published while disconnected\n"
        << d->stderr_text();
    EXPECT_EQ(readings(), 300);
    EXPECT_EQ(scalar(db(), "SELECT duplicates FROM source_stats WHERE source = 'feed'"), 300);
    EXPECT_EQ(scalar(db(), "SELECT revisions FROM source_stats WHERE source = 'feed'"), 1);
    EXPECT_EQ(
        scalar(db(),
               "SELECT count(*) FROM readings_v WHERE meter = 'm5' AND value = 99.25 AND "
               "ts_start = '2022-03-01T01:15:00.000Z' AND ts_end = '2022-03-01T01:30:00.000Z' AND "
               "unit = 'Wh' AND kind = 'interval' AND source = 'feed'"),
        1);
    auto ro = open_read_only(db());
    sql::Stmt q(ro, "SELECT topic, reason FROM rejected_v");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.column_text(0), "meters/a/readings");
    EXPECT_EQ(q.column_text(1), "missing_field: [0].ts_start");
    EXPECT_FALSE(q.step());

    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(20s), 0) << d->stderr_text();
}

TEST_F(MqttTest, MessagesQueuedWhileTheDaemonIsDownSurviveABrokerRestart) {
    write_config();
    {
        auto d = start_daemon();  // creates the persistent session and its subscription
        ASSERT_TRUE(d->wait_for_log("session new", 10s)) << d->stderr_text();
        d->signal(SIGTERM);
        ASSERT_EQ(d->wait(20s), 0);
    }
    {
        MqttPublisher pub(broker->port());
        for (int i = 0; i < 1000; ++i) pub.publish("meters/x/readings", reading(i, i), 1);
        ASSERT_TRUE(pub.wait_all_acked(20s));
    }
    broker->stop();  // graceful: mosquitto writes its persistence file
    broker->start();
    auto d = start_daemon();
    ASSERT_TRUE(d->wait_for_log("session resumed", 10s)) << d->stderr_text();
    EXPECT_TRUE(eventually([&] { return readings() == 1000; }, 30s))
        << readings() << d->stderr_text();
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(20s), 0);
}

TEST_F(MqttTest, ReconnectsAfterABrokerRestartAndKeepsIngesting) {
    write_config();
    auto d = start_daemon();
    ASSERT_TRUE(d->wait_for_log("subscribed to", 10s)) << d->stderr_text();
    {
        MqttPublisher pub(broker->port());
        for (int i = 0; i < 200; ++i) pub.publish("meters/x/readings", reading(i, i), 1);
        ASSERT_TRUE(pub.wait_all_acked(20s));
    }
    ASSERT_TRUE(eventually([&] { return readings() == 200; }, 20s));
    broker->stop();
    ASSERT_TRUE(d->wait_for_log("connection to", 10s)) << d->stderr_text();
    broker->start();
    ASSERT_TRUE(d->wait_for_log("session resumed", 20s)) << d->stderr_text();
    {
        MqttPublisher pub(broker->port());
        for (int i = 200; i < 400; ++i) pub.publish("meters/x/readings", reading(i, i), 1);
        ASSERT_TRUE(pub.wait_all_acked(20s));
    }
    EXPECT_TRUE(eventually([&] { return readings() == 400; }, 20s))
        << readings() << d->stderr_text();
    EXPECT_NE(d->stderr_text().find("reconnecting to 127.0.0.1"), std::string::npos);
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(20s), 0);
}

// The promise of acknowledge-after-commit: SIGKILL at random moments loses
// nothing (every message the broker delivered but that was not committed is
// redelivered) and stores nothing twice (deduplication).
TEST_F(MqttTest, SigkillMidStreamLosesNothingAndStoresNothingTwice) {
    constexpr int kMessages = 6000;
    write_config();
    {
        auto d = start_daemon();
        ASSERT_TRUE(d->wait_for_log("session new", 10s)) << d->stderr_text();
        d->signal(SIGTERM);
        ASSERT_EQ(d->wait(20s), 0);
    }
    MqttPublisher pub(broker->port());
    std::thread publisher([&] {
        for (int i = 0; i < kMessages; ++i) {
            pub.publish("meters/k/readings", reading(i, i), 1);
            if (i % 500 == 0) std::this_thread::sleep_for(20ms);
        }
    });
    std::mt19937 rng(42);
    int kills = 0;
    for (; kills < 6; ++kills) {
        auto d = start_daemon();
        ASSERT_TRUE(d->wait_for_log("connected to", 10s)) << d->stderr_text();
        std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 250));
        d->signal(SIGKILL);
        d->wait(10s);
    }
    publisher.join();
    ASSERT_TRUE(pub.wait_all_acked(30s));
    auto d = start_daemon();
    EXPECT_TRUE(eventually([&] { return readings() == kMessages; }, 60s))
        << readings() << d->stderr_text();
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(readings(), kMessages);
    EXPECT_EQ(scalar(db(), "SELECT count(DISTINCT ts_start) FROM readings"), kMessages);
    EXPECT_EQ(scalar(db(), "SELECT count(*) FROM revisions"), 0);
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(20s), 0);
}

// What the connector reads before it commits is bounded by the writer's
// batch_max_rows, not by how much the broker sends at once: a backlog of
// 11-row messages (mosquitto delivers 100 at once, then bursts of more once
// acks flow) is committed in transactions of at most that many rows, and
// every message is stored.
TEST(MqttStaging, ABacklogIsCommittedInTransactionsOfAtMostBatchMaxRows) {
    constexpr int kMessages = 400, kReadingsPerMessage = 10;
    constexpr std::size_t kBatchMaxRows = 200;
    TempDir dir;
    MosquittoBroker broker(dir / "broker");
    const auto loaded = load_config_text(
        fmt::format("[storage]\npath = \"{}\"\n\n[brokers.local]\nhost = \"127.0.0.1\"\n"
                    "port = {}\n\n[[connectors]]\nname = \"feed\"\ntype = \"canonical\"\n"
                    "broker = \"local\"\ntopics = [\"meters/+/readings\"]\nqos = 1\n",
                    (dir / "mb.db").string(), broker.port()),
        dir / "mb.toml", builtin_registry());
    ASSERT_TRUE(loaded.config) << (loaded.errors.empty() ? "" : loaded.errors[0].to_string());
    auto config = std::make_shared<const Config>(*loaded.config);
    StoreOptions so;
    so.synchronous_full = false;
    auto store = Store::open(dir / "mb.db", so);
    WriterOptions wo;
    wo.batch_max_rows = kBatchMaxRows;
    Writer writer(store, wo);
    writer.start();
    ConnectorContext ctx{writer, config->brokers, config->jobs, config->storage.path};
    const ConnectorType* type = builtin_registry().find("canonical");
    ASSERT_NE(type, nullptr);
    MqttPublisher pub(broker.port());
    {
        // Creates the persistent session; a probe (sent until it is stored, as the
        // subscription may not be live yet) proves the subscription is live.
        auto c = type->make_connector(ctx, config->connectors[0]);
        c->start();
        ASSERT_TRUE(eventually(
            [&] {
                pub.publish("meters/probe/readings", reading(0, 1), 1);
                std::this_thread::sleep_for(100ms);
                return writer.stats().stored.readings == 1;
            },
            20s));
        c->stop();
    }
    for (int i = 0; i < kMessages; ++i) {
        std::string day = "[";
        for (int k = 0; k < kReadingsPerMessage; ++k) {
            if (k) day += ',';
            day += reading(1 + i * kReadingsPerMessage + k, i);
        }
        pub.publish("meters/k/readings", day + "]", 1);
    }
    ASSERT_TRUE(pub.wait_all_acked(20s));
    const auto before = writer.stats();
    auto c = type->make_connector(ctx, config->connectors[0]);
    c->start();
    EXPECT_TRUE(eventually(
        [&] {
            return writer.stats().stored.readings ==
                   static_cast<std::uint64_t>(1 + kMessages * kReadingsPerMessage);
        },
        30s))
        << writer.stats().stored.readings;
    c->stop();
    writer.stop();
    const auto after = writer.stats();
    EXPECT_LE(after.largest_transaction_rows, kBatchMaxRows);
    constexpr std::size_t kRows = kMessages * (kReadingsPerMessage + 1);
    EXPECT_GE(after.transactions - before.transactions, kRows / kBatchMaxRows);
    EXPECT_EQ(after.stored.rejected, 0u);
}

class MqttTlsTest : public ::testing::Test {
  protected:
    void run_with(const fs::path& ca, const std::string& host, bool expect_ok) {
        const auto db = dir / "tls.db";
        write_file(
            dir / "tls.toml",
            fmt::format(
                "[storage]\npath = \"{}\"\n\n[brokers.tls]\nhost = \"{}\"\nport = {}\ntls = true\n"
                "ca_file = \"{}\"\n\n[[connectors]]\nname = \"feed\"\ntype = \"canonical\"\n"
                "broker = \"tls\"\ntopics = [\"meters/#\"]\n",
                db.string(), host, broker->port(), ca.string()));
        Process d({MB_BINARY, "run", "-c", (dir / "tls.toml").string()}, dir.path());
        if (expect_ok) {
            EXPECT_TRUE(d.wait_for_log("connected to", 10s)) << d.stderr_text();
        } else {
            EXPECT_TRUE(d.wait_for_log("cannot connect", 10s)) << d.stderr_text();
            EXPECT_NE(d.stderr_text().find("TLS"), std::string::npos) << d.stderr_text();
            EXPECT_EQ(d.stderr_text().find("connected to"), std::string::npos) << d.stderr_text();
        }
        d.signal(SIGTERM);
        EXPECT_EQ(d.wait(20s), 0) << d.stderr_text();
    }
    TempDir dir;
    BrokerTls pki = make_test_pki(dir / "pki", "good", "localhost");
    std::unique_ptr<MosquittoBroker> broker =
        std::make_unique<MosquittoBroker>(dir / "broker", pki);
};

TEST_F(MqttTlsTest, VerifiedConnectionWithTheRightCa) {
    run_with(pki.ca_file, "localhost", true);
}

TEST_F(MqttTlsTest, WrongCaIsRefused) {
    const auto other = make_test_pki(dir / "pki", "other", "localhost");
    run_with(other.ca_file, "localhost", false);
}

TEST_F(MqttTlsTest, WrongHostNameIsRefused) {
    // The certificate names localhost; connecting by address must fail verification.
    run_with(pki.ca_file, "127.0.0.1", false);
}

}  // namespace
}  // namespace mb::test

namespace mb::test {
namespace {

class MqttAuthTest : public ::testing::Test {
  protected:
    MqttAuthTest() {
        write_file(dir / "passwd", "");
        const auto cmd = fmt::format("mosquitto_passwd -b '{}' bridge 's3cr3t-pw' >/dev/null 2>&1",
                                     (dir / "passwd").string());
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("mosquitto_passwd failed");
        broker = std::make_unique<MosquittoBroker>(
            dir / "broker", std::nullopt,
            fmt::format("allow_anonymous false\npassword_file {}\n", (dir / "passwd").string()));
    }
    std::unique_ptr<Process> start(const std::string& password) {
        write_file(dir / "pw.txt", password + "\n");
        write_file(
            dir / "auth.toml",
            fmt::format(
                "[storage]\npath = \"{}\"\n\n[brokers.auth]\nhost = \"127.0.0.1\"\nport = {}\n"
                "username = \"bridge\"\npassword_file = \"{}\"\n\n[[connectors]]\nname = \"feed\"\n"
                "type = \"canonical\"\nbroker = \"auth\"\ntopics = [\"meters/#\"]\n",
                (dir / "auth.db").string(), broker->port(), (dir / "pw.txt").string()));
        return std::make_unique<Process>(
            std::vector<std::string>{MB_BINARY, "run", "-c", (dir / "auth.toml").string()},
            dir.path());
    }
    TempDir dir;
    std::unique_ptr<MosquittoBroker> broker;
};

TEST_F(MqttAuthTest, PasswordFromFileIsAcceptedAndNeverLogged) {
    auto d = start("s3cr3t-pw");
    EXPECT_TRUE(d->wait_for_log("connected to", 10s)) << d->stderr_text();
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(20s), 0);
    EXPECT_EQ(d->stderr_text().find("s3cr3t-pw"), std::string::npos);
}

TEST_F(MqttAuthTest, WrongPasswordIsRefusedWithTheBrokersReason) {
    auto d = start("wrong-pw");
    EXPECT_TRUE(d->wait_for_log("refused the connection", 10s)) << d->stderr_text();
    EXPECT_NE(d->stderr_text().find("not authorised"), std::string::npos) << d->stderr_text();
    EXPECT_EQ(d->stderr_text().find("wrong-pw"), std::string::npos);
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(20s), 0);
}

}  // namespace
}  // namespace mb::test
