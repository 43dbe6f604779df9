#include "daemon/control/control_protocol.h"

#include <gtest/gtest.h>

namespace mb::control {
namespace {

TEST(ControlProtocol, CommandRequestRoundTrips) {
    CommandRequest c;
    c.connector = "tuya";
    c.command = DeviceCommand{"gw-1", "cid \"1\"", "valve_state", "closed",
                              std::chrono::milliseconds(2500)};
    const auto parsed = parse_request(render(Request{c}));
    ASSERT_TRUE(parsed.request.has_value()) << parsed.error;
    const auto& back = std::get<CommandRequest>(*parsed.request);
    EXPECT_EQ(back.connector, "tuya");
    EXPECT_EQ(back.command.device, "cid \"1\"");
    EXPECT_EQ(back.command.value, "closed");
    EXPECT_EQ(back.command.timeout.count(), 2500);
}

TEST(ControlProtocol, BadRequestsSayWhatIsWrong) {
    EXPECT_EQ(parse_request("nope").error.substr(0, 8), "not JSON");
    EXPECT_EQ(parse_request("[]").error, "not a JSON object");
    EXPECT_EQ(parse_request("{}").error, "missing \"op\"");
    EXPECT_EQ(parse_request(R"({"op":"reboot"})").error,
              "unknown op \"reboot\" (command, run_job, status)");
    EXPECT_EQ(
        parse_request(R"({"op":"command","connector":"t","gateway":"g","device":"d","dp":"x"})")
            .error,
        "missing \"value\"");
    EXPECT_EQ(
        parse_request(
            R"({"op":"command","connector":"t","gateway":"g","device":"d","dp":"x","value":1})")
            .error,
        "\"value\" must be a string");
    EXPECT_EQ(
        parse_request(
            R"({"op":"command","connector":"t","gateway":"g","device":"d","dp":"x","value":"1","timeout_ms":-5})")
            .error,
        "\"timeout_ms\" must be an integer from 0 to 3600000");
    EXPECT_TRUE(
        std::holds_alternative<StatusRequest>(*parse_request(R"({"op":"status"})").request));
}

TEST(ControlProtocol, RunJobRoundTrips) {
    const auto parsed = parse_request(render(Request{RunJobRequest{"daily"}}));
    ASSERT_TRUE(parsed.request.has_value()) << parsed.error;
    EXPECT_EQ(std::get<RunJobRequest>(*parsed.request).job, "daily");
    EXPECT_EQ(parse_request(R"({"op":"run_job"})").error, "missing \"job\"");
}

TEST(ControlProtocol, ResponsesRoundTrip) {
    Response r;
    r.status = "timeout";
    r.code = 2001;
    r.msg = "device is offline";
    r.request_id = "mb-1";
    r.detail = "no answer from the device within 10 s";
    r.connectors.push_back(ConnectorStatus{"tuya", "tuya", "running", "ok", 5, 1, 2});
    std::string error;
    const auto back = parse_response(render(r), error);
    ASSERT_TRUE(back.has_value()) << error;
    EXPECT_EQ(back->status, "timeout");
    EXPECT_EQ(back->code, 2001);
    EXPECT_EQ(back->msg, "device is offline");
    EXPECT_EQ(back->request_id, "mb-1");
    EXPECT_EQ(back->detail, r.detail);
    ASSERT_EQ(back->connectors.size(), 1u);
    EXPECT_EQ(back->connectors[0].reconnects, 2u);
    EXPECT_FALSE(parse_response("{", error).has_value());
}

}  // namespace
}  // namespace mb::control
