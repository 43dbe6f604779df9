// Tuya end to end: a simulated gateway (a real MQTT client) against the real
// binary on a real mosquitto. Responses are asserted byte for byte in the
// document's shape; commands go from the CLI through the control socket to
// the gateway and back.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include <chrono>
#include <thread>

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

const std::string kA = "92dda538fc2e636fd4b0c37f980a";
const std::string kB = "da538fc2ebffdb463692dfdb0c3a";

std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string report(const std::string& cid, const std::string& dp, const std::string& value,
                   const std::string& rid, std::int64_t t = 1646092800) {
    return fmt::format(
        R"({{"t":{},"request_id":"{}","param":{{"cid":"{}","id":"{}","value":{}}}}})", t, rid, cid,
        dp, value);
}

// The document's response shape, exactly; `t` is the platform's clock (seconds).
void expect_response(const std::optional<Received>& r, const std::string& rid,
                     const std::string& cid, const std::string& msg, int code) {
    ASSERT_TRUE(r.has_value()) << "no response to " << rid;
    const auto& p = r->payload;
    ASSERT_EQ(p.substr(0, 5), "{\"t\":") << p;
    const std::int64_t t = std::stoll(p.substr(5, 10));
    EXPECT_LE(std::abs(t - now_s()), 30) << p;
    EXPECT_EQ(p, fmt::format(
                     R"({{"t":{},"request_id":"{}","param":{{"cid":"{}","msg":"{}","code":{}}}}})",
                     t, rid, cid, msg, code));
}

class TuyaTest : public ::testing::Test {
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
gateways = ["gw-1", "gw-2"]
stale_after = "3s"
command_timeout = "2s"
)",
                                         (dir / "mb.db").string(), broker.port()));
        daemon = std::make_unique<Process>(
            std::vector<std::string>{MB_BINARY, "run", "-c", config().string()}, dir.path());
        ASSERT_TRUE(daemon->wait_for_log("subscribed to", 10s)) << daemon->stderr_text();
        gw = std::make_unique<TuyaGateway>(broker.port(), "gw-1");
    }
    void TearDown() override {
        gw.reset();
        daemon->signal(SIGTERM);
        EXPECT_EQ(daemon->wait(20s), 0) << daemon->stderr_text();
    }
    fs::path config() const { return dir / "mb.toml"; }
    fs::path db() const { return dir / "mb.db"; }

    void sync(const std::string& cid, const std::string& rid) { sync(*gw, cid, rid); }
    void sync(TuyaGateway& g, const std::string& cid, const std::string& rid) {
        g.publish(
            "devices/sync",
            fmt::format(
                R"({{"t":1646092800,"request_id":"{}","param":{{"cid":"{}","product_id":"pid-water-1","vendor_code":"acme","device_ip":"192.0.2.7","mac_address":"00:11:22:33:44:55","device_name":"Meter A","install_location":"basement"}}}})",
                rid, cid));
        expect_response(g.next("devices/sync/response", 10s), rid, cid, "success", 0);
    }
    void sync_refused(TuyaGateway& g, const std::string& cid, const std::string& rid) {
        g.publish(
            "devices/sync",
            fmt::format(
                R"({{"t":1646092800,"request_id":"{}","param":{{"cid":"{}","product_id":"pid-x"}}}})",
                rid, cid));
        expect_response(g.next("devices/sync/response", 10s), rid, cid,
                        "tedge error: uplink specific error message", 400);
    }

    RunResult cli(std::vector<std::string> args) {
        args.insert(args.begin(), {MB_BINARY});
        args.insert(args.begin() + 2, {"-c", config().string()});
        return run_binary(args, 30s);
    }

    TempDir dir;
    MosquittoBroker broker{dir / "broker"};
    std::unique_ptr<Process> daemon;
    std::unique_ptr<TuyaGateway> gw;
};

TEST_F(TuyaTest, GatewaySyncsReportsEveryDpAndStatusAndEveryInvalidUplinkGetsItsCode) {
    // A report before the sync: 2003, nothing stored.
    gw->publish("properties/report", report(kA, "1", "5", "early"));
    expect_response(gw->next("properties/report/response", 10s), "early", kA, "device not exist",
                    2003);
    sync(kA, "sync-a");

    // All 18 DPs, one per message as the document sends them.
    const std::vector<std::pair<std::string, std::string>> dps = {
        {"1", "123456"},
        {"2", "3000"},
        {"3", "120"},
        {"4", "true"},
        {"5", "4200"},
        {"6", "4320"},
        {"7", R"("1646092860")"},
        {"8", R"("1646179140")"},
        {"9", R"("opened")"},
        {"10", "4000"},
        {"11", "4320"},
        {"12", R"("1646092830")"},
        {"13", R"("1648771140")"},
        {"14", "77"},
        {"15", R"("consumption")"},
        {"16", "33"},
        {"17", R"("proportion")"},
        {"18", "57"},
    };
    for (const auto& [dp, value] : dps) {
        const std::string rid = "dp-" + dp;
        gw->publish("properties/report", report(kA, dp, value, rid));
        expect_response(gw->next("properties/report/response", 10s), rid, kA, "success", 0);
    }

    // Invalid uplinks, each answered with the document's code and message.
    const std::vector<std::tuple<std::string, std::string, int>> bad = {
        {report(kA, "19", "1", "bad-dp"), "command or value not support", 2002},
        {report(kA, "1", R"("run")", "bad-type"), "params type is incorrect", 1103},
        {report(kA, "1", "1000000000", "bad-range"), "params range invalid", 1101},
        {report(kA, "9", R"("ajar")", "bad-enum"), "params range invalid", 1101},
        {report(kA, "1", "null", "bad-null"), "params is null", 1102},
        {R"({"t":1646092800,"request_id":"bad-empty","param":{}})", "params is empty", 1100},
        {report(kA, "1", "1", "bad-time", 0), "request time is invalid", 1001},
    };
    for (const auto& [payload, msg, code] : bad) {
        const std::string rid = payload.substr(
            payload.find("bad-"), payload.find('"', payload.find("bad-")) - payload.find("bad-"));
        gw->publish("properties/report", payload);
        const auto r = gw->next("properties/report/response", 10s);
        ASSERT_TRUE(r.has_value()) << payload;
        const std::string cid = rid == "bad-empty" ? "" : kA;
        expect_response(r, rid, cid, msg, code);
    }
    // A bad sync gets its code on the sync response topic.
    gw->publish("devices/sync", R"({"t":1646092800,"request_id":"bad-sync","param":{"cid":"x"}})");
    expect_response(gw->next("devices/sync/response", 10s), "bad-sync", "x", "params is empty",
                    1100);

    // Status: A online; B offline, but never synced: ignored, nothing recorded for it.
    gw->publish(
        "devices/status",
        fmt::format(
            R"({{"t":1646092900,"request_id":"st-1","param":[{{"cid":"{}","status":true}},{{"cid":"{}","status":false}}]}})",
            kA, kB));
    ASSERT_TRUE(eventually([&] {
        return count(db(), "SELECT count(*) FROM states_v WHERE key = 'online'") == 1;
    })) << daemon->stderr_text();

    EXPECT_EQ(
        rows(db(),
             "SELECT quantity, unit, kind, ts_start, ts_end, value FROM readings_v "
             "ORDER BY quantity, ts_start"),
        (std::vector<std::string>{
            "water.volume.day|m3|interval|2022-03-01T00:00:00.000Z|2022-03-02T00:00:00.000Z|120.0",
            "water.volume.index|m3|cumulative|2022-03-01T00:00:00.000Z|2022-03-01T00:00:00.000Z|"
            "123456.0",
            "water.volume.index|m3|cumulative|2022-03-01T00:00:30.000Z|2022-03-01T00:00:30.000Z|"
            "4000.0",
            "water.volume.index|m3|cumulative|2022-03-01T00:01:00.000Z|2022-03-01T00:01:00.000Z|"
            "4200.0",
            "water.volume.index|m3|cumulative|2022-03-01T23:59:00.000Z|2022-03-01T23:59:00.000Z|"
            "4320.0",
            "water.volume.index|m3|cumulative|2022-03-31T23:59:00.000Z|2022-03-31T23:59:00.000Z|"
            "4320.0",
            "water.volume.month|m3|interval|2022-03-01T00:00:00.000Z|2022-04-01T00:00:00.000Z|3000."
            "0",
            "water.volume.shared.cold|m3|instant|2022-03-01T00:00:00.000Z|2022-03-01T00:00:00.000Z|"
            "77.0",
            "water.volume.shared.hot|m3|instant|2022-03-01T00:00:00.000Z|2022-03-01T00:00:00.000Z|"
            "33.0",
        }));
    EXPECT_EQ(count(db(), "SELECT count(*) FROM revisions_v"), 0);
    EXPECT_EQ(rows(db(), "SELECT meter, key, value FROM states_v ORDER BY meter, key"),
              (std::vector<std::string>{
                  kA + "|cold_stall_type|consumption",
                  kA + "|hot_stall_type|proportion",
                  kA + "|online|true",
                  kA + "|switch_state|true",
                  kA + "|valve_open_degree|57",
                  kA + "|valve_state|opened",
              }));
    EXPECT_EQ(rows(db(),
                   "SELECT source, gateway, device, product_id, online FROM devices_v "
                   "ORDER BY device"),
              (std::vector<std::string>{"tuya|gw-1|" + kA + "|pid-water-1|1"}));
    EXPECT_EQ(rows(db(),
                   "SELECT synced, vendor_code, ip, mac, name, location FROM "
                   "device_registry_v ORDER BY device"),
              (std::vector<std::string>{"1|acme|192.0.2.7|00:11:22:33:44:55|Meter A|basement"}));
    EXPECT_TRUE(daemon->wait_for_log(
        "tuya: status entries ignored (cid not synced on that gateway): 1 (e.g. cid \"" + kB, 10s))
        << daemon->stderr_text();
    // Every rejected uplink is kept with its reason (the early report, 7 bad reports, 1 bad sync).
    EXPECT_EQ(count(db(), "SELECT count(*) FROM rejected_v WHERE source = 'tuya'"), 9);
    EXPECT_EQ(count(db(),
                    "SELECT count(*) FROM rejected_v WHERE reason LIKE "
                    "'unknown_device: 2003 device not exist%'"),
              1);

    const auto devices = cli({"devices", "--format", "csv"});
    EXPECT_EQ(devices.exit_code, 0) << devices.err;
    EXPECT_NE(devices.out.find("tuya,gw-1," + kA + ",pid-water-1,true,"), std::string::npos)
        << devices.out;

    // Nothing heard from A for longer than stale_after (3 s): stale, as a state event too.
    ASSERT_TRUE(eventually(
        [&] {
            return count(db(),
                         "SELECT count(*) FROM states_v WHERE key = 'stale' AND value = "
                         "'true'") == 1;
        },
        10s))
        << daemon->stderr_text();
    EXPECT_EQ(rows(db(), "SELECT device, stale FROM device_registry_v ORDER BY device"),
              (std::vector<std::string>{kA + "|1"}));
    EXPECT_TRUE(daemon->wait_for_log(
        "tuya: 1 device(s) stale, nothing heard for more than 3 s: 1 on gw-1 (" + kA + ")", 10s))
        << daemon->stderr_text();
}

TEST_F(TuyaTest, ValveCommandFromTheCliReachesTheGatewayAndItsAnswerComesBack) {
    sync(kA, "sync-a");
    const auto ok = cli({"command", "--gateway", "gw-1", "--device", kA, "--dp", "valve_state",
                         "--value", "closed"});
    EXPECT_EQ(ok.exit_code, 0) << ok.err << daemon->stderr_text();
    EXPECT_EQ(ok.out.substr(0, 42), "0 success: valve_state = closed on device ") << ok.out;
    const auto cmds = gw->commands();
    ASSERT_EQ(cmds.size(), 1u);
    const auto& c = cmds[0].payload;
    const auto rid_at = c.find("\"request_id\":\"") + 14;
    const std::string rid = c.substr(rid_at, c.find('"', rid_at) - rid_at);
    EXPECT_EQ(
        c.substr(c.find(",\"cid\"")),
        fmt::format(R"(,"cid":"{}","request_id":"{}","param":{{"id":"9","value":"closed"}}}})", kA,
                    rid));
    EXPECT_NE(ok.out.find(rid), std::string::npos);

    // The device refuses.
    gw->answer_commands(TuyaGateway::Answer::error, 2002, "command or value not support");
    const auto refused = cli({"command", "--gateway", "gw-1", "--device", kA, "--dp",
                              "valve_open_degree", "--value", "40"});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("failed: 2002 command or value not support"), std::string::npos)
        << refused.err;

    // The device never answers: 2001 after the connector's command_timeout (2 s).
    gw->answer_commands(TuyaGateway::Answer::never);
    const auto silent = cli({"command", "--gateway", "gw-1", "--device", kA, "--dp", "switch_state",
                             "--value", "false"});
    EXPECT_EQ(silent.exit_code, 1);
    EXPECT_NE(
        silent.err.find("timeout: 2001 device is offline: no answer from the device within 2 s"),
        std::string::npos)
        << silent.err;

    // Refused before sending: a value outside the DP's set, an unsynced device.
    const auto invalid = cli(
        {"command", "--gateway", "gw-1", "--device", kA, "--dp", "valve_state", "--value", "ajar"});
    EXPECT_EQ(invalid.exit_code, 65);
    EXPECT_NE(invalid.err.find("invalid: 1101 params range invalid"), std::string::npos)
        << invalid.err;
    const auto unknown = cli({"command", "--gateway", "gw-1", "--device", kB, "--dp",
                              "switch_state", "--value", "true"});
    EXPECT_EQ(unknown.exit_code, 65);
    EXPECT_NE(unknown.err.find("2003 device not exist"), std::string::npos) << unknown.err;
    EXPECT_EQ(gw->commands().size(), 3u);  // the refused ones never left

    EXPECT_EQ(
        rows(db(), "SELECT dp, value, outcome, result_code FROM commands_v ORDER BY sent_at"),
        (std::vector<std::string>{"valve_state|closed|success|0", "valve_open_degree|40|error|2002",
                                  "switch_state|false|timeout|2001"}));
    const auto listed = cli({"commands", "--format", "csv"});
    EXPECT_EQ(listed.exit_code, 0);
    EXPECT_NE(listed.out.find(",valve_state,closed,success,0,success,"), std::string::npos)
        << listed.out;

    // The control socket is the daemon's group's only: 0660.
    struct stat st {};
    ASSERT_EQ(::stat((dir / "mb.db.sock").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0660u);
    const auto status = cli({"status"});
    EXPECT_EQ(status.exit_code, 0) << status.err;
    EXPECT_NE(status.out.find("tuya"), std::string::npos);
    EXPECT_NE(status.out.find("running"), std::string::npos) << status.out;
}

// A cid belongs to the gateway that synced it: another gateway of the connector
// can neither take it over nor write its meter while the owner is alive. Once the
// owner has not mentioned it for stale_after, a sync from another gateway moves
// it (the device was moved), with a `gateway` state event.
TEST_F(TuyaTest, AnotherGatewayCannotTakeAnOwnedCidUntilItsOwnerLetsItGoStale) {
    TuyaGateway gw2(broker.port(), "gw-2");
    sync(kA, "sync-a");
    gw->publish("properties/report", report(kA, "1", "100", "own-1"));
    expect_response(gw->next("properties/report/response", 10s), "own-1", kA, "success", 0);

    sync_refused(gw2, kA, "steal");
    gw2.publish("properties/report", report(kA, "1", "999", "steal-1"));
    expect_response(gw2.next("properties/report/response", 10s), "steal-1", kA, "device not exist",
                    2003);
    gw2.publish(
        "devices/status",
        fmt::format(
            R"({{"t":1646092900,"request_id":"st-2","param":[{{"cid":"{}","status":false}}]}})",
            kA));
    ASSERT_TRUE(eventually([&] {
        return count(db(), "SELECT count(*) FROM rejected_v WHERE source = 'tuya'") == 3;
    })) << daemon->stderr_text();
    EXPECT_EQ(rows(db(), "SELECT meter, value FROM readings_v"),
              (std::vector<std::string>{kA + "|100.0"}));
    EXPECT_EQ(count(db(), "SELECT count(*) FROM revisions_v"), 0);
    EXPECT_EQ(rows(db(), "SELECT gateway, device FROM devices_v"),
              (std::vector<std::string>{"gw-1|" + kA}));
    EXPECT_EQ(count(db(), "SELECT count(*) FROM states_v WHERE key = 'online'"), 0);
    const auto reasons = rows(db(), "SELECT reason FROM rejected_v ORDER BY rowid");
    ASSERT_EQ(reasons.size(), 3u);
    EXPECT_EQ(reasons[0].rfind(fmt::format("unauthorized: 400 tedge error: uplink specific error "
                                           "message: cid \"{}\" is synced on gateway gw-1",
                                           kA),
                               0),
              0u)
        << reasons[0];
    EXPECT_EQ(reasons[1].rfind("unknown_device: 2003 device not exist", 0), 0u) << reasons[1];
    EXPECT_EQ(reasons[2].rfind("unknown_device: devices/status: none of the 1 cid", 0), 0u)
        << reasons[2];

    // gw-1 falls silent about it (the device is moved): after stale_after, gw-2 takes it.
    ASSERT_TRUE(eventually(
        [&] {
            return count(db(),
                         "SELECT count(*) FROM states_v WHERE key = 'stale' AND value = "
                         "'true'") == 1;
        },
        10s))
        << daemon->stderr_text();
    sync(gw2, kA, "move");
    gw2.publish("properties/report", report(kA, "1", "150", "moved-1", 1646096400));
    expect_response(gw2.next("properties/report/response", 10s), "moved-1", kA, "success", 0);
    gw->publish("properties/report", report(kA, "1", "1", "old-1", 1646096400));
    expect_response(gw->next("properties/report/response", 10s), "old-1", kA, "device not exist",
                    2003);
    ASSERT_TRUE(eventually([&] { return count(db(), "SELECT count(*) FROM readings_v") == 2; }))
        << daemon->stderr_text();
    EXPECT_EQ(rows(db(), "SELECT meter, value FROM readings_v ORDER BY ts_start"),
              (std::vector<std::string>{kA + "|100.0", kA + "|150.0"}));
    EXPECT_EQ(count(db(), "SELECT count(*) FROM revisions_v"), 0);
    EXPECT_EQ(rows(db(), "SELECT meter, value FROM states_v WHERE key = 'gateway'"),
              (std::vector<std::string>{kA + "|gw-2"}));
    EXPECT_EQ(rows(db(), "SELECT gateway, synced FROM device_registry_v ORDER BY gateway"),
              (std::vector<std::string>{"gw-1|0", "gw-2|1"}));
    EXPECT_NE(daemon->stderr_text().find("moved from gateway gw-1 to gw-2"), std::string::npos)
        << daemon->stderr_text();
}

// Times no meter can have measured are refused whatever they came in: the
// report's t (1001) or a timestamp DP (1101); nothing is stored for them.
TEST_F(TuyaTest, ImplausibleTimesAreAnsweredWithTheirCodeAndStoredAsRejected) {
    sync(kA, "sync-a");
    gw->publish("properties/report", report(kA, "1", "5", "epoch", 1));
    expect_response(gw->next("properties/report/response", 10s), "epoch", kA,
                    "request time is invalid", 1001);
    gw->publish("properties/report", report(kA, "4", "true", "epoch-state", 1));
    expect_response(gw->next("properties/report/response", 10s), "epoch-state", kA,
                    "request time is invalid", 1001);
    gw->publish("properties/report", report(kA, "5", "4200", "day-begin"));
    expect_response(gw->next("properties/report/response", 10s), "day-begin", kA, "success", 0);
    gw->publish("properties/report", report(kA, "7", R"("1")", "day-begin-time"));
    expect_response(gw->next("properties/report/response", 10s), "day-begin-time", kA,
                    "params range invalid", 1101);
    gw->publish(
        "devices/status",
        fmt::format(R"({{"t":1,"request_id":"st-epoch","param":[{{"cid":"{}","status":true}}]}})",
                    kA));
    ASSERT_TRUE(eventually([&] {
        return count(db(), "SELECT count(*) FROM rejected_v WHERE source = 'tuya'") == 4;
    })) << daemon->stderr_text();
    EXPECT_EQ(count(db(), "SELECT count(*) FROM readings_v"), 0);
    EXPECT_EQ(count(db(), "SELECT count(*) FROM states_v"), 0);
    EXPECT_EQ(rows(db(), "SELECT reason FROM rejected_v ORDER BY rowid"),
              (std::vector<std::string>{
                  "out_of_range: 1001 request time is invalid: reading 0 (water.volume.index of "
                  "meter " +
                      kA +
                      ") is at 1970-01-01T00:00:01.000Z, before 1990: seconds read as "
                      "milliseconds, or a meter clock never set?",
                  "out_of_range: 1001 request time is invalid: state event 0 (switch_state of "
                  "meter " +
                      kA +
                      ") is at 1970-01-01T00:00:01.000Z, before 1990: seconds read as "
                      "milliseconds, or a meter clock never set?",
                  "out_of_range: 1101 params range invalid: reading 0 (water.volume.index of "
                  "meter " +
                      kA +
                      ") is at 1970-01-01T00:00:01.000Z, before 1990: seconds read as "
                      "milliseconds, or a meter clock never set?",
                  "out_of_range: devices/status: t is at 1970-01-01T00:00:01.000Z, before 1990: "
                  "seconds read as milliseconds, or a meter clock never set?",
              }));
}

TEST(TuyaCli, PasswordHelperAndNoDaemon) {
    auto r = run_binary(
        {MB_BINARY, "tuya-password", "--client-id", "gw-1", "--username", "meterbridge"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "22b637fd4a3ea97cbe9fa965124e146b\n");  // md5("gw-1meterbridge")

    TempDir dir;
    write_file(dir / "mb.toml",
               fmt::format("[storage]\npath = \"{}\"\n[brokers.local]\nhost = \"127.0.0.1\"\n"
                           "[[connectors]]\nname = \"tuya\"\ntype = \"tuya\"\nbroker = "
                           "\"local\"\ngateways = [\"gw-1\"]\n",
                           (dir / "mb.db").string()));
    r = run_binary({MB_BINARY, "command", "-c", (dir / "mb.toml").string(), "--gateway", "gw-1",
                    "--device", "x", "--dp", "switch_state", "--value", "true"});
    EXPECT_EQ(r.exit_code, 69);
    EXPECT_NE(r.err.find("is `meterbridge run` running"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mb::test
