// A hostile XMPP server against the real binary: XML nested deep enough to
// overflow gloox's recursion (before login, when anyone on the path or a
// spoofed SRV record can answer, and after it), and a stanza that never ends.
// Each ends the connection with its reason in the log, the connector
// reconnects with backoff, and the process stays up with its other work.
#include <gtest/gtest.h>
#include <signal.h>
#include <string.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "tests/support/process.h"
#include "tests/support/xmpp_stand_in.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace mb::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kDomain = "meterbridge.test";
constexpr const char* kJid = "bridge@meterbridge.test/mb";

class XmppFaultsTest : public ::testing::Test {
  protected:
    // The daemon with one enedis connector aimed at `server` (plaintext: loopback).
    void start_daemon(const XmppStandIn& server) {
        write_file(dir / "xmpp.pass", "bridge-secret\n");
        write_file(dir / "mb.toml", fmt::format(R"([storage]
path = "{}"

[[connectors]]
name = "enedis"
type = "enedis"
jid = "{}"
password_file = "{}"
proxy = "proxy@meterbridge.test/proxy"
server = "127.0.0.1"
port = {}
tls = false
)",
                                                (dir / "mb.db").string(), kJid,
                                                (dir / "xmpp.pass").string(), server.port()));
        daemon = std::make_unique<Process>(
            std::vector<std::string>{MB_BINARY, "run", "-c", (dir / "mb.toml").string()},
            dir.path());
    }

    // The reason was logged, the connector came back (`came_back`: the stand-in
    // saw it a second time), and the daemon is alive and stops cleanly.
    void expect_reconnect_and_clean_exit(const std::string& reason,
                                         const std::function<bool()>& came_back) {
        ASSERT_TRUE(daemon->wait_for_log(reason, 20s)) << died() << daemon->stderr_text();
        EXPECT_TRUE(daemon->wait_for_log("reconnecting in", 5s)) << daemon->stderr_text();
        EXPECT_TRUE(eventually(came_back, 15s)) << daemon->stderr_text();
        EXPECT_FALSE(daemon->wait(0ms)) << died() << daemon->stderr_text();
        daemon->signal(SIGTERM);
        EXPECT_EQ(daemon->wait(30s), 0) << daemon->stderr_text();
    }

    std::string died() const {
        if (!daemon->wait(0ms)) return "the daemon is running\n";
        if (const auto sig = daemon->killed_by())
            return fmt::format("the daemon was killed by signal {} ({})\n", *sig, strsignal(*sig));
        return fmt::format("the daemon exited {}\n", *daemon->wait(0ms));
    }

    TempDir dir;
    std::unique_ptr<Process> daemon;
};

TEST_F(XmppFaultsTest, FeaturesNested100000DeepBeforeLoginEndTheConnectionNotTheProcess) {
    std::atomic<bool> refused{false};
    // ≈ 700 KB: <stream:features> holding 100,000 nested elements.
    const std::string features = "<stream:features>" + nested(100000) + "</stream:features>";
    XmppStandIn server([&](XmppPeer& peer) {
        if (!peer.expect("<stream:stream") || !peer.expect(">")) return;
        peer.send(XmppPeer::stream_header(kDomain) + features);
        if (peer.until_closed().find("policy-violation") != std::string::npos) refused = true;
    });
    start_daemon(server);
    expect_reconnect_and_clean_exit(
        "XMPP connection failed: the server sent XML nested deeper than 64 levels",
        [&] { return server.connections() >= 2; });
    EXPECT_TRUE(refused) << "the client's stream error";
}

TEST_F(XmppFaultsTest, AMessageNested100000DeepAfterLoginEndsTheSessionNotTheProcess) {
    std::atomic<int> logins{0};
    const std::string message =
        fmt::format("<message from='proxy@{}/proxy' to='{}' type='chat'>", kDomain, kJid) +
        nested(100000) + "</message>";
    XmppStandIn server([&](XmppPeer& peer) {
        if (!peer.login(kDomain, kJid)) return;
        ++logins;
        peer.send(message);
        peer.until_closed();
    });
    start_daemon(server);
    expect_reconnect_and_clean_exit(
        "XMPP session lost: the server sent XML nested deeper than 64 levels",
        [&] { return logins >= 2; });
}

TEST_F(XmppFaultsTest, AStanzaThatNeverEndsIsCutAtItsLimit) {
    std::atomic<int> logins{0};
    XmppStandIn server([&](XmppPeer& peer) {
        if (!peer.login(kDomain, kJid)) return;
        ++logins;
        const std::string chunk(64 * 1024, 'x');
        peer.send(fmt::format("<message from='proxy@{}/proxy' to='{}'><body>", kDomain, kJid));
        // 8 MiB of body, twice the limit, and no end.
        for (int i = 0; i < 128 && peer.send(chunk); ++i) {
        }
        peer.until_closed();
    });
    start_daemon(server);
    expect_reconnect_and_clean_exit(
        "XMPP session lost: the server sent a stanza larger than 4194304 bytes",
        [&] { return logins >= 2; });
}

}  // namespace
}  // namespace mb::test
