// Å Insite consumer decoder (seed 001, "Subscribe to meter data over MQTT"):
// the document's examples verbatim, edge cases, and one rejection per rule
// with its exact reason. Fixtures: tests/fixtures/ainsite/consumer_*.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "normalize/ainsite/ainsite_decoder.h"
#include "normalize/ainsite/register_map.h"
#include "normalize/detail_text.h"
#include "tests/support/fixture.h"

namespace mb {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(MB_SOURCE_DIR) / "tests" / "fixtures" / "ainsite";
constexpr const char* kTopic = "meters/outbound/cust-42/sub-7/meter-1";
constexpr TimeMs kReceived = 1700000000000;

std::string fixture(const std::string& name) {
    return test::read_fixture("ainsite", name);
}

std::string first_line(const std::string& name) {
    std::istringstream in(fixture(name));
    std::string line;
    std::getline(in, line);
    return line;
}

DecodeResult decode(const std::string& payload, const std::string& topic = kTopic,
                    ainsite::RegisterMap registers = {}) {
    AinsiteDecoder d(std::move(registers));
    return d.decode(RawMessage{"ainsite", topic, payload, {}, kReceived});
}

std::string reason(const DecodeResult& r) {
    return r.reject ? r.reject->reason() : "accepted";
}

// --- the document's examples -------------------------------------------------

TEST(AinsiteDecoder, DocumentVersion1ExampleIsTheEnergyIndexInWh) {
    const auto r = decode(fixture("consumer_doc_v1.json"));
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    ASSERT_EQ(r.readings.size(), 1u);
    EXPECT_TRUE(r.states.empty());
    // 123.456 kWh at 2023-01-01T12:34:56.789Z (data_timestamp_utc, not the system time).
    EXPECT_EQ(r.readings[0], (Reading{"meter-1", "electricity.energy.consumption.index", "Wh",
                                      Kind::cumulative, 1672576496789, 1672576496789, 123456.0}));
}

TEST(AinsiteDecoder, DocumentVersion2ExampleIsAnIntervalOfAnUnmappedRegister) {
    const auto r = decode(fixture("consumer_doc_v2.json"));
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    ASSERT_EQ(r.readings.size(), 1u);
    EXPECT_EQ(r.readings[0], (Reading{"meter-1", "register.12", "", Kind::interval, 1672574400000,
                                      1672574460000, 123.456}));
}

TEST(AinsiteDecoder, DocumentTopicTemplateNamesTheMeterByItsLastLevel) {
    const std::string topic = first_line("consumer_doc_topic.txt");
    ASSERT_EQ(topic, "meters/outbound/[customer-id]/[subscription-id]/[meter-id]");
    const auto r = decode(fixture("consumer_doc_v1.json"), topic);
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    ASSERT_EQ(r.readings.size(), 1u);
    EXPECT_EQ(r.readings[0].meter, "[meter-id]");
}

// --- accepted edge cases ------------------------------------------------------

struct GoodCase {
    const char* file;
    Reading expected;
};

class AinsiteDecoderAccepts : public ::testing::TestWithParam<GoodCase> {};

TEST_P(AinsiteDecoderAccepts, Fixture) {
    const auto& c = GetParam();
    const auto r = decode(fixture(c.file));
    ASSERT_TRUE(r.ok()) << c.file << ": " << r.reject->reason();
    ASSERT_EQ(r.readings.size(), 1u);
    EXPECT_EQ(r.readings[0], c.expected) << c.file;
    EXPECT_FALSE(std::signbit(r.readings[0].value) && r.readings[0].value == 0) << c.file;
}

constexpr TimeMs kData = 1672576496789;   // 2023-01-01T12:34:56.789Z
constexpr TimeMs kStart = 1672574400000;  // 2023-01-01T12:00:00.000Z
constexpr TimeMs kEnd = 1672574460000;    // 2023-01-01T12:01:00.000Z
const char* const kIndex = "electricity.energy.consumption.index";

const GoodCase kGoodCases[] = {
    // Field order is free; 0.123 kWh is exactly 123 Wh (decimal scaling, no 123.00000000000001).
    {"consumer_ok_v1_fields_reordered.json",
     {"meter-1", kIndex, "Wh", Kind::cumulative, kData, kData, 123.0}},
    // 1.005 * 1000.0 in doubles is 1004.9999999999999.
    {"consumer_ok_v1_decimal_1005.json",
     {"meter-1", kIndex, "Wh", Kind::cumulative, kData, kData, 1005.0}},
    {"consumer_ok_v1_exponent.json",
     {"meter-1", kIndex, "Wh", Kind::cumulative, kData, kData, 1500000.0}},
    {"consumer_ok_v1_zero.json", {"meter-1", kIndex, "Wh", Kind::cumulative, kData, kData, 0.0}},
    {"consumer_ok_v1_leap_day.json",
     {"meter-1", kIndex, "Wh", Kind::cumulative, 1709251199999, 1709251199999, 123456.0}},
    {"consumer_ok_v2_negative.json",
     {"meter-1", "register.12", "", Kind::interval, kStart, kEnd, -0.5}},
    {"consumer_ok_v2_integer_value.json",
     {"meter-1", "register.0", "", Kind::interval, kStart, kEnd, 42.0}},
    {"consumer_ok_v2_day_interval.json",
     {"meter-1", "register.2147483647", "", Kind::interval, 1672531200000, 1672617600000, 0.001}},
};

INSTANTIATE_TEST_SUITE_P(Fixtures, AinsiteDecoderAccepts, ::testing::ValuesIn(kGoodCases));

// --- rejections: one fixture per rule -----------------------------------------

struct BadCase {
    const char* file;
    RejectCode code;
    const char* detail;
};

class AinsiteDecoderRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(AinsiteDecoderRejects, Fixture) {
    const auto& c = GetParam();
    const auto r = decode(fixture(c.file));
    ASSERT_FALSE(r.ok()) << c.file;
    EXPECT_EQ(r.reject->code, c.code) << c.file << ": " << r.reject->reason();
    EXPECT_EQ(r.reject->detail, c.detail) << c.file;
    EXPECT_TRUE(r.readings.empty());
    EXPECT_TRUE(r.states.empty());
}

const BadCase kBadCases[] = {
    {"consumer_bad_empty.json", RejectCode::malformed, "empty payload"},
    {"consumer_bad_truncated.json", RejectCode::malformed, "not valid JSON"},
    {"consumer_bad_trailing.json", RejectCode::malformed,
     "trailing bytes after the JSON document (from byte 183)"},
    {"consumer_bad_nan.json", RejectCode::malformed, "not valid JSON"},
    {"consumer_bad_infinity.json", RejectCode::malformed, "not valid JSON"},
    {"consumer_bad_leading_zero.json", RejectCode::malformed,
     "meter_reading '0123.4' is not a decimal number"},
    {"consumer_bad_array.json", RejectCode::wrong_type,
     "payload must be a JSON object (got an array)"},
    {"consumer_bad_unknown_field.json", RejectCode::unknown_field, "'unit'"},
    {"consumer_bad_duplicate_field.json", RejectCode::invalid_value,
     "meter_reading appears more than once"},
    {"consumer_bad_missing_version.json", RejectCode::missing_field,
     "smarteo_payload_schema_version"},
    {"consumer_bad_version_string.json", RejectCode::wrong_type,
     "smarteo_payload_schema_version must be an integer (got a string)"},
    {"consumer_bad_version_float.json", RejectCode::wrong_type,
     "smarteo_payload_schema_version must be an integer (got '1.0')"},
    {"consumer_bad_version_3.json", RejectCode::invalid_value,
     "smarteo_payload_schema_version 3 is not a known version (1 or 2)"},
    {"consumer_bad_v1_missing_meter_reading.json", RejectCode::missing_field,
     "meter_reading (required by schema version 1)"},
    {"consumer_bad_v1_missing_system_timestamp.json", RejectCode::missing_field,
     "system_timestamp_utc (required by schema version 1)"},
    {"consumer_bad_v2_missing_end.json", RejectCode::missing_field,
     "measurement_end_timestamp_utc (required by schema version 2)"},
    {"consumer_bad_v1_with_v2_value.json", RejectCode::unknown_field,
     "value (not a field of schema version 1)"},
    {"consumer_bad_v2_with_v1_timestamp.json", RejectCode::unknown_field,
     "data_timestamp_utc (not a field of schema version 2)"},
    {"consumer_bad_v2_labelled_v1.json", RejectCode::unknown_field,
     "measurement_start_timestamp_utc (not a field of schema version 1)"},
    {"consumer_bad_ts_no_millis.json", RejectCode::invalid_value,
     "data_timestamp_utc '2023-01-01T12:34:56Z' is not a UTC timestamp like "
     "2023-01-01T12:34:56.789Z"},
    {"consumer_bad_ts_micros.json", RejectCode::invalid_value,
     "data_timestamp_utc '2023-01-01T12:34:56.789123Z' is not a UTC timestamp like "
     "2023-01-01T12:34:56.789Z"},
    {"consumer_bad_ts_offset.json", RejectCode::invalid_value,
     "data_timestamp_utc '2023-01-01T12:34:56.789+00:00' is not a UTC timestamp like "
     "2023-01-01T12:34:56.789Z"},
    {"consumer_bad_ts_lowercase_z.json", RejectCode::invalid_value,
     "data_timestamp_utc '2023-01-01T12:34:56.789z' is not a UTC timestamp like "
     "2023-01-01T12:34:56.789Z"},
    {"consumer_bad_ts_feb_30.json", RejectCode::invalid_value,
     "measurement_start_timestamp_utc '2023-02-30T00:00:00.000Z' is not a UTC timestamp like "
     "2023-01-01T12:34:56.789Z"},
    {"consumer_bad_ts_hour_24.json", RejectCode::invalid_value,
     "measurement_end_timestamp_utc '2023-01-01T24:00:00.000Z' is not a UTC timestamp like "
     "2023-01-01T12:34:56.789Z"},
    {"consumer_bad_ts_number.json", RejectCode::wrong_type,
     "data_timestamp_utc must be a string (got a number)"},
    {"consumer_bad_ts_1969.json", RejectCode::out_of_range,
     "system_timestamp_utc '1969-12-31T23:59:59.999Z' is before 1970"},
    {"consumer_bad_register_string.json", RejectCode::wrong_type,
     "register_id must be an integer (got a string)"},
    {"consumer_bad_register_fraction.json", RejectCode::wrong_type,
     "register_id must be an integer (got '12.5')"},
    {"consumer_bad_register_negative.json", RejectCode::out_of_range,
     "register_id '-12' is negative"},
    {"consumer_bad_register_huge.json", RejectCode::out_of_range,
     "register_id '2147483648' is larger than 2147483647"},
    {"consumer_bad_v1_register_12.json", RejectCode::invalid_value,
     "register_id 12 in schema version 1, which carries only register 2 (accumulated energy)"},
    {"consumer_bad_v2_register_2.json", RejectCode::invalid_value,
     "register_id 2 (accumulated energy) in schema version 2, which carries only the other "
     "registers: index or consumption is ambiguous"},
    {"consumer_bad_reading_string.json", RejectCode::wrong_type,
     "meter_reading must be a number (got a string)"},
    {"consumer_bad_value_null.json", RejectCode::wrong_type, "value must be a number (got null)"},
    {"consumer_bad_value_overflow.json", RejectCode::out_of_range,
     "value '1e400' does not fit a double"},
    {"consumer_bad_reading_overflow_scaled.json", RejectCode::out_of_range,
     "meter_reading '1.7e306' does not fit a double once scaled by 1000"},
    {"consumer_bad_value_underflow.json", RejectCode::out_of_range,
     "value '1e-400' does not fit a double"},
    {"consumer_bad_v2_empty_interval.json", RejectCode::invalid_value,
     "measurement_end_timestamp_utc 2023-01-01T12:00:00.000Z is not after "
     "measurement_start_timestamp_utc 2023-01-01T12:00:00.000Z"},
    {"consumer_bad_v2_reversed_interval.json", RejectCode::invalid_value,
     "measurement_end_timestamp_utc 2023-01-01T12:00:00.000Z is not after "
     "measurement_start_timestamp_utc 2023-01-01T12:01:00.000Z"},
};

INSTANTIATE_TEST_SUITE_P(Fixtures, AinsiteDecoderRejects, ::testing::ValuesIn(kBadCases));

// Every consumer fixture is exercised by one of the tables above.
TEST(AinsiteDecoder, EveryConsumerFixtureIsTested) {
    std::set<std::string> tested{"consumer_doc_v1.json", "consumer_doc_v2.json",
                                 "consumer_doc_topic.txt"};
    for (const auto& c : kGoodCases) tested.insert(c.file);
    for (const auto& c : kBadCases) tested.insert(c.file);
    std::size_t seen = 0;
    for (const auto& e : fs::directory_iterator(kFixtures)) {
        const std::string name = e.path().filename().string();
        if (!name.starts_with("consumer_")) continue;
        ++seen;
        EXPECT_TRUE(tested.contains(name)) << name << " is not used by any test";
    }
    EXPECT_EQ(seen, tested.size());
}

// --- topics -------------------------------------------------------------------

struct TopicCase {
    const char* topic;
    const char* why;
};

class AinsiteDecoderBadTopics : public ::testing::TestWithParam<TopicCase> {};

TEST_P(AinsiteDecoderBadTopics, AreRejectedBeforeThePayload) {
    const auto& c = GetParam();
    // A valid payload: the topic alone decides.
    const auto r = decode(fixture("consumer_doc_v1.json"), c.topic);
    ASSERT_FALSE(r.ok()) << c.topic;
    EXPECT_EQ(r.reject->code, RejectCode::bad_topic);
    EXPECT_EQ(r.reject->detail,
              fmt::format("'{}' is not meters/outbound/<customer-id>/<subscription-id>/<meter-id>: "
                          "{}",
                          c.topic, c.why));
}

INSTANTIATE_TEST_SUITE_P(
    All, AinsiteDecoderBadTopics,
    ::testing::Values(TopicCase{"", "1 level instead of 5"},
                      TopicCase{"meters/outbound/c/s", "4 levels instead of 5"},
                      TopicCase{"meters/outbound/c/s/m/extra", "6 levels instead of 5"},
                      TopicCase{"/meters/outbound/c/s/m", "6 levels instead of 5"},
                      TopicCase{"meters/inbound/c/s/m", "it does not start with meters/outbound/"},
                      TopicCase{"Meters/outbound/c/s/m", "it does not start with meters/outbound/"},
                      TopicCase{"meters/outbound//s/m", "customer-id is empty"},
                      TopicCase{"meters/outbound/c//m", "subscription-id is empty"},
                      TopicCase{"meters/outbound/c/s/", "meter-id is empty"},
                      TopicCase{"meters/outbound/c/s/m+", "meter-id contains a wildcard"},
                      TopicCase{"meters/outbound/c/#/m", "subscription-id contains a wildcard"}));

TEST(AinsiteDecoder, BadTopicOutranksABadPayload) {
    const auto r = decode("not json", "meters/outbound/c/s");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.reject->code, RejectCode::bad_topic);
}

TEST(AinsiteDecoder, NonObjectPayloads) {
    EXPECT_EQ(reason(decode("42")), "wrong_type: payload must be a JSON object (got a number)");
    EXPECT_EQ(reason(decode("\"x\"")), "wrong_type: payload must be a JSON object (got a string)");
    EXPECT_EQ(reason(decode("null")), "wrong_type: payload must be a JSON object (got null)");
    EXPECT_EQ(reason(decode("nope")), "malformed: not a JSON document");
    EXPECT_EQ(reason(decode("   ")), "malformed: not valid JSON");
    EXPECT_EQ(reason(decode("{\"smarteo_payload_schema_version\": 1, \"x\": [1, 2}")),
              "malformed: not valid JSON");
}

// --- configured registers ------------------------------------------------------

const std::string kV2Register12 =
    R"({"smarteo_payload_schema_version": 2,)"
    R"("measurement_start_timestamp_utc": "2023-01-01T12:00:00.000Z",)"
    R"("measurement_end_timestamp_utc": "2023-01-01T12:01:00.000Z",)"
    R"("register_id": 12, "value": 123.456})";

TEST(AinsiteDecoder, ConfiguredRegisterWithPowerOfTenScaleIsExact) {
    ainsite::RegisterMap m{{12, {"register.flow", "m3/h", std::nullopt, 0.001}}};
    const auto r = decode(kV2Register12, kTopic, m);
    ASSERT_TRUE(r.ok()) << reason(r);
    EXPECT_EQ(r.readings[0], (Reading{"meter-1", "register.flow", "m3/h", Kind::interval, kStart,
                                      kEnd, 0.123456}));
}

TEST(AinsiteDecoder, ConfiguredRegisterWithOtherScaleMultiplies) {
    ainsite::RegisterMap m{{12, {"register.12", "kW", std::nullopt, 2.5}}};
    const auto r = decode(kV2Register12, kTopic, m);
    ASSERT_TRUE(r.ok()) << reason(r);
    EXPECT_EQ(r.readings[0].value, 123.456 * 2.5);
    EXPECT_EQ(r.readings[0].unit, "kW");
}

TEST(AinsiteDecoder, ConfiguredRegisterToCanonicalIntervalQuantity) {
    ainsite::RegisterMap m{{12, {"electricity.energy.consumption", "Wh", Kind::interval, 1000}}};
    const auto r = decode(kV2Register12, kTopic, m);
    ASSERT_TRUE(r.ok()) << reason(r);
    EXPECT_EQ(r.readings[0], (Reading{"meter-1", "electricity.energy.consumption", "Wh",
                                      Kind::interval, kStart, kEnd, 123456.0}));
}

TEST(AinsiteDecoder, ConfiguredRegister2ReplacesTheBuiltInMapping) {
    ainsite::RegisterMap m{{2, {"register.2", "kWh", std::nullopt, 1}}};
    const auto r = decode(fixture("consumer_doc_v1.json"), kTopic, m);
    ASSERT_TRUE(r.ok()) << reason(r);
    EXPECT_EQ(r.readings[0],
              (Reading{"meter-1", "register.2", "kWh", Kind::cumulative, kData, kData, 123.456}));
}

TEST(AinsiteDecoder, OtherRegistersKeepTheirDefaults) {
    ainsite::RegisterMap m{{5, {"register.5", "kWh", std::nullopt, 1}}};
    const auto r = decode(kV2Register12, kTopic, m);
    ASSERT_TRUE(r.ok()) << reason(r);
    EXPECT_EQ(r.readings[0].quantity, "register.12");
    EXPECT_EQ(r.readings[0].unit, "");
}

// The config refuses this mapping; a decoder built by hand still never emits
// an interval reading of a cumulative quantity.
TEST(AinsiteDecoder, CanonicalQuantityOfAnotherKindIsRejected) {
    ainsite::RegisterMap m{{12, {"water.volume.index", "m3", Kind::cumulative, 1}}};
    const auto r = decode(kV2Register12, kTopic, m);
    EXPECT_EQ(reason(r),
              "invalid_value: register 12 is configured as water.volume.index (cumulative), but "
              "schema version 2 gives interval readings");
}

TEST(AinsiteDecoder, ReusedInstanceGivesTheSameResults) {
    AinsiteDecoder d;
    const std::string good = fixture("consumer_doc_v1.json");
    const std::string bad = fixture("consumer_bad_truncated.json");
    for (int i = 0; i < 3; ++i) {
        const auto a = d.decode(RawMessage{"ainsite", kTopic, good, {}, kReceived});
        ASSERT_TRUE(a.ok()) << reason(a);
        EXPECT_EQ(a.readings[0].value, 123456.0);
        EXPECT_EQ(reason(d.decode(RawMessage{"ainsite", kTopic, bad, {}, kReceived})),
                  "malformed: not valid JSON");
        // A longer payload after a short one: the padded buffer grows.
        const auto c =
            d.decode(RawMessage{"ainsite", kTopic, good + std::string(1000, ' '), {}, kReceived});
        ASSERT_TRUE(c.ok()) << reason(c);
        const auto e = d.decode(RawMessage{"ainsite", kTopic, "{}", {}, kReceived});
        EXPECT_EQ(reason(e), "missing_field: smarteo_payload_schema_version");
    }
}

// --- register_map.h ----------------------------------------------------------

TEST(AinsiteRegisterMap, ParseRegisterIdAcceptsOnlyCanonicalDecimals) {
    EXPECT_EQ(ainsite::parse_register_id("0"), 0u);
    EXPECT_EQ(ainsite::parse_register_id("2"), 2u);
    EXPECT_EQ(ainsite::parse_register_id("2147483647"), 2147483647u);
    for (const char* bad :
         {"", "02", "-1", "+1", " 1", "1 ", "1.0", "2147483648", "99999999999", "x", "1e3"})
        EXPECT_EQ(ainsite::parse_register_id(bad), std::nullopt) << bad;
}

TEST(AinsiteRegisterMap, DecimalScalingRoundsOnceFromTheDecimal) {
    const auto v = [](std::string_view text, double scale) {
        const auto n = ainsite::scale_decimal(text, scale, "x");
        EXPECT_FALSE(n.problem) << text << ": " << n.problem->reason();
        return n.value;
    };
    EXPECT_EQ(v("0.123", 1000), 123.0);
    EXPECT_EQ(v("1.005", 1000), 1005.0);
    EXPECT_NE(1.005 * 1000.0, 1005.0);  // why the text is shifted instead
    EXPECT_EQ(v("123.456", 1000), 123456.0);
    EXPECT_EQ(v("123456", 0.001), 123.456);
    EXPECT_EQ(v("1.5e-3", 1e6), 1500.0);
    EXPECT_EQ(v("2.5", -1000), -2500.0);
    EXPECT_EQ(v("-2.5", -10), 25.0);
    EXPECT_EQ(v("0.1", 3), 0.1 * 3);  // not a power of ten: one multiplication
    EXPECT_EQ(v("12", 1), 12.0);
    EXPECT_FALSE(std::signbit(v("-0", 1)));
    EXPECT_FALSE(std::signbit(v("-0.0e5", 1000)));
}

TEST(AinsiteRegisterMap, DecimalScalingRejectsWhatIsNotAJsonNumber) {
    for (const char* bad : {"", "-", ".5", "5.", "+5", "05", "0x10", "1e", "1e+", "1,5", "NaN",
                            "inf", "Infinity", " 1", "1 ", "1.2.3", "--1", "1e5x"}) {
        const auto n = ainsite::scale_decimal(bad, 1000, "payload");
        ASSERT_TRUE(n.problem) << bad;
        EXPECT_EQ(n.problem->code, RejectCode::malformed) << bad;
        EXPECT_EQ(n.problem->detail,
                  fmt::format("payload {} is not a decimal number", quoted(bad)));
    }
}

TEST(AinsiteRegisterMap, DecimalScalingRejectsWhatDoesNotFit) {
    for (const char* big :
         {"1e400", "1.8e308", "-1e400", "1e-400", "0.1e-330", "1e999999999999999"}) {
        const auto n = ainsite::scale_decimal(big, 1, "v");
        ASSERT_TRUE(n.problem) << big;
        EXPECT_EQ(n.problem->code, RejectCode::out_of_range) << big;
    }
    const auto n = ainsite::scale_decimal("1e306", 1000, "v");
    ASSERT_TRUE(n.problem);
    EXPECT_EQ(n.problem->reason(),
              "out_of_range: v '1e306' does not fit a double once scaled by 1000");
    const auto m = ainsite::scale_decimal("1e306", 2000, "v");
    ASSERT_TRUE(m.problem);
    EXPECT_EQ(m.problem->code, RejectCode::out_of_range);
    EXPECT_FALSE(ainsite::scale_decimal("0e999999999999", 1000, "v").problem);
}

TEST(AinsiteRegisterMap, QuotedEscapesAndTruncates) {
    EXPECT_EQ(quoted("abc"), "'abc'");
    EXPECT_EQ(quoted("a'b\\c\n\xff"), "'a\\x27b\\x5cc\\x0a\\xff'");
    EXPECT_EQ(quoted("abcdef", 3), "'abc'… (6 bytes)");
}

TEST(AinsiteRegisterMap, BuiltInMappings) {
    EXPECT_EQ(ainsite::accumulated_energy_mapping(),
              (ainsite::RegisterMapping{"electricity.energy.consumption.index", "Wh",
                                        Kind::cumulative, 1000.0}));
    EXPECT_EQ(ainsite::unmapped_register(7),
              (ainsite::RegisterMapping{"register.7", "", std::nullopt, 1.0}));
}

}  // namespace
}  // namespace mb
