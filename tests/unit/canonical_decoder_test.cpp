#include <gtest/gtest.h>

#include "normalize/canonical/canonical_decoder.h"

namespace mb {
namespace {

DecodeResult decode(const std::string& payload) {
    CanonicalDecoder d;
    return d.decode(RawMessage{"spool", "f.jsonl:1", payload, {}, 1000});
}

TEST(CanonicalDecoder, IntervalReadingWithDefaults) {
    auto r = decode(R"({"meter":"m1","quantity":"electricity.energy.consumption","value":12.5,)"
                    R"("ts_start":"2022-03-01T00:00:00Z","ts_end":"2022-03-01T00:15:00.000Z"})");
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    ASSERT_EQ(r.readings.size(), 1u);
    EXPECT_EQ(r.readings[0], (Reading{"m1", "electricity.energy.consumption", "Wh", Kind::interval,
                                      1646092800000, 1646093700000, 12.5}));
}

TEST(CanonicalDecoder, ArrayOfReadingsAndStatesWithMsTimestamps) {
    auto r = decode(
        R"([{"meter":"w","quantity":"water.volume.index","value":3,"ts_start":1000},)"
        R"({"meter":"w","key":"valve_state","value":"open","ts":2000},)"
        R"({"meter":"g","quantity":"register.9","unit":"degC","value":-1.5e1,"ts_start":5}])");
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    ASSERT_EQ(r.readings.size(), 2u);
    EXPECT_EQ(r.readings[0].kind, Kind::cumulative);
    EXPECT_EQ(r.readings[0].ts_end, 1000);
    EXPECT_EQ(r.readings[1].unit, "degC");
    EXPECT_EQ(r.readings[1].kind, Kind::instant);
    EXPECT_EQ(r.readings[1].value, -15.0);
    ASSERT_EQ(r.states.size(), 1u);
    EXPECT_EQ(r.states[0], (StateEvent{"w", "valve_state", "open", 2000}));
}

struct BadCase {
    const char* payload;
    RejectCode code;
    const char* detail_part;
};

class CanonicalDecoderRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(CanonicalDecoderRejects, WithSpecificReason) {
    const auto& c = GetParam();
    auto r = decode(c.payload);
    ASSERT_FALSE(r.ok()) << c.payload;
    EXPECT_EQ(r.reject->code, c.code) << r.reject->reason();
    EXPECT_NE(r.reject->detail.find(c.detail_part), std::string::npos) << r.reject->reason();
    EXPECT_TRUE(r.readings.empty());
}

INSTANTIATE_TEST_SUITE_P(
    All, CanonicalDecoderRejects,
    ::testing::Values(
        BadCase{"{", RejectCode::malformed, "not valid JSON"},
        BadCase{"not json", RejectCode::malformed, "not a JSON document"},
        BadCase{"42", RejectCode::wrong_type, "object or array"},
        BadCase{"[]", RejectCode::invalid_value, "empty"},
        BadCase{R"({"meter":"m","quantity":"water.volume.index","value":1,"ts_start":1} x)",
                RejectCode::malformed, "trailing bytes after the JSON document (from byte 68)"},
        BadCase{R"({"quantity":"water.volume.index","value":1,"ts_start":1})",
                RejectCode::missing_field, "[0].meter"},
        BadCase{R"({"meter":"m","value":1,"ts_start":1})", RejectCode::missing_field, "quantity"},
        BadCase{R"({"meter":"m","quantity":"water.volume.index","ts_start":1})",
                RejectCode::missing_field, "value"},
        BadCase{R"({"meter":"m","quantity":"water.volume.index","value":1})",
                RejectCode::missing_field, "ts_start"},
        BadCase{
            R"({"meter":"m","quantity":"electricity.energy.consumption","value":1,"ts_start":1})",
            RejectCode::missing_field, "ts_end"},
        BadCase{
            R"({"meter":"m","quantity":"electricity.energy.consumption","value":1,"ts_start":5,"ts_end":5})",
            RejectCode::invalid_value, "not after"},
        BadCase{R"({"meter":"m","quantity":"bogus","value":1,"ts_start":1})",
                RejectCode::invalid_value, "bogus"},
        BadCase{
            R"({"meter":"m","quantity":"water.volume.index","unit":"l","value":1,"ts_start":1})",
            RejectCode::invalid_value, "unit 'l'"},
        BadCase{R"({"meter":"m","quantity":"water.volume.index","value":1,"ts_start":1,"extra":0})",
                RejectCode::unknown_field, "[0].extra"},
        BadCase{R"({"meter":"m","quantity":"water.volume.index","value":true,"ts_start":1})",
                RejectCode::wrong_type, "value"},
        BadCase{R"({"meter":"m","quantity":"water.volume.index","value":1,"ts_start":"yesterday"})",
                RejectCode::invalid_value, "ISO-8601"},
        BadCase{R"({"meter":"m","quantity":"water.volume.index","value":1e999,"ts_start":1})",
                RejectCode::invalid_value, "value"},
        BadCase{R"({"meter":"m","key":"valve","value":"open"})", RejectCode::missing_field, "ts"},
        BadCase{R"([{"meter":"m","quantity":"water.volume.index","value":1,"ts_start":1}, 7])",
                RejectCode::wrong_type, "[1]"}),
    [](const ::testing::TestParamInfo<BadCase>& p) { return "case" + std::to_string(p.index); });

TEST(CanonicalDecoder, IsReusableAcrossMessages) {
    CanonicalDecoder d;
    auto bad = d.decode(RawMessage{"s", "t", "{", {}, 0});
    EXPECT_FALSE(bad.ok());
    auto good = d.decode(
        RawMessage{"s",
                   "t",
                   R"({"meter":"m","quantity":"water.volume.index","value":1,"ts_start":1})",
                   {},
                   0});
    EXPECT_TRUE(good.ok());
}

}  // namespace
}  // namespace mb
