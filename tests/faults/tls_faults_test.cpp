// MQTT over TLS verified against the system trust store (no ca_file, no
// ca_path: the default for a remote broker), with the broker restarted under
// the daemon. The store is the test's CA, given the way OpenSSL finds the
// system store (SSL_CERT_FILE, and SSL_CERT_DIR on an empty directory so the
// machine's own CAs play no part). Every reconnect must verify the broker as
// the first connect did; one that cannot says why in the connector's state.
#include <gtest/gtest.h>
#include <signal.h>

#include <fmt/format.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/support/mosquitto_broker.h"
#include "tests/support/process.h"
#include "tests/support/view_rows.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace mb::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::size_t occurrences(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

class TlsSystemStoreTest : public ::testing::Test {
  protected:
    TlsSystemStoreTest() {
        fs::create_directories(dir / "no-certs");
        write_file(config(),
                   fmt::format("[storage]\npath = \"{}\"\n\n[brokers.remote]\nhost = "
                               "\"localhost\"\nport = {}\ntls = true\nkeepalive = \"5s\"\n\n"
                               "[[connectors]]\nname = \"feed\"\ntype = \"canonical\"\n"
                               "broker = \"remote\"\nclient_id = \"mb-feed\"\n"
                               "topics = [\"meters/+/readings\"]\n",
                               db().string(), broker->port()));
    }
    fs::path config() const { return dir / "mb.toml"; }
    fs::path db() const { return dir / "mb.db"; }
    std::unique_ptr<Process> start_daemon() {
        return std::make_unique<Process>(
            std::vector<std::string>{MB_BINARY, "run", "-c", config().string()}, dir.path(),
            std::vector<std::string>{"SSL_CERT_FILE=" + pki.ca_file.string(),
                                     "SSL_CERT_DIR=" + (dir / "no-certs").string()});
    }
    // A reading published over TLS by mosquitto_pub, verified with the test's CA.
    void publish(int i) {
        const auto r = run_binary(
            {"/usr/bin/mosquitto_pub", "-h", "localhost", "-p", std::to_string(broker->port()),
             "--cafile", pki.ca_file.string(), "-q", "1", "-t", "meters/a/readings", "-m",
             fmt::format(R"({{"meter":"a","quantity":"electricity.energy.consumption",)"
                         R"("value":{},"ts_start":{},"ts_end":{}}})",
                         i, 1646092800000 + i * 900000, 1646092800000 + (i + 1) * 900000)});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    std::int64_t readings() const { return scalar(db(), "SELECT count(*) FROM readings"); }
    RunResult status() const {
        return run_binary({MB_BINARY, "status", "-c", config().string(), "--format", "csv"});
    }

    TempDir dir;
    BrokerTls pki = make_test_pki(dir / "pki", "good", "localhost");
    std::unique_ptr<MosquittoBroker> broker =
        std::make_unique<MosquittoBroker>(dir / "broker", pki);
};

// Three broker restarts: each time the connector comes back, resumes its
// session and ingests what is published then.
TEST_F(TlsSystemStoreTest, EveryReconnectAfterABrokerRestartIsVerifiedAndIngests) {
    auto d = start_daemon();
    ASSERT_TRUE(d->wait_for_log("subscribed to", 10s)) << d->stderr_text();
    publish(0);
    ASSERT_TRUE(eventually([&] { return readings() == 1; }, 10s)) << d->stderr_text();
    for (int restart = 1; restart <= 3; ++restart) {
        broker->stop();
        broker->start();
        ASSERT_TRUE(eventually(
            [&] {
                return occurrences(d->stderr_text(), "connected to localhost") ==
                       static_cast<std::size_t>(1 + restart);
            },
            30s))
            << "restart " << restart << ":\n"
            << d->stderr_text();
        publish(restart);
        ASSERT_TRUE(eventually([&] { return readings() == 1 + restart; }, 10s)) << d->stderr_text();
    }
    EXPECT_EQ(d->stderr_text().find("Invalid function arguments"), std::string::npos)
        << d->stderr_text();
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(20s), 0) << d->stderr_text();
}

// The broker comes back with a certificate from a CA the store does not
// hold: the connector cannot reconnect, and its state says so with the
// library's reason. With the right certificate again, it reconnects.
TEST_F(TlsSystemStoreTest, AConnectorThatCannotReconnectShowsReconnectingWithTheError) {
    auto d = start_daemon();
    ASSERT_TRUE(d->wait_for_log("subscribed to", 10s)) << d->stderr_text();
    const BrokerTls other = make_test_pki(dir / "pki", "other", "localhost");
    fs::copy_file(pki.cert_file, dir / "good-server.pem");
    fs::copy_file(pki.key_file, dir / "good-server.key");
    broker->stop();
    fs::copy_file(other.cert_file, pki.cert_file, fs::copy_options::overwrite_existing);
    fs::copy_file(other.key_file, pki.key_file, fs::copy_options::overwrite_existing);
    broker->start();
    ASSERT_TRUE(d->wait_for_log("certificate verify failed", 30s)) << d->stderr_text();
    // The state may be read between an attempt and the log line of the next one.
    RunResult r;
    ASSERT_TRUE(eventually(
        [&] {
            r = status();
            return r.out.find("feed,canonical,reconnecting,") != std::string::npos &&
                   r.out.find("certificate verify failed") != std::string::npos;
        },
        10s))
        << r.out << r.err;

    broker->stop();
    fs::copy_file(dir / "good-server.pem", pki.cert_file, fs::copy_options::overwrite_existing);
    fs::copy_file(dir / "good-server.key", pki.key_file, fs::copy_options::overwrite_existing);
    broker->start();
    ASSERT_TRUE(eventually(
        [&] { return occurrences(d->stderr_text(), "connected to localhost") == 2; }, 90s))
        << d->stderr_text();
    ASSERT_TRUE(eventually(
        [&] { return status().out.find("feed,canonical,running,") != std::string::npos; }, 10s))
        << status().out;
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(20s), 0) << d->stderr_text();
}

}  // namespace
}  // namespace mb::test
