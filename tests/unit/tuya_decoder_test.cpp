// Tuya edge-gateway protocol layer (shared/seeds/002): the document's topics and
// samples (verbatim fixtures), the response/command shapes byte for byte, one
// rejection per validation rule with its global error code, the DP table, the
// canonical readings and the day/month pairing across messages.
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "normalize/quantity.h"
#include "normalize/tuya/tuya_canonical.h"
#include "normalize/tuya/tuya_decoder.h"

#ifndef MB_SOURCE_DIR
#error "MB_SOURCE_DIR must name the source tree (for tests/fixtures)"
#endif

namespace mb {
namespace {

constexpr const char* kRid = "cd0fd3c3-bd15-42f6-8bf9-d230a08e2f4b";
constexpr const char* kCid = "92dda538fc2e636fd4b0c37f980a";
constexpr TimeMs kT = 1646092800000;  // 2022-03-01T00:00:00Z, the fixtures' t

std::string fixture(const std::string& name) {
    const std::string path = std::string(MB_SOURCE_DIR) + "/tests/fixtures/tuya/" + name;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The document's samples elide values with "***" and carry "// …" comments.
// Fill them in deterministically: t 162728*** → 1627280000, other *** → "abc",
// comments dropped, and (minify) whitespace outside strings removed, so that
// the result can be compared byte for byte with what we build.
std::string materialize(std::string s, bool minify = true) {
    for (std::size_t p; (p = s.find("162728***")) != std::string::npos;)
        s.replace(p, 9, "1627280000");
    for (std::size_t p; (p = s.find("***")) != std::string::npos;) s.replace(p, 3, "abc");
    for (std::size_t p; (p = s.find("//")) != std::string::npos;) s.erase(p, s.find('\n', p) - p);
    if (!minify) return s;
    std::string out;
    bool in_string = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '"' && (i == 0 || s[i - 1] != '\\')) in_string = !in_string;
        if (!in_string && (c == ' ' || c == '\n' || c == '\t' || c == '\r')) continue;
        out += c;
    }
    return out;
}

const std::vector<std::string> kGateways = {"gw-1", "{gateway_id}"};

// --- topics -------------------------------------------------------------------

TEST(TuyaTopic, BuildersGiveTheDocumentsTopicsVerbatim) {
    const std::string gw = "{gateway_id}";  // the document's placeholder as a gateway id
    EXPECT_EQ(tuya_topic(gw, TuyaUplink::devices_sync), fixture("doc_topic_devices_sync.txt"));
    EXPECT_EQ(tuya_topic(gw, TuyaUplink::properties_report),
              fixture("doc_topic_properties_report.txt"));
    EXPECT_EQ(tuya_topic(gw, TuyaUplink::devices_status), fixture("doc_topic_devices_status.txt"));
    EXPECT_EQ(tuya_topic(gw, TuyaUplink::commands_response),
              fixture("doc_topic_commands_response.txt"));
    EXPECT_EQ(tuya_topic(gw, TuyaDownlink::devices_sync_response),
              fixture("doc_topic_devices_sync_response.txt"));
    EXPECT_EQ(tuya_topic(gw, TuyaDownlink::properties_report_response),
              fixture("doc_topic_properties_report_response.txt"));
    EXPECT_EQ(tuya_topic(gw, TuyaDownlink::commands), fixture("doc_topic_commands.txt"));
    EXPECT_EQ(tuya_topic("gw-1", TuyaDownlink::commands), "gateway_id/gw-1/commands");
}

TEST(TuyaTopic, BuildersRefuseBadGatewayIds) {
    EXPECT_EQ(tuya_topic("", TuyaDownlink::commands), "");
    EXPECT_EQ(tuya_topic("a/b", TuyaDownlink::commands), "");
    EXPECT_EQ(tuya_topic("a+", TuyaUplink::devices_sync), "");
    EXPECT_EQ(tuya_topic("#", TuyaUplink::devices_sync), "");
    EXPECT_EQ(tuya_gateway_problem(std::string("a\0b", 3)),
              "gateway id contains '/', '+', '#' or NUL");
    EXPECT_EQ(tuya_gateway_problem("gw-1"), "");
}

TEST(TuyaTopic, ParsesTheDocumentsUplinkTopics) {
    const std::pair<const char*, TuyaUplink> cases[] = {
        {"doc_topic_devices_sync.txt", TuyaUplink::devices_sync},
        {"doc_topic_properties_report.txt", TuyaUplink::properties_report},
        {"doc_topic_devices_status.txt", TuyaUplink::devices_status},
        {"doc_topic_commands_response.txt", TuyaUplink::commands_response},
    };
    for (const auto& [file, kind] : cases) {
        const auto r = tuya_parse_topic(fixture(file), kGateways);
        ASSERT_TRUE(r.topic) << file << ": " << r.reject->reason();
        EXPECT_EQ(*r.topic, (TuyaTopic{"{gateway_id}", kind}));
    }
    const auto r = tuya_parse_topic("gateway_id/gw-1/properties/report", kGateways);
    ASSERT_TRUE(r.topic);
    EXPECT_EQ(*r.topic, (TuyaTopic{"gw-1", TuyaUplink::properties_report}));
}

TEST(TuyaTopic, RejectsWithBadTopic) {
    const std::pair<std::string, std::string> cases[] = {
        {"gateway_id/gw-2/devices/sync", "bad_topic: gateway 'gw-2' is not configured"},
        {fixture("doc_topic_commands.txt"),
         "bad_topic: topic 'gateway_id/{gateway_id}/commands' is a downlink (platform → device) "
         "topic"},
        {fixture("doc_topic_devices_sync_response.txt"),
         "bad_topic: topic 'gateway_id/{gateway_id}/devices/sync/response' is a downlink "
         "(platform → device) topic"},
        {"gateway_id/gw-1/devices/sync/",
         "bad_topic: topic 'gateway_id/gw-1/devices/sync/' is "
         "not a Tuya uplink topic"},
        {"gateway_id//devices/sync",
         "bad_topic: topic 'gateway_id//devices/sync' has an empty gateway id"},
        {"gateway_id/gw-1", "bad_topic: topic 'gateway_id/gw-1' has no kind after the gateway id"},
        {"gateway/in/gw-1", "bad_topic: topic 'gateway/in/gw-1' does not start with 'gateway_id/'"},
        {"Gateway_id/gw-1/devices/sync",
         "bad_topic: topic 'Gateway_id/gw-1/devices/sync' does not start with 'gateway_id/'"},
    };
    for (const auto& [topic, reason] : cases) {
        const auto r = tuya_parse_topic(topic, kGateways);
        ASSERT_FALSE(r.topic) << topic;
        EXPECT_EQ(r.reject->reason(), reason);
    }
    EXPECT_FALSE(tuya_parse_topic("gateway_id/gw-1/devices/sync", {}).topic);
}

TEST(TuyaTopic, InvalidUtf8IsEscapedInTheReason) {
    // Fuzz finding: a reason must stay valid UTF-8 (topics are not validated).
    const auto r = tuya_parse_topic("gateway_id/g\xa6\x05/devices/status", kGateways);
    ASSERT_TRUE(r.reject);
    EXPECT_EQ(r.reject->reason(), "bad_topic: gateway 'g\\xa6\\u0005' is not configured");
    const auto v = tuya_command_value("valve_state", "\xc3");
    ASSERT_FALSE(v.ok());
    EXPECT_THAT(v.error->detail, ::testing::EndsWith("not '\\xc3'"));
}

// --- the document's samples ------------------------------------------------------

TEST(TuyaDocSamples, VerbatimUplinksAreNotJsonAndCannotBeAnswered) {
    // The samples elide values ("162728***") and carry // comments.
    TuyaParser p;
    for (const auto* file : {"doc_devices_sync.json", "doc_properties_report.json",
                             "doc_devices_status.json", "doc_commands_response.json"}) {
        const auto r = p.device_sync(fixture(file));
        ASSERT_FALSE(r.ok()) << file;
        EXPECT_EQ(r.error->code, TuyaCode::params_type_incorrect) << file;
        EXPECT_TRUE(r.error->malformed);
        EXPECT_FALSE(r.error->answerable());
        EXPECT_EQ(tuya_reject(*r.error).code, RejectCode::malformed);
    }
}

TEST(TuyaDocSamples, SyncSampleHasAnEmptyProductIdAndGets1100) {
    TuyaParser p;
    const auto r = p.device_sync(materialize(fixture("doc_devices_sync.json"), false));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->code, TuyaCode::params_empty);
    EXPECT_EQ(r.error->detail, "param.product_id is empty");
    EXPECT_EQ(r.error->request_id, "cd0fd3c3-bd15-42f6-8bf9-d230aabc");
    EXPECT_EQ(r.error->cid, "92dda538fc2e636fdabc");
    EXPECT_EQ(tuya_error_response(1627280000, *r.error),
              R"({"t":1627280000,"request_id":"cd0fd3c3-bd15-42f6-8bf9-d230aabc",)"
              R"("param":{"cid":"92dda538fc2e636fdabc","msg":"params is empty","code":1100}})");
    EXPECT_EQ(tuya_reject(*r.error).reason(),
              "missing_field: 1100 params is empty: param.product_id is empty");
}

TEST(TuyaDocSamples, SyncSampleWithAProductIdIsAccepted) {
    std::string s = materialize(fixture("doc_devices_sync.json"), false);
    s.replace(s.find(R"("product_id":"")"), 15, R"("product_id":"pid1")");
    TuyaParser p;
    const auto r = p.device_sync(s);
    ASSERT_TRUE(r.ok()) << r.error->detail;
    EXPECT_EQ(r.value->t, 1627280000000);
    EXPECT_EQ(r.value->request_id, "cd0fd3c3-bd15-42f6-8bf9-d230aabc");
    EXPECT_EQ(r.value->cid, "92dda538fc2e636fdabc");
    EXPECT_EQ(r.value->product_id, "pid1");
    EXPECT_EQ(r.value->vendor_code, "");
    EXPECT_EQ(r.value->device_name, "");  // in the sample, not in the table
    EXPECT_EQ(r.value->product_sub_type, "");
}

TEST(TuyaDocSamples, ResponsesAreTheDocumentsShapeByteForByte) {
    EXPECT_EQ(tuya_success(1627280000, "cd0fd3c3-bd15-42f6-8bf9-d230a08abc",
                           "92dda538fc2e636fd4b0c37fabc"),
              materialize(fixture("doc_devices_sync_response.json")));
    EXPECT_EQ(tuya_success(1627280000, "cd0fd3c3-bd15-42f6-8bf9-d230a085abc",
                           "92dda538fc2e636fd4b0c37f98abc"),
              materialize(fixture("doc_properties_report_response.json")));
}

TEST(TuyaDocSamples, CommandIsTheDocumentsShapeByteForByte) {
    // The sample sends "value":"1" (a string) to DP 1; a string-typed value
    // renders the same way.
    TuyaDpValue v;
    v.type = TuyaDpType::enumeration;
    v.text = "1";
    EXPECT_EQ(tuya_command(1627280000, "92dda538fc2e636fd4b0c37f980abc",
                           "cd0fd3c3-bd15-42f6-8bf9-d230a08abc", 1, v),
              materialize(fixture("doc_commands.json")));
}

TEST(TuyaDocSamples, CommandResponseSampleParses) {
    TuyaParser p;
    const auto r = p.command_response(materialize(fixture("doc_commands_response.json")));
    ASSERT_TRUE(r.ok()) << r.error->detail;
    EXPECT_EQ(r.value->t, 1627280000000);
    EXPECT_EQ(r.value->cid, "92dda538fc2e636fd4b0c37f980abc");
    EXPECT_EQ(r.value->request_id, "cd0fd3c3-bd15-42f6-8bf9-d230aabc");
    EXPECT_EQ(r.value->code, 0);
    EXPECT_EQ(r.value->msg, "success");
    EXPECT_TRUE(r.value->success());
}

TEST(TuyaDocSamples, ReportSampleSendsRunToWaterFlowAndGets1103) {
    TuyaParser p;
    const auto r = p.property_report(materialize(fixture("doc_properties_report.json")));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->code, TuyaCode::params_type_incorrect);
    EXPECT_EQ(r.error->detail, "param.value must be an integer, not a string");
    EXPECT_EQ(r.error->request_id, "cd0fd3c3-bd15-42f6-8bf9-d230a0abc");
    EXPECT_EQ(r.error->cid, "ee1880aca6babc");
    EXPECT_FALSE(r.error->malformed);
}

TEST(TuyaDocSamples, StatusSampleParses) {
    TuyaParser p;
    const auto r = p.devices_status(materialize(fixture("doc_devices_status.json")));
    ASSERT_TRUE(r.ok()) << r.error->detail;
    EXPECT_EQ(r.value->t, 1627280000000);
    EXPECT_EQ(r.value->request_id, "cd0fd3c3-bd15-42f6-8bf9-d230a08abc");
    EXPECT_THAT(r.value->devices,
                ::testing::ElementsAre(TuyaDeviceStatus{"92dda538fc2e636fd4b0c37f98abc", true},
                                       TuyaDeviceStatus{"da538fc2ebffdb463692dfdb0c3abc", false}));
}

// --- valid edge cases ------------------------------------------------------------

TEST(TuyaSync, AllRegistryFields) {
    TuyaParser p;
    const auto r = p.device_sync(fixture("sync_full.json"));
    ASSERT_TRUE(r.ok()) << r.error->detail;
    const auto& s = *r.value;
    EXPECT_EQ(s.t, kT);
    EXPECT_EQ(s.request_id, kRid);
    EXPECT_EQ(s.cid, kCid);
    EXPECT_EQ(s.product_id, "pid-water-1");
    EXPECT_EQ(s.vendor_code, "acme");
    EXPECT_EQ(s.comm_type, "mqtt");
    EXPECT_EQ(s.device_ip, "192.0.2.7");
    EXPECT_EQ(s.mac_address, "00:11:22:33:44:55");
    EXPECT_EQ(s.device_name, "Meter \"A\"");
    EXPECT_EQ(s.device_desc, "cold water, flat 3");
    EXPECT_EQ(s.install_location, "basement");
    EXPECT_EQ(s.device_server_id, "srv-9");
    EXPECT_EQ(s.product_sub_type, "dn15");
}

TEST(TuyaSync, MinimalHasNoOptionalFields) {
    TuyaParser p;
    const auto r = p.device_sync(fixture("sync_minimal.json"));
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.value->vendor_code);
    EXPECT_FALSE(r.value->device_name);
    EXPECT_FALSE(r.value->product_sub_type);
}

TEST(TuyaSync, MillisecondTimeIsAccepted) {
    TuyaParser p;
    const auto r = p.device_sync(fixture("sync_t_ms.json"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value->t, kT + 123);
}

TEST(TuyaResponse, EscapesStrings) {
    EXPECT_EQ(tuya_response(5, "a\"b\\c", "x\ny\x01", TuyaCode::device_not_exist),
              R"({"t":5,"request_id":"a\"b\\c","param":{"cid":"x\ny\u0001",)"
              R"("msg":"device not exist","code":2003}})");
}

// --- one rejection per rule ---------------------------------------------------------

enum class Msg { sync, report, status, cmd };

struct Bad {
    const char* file;
    Msg msg;
    TuyaCode code;
    const char* detail;
    bool answerable;
};

class TuyaRejects : public ::testing::TestWithParam<Bad> {};

TEST_P(TuyaRejects, WithTheDocumentsCode) {
    const Bad& b = GetParam();
    TuyaParser p;
    const std::string payload = fixture(b.file);
    std::optional<TuyaError> e;
    switch (b.msg) {
        case Msg::sync:
            e = p.device_sync(payload).error;
            break;
        case Msg::report:
            e = p.property_report(payload).error;
            break;
        case Msg::status:
            e = p.devices_status(payload).error;
            break;
        case Msg::cmd:
            e = p.command_response(payload).error;
            break;
    }
    ASSERT_TRUE(e) << b.file;
    EXPECT_EQ(e->code, b.code) << b.file;
    EXPECT_EQ(e->detail, b.detail) << b.file;
    EXPECT_EQ(e->answerable(), b.answerable) << b.file;
    if (b.answerable) {
        EXPECT_EQ(e->request_id, kRid);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Files, TuyaRejects,
    ::testing::Values(
        Bad{"bad_empty.json", Msg::sync, TuyaCode::params_empty, "empty message", false},
        Bad{"bad_not_json.json", Msg::sync, TuyaCode::params_type_incorrect,
            "not valid JSON: The JSON document has an improper structure: missing or superfluous "
            "commas, braces, missing keys, etc.",
            false},
        Bad{"bad_not_object.json", Msg::report, TuyaCode::params_type_incorrect,
            "message must be a JSON object, not an array", false},
        Bad{"bad_missing_t.json", Msg::sync, TuyaCode::params_empty, "t is missing", true},
        Bad{"bad_t_string.json", Msg::sync, TuyaCode::params_type_incorrect,
            "t must be an integer, not a string", true},
        Bad{"bad_t_float.json", Msg::sync, TuyaCode::params_type_incorrect,
            "t must be an integer, not a number", true},
        Bad{"bad_t_zero.json", Msg::sync, TuyaCode::request_time_invalid,
            "t 0 is not a Unix time between 1970 and 9999", true},
        Bad{"bad_t_future.json", Msg::sync, TuyaCode::request_time_invalid,
            "t 253402300800000 is not a Unix time between 1970 and 9999", true},
        Bad{"bad_missing_request_id.json", Msg::sync, TuyaCode::params_empty,
            "request_id is missing", false},
        Bad{"bad_request_id_null.json", Msg::sync, TuyaCode::params_null, "request_id is null",
            false},
        Bad{"bad_request_id_number.json", Msg::sync, TuyaCode::params_type_incorrect,
            "request_id must be a string, not a number", false},
        Bad{"bad_request_id_empty.json", Msg::sync, TuyaCode::params_empty, "request_id is empty",
            false},
        Bad{"bad_param_array.json", Msg::sync, TuyaCode::params_type_incorrect,
            "param must be an object, not an array", true},
        Bad{"bad_sync_missing_cid.json", Msg::sync, TuyaCode::params_empty, "param.cid is missing",
            true},
        Bad{"bad_sync_missing_product_id.json", Msg::sync, TuyaCode::params_empty,
            "param.product_id is missing", true},
        Bad{"bad_sync_empty_product_id.json", Msg::sync, TuyaCode::params_empty,
            "param.product_id is empty", true},
        Bad{"bad_sync_vendor_code_number.json", Msg::sync, TuyaCode::params_type_incorrect,
            "param.vendor_code must be a string, not a number", true},
        Bad{"bad_sync_cid_too_long.json", Msg::sync, TuyaCode::params_range_invalid,
            "param.cid is longer than 256 bytes", true},
        Bad{"bad_report_unknown_dp.json", Msg::report, TuyaCode::not_supported,
            "param.id '19' is not a DP of the water meter (1..18)", true},
        Bad{"bad_report_id_number.json", Msg::report, TuyaCode::params_type_incorrect,
            "param.id must be a string, not a number", true},
        Bad{"bad_report_missing_value.json", Msg::report, TuyaCode::params_empty,
            "param.value is missing", true},
        Bad{"bad_report_value_null.json", Msg::report, TuyaCode::params_null, "param.value is null",
            true},
        Bad{"bad_report_value_string.json", Msg::report, TuyaCode::params_type_incorrect,
            "param.value must be an integer, not a string", true},
        Bad{"bad_report_value_float.json", Msg::report, TuyaCode::params_type_incorrect,
            "param.value must be an integer, not a number", true},
        Bad{"bad_report_value_negative.json", Msg::report, TuyaCode::params_range_invalid,
            "param.value -1 of DP 1 water_flow is outside 0..999999999", true},
        Bad{"bad_report_value_too_large.json", Msg::report, TuyaCode::params_range_invalid,
            "param.value 1000000000 of DP 1 water_flow is outside 0..999999999", true},
        Bad{"bad_report_value_uint64.json", Msg::report, TuyaCode::params_range_invalid,
            "param.value 18446744073709551615 of DP 1 water_flow is outside 0..999999999", true},
        Bad{"bad_report_bool_as_int.json", Msg::report, TuyaCode::params_type_incorrect,
            "param.value must be a boolean, not a number", true},
        Bad{"bad_report_enum_unknown.json", Msg::report, TuyaCode::params_range_invalid,
            "param.value 'half' is not a value of DP 9 valve_state", true},
        Bad{"bad_report_time_not_digits.json", Msg::report, TuyaCode::params_type_incorrect,
            "param.value '2022-03-01' of DP 7 d_begin_time is not a Unix timestamp", true},
        Bad{"bad_report_time_zero.json", Msg::report, TuyaCode::params_range_invalid,
            "param.value '0' of DP 8 d_end_time is not between 1970 and 9999", true},
        Bad{"bad_status_param_object.json", Msg::status, TuyaCode::params_type_incorrect,
            "param must be an array, not an object", true},
        Bad{"bad_status_empty_array.json", Msg::status, TuyaCode::params_empty,
            "param is an empty array", true},
        Bad{"bad_status_status_string.json", Msg::status, TuyaCode::params_type_incorrect,
            "param[0].status must be a boolean, not a string", true},
        Bad{"bad_status_missing_cid.json", Msg::status, TuyaCode::params_empty,
            "param[0].cid is missing", true},
        Bad{"bad_command_response_code_string.json", Msg::cmd, TuyaCode::params_type_incorrect,
            "param.code must be an integer, not a string", true},
        Bad{"bad_command_response_missing_msg.json", Msg::cmd, TuyaCode::params_empty,
            "param.msg is missing", true}));

TEST(TuyaErrors, MessagesAreTheDocuments) {
    EXPECT_EQ(tuya_message(0), "success");
    EXPECT_EQ(tuya_message(400), "tedge error: uplink specific error message");
    EXPECT_EQ(tuya_message(500), "system error, please contact the admin");
    EXPECT_EQ(tuya_message(1001), "request time is invalid");
    EXPECT_EQ(tuya_message(1100), "params is empty");
    EXPECT_EQ(tuya_message(1101), "params range invalid");
    EXPECT_EQ(tuya_message(1102), "params is null");
    EXPECT_EQ(tuya_message(1103), "params type is incorrect");
    EXPECT_EQ(tuya_message(2001), "device is offline");
    EXPECT_EQ(tuya_message(2002), "command or value not support");
    EXPECT_EQ(tuya_message(2003), "device not exist");
    EXPECT_EQ(tuya_message(7), "");
}

TEST(TuyaErrors, RejectMapping) {
    const auto reason = [](TuyaCode c) { return tuya_reject(tuya_error(c, "x")).reason(); };
    EXPECT_EQ(reason(TuyaCode::params_empty), "missing_field: 1100 params is empty: x");
    EXPECT_EQ(reason(TuyaCode::params_range_invalid), "out_of_range: 1101 params range invalid: x");
    EXPECT_EQ(reason(TuyaCode::request_time_invalid),
              "out_of_range: 1001 request time is invalid: x");
    EXPECT_EQ(reason(TuyaCode::params_null), "wrong_type: 1102 params is null: x");
    EXPECT_EQ(reason(TuyaCode::params_type_incorrect),
              "wrong_type: 1103 params type is incorrect: x");
    EXPECT_EQ(reason(TuyaCode::not_supported),
              "invalid_value: 2002 command or value not support: x");
    EXPECT_EQ(reason(TuyaCode::device_not_exist), "unknown_device: 2003 device not exist: x");
    EXPECT_EQ(reason(TuyaCode::device_offline), "upstream_error: 2001 device is offline: x");
    const auto e = tuya_error(TuyaCode::device_not_exist, "cid 'c' is not synced", "r1", "c");
    EXPECT_EQ(
        tuya_error_response(1, e),
        R"({"t":1,"request_id":"r1","param":{"cid":"c","msg":"device not exist","code":2003}})");
}

// --- DP table -------------------------------------------------------------------------

TEST(TuyaDps, TableMatchesTheDocument) {
    const auto dps = tuya_dps();
    ASSERT_EQ(dps.size(), 18u);
    const char* codes[] = {"water_flow",          "monthly_water_total", "daily_water_total",
                           "switch_state",        "d_begin_water_total", "d_end_water_total",
                           "d_begin_time",        "d_end_time",          "valve_state",
                           "m_begin_water_total", "m_end_water_total",   "m_begin_time",
                           "m_end_time",          "cold_stall_userdata", "cold_stall_type",
                           "hot_stall_userdata",  "hot_stall_type",      "valve_open_degree"};
    std::vector<int> writable;
    for (std::size_t i = 0; i < dps.size(); ++i) {
        EXPECT_EQ(dps[i].id, static_cast<int>(i + 1));
        EXPECT_EQ(dps[i].code, codes[i]);
        EXPECT_EQ(tuya_find_dp(dps[i].id), &dps[i]);
        EXPECT_EQ(tuya_find_dp(dps[i].code), &dps[i]);
        EXPECT_EQ(tuya_find_dp(std::to_string(i + 1)), &dps[i]);
        if (dps[i].writable) writable.push_back(dps[i].id);
        if (dps[i].type == TuyaDpType::value) {
            EXPECT_EQ(dps[i].min, 0);
            EXPECT_EQ(dps[i].max, 999999999);
        }
    }
    EXPECT_THAT(writable, ::testing::ElementsAre(4, 9, 15, 17, 18));
    EXPECT_THAT(tuya_find_dp(9)->enum_values,
                ::testing::ElementsAre("opened", "closed", "opening", "closing"));
    EXPECT_THAT(tuya_find_dp(17)->enum_values,
                ::testing::ElementsAre("square_area", "ignore", "consumption", "proportion",
                                       "lease", "power"));
    EXPECT_EQ(tuya_find_dp(0), nullptr);
    EXPECT_EQ(tuya_find_dp(19), nullptr);
    EXPECT_EQ(tuya_find_dp("nope"), nullptr);
}

// --- canonical ------------------------------------------------------------------------

TuyaPropertyReport report(int dp, TuyaDpValue v, TimeMs t = kT) {
    return TuyaPropertyReport{t, kRid, kCid, dp, std::move(v)};
}
TuyaDpValue num(std::int64_t x, TuyaDpType type = TuyaDpType::value) {
    TuyaDpValue v;
    v.type = type;
    v.integer = x;
    return v;
}

TEST(TuyaCanonical, FixturesBecomeReadingsAndStates) {
    TuyaParser p;
    const auto canon = [&](const char* file) {
        const auto r = p.property_report(fixture(file));
        EXPECT_TRUE(r.ok()) << file;
        return dp_report_to_canonical(*r.value, {});
    };
    auto c = canon("report_water_flow.json");
    EXPECT_THAT(c.readings, ::testing::ElementsAre(Reading{kCid, "water.volume.index", "m3",
                                                           Kind::cumulative, kT, kT, 123456}));
    EXPECT_TRUE(c.states.empty());
    c = canon("report_daily_total.json");
    EXPECT_THAT(c.readings, ::testing::ElementsAre(Reading{kCid, "water.volume.day", "m3",
                                                           Kind::interval, kT, kT + 86400000, 42}));
    c = canon("report_monthly_total.json");  // March 2022: 31 days
    EXPECT_THAT(c.readings,
                ::testing::ElementsAre(Reading{kCid, "water.volume.month", "m3", Kind::interval, kT,
                                               kT + 31 * 86400000LL, 900}));
    c = canon("report_switch_state.json");
    EXPECT_THAT(c.states, ::testing::ElementsAre(StateEvent{kCid, "switch_state", "true", kT}));
    c = canon("report_valve_state.json");
    EXPECT_THAT(c.states, ::testing::ElementsAre(StateEvent{kCid, "valve_state", "closing", kT}));
    c = canon("report_cold_stall_type.json");
    EXPECT_THAT(c.states,
                ::testing::ElementsAre(StateEvent{kCid, "cold_stall_type", "square_area", kT}));
    c = canon("report_valve_open_degree.json");
    EXPECT_THAT(c.states, ::testing::ElementsAre(StateEvent{kCid, "valve_open_degree", "57", kT}));
    EXPECT_TRUE(c.readings.empty());
    c = canon("report_range_max.json");
    EXPECT_EQ(c.readings.at(0).value, 999999999);
}

TEST(TuyaCanonical, UnvalidatedReportGivesNothing) {
    TuyaPairing p;
    p.slots[0] = TuyaPairHalf{true, false, 1, kT};
    auto c = dp_report_to_canonical(report(19, num(1)), p);
    EXPECT_TRUE(c.readings.empty());
    EXPECT_EQ(c.pairing, p);
    c = dp_report_to_canonical(report(3, num(1), std::numeric_limits<TimeMs>::max()), p);
    EXPECT_TRUE(c.readings.empty());
}

TEST(TuyaCanonical, SharedUsageIsInstantAndScaleApplies) {
    TuyaCanonicalOptions o;
    o.volume_scale = 3;
    auto c = dp_report_to_canonical(report(16, num(1005)), {}, o);
    EXPECT_THAT(c.readings, ::testing::ElementsAre(Reading{kCid, "water.volume.shared.hot", "m3",
                                                           Kind::instant, kT, kT, 1.005}));
    c = dp_report_to_canonical(report(14, num(7)), {}, o);
    EXPECT_EQ(c.readings.at(0).quantity, "water.volume.shared.cold");
    EXPECT_EQ(c.readings.at(0).value, 0.007);
}

TEST(TuyaCanonical, DayAndMonthFollowTheOffset) {
    TuyaCanonicalOptions o;
    o.utc_offset_minutes = 60;  // Europe/Paris in winter
    // 2022-02-28T23:30Z is 2022-03-01T00:30 local: the local day/month of March.
    const TimeMs t = kT - 30 * 60000;
    auto c = dp_report_to_canonical(report(3, num(5), t), {}, o);
    EXPECT_EQ(c.readings.at(0).ts_start, kT - 3600000);
    EXPECT_EQ(c.readings.at(0).ts_end, kT - 3600000 + 86400000);
    c = dp_report_to_canonical(report(2, num(5), t), {}, o);
    EXPECT_EQ(c.readings.at(0).ts_start, kT - 3600000);
    EXPECT_EQ(c.readings.at(0).ts_end, kT + 31 * 86400000LL - 3600000);
    // December → January of the next year; February of a leap year.
    const TimeMs dec15 = 1639526400000;  // 2021-12-15T00:00Z
    c = dp_report_to_canonical(report(2, num(1), dec15), {});
    EXPECT_EQ(c.readings.at(0).ts_start, 1638316800000);  // 2021-12-01
    EXPECT_EQ(c.readings.at(0).ts_end, 1640995200000);    // 2022-01-01
    const TimeMs feb2024 = 1707955200000;                 // 2024-02-15T00:00Z
    c = dp_report_to_canonical(report(2, num(1), feb2024), {});
    EXPECT_EQ(c.readings.at(0).ts_end - c.readings.at(0).ts_start, 29 * 86400000LL);
}

TEST(TuyaPairing, ValueThenTimeInSeparateMessages) {
    const TimeMs first = kT + 60000;  // the first reading of the day at 00:01
    auto c = dp_report_to_canonical(report(5, num(1000)), {});
    EXPECT_TRUE(c.readings.empty());
    EXPECT_EQ(tuya_pairing_to_string(c.pairing), "v:1000@1646092800000 - - -");
    c = dp_report_to_canonical(report(7, num(first, TuyaDpType::timestamp), kT + 5000), c.pairing);
    EXPECT_THAT(c.readings, ::testing::ElementsAre(Reading{kCid, "water.volume.index", "m3",
                                                           Kind::cumulative, first, first, 1000}));
    EXPECT_EQ(c.pairing, TuyaPairing{});
}

TEST(TuyaPairing, TimeThenValueAndSlotsAreIndependent) {
    TuyaPairing s;
    auto c = dp_report_to_canonical(report(13, num(kT - 1000, TuyaDpType::timestamp)), s);
    c = dp_report_to_canonical(report(8, num(kT - 2000, TuyaDpType::timestamp)), c.pairing);
    EXPECT_EQ(tuya_pairing_to_string(c.pairing),
              "- t:1646092798000@1646092800000 - t:1646092799000@1646092800000");
    c = dp_report_to_canonical(report(11, num(77)), c.pairing);
    EXPECT_THAT(c.readings,
                ::testing::ElementsAre(Reading{kCid, "water.volume.index", "m3", Kind::cumulative,
                                               kT - 1000, kT - 1000, 77}));
    EXPECT_EQ(tuya_pairing_to_string(c.pairing), "- t:1646092798000@1646092800000 - -");
}

TEST(TuyaPairing, HalvesFromAnotherBurstDoNotPair) {
    TuyaCanonicalOptions o;  // window 10 minutes
    auto c = dp_report_to_canonical(report(10, num(500)), {}, o);
    // A month-begin time reported a day later: the stale value is replaced.
    c = dp_report_to_canonical(report(12, num(kT, TuyaDpType::timestamp), kT + 86400000), c.pairing,
                               o);
    EXPECT_TRUE(c.readings.empty());
    EXPECT_EQ(tuya_pairing_to_string(c.pairing), "- - t:1646092800000@1646179200000 -");
    // An older value than the pending time (a late redelivery) is dropped.
    c = dp_report_to_canonical(report(10, num(400), kT), c.pairing, o);
    EXPECT_TRUE(c.readings.empty());
    EXPECT_EQ(tuya_pairing_to_string(c.pairing), "- - t:1646092800000@1646179200000 -");
    // A second value replaces the first (newest wins), then pairs.
    c = dp_report_to_canonical(report(10, num(600), kT + 86400000 + 600000), c.pairing, o);
    EXPECT_EQ(c.readings.at(0).value, 600);
    EXPECT_EQ(c.readings.at(0).ts_start, kT);
}

TEST(TuyaPairing, SerializationRoundTrips) {
    TuyaPairing p;
    p.slots[1] = TuyaPairHalf{true, false, 42, kT};
    p.slots[3] = TuyaPairHalf{true, true, kT - 5, kT + 1};
    const std::string s = tuya_pairing_to_string(p);
    EXPECT_EQ(s, "- v:42@1646092800000 - t:1646092799995@1646092800001");
    EXPECT_EQ(tuya_pairing_from_string(s), p);
    EXPECT_EQ(tuya_pairing_from_string("- - - -"), TuyaPairing{});
    for (const char* bad :
         {"", "- - -", "- - - - -", "x:1@2 - - -", "v:1 - - -", "v:@2 - - -", "v:-1@2 - - -",
          "v:01@2 - - -", "- t:1@001 - -" /* fuzz finding: not canonical */, "-  - - -",
          "- - - - "})
        EXPECT_FALSE(tuya_pairing_from_string(bad)) << bad;
}

// --- commands ---------------------------------------------------------------------------

TEST(TuyaCommand, ValidatesAndBuilds) {
    auto v = tuya_command_value("valve_state", "closed");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(tuya_command(1646092800, kCid, "req-1", 9, *v.value),
              R"({"t":1646092800,"cid":"92dda538fc2e636fd4b0c37f980a","request_id":"req-1",)"
              R"("param":{"id":"9","value":"closed"}})");
    v = tuya_command_value("4", "false");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(tuya_command(1, "c", "r", 4, *v.value),
              R"({"t":1,"cid":"c","request_id":"r","param":{"id":"4","value":false}})");
    v = tuya_command_value("valve_open_degree", "50");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(tuya_command(1, "c", "r", 18, *v.value),
              R"({"t":1,"cid":"c","request_id":"r","param":{"id":"18","value":50}})");
    v = tuya_command_value("hot_stall_type", "lease");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v.value->text, "lease");
}

TEST(TuyaCommand, RejectsWithTheDocumentsCodes) {
    const std::tuple<const char*, const char*, TuyaCode, const char*> cases[] = {
        {"water_flow", "1", TuyaCode::not_supported, "DP 1 water_flow is read-only"},
        {"d_begin_time", "1", TuyaCode::not_supported, "DP 7 d_begin_time is read-only"},
        {"42", "1", TuyaCode::not_supported, "unknown DP '42'"},
        {"switch_state", "on", TuyaCode::params_type_incorrect,
         "switch_state takes true or false, not 'on'"},
        {"valve_state", "half", TuyaCode::params_range_invalid,
         "valve_state takes one of opened, closed, opening, closing, not 'half'"},
        {"valve_open_degree", "5.5", TuyaCode::params_type_incorrect,
         "valve_open_degree takes an integer, not '5.5'"},
        {"valve_open_degree", "", TuyaCode::params_type_incorrect,
         "valve_open_degree takes an integer, not ''"},
        {"valve_open_degree", "-1", TuyaCode::params_range_invalid,
         "valve_open_degree -1 is outside 0..999999999"},
        {"valve_open_degree", "1000000000", TuyaCode::params_range_invalid,
         "valve_open_degree 1000000000 is outside 0..999999999"},
        {"valve_open_degree", "99999999999999999999999", TuyaCode::params_range_invalid,
         "valve_open_degree 99999999999999999999999 is outside 0..999999999"},
    };
    for (const auto& [dp, text, code, detail] : cases) {
        const auto r = tuya_command_value(dp, text);
        ASSERT_FALSE(r.ok()) << dp << " " << text;
        EXPECT_EQ(r.error->code, code) << dp << " " << text;
        EXPECT_EQ(r.error->detail, detail);
    }
}

TEST(TuyaCommand, ResponseWithAnErrorCode) {
    TuyaParser p;
    const auto r = p.command_response(fixture("commands_response_offline.json"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value->code, 2001);
    EXPECT_EQ(r.value->msg, "device is offline");
    EXPECT_FALSE(r.value->success());
    EXPECT_EQ(r.value->cid, kCid);
}

// --- misc ---------------------------------------------------------------------------------

TEST(TuyaMisc, GatewayPasswordIsMd5OfClientIdAndUsername) {
    EXPECT_EQ(tuya_gateway_password("", ""), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(tuya_gateway_password("a", "bc"), "900150983cd24fb0d6963f7d28e17f72");  // md5("abc")
}

TEST(TuyaMisc, Stale) {
    EXPECT_FALSE(tuya_is_stale(kT, kT + 180000));
    EXPECT_TRUE(tuya_is_stale(kT, kT + 180001));
    EXPECT_FALSE(tuya_is_stale(kT, kT + 1000, 1000));
    EXPECT_TRUE(tuya_is_stale(kT, kT + 1001, 1000));
    EXPECT_FALSE(tuya_is_stale(kT, kT - 5000));  // clock went back: not stale
    EXPECT_TRUE(
        tuya_is_stale(std::numeric_limits<TimeMs>::min(), std::numeric_limits<TimeMs>::max()));
    EXPECT_TRUE(tuya_is_stale(kT, kT + 1, 0));
}

TEST(TuyaStatus, TwoDevices) {
    TuyaParser p;
    const auto r = p.devices_status(fixture("status_two.json"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value->t, kT);
    EXPECT_THAT(r.value->devices,
                ::testing::ElementsAre(TuyaDeviceStatus{kCid, true},
                                       TuyaDeviceStatus{"da538fc2ebffdb463692dfdb0c3a", false}));
}

}  // namespace
}  // namespace mb
