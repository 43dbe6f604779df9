// The real meterbridge binary as systemd runs it: sd_notify, signals, reload,
// and no loss across a SIGTERM in the middle of an ingestion.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "storage/query.h"
#include "tests/support/process.h"
#include "tests/support/view_rows.h"
#include "tests/support/xmpp_stand_in.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace mb::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr TimeMs kT0 = 1646092800000;

std::string spool_config(const fs::path& db, const std::vector<std::string>& dirs) {
    std::string c = fmt::format("[storage]\npath = \"{}\"\n\n", db.string());
    for (std::size_t i = 0; i < dirs.size(); ++i)
        c += fmt::format(
            "[[connectors]]\nname = \"import{}\"\ntype = \"spool\"\ndirectory = \"{}\"\n"
            "poll_interval = \"50ms\"\nbatch_lines = 500\n\n",
            i, dirs[i]);
    return c;
}

// Writes `lines` distinct readings (meters x 15-minute slots) into dir/name, atomically.
void drop_spool_file(const fs::path& dir, const std::string& name, int lines,
                     const std::string& meter_prefix = "m") {
    fs::create_directories(dir);
    std::string text;
    text.reserve(static_cast<std::size_t>(lines) * 150);
    for (int i = 0; i < lines; ++i) {
        const TimeMs start = kT0 + static_cast<TimeMs>(i / 100) * 900000;
        text += fmt::format(
            R"({{"meter":"{}{}","quantity":"electricity.energy.consumption","value":{},)"
            R"("ts_start":{},"ts_end":{}}})"
            "\n",
            meter_prefix, i % 100, i, start, start + 900000);
    }
    write_file(dir / (name + ".tmp"), text);
    fs::rename(dir / (name + ".tmp"), dir / name);
}

std::int64_t count_readings(const fs::path& db, const std::string& where = "1") {
    if (!fs::exists(db)) return 0;
    auto ro = open_read_only(db);
    return ro.scalar_int(("SELECT count(*) FROM readings_v WHERE " + where).c_str()).value_or(0);
}

class DaemonTest : public ::testing::Test {
  protected:
    fs::path config() const { return dir / "meterbridge.toml"; }
    fs::path db() const { return dir / "data" / "mb.db"; }
    std::unique_ptr<Process> start(const std::vector<std::string>& env = {}) {
        auto e = env;
        e.push_back(notify.env());
        return std::make_unique<Process>(
            std::vector<std::string>{MB_BINARY, "run", "-c", config().string()}, dir.path(), e);
    }
    TempDir dir;
    NotifySocket notify{dir / "notify.sock"};
};

TEST_F(DaemonTest, FreshDatabaseGetsEveryContractViewAndSigtermExitsZero) {
    write_file(config(), fmt::format("[storage]\npath = \"{}\"\n", db().string()));
    auto p = start();
    ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << p->stderr_text();
    {
        auto ro = open_read_only(db());
        for (const char* v :
             {"readings_v", "states_v", "rejected_v", "revisions_v", "consents_v", "devices_v"})
            EXPECT_EQ(
                ro.scalar_int(
                    fmt::format(
                        "SELECT count(*) FROM sqlite_schema WHERE type='view' AND name='{}'", v)
                        .c_str()),
                1)
                << v;
    }
    p->signal(SIGTERM);
    EXPECT_TRUE(notify.wait_for("STOPPING=1", 10s));
    EXPECT_EQ(p->wait(10s), 0) << p->stderr_text();
}

// Started with a permissive umask (022), the daemon still keeps its files to
// itself and its group: database and WAL 0640, control socket 0660. As root it
// says it should not be.
TEST_F(DaemonTest, DatabaseFilesAre0640AndTheControlSocket0660WhateverTheUmask) {
    write_file(config(), fmt::format("[storage]\npath = \"{}\"\n", db().string()));
    const mode_t old = ::umask(022);
    auto p = start();
    ::umask(old);
    ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << p->stderr_text();
    ASSERT_TRUE(p->wait_for_log("control socket", 10s)) << p->stderr_text();
    const auto mode = [](const fs::path& f) {
        struct stat st {};
        if (::stat(f.c_str(), &st) != 0) return 0u;
        return static_cast<unsigned>(st.st_mode & 0777);
    };
    EXPECT_EQ(mode(db()), 0640u);
    EXPECT_EQ(mode(db().string() + "-wal"), 0640u);
    EXPECT_EQ(mode(db().string() + ".sock"), 0660u);
    EXPECT_EQ(p->stderr_text().find("running as root") != std::string::npos, ::geteuid() == 0)
        << p->stderr_text();
    p->signal(SIGTERM);
    EXPECT_EQ(p->wait(10s), 0) << p->stderr_text();
}

TEST_F(DaemonTest, SigtermMidIngestionLosesNothingAndRestartStoresNothingTwice) {
    constexpr int kLines = 100000;
    const auto spool = dir / "spool";
    drop_spool_file(spool, "a.jsonl", kLines);
    write_file(config(), spool_config(db(), {spool.string()}));

    auto p = start();
    ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << p->stderr_text();
    EXPECT_TRUE(notify.last().find("STATUS=") != std::string::npos &&
                notify.last().find("connectors 1/1 running, 0 reconnects") != std::string::npos)
        << notify.last();
    // Let it get some way in, reload once on the way, then stop it mid-file.
    ASSERT_TRUE(eventually([&] { return count_readings(db()) > 0; }, 20s)) << p->stderr_text();
    p->signal(SIGHUP);
    ASSERT_TRUE(p->wait_for_log("reload done", 10s)) << p->stderr_text();
    p->signal(SIGTERM);
    ASSERT_EQ(p->wait(30s), 0) << p->stderr_text();

    // Everything the writer reported as stored is in the database.
    const std::string log = p->stderr_text();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(log, m, std::regex(R"((\d+) readings stored)"))) << log;
    const std::int64_t stored_first = std::stoll(m[1]);
    EXPECT_EQ(count_readings(db()), stored_first);
    const bool finished_first = fs::exists(spool / "done" / "a.jsonl");

    // Restart: the rest arrives, what was already stored counts as duplicates.
    auto p2 = start();
    ASSERT_TRUE(eventually([&] { return fs::exists(spool / "done" / "a.jsonl"); }, 60s))
        << p2->stderr_text();
    p2->signal(SIGTERM);
    ASSERT_EQ(p2->wait(30s), 0) << p2->stderr_text();

    EXPECT_EQ(count_readings(db()), kLines);
    auto ro = open_read_only(db());
    EXPECT_EQ(
        ro.scalar_int("SELECT count(*) FROM (SELECT DISTINCT meter, ts_start FROM readings_v)"),
        kLines);
    EXPECT_EQ(ro.scalar_int("SELECT sum(value) FROM readings"),
              static_cast<std::int64_t>(kLines) * (kLines - 1) / 2);
    const auto stats = source_stats(ro);
    ASSERT_EQ(stats.size(), 1u);
    EXPECT_EQ(stats[0].readings, kLines);
    EXPECT_EQ(stats[0].revisions, 0);
    if (!finished_first) {
        EXPECT_GE(stats[0].duplicates, 1) << "the second run re-read the file";
    }
    EXPECT_EQ(stats[0].messages, kLines + stats[0].duplicates);
}

// The README's reading-time rule holds for spool lines too, state events included:
// each implausible line is rejected with its reason, the others are stored.
TEST_F(DaemonTest, SpoolLinesDatedBefore1990OrFarAheadAreRejectedWithTheirReason) {
    const auto spool = dir / "spool";
    fs::create_directories(spool);
    write_file(spool / "t.tmp",
               R"({"meter":"w7","key":"valve_state","value":"open","ts":"1971-01-01T00:00:00Z"})"
               "\n"
               R"({"meter":"w7","key":"valve_state","value":"closed","ts":"9999-12-31T00:00:00Z"})"
               "\n"
               R"({"meter":"w7","quantity":"water.volume.index","value":1,"ts_start":1000})"
               "\n"
               R"({"meter":"w7","key":"valve_state","value":"opened","ts":"2022-03-01T00:00:00Z"})"
               "\n");
    fs::rename(spool / "t.tmp", spool / "t.jsonl");
    write_file(config(), spool_config(db(), {spool.string()}));
    auto p = start();
    ASSERT_TRUE(eventually([&] { return fs::exists(spool / "done" / "t.jsonl"); }, 20s))
        << p->stderr_text();
    EXPECT_EQ(rows(db(), "SELECT meter, key, value, ts FROM states_v"),
              (std::vector<std::string>{"w7|valve_state|opened|2022-03-01T00:00:00.000Z"}));
    EXPECT_EQ(count(db(), "SELECT count(*) FROM readings_v"), 0);
    const auto rejected = rows(db(), "SELECT topic, reason FROM rejected_v ORDER BY topic");
    ASSERT_EQ(rejected.size(), 3u);
    EXPECT_EQ(rejected[0],
              "t.jsonl:1|out_of_range: state event 0 (valve_state of meter w7) is at "
              "1971-01-01T00:00:00.000Z, before 1990: seconds read as milliseconds, or a meter "
              "clock never set?");
    EXPECT_EQ(rejected[1].rfind("t.jsonl:2|out_of_range: state event 0 (valve_state of meter w7) "
                                "is at 9999-12-31T00:00:00.000Z, more than a day after it was "
                                "received",
                                0),
              0u)
        << rejected[1];
    EXPECT_EQ(rejected[2].rfind("t.jsonl:3|out_of_range: reading 0 (water.volume.index of meter "
                                "w7) is at 1970-01-01T00:00:01.000Z, before 1990",
                                0),
              0u)
        << rejected[2];
    p->signal(SIGTERM);
    EXPECT_EQ(p->wait(20s), 0) << p->stderr_text();
}

TEST_F(DaemonTest, SighupAppliesAValidConfigAndKeepsRunningOnAnInvalidOne) {
    const auto a = dir / "a", b = dir / "b";
    write_file(config(), spool_config(db(), {a.string()}));
    auto p = start();
    ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << p->stderr_text();

    // Add a second connector.
    write_file(config(), spool_config(db(), {a.string(), b.string()}));
    p->signal(SIGHUP);
    ASSERT_TRUE(notify.wait_for("RELOADING=1", 10s));
    ASSERT_TRUE(p->wait_for_log("reload done: 0 connector(s) stopped, 1 started, 2 running", 10s))
        << p->stderr_text();
    drop_spool_file(b, "b.jsonl", 10, "b");
    EXPECT_TRUE(eventually([&] { return count_readings(db(), "source = 'import1'") == 10; }, 20s))
        << p->stderr_text();

    // A broken file is refused; the running configuration keeps working.
    write_file(config(), spool_config(db(), {a.string(), b.string()}) + "\n[storage2]\nx = 1\n");
    p->signal(SIGHUP);
    ASSERT_TRUE(p->wait_for_log("reload rejected", 10s)) << p->stderr_text();
    EXPECT_NE(p->stderr_text().find("storage2: unknown key"), std::string::npos)
        << p->stderr_text();
    drop_spool_file(a, "a.jsonl", 5, "a");
    EXPECT_TRUE(eventually([&] { return count_readings(db(), "source = 'import0'") == 5; }, 20s))
        << p->stderr_text();
    EXPECT_FALSE(p->wait(0ms).has_value()) << "the daemon must survive a bad reload";

    p->signal(SIGTERM);
    EXPECT_EQ(p->wait(20s), 0) << p->stderr_text();
}

TEST_F(DaemonTest, WatchdogPingsWhileTheWriterIsAlive) {
    write_file(config(), fmt::format("[storage]\npath = \"{}\"\n", db().string()));
    auto p = start({"WATCHDOG_USEC=600000"});
    ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << p->stderr_text();
    EXPECT_TRUE(notify.wait_for("WATCHDOG=1", 5s)) << p->stderr_text();
    p->signal(SIGINT);
    EXPECT_EQ(p->wait(10s), 0);
}

TEST_F(DaemonTest, LogsCarryJournalPrioritiesUnderSystemd) {
    write_file(config(), fmt::format("[storage]\npath = \"{}\"\n", db().string()));
    auto p = start({"JOURNAL_STREAM=8:1234"});
    ASSERT_TRUE(notify.wait_for("READY=1", 10s));
    p->signal(SIGTERM);
    ASSERT_EQ(p->wait(10s), 0);
    const auto err = p->stderr_text();
    EXPECT_NE(err.find("<6>meterbridge running"), std::string::npos) << err;
    for (std::size_t pos = 0; pos < err.size();) {
        EXPECT_EQ(err[pos], '<') << "every line starts with a priority: " << err.substr(pos, 60);
        pos = err.find('\n', pos);
        if (pos == std::string::npos) break;
        ++pos;
    }
}

// Text from outside (here a spool file's name) cannot forge a journal entry:
// a newline in it would start a line that journald reads with the priority
// prefix that follows ("<0>": emergency). Each message stays one escaped line.
TEST_F(DaemonTest, AFileNameWithANewlineStaysOneEscapedJournalLine) {
    const auto spool = dir / "spool";
    write_file(config(), spool_config(db(), {spool.string()}));
    const std::string name = "x\n<0>FAKE EMERGENCY\x1b[2J.jsonl";
    drop_spool_file(spool, name, 1);
    auto p = start({"JOURNAL_STREAM=8:1234"});
    ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << p->stderr_text();
    ASSERT_TRUE(eventually([&] { return fs::exists(spool / "done" / name); }, 20s))
        << p->stderr_text();
    p->signal(SIGTERM);
    ASSERT_EQ(p->wait(10s), 0) << p->stderr_text();
    const auto err = p->stderr_text();
    EXPECT_NE(err.find("<6>import0: ingested x\\n<0>FAKE EMERGENCY\\e[2J.jsonl (1 lines, 0 "
                       "rejected)\n"),
              std::string::npos)
        << err;
    EXPECT_EQ(err.find('\x1b'), std::string::npos) << err;
    for (std::size_t pos = 0; pos < err.size();) {
        EXPECT_TRUE(std::regex_search(err.substr(pos, 3), std::regex("^<[2-7]>")))
            << "a line with a forged or missing priority: " << err.substr(pos, 60);
        pos = err.find('\n', pos);
        if (pos == std::string::npos) break;
        ++pos;
    }
}

// The daemon holds secrets: it makes itself non-dumpable (no core dump, no
// /proc/PID/mem or ptrace for other processes of its user). The kernel shows
// it: the /proc/PID files of a non-dumpable process belong to root:root
// instead of the process's own uid and gid. As root, the daemon is started
// with another group (uid 0 kept) so that the two cases differ.
TEST_F(DaemonTest, TheRunningDaemonIsNotDumpable) {
    write_file(config(), fmt::format("[storage]\npath = \"{}\"\n", db().string()));
    std::vector<std::string> args{MB_BINARY, "run", "-c", config().string()};
    if (::geteuid() == 0)
        args.insert(args.begin(), {"/usr/bin/setpriv", "--regid=65534", "--clear-groups"});
    auto p = std::make_unique<Process>(args, dir.path(), std::vector{notify.env()});
    ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << p->stderr_text();
    const fs::path proc = fmt::format("/proc/{}", p->pid());
    std::string gids;
    for (std::istringstream in(read_file(proc / "status")); std::getline(in, gids);)
        if (gids.starts_with("Gid:")) break;
    std::istringstream fields(gids.substr(4));
    unsigned real_gid = 0, effective_gid = 0;
    fields >> real_gid >> effective_gid;
    if (effective_gid == 0) GTEST_SKIP() << "the daemon runs as group 0: no difference to see";
    struct stat st {};
    ASSERT_EQ(::stat((proc / "environ").c_str(), &st), 0);
    EXPECT_EQ(st.st_gid, 0u) << "a dumpable process owns its /proc files (gid " << effective_gid
                             << ")";
    EXPECT_EQ(st.st_uid, 0u);
    p->signal(SIGTERM);
    EXPECT_EQ(p->wait(10s), 0) << p->stderr_text();
}

TEST_F(DaemonTest, InvalidConfigExits78NamingTheKey) {
    write_file(config(), fmt::format("[storage]\npath = \"{}\"\nbogus = 1\n", db().string()));
    auto p = start();
    ASSERT_EQ(p->wait(10s), 78);
    EXPECT_NE(p->stderr_text().find("meterbridge.toml:3:"), std::string::npos) << p->stderr_text();
    EXPECT_NE(p->stderr_text().find("storage.bogus: unknown key"), std::string::npos)
        << p->stderr_text();
    EXPECT_FALSE(fs::exists(db()));
}

// Under systemd the refusal is what `journalctl -p err` and `systemctl status`
// show: each problem at err, the summary at crit.
TEST_F(DaemonTest, InvalidConfigUnderSystemdLogsEachErrorAtErr) {
    write_file(config(), fmt::format("[storage]\npath = \"{}\"\nbogus = 1\n", db().string()));
    auto p = start({"JOURNAL_STREAM=8:1234"});
    ASSERT_EQ(p->wait(10s), 78);
    const auto err = p->stderr_text();
    EXPECT_NE(err.find("<3>" + config().string() + ":3:1: storage.bogus: unknown key\n"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("<2>invalid configuration " + config().string() + " (1 error(s))\n"),
              std::string::npos)
        << err;
}

// A server's stream error text reaches STATUS= through the connector's last
// error. systemd reads a notification line by line: the text's newlines must
// not become fields of their own (a WATCHDOG=trigger restarts the service).
TEST_F(DaemonTest, APeersTextInStatusCannotAddNotificationFields) {
    XmppStandIn server([](XmppPeer& peer) {
        if (!peer.expect("<stream:stream") || !peer.expect(">")) return;
        peer.send(XmppPeer::stream_header("meterbridge.test") +
                  "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                  "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>bye\nWATCHDOG=trigger&#10;"
                  "STATUS=all good</text></stream:error></stream:stream>");
        peer.until_closed(std::chrono::seconds(2));
    });
    write_file(dir / "xmpp.pass", "secret\n");
    write_file(config(), fmt::format(R"([storage]
path = "{}"

[[connectors]]
name = "enedis"
type = "enedis"
jid = "bridge@meterbridge.test/mb"
password_file = "{}"
proxy = "proxy@meterbridge.test/proxy"
server = "127.0.0.1"
port = {}
tls = false
)",
                                     db().string(), (dir / "xmpp.pass").string(), server.port()));
    auto p = start({"WATCHDOG_USEC=2000000"});
    ASSERT_TRUE(p->wait_for_log("WATCHDOG=trigger", 10s)) << p->stderr_text();
    // STATUS= goes out every 10 s: wait for one quoting the text.
    std::vector<std::string> received;
    std::optional<std::string> status;
    const auto deadline = std::chrono::steady_clock::now() + 25s;
    while (!status && std::chrono::steady_clock::now() < deadline) {
        const auto m = notify.receive(1s);
        if (!m) continue;
        received.push_back(*m);
        if (m->find("WATCHDOG=trigger") != std::string::npos) status = *m;
    }
    ASSERT_TRUE(status) << p->stderr_text();
    EXPECT_EQ(status->find('\n'), std::string::npos) << *status;
    EXPECT_TRUE(status->starts_with("STATUS=")) << *status;
    EXPECT_NE(status->find("(bye\\u000aWATCHDOG=trigger\\u000aSTATUS=all good)"), std::string::npos)
        << *status;
    // Not one line of any notification is the peer's.
    for (const auto& m : received)
        for (const auto* forged : {"\nWATCHDOG=trigger", "\nSTATUS=all good"})
            EXPECT_EQ(m.find(forged), std::string::npos) << m;
    p->signal(SIGTERM);
    EXPECT_EQ(p->wait(20s), 0) << p->stderr_text();
}

}  // namespace
}  // namespace mb::test
