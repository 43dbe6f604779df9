// Faults injected into real components around the real binary: the broker
// stopped and restarted mid-stream, meterbridge SIGKILLed dozens of times,
// SIGTERM in a burst, the database locked by an operator, the disk full, a
// stuck store. Each test ends by counting rows: every published reading is in
// the database exactly once, and what the daemon acknowledged was committed.
#include <gtest/gtest.h>
#include <mosquitto.h>
#include <signal.h>
#include <sys/mount.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "storage/query.h"
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
namespace fs = std::filesystem;

constexpr TimeMs kT0 = 1646092800000;

// Reading i of a stream: its own 15-minute interval, so every i is one row.
std::string reading(int i, const std::string& meter) {
    const TimeMs s = kT0 + static_cast<TimeMs>(i) * 900000;
    return fmt::format(
        R"({{"meter":"{}","quantity":"electricity.energy.consumption","value":{},"ts_start":{},"ts_end":{}}})",
        meter, i, s, s + 900000);
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

// The daemon's resident memory now and at its peak, in KiB (/proc/PID/status).
std::int64_t proc_status_kib(pid_t pid, const char* field) {
    std::ifstream in(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field, 0) == 0) return std::stoll(line.substr(std::strlen(field) + 1));
    return -1;
}

// Publishes `n` readings of `meter` on `topic` from its own thread, with a
// persistent session (survives broker restarts), pausing `pause` every 100.
class Stream {
  public:
    Stream(std::uint16_t port, std::string client_id, std::string topic, std::string meter, int n,
           int qos, std::chrono::microseconds pause = 0us)
        : pub_(port, client_id, 4, false), thread_([=, this] {
              for (int i = 0; i < n; ++i) {
                  pub_.publish(topic, reading(i, meter), qos);
                  if (pause.count() && i % 100 == 99) std::this_thread::sleep_for(pause);
              }
              done_ = true;
          }) {}
    ~Stream() { join(); }
    void join() {
        if (thread_.joinable()) thread_.join();
    }
    bool done() const { return done_; }
    bool wait_all_acked(std::chrono::milliseconds timeout) { return pub_.wait_all_acked(timeout); }

  private:
    MqttPublisher pub_;
    std::atomic<bool> done_{false};
    std::thread thread_;
};

// Takes over the daemon's MQTT session (same client id, clean_session =
// false) and collects what the broker still holds for it: the messages the
// daemon did not acknowledge.
class SessionCollector {
  public:
    SessionCollector(std::uint16_t port, const std::string& client_id, const std::string& filter) {
        mosquitto_lib_init();
        m_ = mosquitto_new(client_id.c_str(), false, this);
        mosquitto_message_callback_set(
            m_, [](mosquitto*, void* self, const mosquitto_message* msg) {
                auto* c = static_cast<SessionCollector*>(self);
                std::lock_guard lk(c->mu_);
                c->payloads_.emplace_back(static_cast<const char*>(msg->payload),
                                          static_cast<std::size_t>(msg->payloadlen));
            });
        if (mosquitto_connect(m_, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS)
            throw std::runtime_error("collector connect");
        mosquitto_subscribe(m_, nullptr, filter.c_str(), 1);
        mosquitto_loop_start(m_);
    }
    ~SessionCollector() {
        mosquitto_disconnect(m_);
        mosquitto_loop_stop(m_, false);
        mosquitto_destroy(m_);
    }
    std::vector<std::string> payloads() const {
        std::lock_guard lk(mu_);
        return payloads_;
    }

  private:
    mosquitto* m_ = nullptr;
    mutable std::mutex mu_;
    std::vector<std::string> payloads_;
};

class FaultTest : public ::testing::Test {
  protected:
    fs::path db() const { return db_path; }
    fs::path config() const { return dir / "mb.toml"; }
    // One canonical connector per entry: name, topic filter, qos.
    void write_config(const std::vector<std::tuple<std::string, std::string, int>>& connectors = {
                          {"feed", "meters/+/readings", 1}}) {
        std::string text = fmt::format(
            "[storage]\npath = \"{}\"\n\n[brokers.local]\nhost = \"127.0.0.1\"\nport = {}\n"
            "keepalive = \"5s\"\n",
            db().string(), broker->port());
        for (const auto& [name, filter, qos] : connectors)
            text += fmt::format(
                "\n[[connectors]]\nname = \"{}\"\ntype = \"canonical\"\nbroker = \"local\"\n"
                "client_id = \"mb-{}\"\ntopics = [\"{}\"]\nqos = {}\n",
                name, name, filter, qos);
        write_file(config(), text);
    }
    std::unique_ptr<Process> start_daemon() {
        return std::make_unique<Process>(
            std::vector<std::string>{MB_BINARY, "run", "-c", config().string()}, dir.path());
    }
    // Starts the daemon once so that the broker keeps its sessions from now on.
    void create_sessions(std::size_t connectors = 1) {
        auto d = start_daemon();
        ASSERT_TRUE(eventually(
            [&] { return occurrences(d->stderr_text(), "subscribed to") == connectors; }, 10s))
            << d->stderr_text();
        d->signal(SIGTERM);
        ASSERT_EQ(d->wait(20s), 0) << d->stderr_text();
    }
    std::int64_t readings(const std::string& meter = "") const {
        return scalar(
            db(), meter.empty()
                      ? "SELECT count(*) FROM readings"
                      : fmt::format("SELECT count(*) FROM readings_v WHERE meter = '{}'", meter));
    }
    // Every reading once: as many distinct (meter, interval) as rows, no revision.
    void expect_exactly_once(std::int64_t expected) const {
        EXPECT_EQ(readings(), expected);
        EXPECT_EQ(scalar(db(),
                         "SELECT count(*) FROM (SELECT DISTINCT meter, ts_start FROM "
                         "readings_v)"),
                  expected);
        EXPECT_EQ(scalar(db(), "SELECT count(*) FROM revisions"), 0);
        EXPECT_EQ(scalar(db(), "SELECT count(*) FROM rejected_v"), 0);
    }
    // The sqlite3 shell of an operator, holding a transaction open until killed.
    std::unique_ptr<Process> operator_transaction(const std::string& sql) {
        return std::make_unique<Process>(
            std::vector<std::string>{"/usr/bin/sqlite3", db().string(), sql, ".shell sleep 60"},
            dir.path());
    }
    void stop(std::unique_ptr<Process>& d) {
        d->signal(SIGTERM);
        EXPECT_EQ(d->wait(30s), 0) << d->stderr_text();
    }

    TempDir dir;
    fs::path db_path = dir / "mb.db";
    std::unique_ptr<MosquittoBroker> broker = std::make_unique<MosquittoBroker>(dir / "broker");
};

// 100,000 messages, half QoS 1 and half QoS 2 publishers; the broker
// (persistence on) is stopped and restarted three times in the middle.
TEST_F(FaultTest, BrokerRestartsDuringQos1AndQos2StreamsLoseAndDuplicateNothing) {
    constexpr int kEach = 50000;
    write_config();
    create_sessions();
    auto d = start_daemon();
    ASSERT_TRUE(d->wait_for_log("session resumed", 10s)) << d->stderr_text();
    {
        Stream q1(broker->port(), "pub-q1", "meters/q1/readings", "q1", kEach, 1, 2ms);
        Stream q2(broker->port(), "pub-q2", "meters/q2/readings", "q2", kEach, 2, 2ms);
        // Restarts at a quarter, half and three quarters of the stream, whatever
        // the machine's speed: a timed restart fell after the end on a fast one.
        std::vector<std::int64_t> at_restart;
        for (int restart = 0; restart < 3; ++restart) {
            const std::int64_t mark = (restart + 1) * 2 * kEach / 4;
            ASSERT_TRUE(eventually([&] { return readings() >= mark; }, 120s))
                << readings() << "\n"
                << d->stderr_text();
            at_restart.push_back(readings());
            broker->stop();  // SIGTERM: mosquitto saves its sessions and queues
            std::this_thread::sleep_for(300ms);
            broker->start();
        }
        // The restarts fell in the middle of the stream.
        EXPECT_GT(at_restart.front(), 0);
        EXPECT_LT(at_restart.back(), 2 * kEach);
        RecordProperty("rows_at_restarts", fmt::format("{}", fmt::join(at_restart, " ")));
        q1.join();
        q2.join();
        ASSERT_TRUE(q1.wait_all_acked(120s));
        ASSERT_TRUE(q2.wait_all_acked(120s));
    }
    ASSERT_TRUE(eventually([&] { return readings() == 2 * kEach; }, 180s)) << readings() << "\n"
                                                                           << d->stderr_text();
    std::this_thread::sleep_for(1s);  // redeliveries still in flight would show as rows now
    expect_exactly_once(2 * kEach);
    EXPECT_EQ(readings("q1"), kEach);
    EXPECT_EQ(readings("q2"), kEach);
    stop(d);
}

// 30 SIGKILLs at random moments of a 100,000-message QoS 1 stream: acks leave
// only after commit (DESIGN §7), so nothing is lost and dedup keeps each once.
TEST_F(FaultTest, DozensOfSigkillsMidStreamLoseAndDuplicateNothing) {
    constexpr int kMessages = 100000;
    constexpr int kKills = 30;
    write_config();
    create_sessions();
    std::mt19937 rng(20261202);
    {
        Stream s(broker->port(), "pub-kill", "meters/k/readings", "k", kMessages, 1, 15ms);
        for (int kill = 0; kill < kKills; ++kill) {
            auto d = start_daemon();
            ASSERT_TRUE(d->wait_for_log("session resumed", 10s)) << d->stderr_text();
            std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 350));
            d->signal(SIGKILL);
            d->wait(10s);
        }
        EXPECT_FALSE(s.done()) << "the stream ended before the last kill: slow it down";
        s.join();
        ASSERT_TRUE(s.wait_all_acked(60s));
    }
    auto d = start_daemon();
    ASSERT_TRUE(eventually([&] { return readings() == kMessages; }, 120s)) << readings() << "\n"
                                                                           << d->stderr_text();
    std::this_thread::sleep_for(1s);
    expect_exactly_once(kMessages);
    const auto duplicates = scalar(db(), "SELECT duplicates FROM source_stats");
    RecordProperty("redelivered_duplicates", std::to_string(duplicates));
    stop(d);
}

// DESIGN §7: libmosquitto hands a QoS 2 message to the application only after
// PUBREC went out, so the broker considers it delivered before the daemon
// can commit it. With the store stuck, a SIGKILL loses what a QoS 2
// subscription received, and nothing a QoS 1 subscription did. The daemon
// warns about qos = 2 for exactly this.
TEST_F(FaultTest, AQos2SubscriptionLosesOnCrashWhatAQos1SubscriptionKeeps) {
    constexpr int kMessages = 200;
    write_config({{"sub1", "meters/a/readings", 1}, {"sub2", "meters/b/readings", 2}});
    create_sessions(2);
    auto d = start_daemon();
    ASSERT_TRUE(
        d->wait_for_log("qos = 2: libmosquitto acknowledges a QoS 2 message before the "
                        "daemon can commit it",
                        10s))
        << d->stderr_text();
    ASSERT_TRUE(
        eventually([&] { return occurrences(d->stderr_text(), "session resumed") == 2; }, 10s))
        << d->stderr_text();
    // An operator's write transaction: every commit is refused (SQLITE_BUSY).
    auto lock = operator_transaction("BEGIN IMMEDIATE;");
    std::this_thread::sleep_for(300ms);
    {
        MqttPublisher pub(broker->port(), "pub-qos", 4, false);
        for (int i = 0; i < kMessages; ++i) {
            pub.publish("meters/a/readings", reading(i, "a"), 2);
            pub.publish("meters/b/readings", reading(i, "b"), 2);
        }
        ASSERT_TRUE(pub.wait_all_acked(30s));
    }
    ASSERT_TRUE(d->wait_for_log("ingestion paused", 20s)) << d->stderr_text();
    std::this_thread::sleep_for(1s);  // the QoS 2 handshakes complete meanwhile
    d->signal(SIGKILL);
    d->wait(10s);
    lock->signal(SIGKILL);  // the operator's transaction ends
    lock->wait(10s);

    d = start_daemon();
    ASSERT_TRUE(eventually([&] { return readings("a") == kMessages; }, 30s))
        << readings("a") << "\n"
        << d->stderr_text();
    std::this_thread::sleep_for(2s);  // anything the broker still had for sub2 is in by now
    const auto kept = readings("b");
    EXPECT_LT(kept, kMessages) << "a QoS 2 subscription kept everything: §7 no longer holds, "
                                  "and the qos = 2 warning should be revisited";
    RecordProperty("qos2_lost", std::to_string(kMessages - kept));
    stop(d);
}

// SIGTERM in the middle of a burst: the daemon exits 0 after committing what
// it staged; whatever it acknowledged is in the database. What it did not
// acknowledge is still held by the broker for its session: collected by a
// client taking the session over, the two together are every message.
TEST_F(FaultTest, SigtermDuringABurstCommitsEverythingAcknowledged) {
    constexpr int kMessages = 50000;
    write_config();
    create_sessions();
    auto d = start_daemon();
    ASSERT_TRUE(d->wait_for_log("session resumed", 10s)) << d->stderr_text();
    {
        Stream s(broker->port(), "pub-term", "meters/t/readings", "t", kMessages, 1);
        ASSERT_TRUE(eventually([&] { return readings() > kMessages / 10; }, 30s));
        d->signal(SIGTERM);
        EXPECT_EQ(d->wait(30s), 0) << d->stderr_text();
        s.join();
        ASSERT_TRUE(s.wait_all_acked(60s));
    }
    const auto stored = readings();
    EXPECT_GT(stored, 0);
    EXPECT_LT(stored, kMessages) << "the burst ended before SIGTERM: make it longer";

    std::set<std::int64_t> seen;
    {
        auto ro = open_read_only(db());
        sql::Stmt st(ro, "SELECT CAST(value AS INTEGER) FROM readings_v");
        while (st.step()) seen.insert(st.column_int(0));
    }
    SessionCollector collector(broker->port(), "mb-feed", "meters/+/readings");
    ASSERT_TRUE(eventually(
        [&] {
            std::set<std::int64_t> all = seen;
            for (const auto& p : collector.payloads()) {
                const auto at = p.find("\"value\":");
                all.insert(std::stoll(p.substr(at + 8)));
            }
            return all.size() == static_cast<std::size_t>(kMessages);
        },
        60s))
        << "stored " << seen.size() << ", held by the broker " << collector.payloads().size();
}

// An operator's long read (WAL: ingestion goes on), then a write lock held
// for seconds: ingestion pauses with a clear log line, the daemon does not
// commit, and resumes when the lock goes; nothing acknowledged is lost.
TEST_F(FaultTest, AnOperatorsLocksPauseIngestionAndItResumes) {
    constexpr int kMessages = 20000;
    write_config();
    create_sessions();
    auto d = start_daemon();
    ASSERT_TRUE(d->wait_for_log("session resumed", 10s)) << d->stderr_text();

    auto reader = operator_transaction("BEGIN; SELECT count(*) FROM readings;");
    std::this_thread::sleep_for(300ms);
    {
        MqttPublisher pub(broker->port(), "pub-read", 4, false);
        for (int i = 0; i < kMessages; ++i) pub.publish("meters/r/readings", reading(i, "r"), 1);
        ASSERT_TRUE(pub.wait_all_acked(60s));
    }
    ASSERT_TRUE(eventually([&] { return readings("r") == kMessages; }, 60s))
        << readings("r") << "\n"
        << d->stderr_text();
    EXPECT_EQ(d->stderr_text().find("ingestion paused"), std::string::npos) << d->stderr_text();
    EXPECT_FALSE(reader->wait(0ms)) << "the read transaction ended early";
    reader->signal(SIGKILL);
    reader->wait(10s);

    auto writer = operator_transaction("BEGIN IMMEDIATE;");
    std::this_thread::sleep_for(300ms);
    {
        MqttPublisher pub(broker->port(), "pub-write", 4, false);
        for (int i = 0; i < kMessages; ++i) pub.publish("meters/w/readings", reading(i, "w"), 1);
        ASSERT_TRUE(pub.wait_all_acked(60s));
    }
    ASSERT_TRUE(d->wait_for_log("ingestion paused", 20s)) << d->stderr_text();
    std::this_thread::sleep_for(1s);
    EXPECT_EQ(readings("w"), 0);  // nothing commits under the operator's lock
    writer->signal(SIGKILL);
    writer->wait(10s);
    ASSERT_TRUE(eventually([&] { return readings("w") == kMessages; }, 60s))
        << readings("w") << "\n"
        << d->stderr_text();
    EXPECT_NE(d->stderr_text().find("ingestion resumed"), std::string::npos) << d->stderr_text();
    expect_exactly_once(2 * kMessages);
    stop(d);
}

// The database on a full file system (a 16 MiB tmpfs, mostly taken by another
// file): commits fail with SQLITE_FULL, ingestion pauses and says why, and
// resumes once space is freed; every reading is then there once.
TEST_F(FaultTest, ADiskFullPausesIngestionAndItResumesWhenSpaceIsFreed) {
    const fs::path mnt = dir / "small";
    fs::create_directories(mnt);
    if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=16m,mode=0700") != 0)
        GTEST_SKIP() << "cannot mount a tmpfs here (needs root): " << std::strerror(errno);
    struct Unmount {
        fs::path p;
        ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
    } unmount{mnt};
    db_path = mnt / "mb.db";
    constexpr int kMessages = 20000;
    write_config();
    create_sessions();
    // Leave ≈ 1.5 MiB: the daemon's first commits fit, the stream does not.
    {
        std::ofstream filler(mnt / "filler", std::ios::binary);
        const std::string block(1 << 20, 'x');
        for (int i = 0; i < 14; ++i) filler << block;
        filler << std::string(512 << 10, 'x');
    }
    auto d = start_daemon();
    ASSERT_TRUE(d->wait_for_log("session resumed", 10s)) << d->stderr_text();
    {
        MqttPublisher pub(broker->port(), "pub-full", 4, false);
        for (int i = 0; i < kMessages; ++i) pub.publish("meters/f/readings", reading(i, "f"), 1);
        ASSERT_TRUE(pub.wait_all_acked(60s));
    }
    ASSERT_TRUE(d->wait_for_log("ingestion paused", 60s)) << d->stderr_text();
    EXPECT_NE(d->stderr_text().find("full"), std::string::npos) << d->stderr_text();
    const auto before = readings();
    EXPECT_LT(before, kMessages);
    fs::remove(mnt / "filler");
    ASSERT_TRUE(eventually([&] { return readings() == kMessages; }, 90s)) << readings() << "\n"
                                                                          << d->stderr_text();
    EXPECT_NE(d->stderr_text().find("ingestion resumed"), std::string::npos) << d->stderr_text();
    expect_exactly_once(kMessages);
    stop(d);
}

// A store stuck for seconds while 100,000 messages arrive: the daemon stops
// reading (the broker holds the rest), its memory stays bounded, and
// everything is stored once the store comes back.
TEST_F(FaultTest, AStuckStorePushesBackToTheBrokerWithBoundedMemory) {
    constexpr int kMessages = 100000;
    write_config();
    create_sessions();
    auto d = start_daemon();
    ASSERT_TRUE(d->wait_for_log("session resumed", 10s)) << d->stderr_text();
    auto lock = operator_transaction("BEGIN IMMEDIATE;");
    std::this_thread::sleep_for(300ms);
    std::int64_t peak_rss = 0;
    {
        Stream s(broker->port(), "pub-stuck", "meters/s/readings", "s", kMessages, 1);
        while (!s.done()) {
            peak_rss = std::max(peak_rss, proc_status_kib(d->pid(), "VmRSS:"));
            std::this_thread::sleep_for(50ms);
        }
        s.join();
        ASSERT_TRUE(s.wait_all_acked(60s));  // the broker took everything
    }
    ASSERT_TRUE(d->wait_for_log("ingestion paused", 20s)) << d->stderr_text();
    for (int i = 0; i < 20; ++i) {
        peak_rss = std::max(peak_rss, proc_status_kib(d->pid(), "VmRSS:"));
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(readings(), 0);  // still locked: the broker holds what the daemon did not read
    lock->signal(SIGKILL);
    lock->wait(10s);
    ASSERT_TRUE(eventually([&] { return readings() == kMessages; }, 120s)) << readings() << "\n"
                                                                           << d->stderr_text();
    const auto hwm = proc_status_kib(d->pid(), "VmHWM:");
    RecordProperty("peak_rss_kib_while_stuck", std::to_string(peak_rss));
    RecordProperty("vmhwm_kib", std::to_string(hwm));
    // Sanitizers' shadow memory and quarantine make RSS meaningless there.
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    EXPECT_LT(peak_rss, 64 * 1024) << "KiB while the store was stuck";
#endif
    expect_exactly_once(kMessages);
    stop(d);
}

}  // namespace
}  // namespace mb::test
