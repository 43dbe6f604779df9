// The control socket: the real binary against idle connections, a peer it
// must refuse and a daemon that is gone; and the server in-process against a
// full house, where every place holds a request in progress.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>

#include <simdjson.h>

#include "daemon/control/control_client.h"
#include "daemon/control/control_server.h"
#include "tests/support/process.h"
#include "tests/support/socket_wait.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace mb::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A connected socket that never sends anything; -1 when connect failed.
int connect_idle(const fs::path& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

class ControlTest : public ::testing::Test {
  protected:
    fs::path config() const { return dir / "meterbridge.toml"; }
    fs::path socket() const { return dir / "control.sock"; }
    // `extra`: connectors and jobs, after [storage] and [control].
    std::unique_ptr<Process> start_daemon(const std::string& extra = "") {
        write_file(config(),
                   fmt::format("[storage]\npath = \"{}\"\n[control]\nsocket = \"{}\"\n{}",
                               (dir / "data" / "mb.db").string(), socket().string(), extra));
        auto p = std::make_unique<Process>(
            std::vector<std::string>{MB_BINARY, "run", "-c", config().string()}, dir.path(),
            std::vector{notify.env()});
        EXPECT_TRUE(notify.wait_for("READY=1", 10s)) << p->stderr_text();
        EXPECT_TRUE(p->wait_for_log("control socket", 10s)) << p->stderr_text();
        return p;
    }
    RunResult status(const std::string& format = "table") {
        return run_binary({MB_BINARY, "status", "-c", config().string(), "--format", format}, 30s);
    }
    RunResult jobs_run(const std::string& job) {
        return run_binary({MB_BINARY, "jobs", "-c", config().string(), "--run", job}, 30s);
    }
    void drop(const std::string& name, const std::string& text) {
        write_file(dir / (name + ".tmp"), text);
        fs::rename(dir / (name + ".tmp"), dir / "spool" / name);
    }
    TempDir dir;
    NotifySocket notify{dir / "notify.sock"};
};

// 40 connections that say nothing (more than the 32 that used to lock
// everyone out for 10 s) and `status` still answers at once.
TEST_F(ControlTest, IdleConnectionsDoNotLockStatusOut) {
    auto p = start_daemon();
    std::vector<int> idle;
    for (int i = 0; i < 40; ++i) {
        const int fd = connect_idle(socket());
        ASSERT_GE(fd, 0) << std::strerror(errno);
        idle.push_back(fd);
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = status();
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("connector"), std::string::npos) << r.out;
    EXPECT_LT(took, 1500ms);
    // The idle ones are dropped after the request deadline (2 s), not kept for 10 s.
    EXPECT_TRUE(closed_by_peer(idle.back(), 5s));
    for (const int fd : idle) ::close(fd);
    p->signal(SIGTERM);
    EXPECT_EQ(p->wait(10s), 0) << p->stderr_text();
}

// The socket file's mode is the first gate. Opened up by hand (0666), the
// daemon still refuses a user who is neither root, its user nor in its group,
// and the CLI says so: permission denied, exit 77. Changing uid needs root.
TEST_F(ControlTest, APeerOutsideTheDaemonsUserAndGroupIsRefusedWith77) {
    if (::geteuid() != 0) GTEST_SKIP() << "running the CLI as another user needs root";
    auto p = start_daemon();
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
    ASSERT_EQ(::chmod(config().c_str(), 0644), 0);
    ASSERT_EQ(::chmod(socket().c_str(), 0666), 0);
    const auto r = run_binary({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                               "--clear-groups", MB_BINARY, "status", "-c", config().string()},
                              30s);
    EXPECT_EQ(r.exit_code, 77) << r.out << r.err;
    EXPECT_NE(r.err.find("status: permission denied: the daemon refused the connection: uid "
                         "65534 (pid "),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("may not use the control socket"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(p->wait_for_log("control socket: refused: uid 65534", 5s)) << p->stderr_text();
    // Root still may.
    EXPECT_EQ(status().exit_code, 0);
    p->signal(SIGTERM);
    EXPECT_EQ(p->wait(10s), 0) << p->stderr_text();
}

// A daemon killed without cleaning up leaves its socket file: connecting is
// refused by the kernel, which the CLI reports as unreachable (69).
TEST_F(ControlTest, ASocketNobodyListensOnIsUnreachable69) {
    auto p = start_daemon();
    p->signal(SIGKILL);
    p->wait(10s);
    ASSERT_TRUE(fs::exists(socket()));
    const auto r = status();
    EXPECT_EQ(r.exit_code, 69) << r.err;
    EXPECT_NE(
        r.err.find("cannot reach the daemon at " + socket().string() + ": Connection refused"),
        std::string::npos)
        << r.err;
}

std::string spool_line(int slot, double value) {
    const std::int64_t start = 1646092800000 + std::int64_t{slot} * 900000;
    return fmt::format(R"({{"meter":"m1","quantity":"electricity.energy.consumption","value":{},)"
                       R"("ts_start":{},"ts_end":{}}})",
                       value, start, start + 900000);
}

std::uint64_t field(simdjson::dom::element e, const char* key) {
    std::uint64_t v = 0;
    EXPECT_EQ(e[key].get_uint64().get(v), simdjson::SUCCESS) << key;
    return v;
}

// The JSON of `status` holds what the table shows: the daemon-wide line (its
// text, and each of its counters as a number) besides the connectors.
TEST_F(ControlTest, StatusJsonHoldsTheDaemonWideCounters) {
    fs::create_directories(dir / "spool");
    auto p =
        start_daemon(fmt::format("[[connectors]]\nname = \"import\"\ntype = \"spool\"\n"
                                 "directory = \"{}\"\npoll_interval = \"50ms\"\n",
                                 (dir / "spool").string()));
    // Two new readings and a line that is not JSON; then one of them again
    // (a duplicate) and the other with a new value (a revision).
    drop("a.jsonl", spool_line(0, 1) + "\n" + spool_line(1, 2) + "\nnot json\n");
    ASSERT_TRUE(eventually([&] { return fs::exists(dir / "spool" / "done" / "a.jsonl"); }, 20s));
    drop("b.jsonl", spool_line(0, 1) + "\n" + spool_line(1, 3) + "\n");
    ASSERT_TRUE(eventually(
        [&] { return status().out.find("1 revisions, 1 rejected, 0 queued") != std::string::npos; },
        20s))
        << status().out;
    const auto table = status();
    ASSERT_EQ(table.exit_code, 0) << table.err;
    const auto r = status("json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
    std::string_view summary;
    ASSERT_EQ(doc["summary"].get_string().get(summary), simdjson::SUCCESS) << r.out;
    EXPECT_EQ(std::string(summary) + "\n", table.out.substr(0, table.out.find('\n') + 1));
    simdjson::dom::element daemon;
    ASSERT_EQ(doc["daemon"].get(daemon), simdjson::SUCCESS) << r.out;
    EXPECT_EQ(field(daemon, "readings"), 2u) << r.out;
    EXPECT_EQ(field(daemon, "duplicates"), 1u) << r.out;
    EXPECT_EQ(field(daemon, "revisions"), 1u) << r.out;
    EXPECT_EQ(field(daemon, "rejected"), 1u) << r.out;
    EXPECT_EQ(field(daemon, "queued"), 0u) << r.out;
    EXPECT_EQ(field(daemon, "connectors"), 1u) << r.out;
    EXPECT_EQ(field(daemon, "connectors_running"), 1u) << r.out;
    EXPECT_EQ(field(daemon, "reconnects"), 0u) << r.out;
    bool paused = true;
    EXPECT_EQ(daemon["storage_paused"].get_bool().get(paused), simdjson::SUCCESS);
    EXPECT_FALSE(paused);
    // The summary and the numbers say the same.
    EXPECT_NE(summary.find(
                  fmt::format("{} messages, 2 readings, 1 duplicates", field(daemon, "messages"))),
              std::string_view::npos)
        << summary;
    EXPECT_GE(field(daemon, "messages"), 4u);
    simdjson::dom::array connectors;
    ASSERT_EQ(doc["connectors"].get_array().get(connectors), simdjson::SUCCESS) << r.out;
    ASSERT_EQ(connectors.size(), 1u);
    std::string_view name;
    EXPECT_EQ(connectors.at(0)["connector"].get_string().get(name), simdjson::SUCCESS);
    EXPECT_EQ(name, "import");
    p->signal(SIGTERM);
    EXPECT_EQ(p->wait(10s), 0) << p->stderr_text();
}

// `jobs --run` with a name the daemon has no job for: the daemon answered, so
// it is the request that is wrong (65, not 69 "unreachable"), and the answer
// lists the jobs.
TEST_F(ControlTest, RunningAJobTheDaemonDoesNotHaveIs65WithTheJobs) {
    write_file(dir / "xmpp.pass", "secret\n");
    auto p = start_daemon(fmt::format(R"([[connectors]]
name = "enedis"
type = "enedis"
jid = "bridge@example.org/meterbridge"
password_file = "{}"
proxy = "proxy@example.org/proxy"
server = "127.0.0.1"
port = 9

[[jobs]]
name = "daily"
connector = "enedis"
command = "get_daily"
usage_points = ["22516914714270"]
schedule = "once"

[[jobs]]
name = "curve"
connector = "enedis"
command = "get_load_curve"
usage_points = ["22516914714270"]
schedule = "once"
)",
                                      (dir / "xmpp.pass").string()));
    const auto r = jobs_run("nosuch");
    EXPECT_EQ(r.exit_code, 65) << r.out << r.err;
    EXPECT_EQ(r.err, "jobs --run: no job named 'nosuch' (jobs: daily, curve)\n");
    EXPECT_EQ(r.out, "");
    // A job it has is started (its calls wait for the XMPP session).
    const auto known = jobs_run("daily");
    EXPECT_EQ(known.exit_code, 0) << known.out << known.err;
    EXPECT_EQ(known.out, "job daily started on connector enedis\n");
    p->signal(SIGTERM);
    EXPECT_EQ(p->wait(10s), 0) << p->stderr_text();
}

// The server in-process, with small bounds, and a handler that holds its
// replies until the test releases them.
class ControlServerTest : public ::testing::Test {
  protected:
    void start(ControlServerOptions options) {
        server = std::make_unique<ControlServer>(
            io, dir / "c.sock",
            [this](const control::Request&, ControlServer::Reply reply) {
                std::lock_guard lk(mu);
                held.push_back(std::move(reply));
            },
            options);
        boost::asio::post(io, [this] { server->start(); });
        thread = std::thread([this] { io.run(); });
    }
    std::size_t held_count() {
        std::lock_guard lk(mu);
        return held.size();
    }
    void release_all() {
        std::lock_guard lk(mu);
        for (auto& r : held) {
            control::Response ok;
            ok.status = "ok";
            ok.detail = "answered";
            r(ok);
        }
        held.clear();
    }
    ~ControlServerTest() override {
        boost::asio::post(io, [this] { server->stop(); });
        io.stop();
        if (thread.joinable()) thread.join();
    }
    TempDir dir;
    boost::asio::io_context io;
    std::unique_ptr<ControlServer> server;
    std::thread thread;
    std::mutex mu;
    std::vector<ControlServer::Reply> held;
};

TEST_F(ControlServerTest, ANewcomerTakesThePlaceOfTheOldestIdleConnection) {
    start({.max_connections = 3, .request_timeout = 60s});
    std::vector<int> idle;
    for (int i = 0; i < 3; ++i) {
        idle.push_back(connect_idle(dir / "c.sock"));
        ASSERT_GE(idle.back(), 0) << std::strerror(errno);
    }
    auto answer = std::async(std::launch::async, [&] {
        return control_call(dir / "c.sock", control::StatusRequest{}, 5s);
    });
    ASSERT_TRUE(eventually([&] { return held_count() == 1; }, 5s));
    release_all();
    EXPECT_EQ(answer.get().detail, "answered");
    EXPECT_TRUE(closed_by_peer(idle[0], 2s)) << "the oldest idle connection makes room";
    EXPECT_FALSE(closed_by_peer(idle[2], 200ms)) << "the newer ones keep their deadline";
    for (const int fd : idle) ::close(fd);
}

TEST_F(ControlServerTest, WhenEveryPlaceHoldsARequestTheNewcomerIsToldBusy) {
    start({.max_connections = 2, .request_timeout = 60s});
    std::vector<std::future<control::Response>> pending;
    for (int i = 0; i < 2; ++i)
        pending.push_back(std::async(std::launch::async, [&] {
            return control_call(dir / "c.sock", control::StatusRequest{}, 10s);
        }));
    ASSERT_TRUE(eventually([&] { return held_count() == 2; }, 5s));
    try {
        control_call(dir / "c.sock", control::StatusRequest{}, 5s);
        ADD_FAILURE() << "a full server must turn the newcomer away";
    } catch (const ControlUnavailable& e) {
        EXPECT_STREQ(e.what(),
                     "the daemon is busy: 2 requests are in progress, the most the control "
                     "socket serves at once; try again when one is answered");
    }
    release_all();
    for (auto& f : pending) EXPECT_EQ(f.get().status, "ok");
    // Room again.
    auto again = std::async(std::launch::async, [&] {
        return control_call(dir / "c.sock", control::StatusRequest{}, 5s);
    });
    ASSERT_TRUE(eventually([&] { return held_count() == 1; }, 5s));
    release_all();
    EXPECT_EQ(again.get().status, "ok");
}

TEST_F(ControlServerTest, NoAnswerInTimeIsUnavailableAndSilentConnectionsAreDropped) {
    start({.max_connections = 8, .request_timeout = 300ms});
    try {
        control_call(dir / "c.sock", control::StatusRequest{}, 500ms);
        ADD_FAILURE() << "the handler never answers";
    } catch (const ControlUnavailable& e) {
        EXPECT_NE(std::string(e.what()).find("no answer from the daemon at"), std::string::npos)
            << e.what();
    }
    const int fd = connect_idle(dir / "c.sock");
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(closed_by_peer(fd, 2s));
    ::close(fd);
    release_all();
}

}  // namespace
}  // namespace mb::test
