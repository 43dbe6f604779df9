// The Tuya platform's publications (answers to a gateway's uplinks, and
// operators' commands) leave only once what they answer, or the command's
// record, is committed. Commits are made to fail for real: an operator adds
// a trigger that refuses every insert into a table of the daemon's SQLite
// file (a non-transient error, unlike a lock), then drops it. A simulated
// gateway (a real MQTT client) on a real mosquitto records what it receives.
#include <gtest/gtest.h>
#include <signal.h>

#include <fmt/format.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/mosquitto_broker.h"
#include "tests/support/process.h"
#include "tests/support/tuya_gateway.h"
#include "tests/support/view_rows.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace mb::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kCid = "92dda538fc2e636fd4b0c37f980a";

std::size_t occurrences(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

class TuyaCommitFaultTest : public ::testing::Test {
  protected:
    void SetUp() override {
        write_file(config(), fmt::format(R"([storage]
path = "{}"
synchronous = "normal"

[brokers.local]
host = "127.0.0.1"
port = {}

[[connectors]]
name = "tuya"
type = "tuya"
broker = "local"
gateways = ["gw-1"]
stale_after = "1h"
command_timeout = "3s"
)",
                                         db().string(), broker.port()));
        daemon = std::make_unique<Process>(
            std::vector<std::string>{MB_BINARY, "run", "-c", config().string()}, dir.path());
        ASSERT_TRUE(daemon->wait_for_log("subscribed to", 10s)) << daemon->stderr_text();
        gw = std::make_unique<TuyaGateway>(broker.port(), "gw-1");
        gw->publish(
            "devices/sync",
            fmt::format(
                R"({{"t":1646092800,"request_id":"sync-1","param":{{"cid":"{}","product_id":"pid-water-1"}}}})",
                kCid));
        const auto synced = gw->next("devices/sync/response", 10s);
        ASSERT_TRUE(synced.has_value()) << daemon->stderr_text();
    }
    void TearDown() override {
        gw.reset();
        daemon->signal(SIGTERM);
        EXPECT_EQ(daemon->wait(20s), 0) << daemon->stderr_text();
    }
    fs::path config() const { return dir / "mb.toml"; }
    fs::path db() const { return dir / "mb.db"; }
    // The operator's SQL on the daemon's database.
    void operator_sql(const std::string& sql) {
        const auto r =
            run_binary({"/usr/bin/sqlite3", "-cmd", ".timeout 10000", db().string(), sql});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    static std::string refuse(const std::string& table) {
        return fmt::format(
            "CREATE TRIGGER refuse_{0} BEFORE INSERT ON {0} BEGIN SELECT RAISE(ABORT, 'refused by "
            "the operator'); END;",
            table);
    }
    RunResult command(const std::string& value) {
        return run_binary({MB_BINARY, "command", "-c", config().string(), "--gateway", "gw-1",
                           "--device", kCid, "--dp", "valve_state", "--value", value},
                          30s);
    }
    std::size_t connects() const {
        return occurrences(daemon->stderr_text(), "tuya: connected to");
    }

    TempDir dir;
    MosquittoBroker broker{dir / "broker"};
    std::unique_ptr<Process> daemon;
    std::unique_ptr<TuyaGateway> gw;
};

// A command whose record cannot be stored is not sent, and the operator is
// told so; once the table takes inserts again the same command goes out once.
TEST_F(TuyaCommitFaultTest, ACommandWhoseRecordIsNotStoredIsNeverSent) {
    operator_sql(refuse("commands"));
    auto r = command("closed");
    EXPECT_EQ(r.exit_code, 69) << r.out << r.err;
    EXPECT_NE((r.out + r.err).find("nothing was sent"), std::string::npos) << r.out << r.err;
    std::this_thread::sleep_for(1500ms);  // a command on its way would have arrived by now
    EXPECT_TRUE(gw->commands().empty()) << gw->commands().front().payload;
    EXPECT_EQ(count(db(), "SELECT count(*) FROM commands_v"), 0);

    operator_sql("DROP TRIGGER refuse_commands;");
    ASSERT_TRUE(eventually([&] { return connects() >= 2; }, 20s)) << daemon->stderr_text();
    r = command("closed");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err << daemon->stderr_text();
    ASSERT_EQ(gw->commands().size(), 1u);
    EXPECT_NE(gw->commands()[0].payload.find(R"("value":"closed")"), std::string::npos)
        << gw->commands()[0].payload;
    EXPECT_EQ(count(db(), "SELECT count(*) FROM commands_v WHERE outcome = 'success'"), 1);
}

// A report whose commit keeps failing is never answered, though the broker
// redelivers it at every reconnect; after recovery the gateway gets its
// answer, once, and the reading is stored once.
TEST_F(TuyaCommitFaultTest, AReportIsAnsweredOnlyOnceItIsCommitted) {
    operator_sql(refuse("messages"));
    gw->publish(
        "properties/report",
        fmt::format(
            R"({{"t":1646092800,"request_id":"held","param":{{"cid":"{}","id":"1","value":5}}}})",
            kCid));
    // Redelivered and refused at least twice: a reconnect came in between.
    ASSERT_TRUE(eventually(
        [&] { return occurrences(daemon->stderr_text(), "commit of 1 messages failed") >= 2; },
        30s))
        << daemon->stderr_text();
    const auto early = gw->next("properties/report/response", 1500ms);
    EXPECT_FALSE(early.has_value()) << "answered before its commit: " << early->payload;

    operator_sql("DROP TRIGGER refuse_messages;");
    const auto answer = gw->next("properties/report/response", 30s);
    ASSERT_TRUE(answer.has_value()) << daemon->stderr_text();
    EXPECT_NE(answer->payload.find(R"("request_id":"held","param":{"cid":")" + kCid +
                                   R"(","msg":"success","code":0})"),
              std::string::npos)
        << answer->payload;
    const auto again = gw->next("properties/report/response", 2s);
    EXPECT_FALSE(again.has_value()) << "answered twice: " << again->payload;
    EXPECT_EQ(count(db(), "SELECT count(*) FROM readings_v WHERE meter = '" + kCid + "'"), 1);
}

}  // namespace
}  // namespace mb::test
