// The HTTP listener: /metrics against the database after a real MQTT run,
// /healthz and `status` exit codes with a connector that cannot connect, the
// reject log under a flood, promtool on a real scrape; and the server
// in-process with small bounds (header size, connections, deadline).
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>

#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "daemon/http/http_server.h"
#include "normalize/time_format.h"
#include "storage/clock.h"
#include "tests/support/chromium.h"
#include "tests/support/eventually.h"
#include "tests/support/http_client.h"
#include "tests/support/mosquitto_broker.h"
#include "tests/support/mqtt_publisher.h"
#include "tests/support/process.h"
#include "tests/support/socket_wait.h"
#include "tests/support/temp_dir.h"
#include "tests/support/view_rows.h"

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

class HttpTest : public ::testing::Test {
  protected:
    fs::path db() const { return dir / "mb.db"; }
    fs::path config() const { return dir / "mb.toml"; }
    void write_config(std::uint16_t broker_port) {
        write_file(config(),
                   fmt::format(
                       "[storage]\npath = \"{}\"\nsynchronous = \"normal\"\n\n"
                       "[http]\nlisten = \"127.0.0.1:0\"\n\n"
                       "[brokers.local]\nhost = \"127.0.0.1\"\nport = {}\nkeepalive = \"10s\"\n\n"
                       "[[connectors]]\nname = \"feed\"\ntype = \"canonical\"\nbroker = \"local\"\n"
                       "topics = [\"meters/+/readings\"]\nqos = 1\n",
                       db().string(), broker_port));
    }
    std::unique_ptr<Process> start_daemon() {
        auto p = std::make_unique<Process>(
            std::vector<std::string>{MB_BINARY, "run", "-c", config().string()}, dir.path());
        EXPECT_TRUE(p->wait_for_log("http listening on", 10s)) << p->stderr_text();
        port = logged_port(*p);
        return p;
    }
    RunResult status() { return run_binary({MB_BINARY, "status", "-c", config().string()}, 30s); }

    TempDir dir;
    std::uint16_t port = 0;
};

TEST_F(HttpTest, CountersEqualTheDatabaseAfterAMixedRunAndPromtoolAcceptsTheScrape) {
    MosquittoBroker broker(dir / "broker");
    write_config(broker.port());
    auto d = start_daemon();
    ASSERT_NE(port, 0);
    ASSERT_TRUE(d->wait_for_log("subscribed to", 10s)) << d->stderr_text();
    MqttPublisher pub(broker.port());
    for (int i = 0; i < 40; ++i) pub.publish("meters/a/readings", reading(i, i * 1.5), 1);
    for (int i = 0; i < 15; ++i) pub.publish("meters/b/readings", reading(i, i * 1.5), 1);  // dup
    for (int i = 0; i < 3; ++i) pub.publish("meters/a/readings", reading(i, 99.25 + i), 1);  // rev
    for (int i = 0; i < 4; ++i) pub.publish("meters/a/readings", "not json {", 1);
    for (int i = 0; i < 2; ++i)
        pub.publish("meters/a/readings",
                    R"({"meter":"m1","quantity":"electricity.energy.consumption","value":1})", 1);
    ASSERT_TRUE(pub.wait_all_acked(20s));
    ASSERT_TRUE(eventually([&] { return scalar(db(), "SELECT count(*) FROM messages") == 64; }, 20s))
        << d->stderr_text();

    const auto m = http_get(port, "/metrics");
    ASSERT_EQ(m.status, 200u) << m.head;
    EXPECT_NE(m.head.find("text/plain; version=0.0.4"), std::string::npos) << m.head;
    const auto& t = m.body;
    auto db_count = [&](const std::string& sql) { return static_cast<double>(scalar(db(), sql)); };
    EXPECT_EQ(sample(t, R"(meterbridge_readings_total{source="feed",result="new"})"),
              db_count("SELECT count(*) FROM readings"));
    EXPECT_EQ(sample(t, R"(meterbridge_readings_total{source="feed",result="revision"})"),
              db_count("SELECT count(*) FROM revisions"));
    EXPECT_EQ(sample(t, R"(meterbridge_readings_total{source="feed",result="duplicate"})"),
              db_count("SELECT duplicates FROM source_stats WHERE source = 'feed'"));
    EXPECT_EQ(sample(t, R"(meterbridge_messages_total{source="feed",outcome="accepted"})"),
              db_count("SELECT count(*) FROM messages WHERE reason IS NULL"));
    EXPECT_EQ(sample(t, R"(meterbridge_messages_total{source="feed",outcome="rejected"})"),
              db_count("SELECT count(*) FROM messages WHERE reason IS NOT NULL"));
    for (const std::string code : {"malformed", "missing_field"})
        EXPECT_EQ(sample(t, R"(meterbridge_rejected_total{source="feed",reason=")" + code + "\"}"),
                  db_count("SELECT count(*) FROM messages WHERE reason LIKE '" + code + ":%'"))
            << code << "\n" << t;
    // Non-trivial: each kind happened.
    EXPECT_EQ(sample(t, R"(meterbridge_readings_total{source="feed",result="revision"})"), 3);
    EXPECT_EQ(sample(t, R"(meterbridge_rejected_total{source="feed",reason="malformed"})"), 4);
    EXPECT_GT(sample(t, R"(meterbridge_readings_total{source="feed",result="duplicate"})"), 0);
    EXPECT_EQ(sample(t, R"(meterbridge_connector_up{source="feed",type="canonical"})"), 1);
    EXPECT_GT(sample(t, R"(meterbridge_last_message_timestamp_seconds{source="feed"})"), 1.7e9);
    EXPECT_GT(sample(t, "meterbridge_commit_duration_seconds_count"), 0);
    EXPECT_EQ(sample(t, R"(meterbridge_commit_duration_seconds_bucket{le="+Inf"})"),
              sample(t, "meterbridge_commit_duration_seconds_count"));
    EXPECT_EQ(sample(t, R"(meterbridge_meters_stale{source="feed"})"), 0);
    EXPECT_GT(sample(t, "meterbridge_database_bytes"), 4096);
    EXPECT_GT(sample(t, "process_resident_memory_bytes"), 0);
    EXPECT_GT(sample(t, "process_open_fds"), 3);
    EXPECT_GT(sample(t, "process_start_time_seconds"), 1.7e9);

    write_file(dir / "scrape.txt", t);
    const auto check = run_binary({"/bin/sh", "-c", "promtool check metrics < " + (dir / "scrape.txt").string()}, 30s);
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;

    // Healthy: 200 and exit 0.
    const auto h = http_get(port, "/healthz");
    EXPECT_EQ(h.status, 200u) << h.body;
    EXPECT_NE(h.body.find(R"("status":"ok")"), std::string::npos) << h.body;
    const auto s = status();
    EXPECT_EQ(s.exit_code, 0) << s.out << s.err;

    // HEAD: the headers alone; other methods 405; unknown paths 404.
    const auto head = http_get(port, "/healthz", "HEAD");
    EXPECT_EQ(head.status, 200u);
    EXPECT_EQ(head.body, "");
    EXPECT_EQ(http_get(port, "/metrics", "POST").status, 405u);
    EXPECT_EQ(http_get(port, "/nothing").status, 404u);

    // Terminal timestamps: ISO 8601 UTC with Z.
    EXPECT_TRUE(std::regex_search(d->stderr_text(),
                                  std::regex(R"((^|\n)\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info http listening)")))
        << d->stderr_text().substr(0, 200);
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(10s), 0) << d->stderr_text();
}

// GET / from the running daemon, in a real browser: the live connector and
// rejects, and the chosen meter's chart with one point per stored reading and
// its gap where two readings never came.
TEST_F(HttpTest, TheStatusPageServedByTheDaemonDrawsTheStoredReadingsAndTheirGap) {
    MosquittoBroker broker(dir / "broker");
    write_config(broker.port());
    auto d = start_daemon();
    ASSERT_NE(port, 0);
    ASSERT_TRUE(d->wait_for_log("subscribed to", 10s)) << d->stderr_text();
    const std::string quantity = "electricity.energy.consumption";
    constexpr TimeMs kSlot = 900000;
    const TimeMs t0 = (now_ms() / kSlot - 20) * kSlot;  // inside the page's one-day window
    MqttPublisher pub(broker.port());
    for (TimeMs i = 0; i < 20; ++i) {
        if (i == 8 || i == 9) continue;  // the gap
        const TimeMs start = t0 + i * kSlot;
        pub.publish("meters/p/readings",
                    fmt::format(R"({{"meter":"p1","quantity":"{}","value":{},"ts_start":{},"ts_end":{}}})",
                                quantity, 1.25 * static_cast<double>(i) + 0.1, start, start + kSlot),
                    1);
    }
    pub.publish("meters/p/readings", "not json {", 1);
    ASSERT_TRUE(pub.wait_all_acked(20s));
    ASSERT_TRUE(eventually([&] { return scalar(db(), "SELECT count(*) FROM messages") == 19; }, 20s))
        << d->stderr_text();

    const std::string target = "/?source=feed&meter=p1&quantity=" + quantity + "&window=P1D";
    const auto reply = http_get(port, target);
    ASSERT_EQ(reply.status, 200u) << reply.head;
    EXPECT_NE(reply.head.find("Content-Security-Policy: default-src 'none'"), std::string::npos)
        << reply.head;
    EXPECT_NE(reply.head.find("text/html"), std::string::npos) << reply.head;

    const auto dom = test::chromium_dump_url(fmt::format("http://127.0.0.1:{}{}", port, target));
    const auto connectors = dom.substr(dom.find("<table id=\"connectors\""));
    EXPECT_NE(connectors.find("<td>feed</td>"), std::string::npos) << connectors.substr(0, 600);
    const auto rejects = dom.find("<table id=\"rejects\"");
    ASSERT_NE(rejects, std::string::npos) << dom;
    EXPECT_NE(dom.find("malformed", rejects), std::string::npos);

    struct Stored {
        TimeMs start, end;
        double value;
    };
    std::vector<Stored> stored;
    {
        auto ro = open_read_only(db());
        sql::Stmt st(ro, "SELECT ts_start_ms, ts_end_ms, value FROM readings_v WHERE meter = 'p1' "
                         "ORDER BY ts_start_ms");
        while (st.step()) stored.push_back({st.column_int(0), st.column_int(1), st.column_double(2)});
    }
    ASSERT_EQ(stored.size(), 18u);
    static const std::regex point(
        R"re(<circle class="pt"[^>]* data-start="([^"]+)" data-ts="([^"]+)" data-value="([^"]+)")re");
    std::vector<std::smatch> points;
    for (std::sregex_iterator it(dom.begin(), dom.end(), point), end; it != end; ++it)
        points.push_back(*it);
    ASSERT_EQ(points.size(), stored.size()) << dom.substr(0, 2000);
    for (std::size_t i = 0; i < stored.size(); ++i) {
        EXPECT_EQ(points[i][1].str(), format_iso_ms(stored[i].start));
        EXPECT_EQ(points[i][2].str(), format_iso_ms(stored[i].end));
        EXPECT_EQ(std::stod(points[i][3].str()), stored[i].value);
    }
    EXPECT_NE(dom.find(fmt::format("data-from=\"{}\" data-to=\"{}\"", format_iso_ms(t0 + 8 * kSlot),
                                   format_iso_ms(t0 + 10 * kSlot))),
              std::string::npos)
        << "the two missing readings are drawn as a gap";
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(10s), 0) << d->stderr_text();
}

TEST_F(HttpTest, AConnectorAtADeadPortIsDownReconnectsGrowAndHealthSays503AndStatus75) {
    write_config(free_port());  // nobody listens there
    auto d = start_daemon();
    ASSERT_NE(port, 0);
    double first = -1;
    ASSERT_TRUE(eventually([&] {
        first = sample(http_get(port, "/metrics").body,
                       R"(meterbridge_connector_reconnects_total{source="feed"})");
        return first >= 1;
    }, 10s)) << d->stderr_text();
    const auto t = http_get(port, "/metrics").body;
    EXPECT_EQ(sample(t, R"(meterbridge_connector_up{source="feed",type="canonical"})"), 0) << t;
    // The backoff starts at a second: a few seconds later there are more attempts.
    EXPECT_TRUE(eventually([&] {
        return sample(http_get(port, "/metrics").body,
                      R"(meterbridge_connector_reconnects_total{source="feed"})") > first;
    }, 10s));
    const auto h = http_get(port, "/healthz");
    EXPECT_EQ(h.status, 503u) << h.body;
    EXPECT_NE(h.body.find(R"("status":"degraded")"), std::string::npos) << h.body;
    EXPECT_NE(h.body.find("connector feed is reconnecting"), std::string::npos) << h.body;
    const auto s = status();
    EXPECT_EQ(s.exit_code, 75) << s.out << s.err;
    EXPECT_NE(s.err.find("degraded: connector feed is reconnecting"), std::string::npos) << s.err;
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(10s), 0) << d->stderr_text();
}

// 1000 rejections of one reason: a bounded number of lines, whose counts add up.
TEST_F(HttpTest, AFloodOfRejectsLogsABoundedNumberOfLinesWithTheirCount) {
    MosquittoBroker broker(dir / "broker");
    write_config(broker.port());
    auto d = start_daemon();
    ASSERT_TRUE(d->wait_for_log("subscribed to", 10s)) << d->stderr_text();
    MqttPublisher pub(broker.port());
    for (int i = 0; i < 1000; ++i) pub.publish("meters/a/readings", "not json " + std::to_string(i), 1);
    ASSERT_TRUE(pub.wait_all_acked(30s));
    ASSERT_TRUE(eventually(
        [&] { return scalar(db(), "SELECT count(*) FROM messages WHERE reason IS NOT NULL") == 1000; },
        30s));
    d->signal(SIGTERM);  // the pending count is logged at stop
    EXPECT_EQ(d->wait(10s), 0) << d->stderr_text();
    static const std::regex line_re(R"(feed: rejected (?:(\d+) more|(\d+)) messages? \(malformed\))");
    const std::string err = d->stderr_text();
    std::uint64_t lines = 0, total = 0;
    for (auto it = std::sregex_iterator(err.begin(), err.end(), line_re); it != std::sregex_iterator(); ++it) {
        ++lines;
        total += std::stoull((*it)[1].matched ? (*it)[1].str() : (*it)[2].str());
    }
    EXPECT_GE(lines, 1u);
    EXPECT_LE(lines, 3u) << err;
    EXPECT_EQ(total, 1000u) << err;
    EXPECT_NE(err.find("e.g. on topic meters/a/readings: malformed:"), std::string::npos) << err;
}

// A port already taken: the daemon logs it at error and runs without the listener.
TEST_F(HttpTest, AListenAddressInUseIsAnErrorNotAFailure) {
    const int taken = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(taken, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(taken, 1), 0);
    socklen_t len = sizeof a;
    ::getsockname(taken, reinterpret_cast<sockaddr*>(&a), &len);
    const auto busy = ntohs(a.sin_port);
    write_file(config(), fmt::format("[storage]\npath = \"{}\"\n[http]\nlisten = \"127.0.0.1:{}\"\n",
                                     db().string(), busy));
    Process d({MB_BINARY, "run", "-c", config().string()}, dir.path());
    EXPECT_TRUE(d.wait_for_log("meterbridge running", 10s)) << d.stderr_text();
    EXPECT_NE(d.stderr_text().find(fmt::format("error no HTTP listener: cannot listen on 127.0.0.1:{}: "
                                               "Address already in use", busy)),
              std::string::npos)
        << d.stderr_text();
    EXPECT_EQ(status().exit_code, 0);
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait(10s), 0) << d.stderr_text();
    ::close(taken);
}

// The server in-process with small bounds.
class HttpServerBounds : public ::testing::Test {
  protected:
    void SetUp() override {
        http::ServerOptions o;
        o.max_connections = 4;
        o.deadline = 700ms;
        server = std::make_unique<http::Server>(io, "127.0.0.1:0", o);
        server->route("/x", [](const http::Request&) {
            http::Response r;
            r.body = "x\n";
            return r;
        });
        server->start();
        port = server->local_endpoint().port();
        thread = std::thread([this] { io.run(); });
    }
    void TearDown() override {
        boost::asio::post(io, [this] { server->stop(); });
        io.stop();
        thread.join();
    }
    boost::asio::io_context io;
    std::unique_ptr<http::Server> server;
    std::uint16_t port = 0;
    std::thread thread;
};

TEST_F(HttpServerBounds, AnOverlongHeaderIsRefusedWith431AndClosed) {
    const int fd = connect_tcp(port);
    ASSERT_GE(fd, 0);
    const std::string req = "GET /x HTTP/1.1\r\nHost: a\r\nX-Long: " + std::string(9000, 'a') + "\r\n\r\n";
    ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    const std::string reply = read_all(fd, 3s);
    ::close(fd);
    EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 431") << reply;
    // An over-long request line too.
    const int fd2 = connect_tcp(port);
    const std::string line = "GET /" + std::string(9000, 'b') + " HTTP/1.1\r\nHost: a\r\n\r\n";
    ::send(fd2, line.data(), line.size(), MSG_NOSIGNAL);
    const std::string reply2 = read_all(fd2, 3s);
    ::close(fd2);
    EXPECT_EQ(reply2.substr(0, 12), "HTTP/1.1 431") << reply2;
    // A normal request still works, kept alive for a second one.
    EXPECT_EQ(http_get(port, "/x").body, "x\n");
}

TEST_F(HttpServerBounds, TheConnectionOverTheLimitIsClosedAtOnce) {
    std::vector<int> idle;
    for (int i = 0; i < 4; ++i) idle.push_back(connect_tcp(port));
    std::this_thread::sleep_for(100ms);  // accepted
    const int extra = connect_tcp(port);
    ASSERT_GE(extra, 0);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(closed_by_peer(extra, 2s));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);  // not the 700 ms deadline
    ::close(extra);
    for (int fd : idle) ::close(fd);
    // Places free again once they are closed.
    EXPECT_TRUE(eventually([&] { return http_get(port, "/x").status == 200; }, 3s));
}

TEST_F(HttpServerBounds, AnIdleConnectionIsClosedAfterTheDeadline) {
    const int fd = connect_tcp(port);
    ASSERT_GE(fd, 0);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(closed_by_peer(fd, 5s));
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(took, 500ms);
    EXPECT_LT(took, 3s);
    ::close(fd);
}

}  // namespace
}  // namespace mb::test
