// TuyaPlatform without a broker: messages in, answers (captured by a recording
// outbox), envelopes, command outcomes and timers out. The real broker path is
// tests/integration/tuya_test.cpp.
#include "connectors/tuya/tuya_platform.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "connectors/registry.h"
#include "connectors/tuya/tuya_type.h"
#include "daemon/config.h"

namespace mb {
namespace {

constexpr TimeMs kNow = 1646092800000;  // 2022-03-01T00:00:00Z
const std::string kGw = "gw-1";
const std::string kCid = "92dda538fc2e636fd4b0c37f980a";

struct Published {
    std::string topic, payload;
};

class RecordingOutbox final : public MqttOutbox {
  public:
    bool publish(const std::string& topic, std::string_view payload) override {
        if (!up) return false;
        sent.push_back({topic, std::string(payload)});
        return true;
    }
    bool connected() const override { return up; }
    std::vector<Published> sent;
    bool up = true;
};

struct Captured {
    std::optional<DeviceCommandResult> result;
    CommandDone done() {
        return [this](DeviceCommandResult r) { result = std::move(r); };
    }
};

std::string report(const std::string& cid, int dp, const std::string& value_json, long t_s,
                   const std::string& rid = "r-1") {
    return fmt::format(
        R"({{"t":{},"request_id":"{}","param":{{"cid":"{}","id":"{}","value":{}}}}})", t_s, rid,
        cid, dp, value_json);
}

std::string sync_msg(const std::string& cid, const std::string& rid = "s-1") {
    return fmt::format(
        R"({{"t":1646092800,"request_id":"{}","param":{{"cid":"{}","product_id":"pid-1","device_name":"kitchen","mac_address":"00:11:22:33:44:55"}}}})",
        rid, cid);
}

class TuyaPlatformTest : public ::testing::Test {
  protected:
    TuyaPlatformTest() { make({}); }

    void make(std::vector<TuyaKnownDevice> known, TimeMs now = kNow) {
        options.gateways = {kGw, "gw-2"};
        platform.emplace("tuya", options, known, now);
    }

    Envelope deliver(const std::string& kind, const std::string& payload, TimeMs at = kNow,
                     const std::string& gw = kGw) {
        Envelope env;
        env.raw.source = "tuya";
        env.raw.topic = "gateway_id/" + gw + "/" + kind;
        env.raw.payload = payload;
        env.raw.received_at = at;
        platform->on_message(env, out);
        return env;
    }

    void synced(const std::string& cid = kCid) {
        const auto env = deliver("devices/sync", sync_msg(cid));
        ASSERT_TRUE(env.result.ok()) << env.result.reject->reason();
        out.sent.clear();
    }

    TuyaOptions options;
    std::optional<TuyaPlatform> platform;
    RecordingOutbox out;
};

TEST_F(TuyaPlatformTest, SyncIsAnsweredAndRegistered) {
    const auto env = deliver("devices/sync", sync_msg(kCid, "cd0fd3c3"));
    ASSERT_TRUE(env.result.ok());
    ASSERT_EQ(out.sent.size(), 1u);
    EXPECT_EQ(out.sent[0].topic, "gateway_id/gw-1/devices/sync/response");
    EXPECT_EQ(
        out.sent[0].payload,
        R"({"t":1646092800,"request_id":"cd0fd3c3","param":{"cid":"92dda538fc2e636fd4b0c37f980a","msg":"success","code":0}})");
    ASSERT_EQ(env.devices.size(), 1u);
    const DeviceUpdate& d = env.devices[0];
    EXPECT_EQ(d.gateway, kGw);
    EXPECT_EQ(d.device, kCid);
    EXPECT_TRUE(d.synced);
    EXPECT_EQ(d.seen, kNow);
    EXPECT_EQ(d.product_id, "pid-1");
    EXPECT_EQ(d.name, "kitchen");
    EXPECT_EQ(d.mac, "00:11:22:33:44:55");
    EXPECT_FALSE(d.ip.has_value());  // absent in the message: cleared, not ""
    EXPECT_EQ(d.stale_after_ms, 180000);
}

TEST_F(TuyaPlatformTest, InvalidSyncIsAnsweredWithItsCode) {
    const auto env =
        deliver("devices/sync", R"({"t":1646092800,"request_id":"s-9","param":{"cid":"c1"}})");
    ASSERT_FALSE(env.result.ok());
    EXPECT_EQ(env.result.reject->code, RejectCode::missing_field);
    ASSERT_EQ(out.sent.size(), 1u);
    EXPECT_EQ(
        out.sent[0].payload,
        R"({"t":1646092800,"request_id":"s-9","param":{"cid":"c1","msg":"params is empty","code":1100}})");
    EXPECT_TRUE(env.devices.empty());
}

TEST_F(TuyaPlatformTest, ReportFromAnUnsyncedDeviceGets2003AndNoReading) {
    const auto env = deliver("properties/report", report(kCid, 1, "123456", 1646092800));
    ASSERT_FALSE(env.result.ok());
    EXPECT_EQ(env.result.reject->code, RejectCode::unknown_device);
    EXPECT_TRUE(env.result.readings.empty());
    ASSERT_EQ(out.sent.size(), 1u);
    EXPECT_EQ(out.sent[0].topic, "gateway_id/gw-1/properties/report/response");
    EXPECT_EQ(
        out.sent[0].payload,
        R"({"t":1646092800,"request_id":"r-1","param":{"cid":"92dda538fc2e636fd4b0c37f980a","msg":"device not exist","code":2003}})");
}

TEST_F(TuyaPlatformTest, ADeviceSyncedOnAnotherGatewayIsUnknownHere) {
    synced();
    const auto env = deliver("properties/report", report(kCid, 1, "1", 1646092800), kNow, "gw-2");
    ASSERT_FALSE(env.result.ok());
    EXPECT_EQ(env.result.reject->code, RejectCode::unknown_device);
    ASSERT_EQ(out.sent.size(), 1u);
    EXPECT_EQ(out.sent[0].topic, "gateway_id/gw-2/properties/report/response");
}

TEST_F(TuyaPlatformTest, ValidReportsBecomeReadingsAndStatesAndAreAnswered) {
    synced();
    auto env = deliver("properties/report", report(kCid, 1, "123456", 1646092800, "a"));
    ASSERT_TRUE(env.result.ok());
    ASSERT_EQ(env.result.readings.size(), 1u);
    EXPECT_EQ(env.result.readings[0],
              (Reading{kCid, "water.volume.index", "m3", Kind::cumulative, kNow, kNow, 123456}));
    env = deliver("properties/report", report(kCid, 9, R"("closing")", 1646092801, "b"));
    ASSERT_EQ(env.result.states.size(), 1u);
    EXPECT_EQ(env.result.states[0], (StateEvent{kCid, "valve_state", "closing", kNow + 1000}));
    ASSERT_EQ(out.sent.size(), 2u);
    EXPECT_EQ(
        out.sent[1].payload,
        R"({"t":1646092800,"request_id":"b","param":{"cid":"92dda538fc2e636fd4b0c37f980a","msg":"success","code":0}})");
    ASSERT_EQ(env.devices.size(), 1u);
    EXPECT_EQ(env.devices[0].seen, kNow);
}

TEST_F(TuyaPlatformTest, InvalidReportsAreAnsweredWithTheDocumentsCodes) {
    synced();
    struct Case {
        std::string payload;
        int code;
        RejectCode reject;
    };
    const std::vector<Case> cases = {
        {report(kCid, 19, "1", 1646092800), 2002, RejectCode::invalid_value},
        {report(kCid, 1, R"("run")", 1646092800), 1103, RejectCode::wrong_type},
        {report(kCid, 1, "1000000000", 1646092800), 1101, RejectCode::out_of_range},
        {R"({"t":1646092800,"request_id":"r-1","param":{}})", 1100, RejectCode::missing_field},
    };
    for (const auto& c : cases) {
        out.sent.clear();
        const auto env = deliver("properties/report", c.payload);
        ASSERT_FALSE(env.result.ok()) << c.payload;
        EXPECT_EQ(env.result.reject->code, c.reject) << c.payload;
        ASSERT_EQ(out.sent.size(), 1u) << c.payload;
        EXPECT_NE(out.sent[0].payload.find(fmt::format("\"code\":{}}}", c.code)), std::string::npos)
            << out.sent[0].payload;
    }
}

TEST_F(TuyaPlatformTest, FirstReadingOfTheDayPairsAcrossMessagesAndSurvivesARestart) {
    synced();
    // DP 5 (volume) now, DP 7 (its time) in a later message.
    auto env = deliver("properties/report", report(kCid, 5, "4200", 1646092800));
    ASSERT_TRUE(env.result.ok());
    EXPECT_TRUE(env.result.readings.empty());
    ASSERT_EQ(env.devices.size(), 1u);
    ASSERT_TRUE(env.devices[0].protocol_state.has_value());
    const std::string state = *env.devices[0].protocol_state;

    // The daemon restarts: the registry row carries the pending half.
    make({TuyaKnownDevice{kGw, kCid, true, true, kNow, state}});
    env = deliver("properties/report", report(kCid, 7, R"("1646092860")", 1646092805));
    ASSERT_TRUE(env.result.ok());
    ASSERT_EQ(env.result.readings.size(), 1u);
    EXPECT_EQ(env.result.readings[0], (Reading{kCid, "water.volume.index", "m3", Kind::cumulative,
                                               kNow + 60000, kNow + 60000, 4200}));
    ASSERT_EQ(env.devices.size(), 1u);
    EXPECT_EQ(env.devices[0].protocol_state, "- - - -");
}

TEST_F(TuyaPlatformTest, VolumeScaleAndTimeZoneApply) {
    options.volume_scale = 3;
    options.time_zone = "Europe/Paris";
    make({});
    synced();
    // 2022-03-01T23:30:00Z is 2022-03-02 00:30 in Paris: the daily total is for Paris' 2 March.
    const auto env = deliver("properties/report", report(kCid, 3, "1500", 1646177400));
    ASSERT_EQ(env.result.readings.size(), 1u);
    const Reading& r = env.result.readings[0];
    EXPECT_EQ(r.quantity, "water.volume.day");
    EXPECT_DOUBLE_EQ(r.value, 1.5);
    EXPECT_EQ(r.ts_start, 1646175600000);  // 2022-03-01T23:00:00Z
    EXPECT_EQ(r.ts_end, 1646262000000);
}

TEST_F(TuyaPlatformTest, StatusChangesAreStateEventsOnceAndUnsyncedCidsCreateNothing) {
    synced();
    const std::string st =
        R"({"t":1646092800,"request_id":"x","param":[{"cid":"92dda538fc2e636fd4b0c37f980a","status":true},{"cid":"other","status":false}]})";
    auto env = deliver("devices/status", st);
    ASSERT_TRUE(env.result.ok());
    ASSERT_EQ(env.result.states.size(), 1u);
    EXPECT_EQ(env.result.states[0], (StateEvent{kCid, "online", "true", kNow}));
    ASSERT_EQ(env.devices.size(), 1u);  // "other" was never synced: no row, no state
    EXPECT_EQ(env.devices[0].device, kCid);
    EXPECT_EQ(env.devices[0].online, true);
    EXPECT_TRUE(out.sent.empty());  // the document has no status response
    env = deliver("devices/status", st, kNow + 60000);
    EXPECT_TRUE(env.result.states.empty());
    EXPECT_EQ(env.devices.size(), 1u);
    // A status does not sync: "other" is still unknown to reports.
    env = deliver("properties/report", report("other", 1, "1", 1646092800));
    EXPECT_EQ(env.result.reject->code, RejectCode::unknown_device);

    // A status naming no synced device at all is rejected with its reason.
    env = deliver("devices/status",
                  R"({"t":1646092800,"request_id":"y","param":[{"cid":"x1","status":true},)"
                  R"({"cid":"x2","status":true}]})");
    ASSERT_FALSE(env.result.ok());
    EXPECT_EQ(env.result.reject->code, RejectCode::unknown_device);
    EXPECT_EQ(env.result.reject->detail,
              "devices/status: none of the 2 cid(s) is synced on gateway gw-1 (the first: "
              "\"x1\"); devices/sync first");
    EXPECT_TRUE(env.devices.empty());
    EXPECT_TRUE(env.result.states.empty());
}

// 40 status messages of 5,000 invented cids each: no registry row, no state, no
// stale line, whatever the ids.
TEST_F(TuyaPlatformTest, InventedCidsInStatusMessagesLeaveNoTrace) {
    synced();
    for (int m = 0; m < 40; ++m) {
        std::string st = R"({"t":1646092800,"request_id":"f","param":[)";
        for (int i = 0; i < 5000; ++i)
            st += fmt::format(R"({}{{"cid":"fake-{}-{}","status":true}})", i ? "," : "", m, i);
        st += "]}";
        const auto env = deliver("devices/status", st);
        ASSERT_FALSE(env.result.ok());
        EXPECT_TRUE(env.devices.empty());
        EXPECT_TRUE(env.result.states.empty());
    }
    Batch staged;
    platform->on_tick(kNow + 181000, staged, out);
    ASSERT_EQ(staged.size(), 1u);  // only the synced device goes stale
    EXPECT_EQ(staged[0].result.states.size(), 1u);
}

// A cid is one gateway's: another gateway of the connector cannot sync it, report
// for it or command it while its owner is alive.
TEST_F(TuyaPlatformTest, ACidSyncedOnOneGatewayIsRefusedToAnotherWhileItsOwnerIsAlive) {
    synced();
    auto env = deliver("devices/sync", sync_msg(kCid, "steal"), kNow + 1000, "gw-2");
    ASSERT_FALSE(env.result.ok());
    EXPECT_EQ(env.result.reject->code, RejectCode::unauthorized);
    EXPECT_EQ(env.result.reject->detail,
              "400 tedge error: uplink specific error message: cid "
              "\"92dda538fc2e636fd4b0c37f980a\" is synced on gateway gw-1, which mentioned it 1 "
              "s ago; it can move to gateway gw-2 once gw-1 has not mentioned it for stale_after "
              "(180 s)");
    EXPECT_TRUE(env.devices.empty());
    ASSERT_EQ(out.sent.size(), 1u);
    EXPECT_EQ(out.sent[0].topic, "gateway_id/gw-2/devices/sync/response");
    EXPECT_EQ(
        out.sent[0].payload,
        R"({"t":1646092801,"request_id":"steal","param":{"cid":"92dda538fc2e636fd4b0c37f980a","msg":"tedge error: uplink specific error message","code":400}})");

    env = deliver("properties/report", report(kCid, 1, "999", 1646092800), kNow + 2000, "gw-2");
    ASSERT_FALSE(env.result.ok());
    EXPECT_EQ(env.result.reject->code, RejectCode::unknown_device);
    EXPECT_NE(env.result.reject->detail.find("is synced on gateway gw-1, not on gw-2"),
              std::string::npos);
    EXPECT_TRUE(env.result.readings.empty());
    EXPECT_TRUE(env.devices.empty());

    Captured c;
    platform->submit_command(DeviceCommand{"gw-2", kCid, "switch_state", "true", {}}, c.done());
    Batch staged;
    platform->on_tick(kNow + 2000, staged, out);
    ASSERT_TRUE(c.result.has_value());
    EXPECT_EQ(c.result->code, 2003);

    // The owner speaks on: still its device, still refused elsewhere.
    env = deliver("properties/report", report(kCid, 1, "5", 1646092900), kNow + 100000);
    ASSERT_TRUE(env.result.ok());
    env = deliver("devices/sync", sync_msg(kCid, "steal-2"), kNow + 200000, "gw-2");
    EXPECT_EQ(env.result.reject->code, RejectCode::unauthorized);
}

// A device moved to another gateway: once the old one has not mentioned it for
// stale_after, the new gateway's sync takes it over, with a `gateway` state event.
TEST_F(TuyaPlatformTest, ACidMovesToAnotherGatewayOnceItsOwnerHasLetItGoStale) {
    synced();
    deliver("properties/report", report(kCid, 5, "4200", 1646092800));  // a pending half
    const TimeMs later = kNow + 181000;
    out.sent.clear();
    auto env = deliver("devices/sync", sync_msg(kCid, "move"), later, "gw-2");
    ASSERT_TRUE(env.result.ok()) << env.result.reject->reason();
    ASSERT_EQ(out.sent.size(), 1u);
    EXPECT_NE(out.sent[0].payload.find(R"("msg":"success","code":0)"), std::string::npos);
    ASSERT_EQ(env.devices.size(), 2u);
    EXPECT_EQ(env.devices[0].gateway, kGw);
    EXPECT_TRUE(env.devices[0].released);
    EXPECT_EQ(env.devices[0].seen, kNow);  // the old registration's last_seen is not moved
    EXPECT_EQ(env.devices[1].gateway, "gw-2");
    EXPECT_TRUE(env.devices[1].synced);
    EXPECT_FALSE(env.devices[1].released);
    ASSERT_EQ(env.result.states.size(), 1u);
    EXPECT_EQ(env.result.states[0], (StateEvent{kCid, "gateway", "gw-2", later}));

    env = deliver("properties/report", report(kCid, 1, "1", 1646093000), later, kGw);
    EXPECT_EQ(env.result.reject->code, RejectCode::unknown_device);
    // Nothing of the old registration carries over: the DP 5 half is gone.
    env =
        deliver("properties/report", report(kCid, 7, R"("1646092860")", 1646092805), later, "gw-2");
    ASSERT_TRUE(env.result.ok());
    EXPECT_TRUE(env.result.readings.empty());
    // And the old gateway, now the newcomer, is refused in turn.
    env = deliver("devices/sync", sync_msg(kCid, "back"), later + 1000, kGw);
    EXPECT_EQ(env.result.reject->code, RejectCode::unauthorized);
}

TEST_F(TuyaPlatformTest, AGatewaySyncsAtMostMaxDevices) {
    options.max_devices = 2;
    make({});
    synced("a");
    synced("b");
    auto env = deliver("devices/sync", sync_msg("c", "s-c"));
    ASSERT_FALSE(env.result.ok());
    EXPECT_EQ(env.result.reject->code, RejectCode::out_of_range);
    EXPECT_EQ(env.result.reject->detail,
              "400 tedge error: uplink specific error message: gateway gw-1 has 2 synced devices, "
              "max_devices is 2: cid \"c\" is not registered");
    EXPECT_TRUE(env.devices.empty());
    ASSERT_EQ(out.sent.size(), 1u);
    EXPECT_NE(out.sent[0].payload.find(R"("code":400)"), std::string::npos);
    // Per gateway; and a device already synced may sync again.
    out.sent.clear();
    synced("b");
    env = deliver("devices/sync", sync_msg("c", "s-c2"), kNow, "gw-2");
    EXPECT_TRUE(env.result.ok());
    env = deliver("properties/report", report("c", 1, "1", 1646092800));
    EXPECT_EQ(env.result.reject->code, RejectCode::unknown_device);

    // The limit holds across a restart, from the registry rows.
    make({TuyaKnownDevice{kGw, "a", true, true, kNow, "", kNow},
          TuyaKnownDevice{kGw, "b", true, true, kNow, "", kNow},
          TuyaKnownDevice{kGw, "u", false, true, kNow, "", kNow}});
    env = deliver("devices/sync", sync_msg("c", "s-c3"));
    EXPECT_EQ(env.result.reject->code, RejectCode::out_of_range);
}

TEST_F(TuyaPlatformTest, RegistryRowsLoadOneGatewayPerCidAndNoUnsyncedOnes) {
    // An older version let gw-2 sync gw-1's device, and recorded a status-only cid.
    make({TuyaKnownDevice{"gw-2", kCid, true, true, kNow, "", kNow + 5000},
          TuyaKnownDevice{kGw, kCid, true, true, kNow, "", kNow},
          TuyaKnownDevice{kGw, "status-only", false, true, kNow, "", kNow}});
    auto env = deliver("properties/report", report(kCid, 1, "7", 1646092800), kNow + 1000);
    EXPECT_TRUE(env.result.ok());  // gw-1's: seen first
    env = deliver("properties/report", report(kCid, 1, "999", 1646092800), kNow + 1000, "gw-2");
    EXPECT_EQ(env.result.reject->code, RejectCode::unknown_device);
    env = deliver(
        "devices/status",
        R"({"t":1646092800,"request_id":"x","param":[{"cid":"status-only","status":true}]})");
    EXPECT_EQ(env.result.reject->code, RejectCode::unknown_device);
    Batch staged;
    platform->on_tick(kNow + 400000, staged, out);
    ASSERT_EQ(staged.size(), 1u);
    ASSERT_EQ(staged[0].result.states.size(), 1u);  // one device, not three
    EXPECT_EQ(staged[0].result.states[0].meter, kCid);
}

// Times the store would refuse (check_times) are answered here, so that the gateway
// is told: the report's t → 1001, a timestamp DP → 1101.
TEST_F(TuyaPlatformTest, ImplausibleTimesAreAnsweredAndRejectedWithoutTouchingThePairing) {
    synced();
    auto env = deliver("properties/report", report(kCid, 1, "5", 1, "t1"));
    ASSERT_FALSE(env.result.ok());
    EXPECT_EQ(env.result.reject->code, RejectCode::out_of_range);
    EXPECT_EQ(env.result.reject->detail,
              "1001 request time is invalid: reading 0 (water.volume.index of meter "
              "92dda538fc2e636fd4b0c37f980a) is at 1970-01-01T00:00:01.000Z, before 1990: seconds "
              "read as milliseconds, or a meter clock never set?");
    EXPECT_TRUE(env.result.readings.empty());
    ASSERT_EQ(out.sent.size(), 1u);
    EXPECT_EQ(
        out.sent[0].payload,
        R"({"t":1646092800,"request_id":"t1","param":{"cid":"92dda538fc2e636fd4b0c37f980a","msg":"request time is invalid","code":1001}})");
    ASSERT_EQ(env.devices.size(), 1u);  // the device is alive all the same

    // A report dated two days ahead of its receipt, and one whose DP only pends.
    env = deliver("properties/report", report(kCid, 4, "true", 1646092800 + 2 * 86400));
    EXPECT_EQ(env.result.reject->code, RejectCode::out_of_range);
    EXPECT_EQ(env.result.reject->detail.substr(0, 28), "1001 request time is invalid");
    env = deliver("properties/report", report(kCid, 5, "4200", 1));
    EXPECT_EQ(env.result.reject->detail.substr(0, 62),
              "1001 request time is invalid: t is at 1970-01-01T00:00:01.000Z");

    out.sent.clear();
    env = deliver("properties/report", report(kCid, 5, "4200", 1646092800));
    ASSERT_TRUE(env.result.ok());
    env = deliver("properties/report", report(kCid, 7, R"("1")", 1646092801, "dp7"));
    ASSERT_FALSE(env.result.ok());
    EXPECT_EQ(env.result.reject->code, RejectCode::out_of_range);
    EXPECT_EQ(env.result.reject->detail.substr(0, 26), "1101 params range invalid:");
    EXPECT_NE(out.sent.back().payload.find(R"("msg":"params range invalid","code":1101)"),
              std::string::npos);
    EXPECT_FALSE(env.devices.at(0).protocol_state.has_value());
    // The pending DP 5 half is still there for the right time.
    env = deliver("properties/report", report(kCid, 7, R"("1646092860")", 1646092802));
    ASSERT_TRUE(env.result.ok());
    ASSERT_EQ(env.result.readings.size(), 1u);
    EXPECT_EQ(env.result.readings[0].value, 4200);

    // A status with such a t changes nothing.
    env = deliver(
        "devices/status",
        R"({"t":1,"request_id":"x","param":[{"cid":"92dda538fc2e636fd4b0c37f980a","status":true}]})");
    ASSERT_FALSE(env.result.ok());
    EXPECT_EQ(env.result.reject->code, RejectCode::out_of_range);
    EXPECT_TRUE(env.devices.empty());
    env = deliver(
        "devices/status",
        R"({"t":1646092800,"request_id":"x","param":[{"cid":"92dda538fc2e636fd4b0c37f980a","status":true}]})");
    ASSERT_EQ(env.result.states.size(), 1u);  // the change is still a change
}

TEST_F(TuyaPlatformTest, ASilentDeviceTurnsStaleAndBack) {
    synced();
    Batch staged;
    platform->on_tick(kNow + 179000, staged, out);
    EXPECT_TRUE(staged.empty());
    platform->on_tick(kNow + 181000, staged, out);
    ASSERT_EQ(staged.size(), 1u);
    EXPECT_TRUE(staged[0].record_only);
    ASSERT_EQ(staged[0].result.states.size(), 1u);
    EXPECT_EQ(staged[0].result.states[0], (StateEvent{kCid, "stale", "true", kNow + 181000}));
    staged.clear();
    platform->on_tick(kNow + 200000, staged, out);
    EXPECT_TRUE(staged.empty());  // once
    const auto env =
        deliver("properties/report", report(kCid, 4, "true", 1646093000), kNow + 210000);
    ASSERT_EQ(env.result.states.size(), 2u);
    EXPECT_EQ(env.result.states[0].key, "switch_state");
    EXPECT_EQ(env.result.states[1], (StateEvent{kCid, "stale", "false", kNow + 210000}));
}

TEST_F(TuyaPlatformTest, ACommandIsSentRecordedAndMatchedToItsAnswer) {
    synced();
    Captured c;
    platform->submit_command(DeviceCommand{kGw, kCid, "valve_state", "closed", {}}, c.done());
    Batch staged;
    platform->on_tick(kNow, staged, out);
    EXPECT_FALSE(c.result.has_value());
    ASSERT_EQ(out.sent.size(), 1u);
    EXPECT_EQ(out.sent[0].topic, "gateway_id/gw-1/commands");
    ASSERT_EQ(staged.size(), 1u);
    ASSERT_EQ(staged[0].commands.size(), 1u);
    const CommandRecord sent = staged[0].commands[0];
    EXPECT_EQ(sent.step, CommandRecord::Step::sent);
    EXPECT_EQ(sent.dp, 9);
    EXPECT_EQ(sent.code, "valve_state");
    EXPECT_EQ(sent.deadline, kNow + 10000);
    EXPECT_EQ(
        out.sent[0].payload,
        fmt::format(
            R"({{"t":1646092800,"cid":"{}","request_id":"{}","param":{{"id":"9","value":"closed"}}}})",
            kCid, sent.request_id));

    const auto env = deliver(
        "commands/response",
        fmt::format(
            R"({{"t":1646092801,"cid":"{}","request_id":"{}","param":{{"msg":"success","code":0}}}})",
            kCid, sent.request_id),
        kNow + 500);
    ASSERT_TRUE(env.result.ok());
    ASSERT_EQ(env.commands.size(), 1u);
    EXPECT_EQ(env.commands[0].step, CommandRecord::Step::answered);
    EXPECT_EQ(env.commands[0].result_code, 0);
    ASSERT_TRUE(c.result.has_value());
    EXPECT_EQ(c.result->status, DeviceCommandResult::Status::success);
    EXPECT_EQ(c.result->code, 0);
    EXPECT_EQ(c.result->request_id, sent.request_id);
    EXPECT_EQ(platform->pending_commands(), 0u);
}

TEST_F(TuyaPlatformTest, ADeviceErrorCodeIsTheOutcome) {
    synced();
    Captured c;
    platform->submit_command(DeviceCommand{kGw, kCid, "switch_state", "false", {}}, c.done());
    Batch staged;
    platform->on_tick(kNow, staged, out);
    const std::string id = staged.at(0).commands.at(0).request_id;
    deliver(
        "commands/response",
        fmt::format(
            R"({{"t":1646092801,"cid":"{}","request_id":"{}","param":{{"msg":"command or value not support","code":2002}}}})",
            kCid, id));
    ASSERT_TRUE(c.result.has_value());
    EXPECT_EQ(c.result->status, DeviceCommandResult::Status::failed);
    EXPECT_EQ(c.result->code, 2002);
    EXPECT_EQ(c.result->msg, "command or value not support");
}

TEST_F(TuyaPlatformTest, NoAnswerIs2001AndALateAnswerIsStillRecorded) {
    synced();
    Captured c;
    platform->submit_command(
        DeviceCommand{kGw, kCid, "valve_open_degree", "40", std::chrono::milliseconds(3000)},
        c.done());
    Batch staged;
    platform->on_tick(kNow, staged, out);
    const std::string id = staged.at(0).commands.at(0).request_id;
    staged.clear();
    platform->on_tick(kNow + 2999, staged, out);
    EXPECT_FALSE(c.result.has_value());
    platform->on_tick(kNow + 3000, staged, out);
    ASSERT_TRUE(c.result.has_value());
    EXPECT_EQ(c.result->status, DeviceCommandResult::Status::timeout);
    EXPECT_EQ(c.result->code, 2001);
    EXPECT_EQ(c.result->msg, "device is offline");
    ASSERT_EQ(staged.size(), 1u);
    EXPECT_EQ(staged[0].commands.at(0).step, CommandRecord::Step::timed_out);

    const auto env = deliver(
        "commands/response",
        fmt::format(
            R"({{"t":1646092810,"cid":"{}","request_id":"{}","param":{{"msg":"success","code":0}}}})",
            kCid, id));
    EXPECT_TRUE(env.result.ok());
    ASSERT_EQ(env.commands.size(), 1u);
    EXPECT_EQ(env.commands[0].step, CommandRecord::Step::answered);
}

TEST_F(TuyaPlatformTest, AnAnswerToNoCommandIsRejected) {
    synced();
    const auto env = deliver(
        "commands/response",
        fmt::format(
            R"({{"t":1646092801,"cid":"{}","request_id":"never-sent","param":{{"msg":"success","code":0}}}})",
            kCid));
    ASSERT_FALSE(env.result.ok());
    EXPECT_EQ(env.result.reject->code, RejectCode::invalid_value);
    EXPECT_NE(env.result.reject->detail.find("never-sent"), std::string::npos);
}

TEST_F(TuyaPlatformTest, CommandsAreValidatedBeforeAnythingIsSent) {
    synced();
    struct Case {
        DeviceCommand cmd;
        DeviceCommandResult::Status status;
        int code;
    };
    using S = DeviceCommandResult::Status;
    const std::vector<Case> cases = {
        {{kGw, kCid, "valve_state", "ajar", {}}, S::invalid, 1101},
        {{kGw, kCid, "switch_state", "1", {}}, S::invalid, 1103},
        {{kGw, kCid, "water_flow", "1", {}}, S::invalid, 2002},
        {{kGw, kCid, "nonsense", "1", {}}, S::invalid, 2002},
        {{kGw, "unsynced", "switch_state", "true", {}}, S::invalid, 2003},
        {{"gw-9", kCid, "switch_state", "true", {}}, S::invalid, 2003},
    };
    for (const auto& k : cases) {
        Captured c;
        platform->submit_command(k.cmd, c.done());
        Batch staged;
        platform->on_tick(kNow, staged, out);
        ASSERT_TRUE(c.result.has_value()) << k.cmd.dp << "=" << k.cmd.value;
        EXPECT_EQ(c.result->status, k.status) << k.cmd.dp << "=" << k.cmd.value;
        EXPECT_EQ(c.result->code, k.code) << k.cmd.dp << "=" << k.cmd.value;
        EXPECT_TRUE(staged.empty());
    }
    EXPECT_TRUE(out.sent.empty());

    out.up = false;
    Captured c;
    platform->submit_command(DeviceCommand{kGw, kCid, "switch_state", "true", {}}, c.done());
    Batch staged;
    platform->on_tick(kNow, staged, out);
    ASSERT_TRUE(c.result.has_value());
    EXPECT_EQ(c.result->status, DeviceCommandResult::Status::unavailable);
    EXPECT_TRUE(staged.empty());
}

TEST_F(TuyaPlatformTest, StoppingAbortsWhatIsPendingAndRefusesMore) {
    synced();
    Captured first, late;
    platform->submit_command(DeviceCommand{kGw, kCid, "switch_state", "true", {}}, first.done());
    Batch staged;
    platform->on_tick(kNow, staged, out);
    staged.clear();
    platform->on_stop(kNow + 100, staged);
    ASSERT_TRUE(first.result.has_value());
    EXPECT_EQ(first.result->status, DeviceCommandResult::Status::unavailable);
    ASSERT_EQ(staged.size(), 1u);
    EXPECT_EQ(staged[0].commands.at(0).step, CommandRecord::Step::aborted);
    platform->submit_command(DeviceCommand{kGw, kCid, "switch_state", "true", {}}, late.done());
    ASSERT_TRUE(late.result.has_value());
    EXPECT_EQ(late.result->status, DeviceCommandResult::Status::unavailable);
}

// The connector drops a command's publication when its record's commit fails:
// the operator learns that nothing was sent; a command committed earlier stays pending.
TEST_F(TuyaPlatformTest, ACommandWhoseRecordIsNotCommittedFailsAsNotSent) {
    synced();
    Captured kept, lost;
    Batch staged;
    platform->submit_command(DeviceCommand{kGw, kCid, "switch_state", "true", {}}, kept.done());
    platform->on_tick(kNow, staged, out);
    platform->on_commit(true, {});
    platform->submit_command(DeviceCommand{kGw, kCid, "valve_state", "closed", {}}, lost.done());
    platform->on_tick(kNow + 10, staged, out);
    ASSERT_EQ(platform->pending_commands(), 2u);
    platform->on_commit(false, "disk I/O error");
    EXPECT_FALSE(kept.result.has_value());
    ASSERT_TRUE(lost.result.has_value());
    EXPECT_EQ(lost.result->status, DeviceCommandResult::Status::unavailable);
    EXPECT_EQ(lost.result->detail,
              "the command could not be recorded (disk I/O error); nothing was sent");
    EXPECT_EQ(lost.result->request_id, "");
    EXPECT_EQ(platform->pending_commands(), 1u);
    // Nothing is left to fail twice.
    platform->on_commit(false, "again");
    EXPECT_EQ(platform->pending_commands(), 1u);
}

TEST_F(TuyaPlatformTest, UnknownGatewayInTheTopicIsRejectedUnanswered) {
    const auto env = deliver("devices/sync", sync_msg(kCid), kNow, "gw-x");
    ASSERT_FALSE(env.result.ok());
    EXPECT_EQ(env.result.reject->code, RejectCode::bad_topic);
    EXPECT_TRUE(out.sent.empty());
}

TEST(TuyaConfig, MaxDevicesIsValidated) {
    ConnectorRegistry registry;
    register_tuya(registry);
    const auto load = [&](const std::string& extra) {
        return load_config_text(
            "[storage]\npath = \"/var/lib/mb/mb.db\"\n[brokers.local]\nhost = \"127.0.0.1\"\n"
            "[[connectors]]\nname = \"tuya\"\ntype = \"tuya\"\nbroker = \"local\"\n"
            "gateways = [\"gw-1\"]\n" +
                extra,
            "/etc/mb/test.toml", registry);
    };
    const auto options = [](const LoadResult& r) {
        return dynamic_cast<const TuyaOptions&>(*r.config->connectors.at(0).options);
    };
    auto r = load("");
    ASSERT_TRUE(r.errors.empty());
    EXPECT_EQ(options(r).max_devices, 1000u);
    r = load("max_devices = 20\n");
    ASSERT_TRUE(r.errors.empty());
    EXPECT_EQ(options(r).max_devices, 20u);
    for (const char* bad :
         {"max_devices = 0\n", "max_devices = 100001\n", "max_devices = \"x\"\n"}) {
        r = load(bad);
        ASSERT_EQ(r.errors.size(), 1u) << bad;
        EXPECT_EQ(r.errors[0].key, "connectors[0].max_devices") << bad;
    }
}

}  // namespace
}  // namespace mb
