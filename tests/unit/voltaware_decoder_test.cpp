// VoltawareDecoder (shared/seeds/000): the document's example, full days at
// every frequency, exact Wh from decimal kWh, and one rejection per rule with
// its exact reason.
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/registry.h"
#include "connectors/voltaware/voltaware_type.h"
#include "daemon/config.h"
#include "normalize/quantity.h"
#include "normalize/voltaware/voltaware_decoder.h"

#ifndef MB_SOURCE_DIR
#error "MB_SOURCE_DIR must name the source tree (for tests/fixtures)"
#endif

namespace mb {
namespace {

using ::testing::HasSubstr;

constexpr const char* kExampleId = "6ede44a4-ea21-4c17-b5c4-37eb3875e554";
constexpr TimeMs k20220301 = 1646092800000;  // 2022-03-01T00:00:00Z

std::string fixture(const std::string& name) {
    const std::string path = std::string(MB_SOURCE_DIR) + "/tests/fixtures/voltaware/" + name;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

DecodeResult decode(const std::string& payload) {
    VoltawareDecoder d;
    return d.decode(RawMessage{"voltaware", "voltaware/readings", payload, {}, 1000});
}

// The values of the generated fixtures: whole Wh, written as kWh with 3 decimals.
double fixture_wh(std::size_t slot) {
    return static_cast<double>((slot * 137) % 1200 + 1);
}

// A message with `n` readings at `freq` minutes from 2022-03-01T00:00Z; the
// first reading's consumption is written as `first_kwh`.
std::string make_day(int freq, std::size_t n, const std::string& first_kwh = "0.111",
                     const std::string& date = "2022-03-01") {
    std::string s = std::string(R"({"deviceId":")") + kExampleId + R"(","dataFrequencyMins":)" +
                    std::to_string(freq) + R"(,"date":")" + date + R"(","electricReadings":[)";
    for (std::size_t i = 0; i < n; ++i) {
        if (i > 0) s += ',';
        s += R"({"timestampUtcEpochSecs":)" +
             std::to_string(k20220301 / 1000 + static_cast<TimeMs>(i) * freq * 60) +
             R"(,"consumptionKwh":)" + (i == 0 ? first_kwh : std::string("0.5")) + "}";
    }
    return s + "]}";
}

// --- accepted messages ---------------------------------------------------------

struct Day {
    const char* file;
    const char* device;
    TimeMs start;
    int freq;
    std::size_t count;
};

class VoltawareFullDay : public ::testing::TestWithParam<Day> {};

TEST_P(VoltawareFullDay, EveryIntervalBecomesOneWhReading) {
    const Day& d = GetParam();
    const auto r = decode(fixture(d.file));
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_TRUE(r.states.empty());
    ASSERT_EQ(r.readings.size(), d.count);
    const TimeMs step = static_cast<TimeMs>(d.freq) * 60000;
    for (std::size_t i = 0; i < d.count; ++i) {
        const TimeMs start = d.start + static_cast<TimeMs>(i) * step;
        EXPECT_EQ(r.readings[i], (Reading{d.device, "electricity.energy.consumption", "Wh",
                                          Kind::interval, start, start + step, fixture_wh(i)}))
            << d.file << " slot " << i;
    }
    EXPECT_EQ(r.readings.back().ts_end, d.start + 86400000);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, VoltawareFullDay,
    ::testing::Values(
        Day{"day_15min.json", kExampleId, k20220301, 15, 96},
        Day{"day_30min.json", "b1f0c6a2-3d4e-4f50-8a61-7c8d9e0f1a2b", 1700524800000, 30, 48},
        // 2022-03-27 is a 23-hour day in Europe; Voltaware's days are UTC: 24 readings.
        Day{"day_60min.json", "meter-60", 1648339200000, 60, 24}),
    [](const ::testing::TestParamInfo<Day>& p) { return std::to_string(p.param.freq) + "min"; });

TEST(VoltawareDecoder, DocumentExampleVerbatimIsRejectedForItsPlaceholder) {
    // The document elides the other readings as "{ ... }", which is not JSON.
    const auto r = decode(fixture("document_example.json"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.reject->code, RejectCode::malformed);
    EXPECT_EQ(r.reject->detail,
              "not valid JSON at electricReadings[1]: The JSON document has an improper "
              "structure: missing or superfluous commas, braces, missing keys, etc.");
    EXPECT_TRUE(r.readings.empty());
}

TEST(VoltawareDecoder, DocumentExampleCompletedWithTheRestOfTheDay) {
    // The example's text with its placeholder replaced by the day's other 95 readings.
    std::string text = fixture("document_example.json");
    std::string rest;
    for (int i = 1; i < 96; ++i) {
        if (i > 1) rest += ",\n";
        rest += "{\n\"timestampUtcEpochSecs\": " + std::to_string(1646092800 + i * 900) +
                ",\n\"consumptionKwh\": 0.2" + std::to_string(i % 10) + "\n}";
    }
    const auto at = text.find("{ ... }");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 7, rest);

    const auto r = decode(text);
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    ASSERT_EQ(r.readings.size(), 96u);
    EXPECT_EQ(r.readings[0], (Reading{kExampleId, "electricity.energy.consumption", "Wh",
                                      Kind::interval, k20220301, k20220301 + 900000, 111.0}));
    EXPECT_EQ(r.readings[95].ts_start, 1646178300000);
    EXPECT_EQ(r.readings[95].ts_end, 1646179200000);
    EXPECT_EQ(r.readings[95].value, 250.0);  // "0.25"
}

TEST(VoltawareDecoder, AnyOrderIsAcceptedAndEmittedInTimeOrder) {
    // edge_any_order_number_forms.json: slots in the order (7k mod 24), and
    // the first eight slots' values written as other forms of a JSON number.
    const auto r = decode(fixture("edge_any_order_number_forms.json"));
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    ASSERT_EQ(r.readings.size(), 24u);
    const TimeMs start = 1648339200000;  // 2022-03-27T00:00:00Z
    const double forms[] = {0.0, 2000.0, 1005.0, 1.0, 5000.0, 0.0, 12345.6, 123.0};
    for (std::size_t i = 0; i < 24; ++i) {
        const TimeMs s = start + static_cast<TimeMs>(i) * 3600000;
        EXPECT_EQ(r.readings[i],
                  (Reading{"meter-60", "electricity.energy.consumption", "Wh", Kind::interval, s,
                           s + 3600000, i < 8 ? forms[i] : fixture_wh(i)}))
            << "slot " << i;
    }
    EXPECT_FALSE(std::signbit(r.readings[5].value)) << "-0.0 kWh must give +0 Wh";
}

TEST(VoltawareDecoder, FieldsInAnyOrderAndEscapedKeys) {
    std::string readings;
    for (int i = 0; i < 24; ++i) {
        if (i > 0) readings += ',';
        readings += R"({"consumptionKwh":0.25,"timestampUtcEpochSecs":)" +
                    std::to_string(1646092800 + i * 3600) + "}";
    }
    const auto r =
        decode(R"( {"electricReadings":[)" + readings +
               R"(],"date":"2022-03-01","dataFrequencyMins":60,"device\u0049d":"m\u00e9"} )");
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    ASSERT_EQ(r.readings.size(), 24u);
    EXPECT_EQ(r.readings[23],
              (Reading{"m\xc3\xa9", "electricity.energy.consumption", "Wh", Kind::interval,
                       k20220301 + 23 * 3600000, k20220301 + 24 * 3600000, 250.0}));
}

// --- kWh → Wh -----------------------------------------------------------------

struct Scale {
    const char* kwh;
    double wh;
};

class VoltawareScaling : public ::testing::TestWithParam<Scale> {};

TEST_P(VoltawareScaling, GivesTheClosestDoubleToTheDecimalTimesAThousand) {
    const auto r = decode(make_day(60, 24, GetParam().kwh));
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_EQ(r.readings[0].value, GetParam().wh) << GetParam().kwh;
    EXPECT_FALSE(std::signbit(r.readings[0].value));
}

INSTANTIATE_TEST_SUITE_P(
    Values, VoltawareScaling,
    ::testing::Values(Scale{"0.123", 123.0}, Scale{"0.111", 111.0}, Scale{"1.005", 1005.0},
                      Scale{"1.001", 1001.0}, Scale{"0.1234", 123.4}, Scale{"0.0001", 0.1},
                      Scale{"123456.789", 123456789.0}, Scale{"12", 12000.0}, Scale{"0", 0.0},
                      Scale{"-0", 0.0}, Scale{"-0.000", 0.0}, Scale{"1e-3", 1.0},
                      Scale{"1.5E+2", 150000.0}, Scale{"0.30000000000000004", 300.00000000000004},
                      Scale{"1000.000000000000000000000000001", 1000000.0},
                      Scale{"0.000000000000000000001", 1e-18}, Scale{"1e-400", 0.0},
                      Scale{"4e-324", 4e-321}, Scale{"1.7e305", 1.7e308}),
    [](const ::testing::TestParamInfo<Scale>& p) { return "case" + std::to_string(p.index); });

TEST(VoltawareScaling, NaiveProductWouldBeWrongForTheseValues) {
    // Why the decoder shifts the decimal point instead of multiplying: without
    // it, the 1.005 and 0.1234 cases above (and day_15min.json's 1.021) fail.
    EXPECT_NE(1.005 * 1000.0, 1005.0);
    EXPECT_NE(0.1234 * 1000.0, 123.4);
    EXPECT_NE(1.021 * 1000.0, 1021.0);
}

// --- rejections ---------------------------------------------------------------

struct Bad {
    const char* file;
    RejectCode code;
    const char* detail;
};

class VoltawareRejectsFixture : public ::testing::TestWithParam<Bad> {};

TEST_P(VoltawareRejectsFixture, WithItsExactReason) {
    const Bad& b = GetParam();
    const auto r = decode(fixture(b.file));
    ASSERT_FALSE(r.ok()) << b.file;
    EXPECT_EQ(r.reject->code, b.code) << b.file << ": " << r.reject->reason();
    EXPECT_EQ(r.reject->detail, b.detail) << b.file;
    EXPECT_TRUE(r.readings.empty());
    EXPECT_TRUE(r.states.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, VoltawareRejectsFixture,
    ::testing::Values(
        Bad{"reject_malformed_truncated.json", RejectCode::malformed,
            "not valid JSON: JSON document ended early in the middle of an object or array."},
        Bad{"reject_malformed_invalid_utf8.json", RejectCode::malformed,
            "not valid JSON: The input is not valid UTF-8"},
        Bad{"reject_trailing_content.json", RejectCode::malformed,
            "trailing bytes after the JSON document (from byte 6663)"},
        Bad{"reject_wrong_type_message_array.json", RejectCode::wrong_type,
            "message must be a JSON object, not an array"},
        Bad{"reject_missing_field_device_id.json", RejectCode::missing_field, "deviceId"},
        Bad{"reject_missing_field_consumption.json", RejectCode::missing_field,
            "electricReadings[3].consumptionKwh"},
        Bad{"reject_wrong_type_frequency_string.json", RejectCode::wrong_type,
            "dataFrequencyMins must be an integer, not a string"},
        Bad{"reject_wrong_type_frequency_float.json", RejectCode::wrong_type,
            "dataFrequencyMins must be an integer, not 15.0"},
        Bad{"reject_wrong_type_timestamp_float.json", RejectCode::wrong_type,
            "electricReadings[2].timestampUtcEpochSecs must be an integer, not 1646094600.0"},
        Bad{"reject_wrong_type_consumption_string.json", RejectCode::wrong_type,
            "electricReadings[5].consumptionKwh must be a number, not a string"},
        Bad{"reject_wrong_type_readings_object.json", RejectCode::wrong_type,
            "electricReadings must be an array, not an object"},
        Bad{"reject_wrong_type_reading_number.json", RejectCode::wrong_type,
            "electricReadings[3] must be an object, not 1646096400"},
        Bad{"reject_unknown_field_top.json", RejectCode::unknown_field, "timezone"},
        Bad{"reject_unknown_field_reading.json", RejectCode::unknown_field,
            "electricReadings[7].productionKwh"},
        Bad{"reject_invalid_frequency_20.json", RejectCode::invalid_value,
            "dataFrequencyMins 20 not in {15,30,60}"},
        Bad{"reject_invalid_date.json", RejectCode::invalid_value,
            "date '2022-02-30' is not an ISO date (YYYY-MM-DD)"},
        Bad{"reject_invalid_date_format.json", RejectCode::invalid_value,
            "date '2022-03-01T00:00:00Z' is not an ISO date (YYYY-MM-DD)"},
        Bad{"reject_date_before_epoch.json", RejectCode::out_of_range,
            "date '1969-12-31' is before 1970-01-01"},
        Bad{"reject_empty_device_id.json", RejectCode::invalid_value, "deviceId is empty"},
        Bad{"reject_duplicate_key.json", RejectCode::invalid_value, "date appears twice"},
        Bad{"reject_count_95.json", RejectCode::invalid_value,
            "95 readings for 15-minute intervals, 96 expected"},
        Bad{"reject_count_for_frequency.json", RejectCode::invalid_value,
            "96 readings for 30-minute intervals, 48 expected"},
        Bad{"reject_empty_readings.json", RejectCode::invalid_value,
            "0 readings for 15-minute intervals, 96 expected"},
        Bad{"reject_reading_outside_date.json", RejectCode::out_of_range,
            "electricReadings[95].timestampUtcEpochSecs 1646179200 (2022-03-02T00:00:00.000Z) "
            "is outside date 2022-03-01"},
        Bad{"reject_misaligned_timestamp.json", RejectCode::invalid_value,
            "electricReadings[10].timestampUtcEpochSecs 1646101860 (2022-03-01T02:31:00.000Z) "
            "is not aligned to 15-minute intervals"},
        Bad{"reject_duplicate_timestamp.json", RejectCode::duplicate_timestamp,
            "electricReadings[50].timestampUtcEpochSecs 1646136900 (2022-03-01T12:15:00.000Z) "
            "repeats electricReadings[49]"},
        Bad{"reject_timestamp_overflow.json", RejectCode::out_of_range,
            "electricReadings[1].timestampUtcEpochSecs 99999999999999999999 does not fit in 64 "
            "bits"},
        Bad{"reject_negative_consumption.json", RejectCode::out_of_range,
            "electricReadings[12].consumptionKwh -0.004 is negative"},
        Bad{"reject_consumption_too_large.json", RejectCode::out_of_range,
            "electricReadings[0].consumptionKwh 1e306 is too large"}),
    [](const ::testing::TestParamInfo<Bad>& p) {
        std::string n = p.param.file;
        n = n.substr(7, n.size() - 12);  // reject_<name>.json
        for (char& c : n)
            if (c == '.' || c == '-') c = '_';
        return n;
    });

struct BadText {
    std::string payload;
    RejectCode code;
    std::string detail;
};

class VoltawareRejectsText : public ::testing::TestWithParam<BadText> {};

TEST_P(VoltawareRejectsText, WithItsExactReason) {
    const BadText& b = GetParam();
    const auto r = decode(b.payload);
    ASSERT_FALSE(r.ok()) << b.payload;
    EXPECT_EQ(r.reject->code, b.code) << r.reject->reason();
    EXPECT_EQ(r.reject->detail, b.detail);
    EXPECT_TRUE(r.readings.empty());
}

std::string with_first_reading(const std::string& reading) {
    // A 60-minute day whose first element is `reading`.
    std::string day = make_day(60, 24);
    const auto start = day.find('[') + 1;
    const auto end = day.find('}', start) + 1;
    return day.replace(start, end - start, reading);
}

std::string with_header(const std::string& from, const std::string& to) {
    std::string day = make_day(60, 24);
    day.replace(day.find(from), from.size(), to);
    return day;
}

INSTANTIATE_TEST_SUITE_P(
    Inline, VoltawareRejectsText,
    ::testing::Values(
        BadText{"", RejectCode::malformed, "empty message"},
        BadText{"   \n", RejectCode::malformed, "empty message"},
        BadText{"nope", RejectCode::malformed, "not a JSON document"},
        BadText{"not json", RejectCode::malformed, "not a JSON document"},
        // A complete day and one byte more: the byte is what is wrong, not the day.
        BadText{make_day(60, 24) + "x", RejectCode::malformed,
                "trailing bytes after the JSON document (from byte " +
                    std::to_string(make_day(60, 24).size()) + ")"},
        BadText{make_day(60, 24) + "\n{}", RejectCode::malformed,
                "trailing bytes after the JSON document (from byte " +
                    std::to_string(make_day(60, 24).size()) + ")"},
        BadText{"42", RejectCode::wrong_type, "message must be a JSON object, not a number"},
        BadText{"null", RejectCode::wrong_type, "message must be a JSON object, not null"},
        BadText{"[1,", RejectCode::malformed,
                "not valid JSON: The JSON document has an improper structure: missing or "
                "superfluous commas, braces, missing keys, etc."},
        BadText{"{}", RejectCode::missing_field, "deviceId"},
        BadText{R"({"deviceId":"m"})", RejectCode::missing_field, "dataFrequencyMins"},
        BadText{R"({"deviceId":"m","dataFrequencyMins":60})", RejectCode::missing_field, "date"},
        BadText{R"({"deviceId":"m","dataFrequencyMins":60,"date":"2022-03-01"})",
                RejectCode::missing_field, "electricReadings"},
        BadText{
            with_header(R"("deviceId":"6ede44a4-ea21-4c17-b5c4-37eb3875e554")", R"("deviceId":7)"),
            RejectCode::wrong_type, "deviceId must be a string, not 7"},
        BadText{with_header(R"("deviceId":"6ede44a4-ea21-4c17-b5c4-37eb3875e554")",
                            R"("deviceId":tru)"),
                RejectCode::malformed, "not valid JSON at deviceId"},
        BadText{with_header(R"("dataFrequencyMins":60)", R"("dataFrequencyMins":-60)"),
                RejectCode::invalid_value, "dataFrequencyMins -60 not in {15,30,60}"},
        BadText{with_header(R"("dataFrequencyMins":60)", R"("dataFrequencyMins":6e1)"),
                RejectCode::wrong_type, "dataFrequencyMins must be an integer, not 6e1"},
        BadText{with_header(R"("dataFrequencyMins":60)",
                            R"("dataFrequencyMins":1000000000000000000000060)"),
                RejectCode::invalid_value,
                "dataFrequencyMins 1000000000000000000000060 not in {15,30,60}"},
        BadText{with_header(R"("dataFrequencyMins":60)", R"("dataFrequencyMins":060)"),
                RejectCode::malformed,
                "not valid JSON at dataFrequencyMins: '060' is not a number"},
        BadText{with_header(R"("date":"2022-03-01")", R"("date":20220301)"), RejectCode::wrong_type,
                "date must be an ISO date string (YYYY-MM-DD), not 20220301"},
        BadText{with_header(R"("date":"2022-03-01")", R"("date":"2022-3-1")"),
                RejectCode::invalid_value, "date '2022-3-1' is not an ISO date (YYYY-MM-DD)"},
        BadText{with_header(R"("electricReadings":[)", R"("electricReadings":null,"x":[)"),
                RejectCode::wrong_type, "electricReadings must be an array, not null"},
        BadText{with_header(R"({"deviceId")", "{\"a\\u0001\\nb\":1,\"deviceId\""),
                RejectCode::unknown_field, "a\\u0001\\u000ab"},
        BadText{with_header(R"({"deviceId")", "{\"" + std::string(70, 'k') + "\":1,\"deviceId\""),
                RejectCode::unknown_field, std::string(64, 'k') + "..."},
        // Found by the fuzzer: an empty key gave an empty detail.
        BadText{with_header(R"({"deviceId")", R"({"":1,"deviceId")"), RejectCode::unknown_field,
                R"("")"},
        BadText{with_first_reading(R"({"":1})"), RejectCode::unknown_field,
                R"(electricReadings[0]."")"},
        BadText{with_first_reading("{}"), RejectCode::missing_field,
                "electricReadings[0].timestampUtcEpochSecs"},
        BadText{with_first_reading(R"({"timestampUtcEpochSecs":1646092800,)"
                                   R"("consumptionKwh":1,"consumptionKwh":1})"),
                RejectCode::invalid_value, "electricReadings[0].consumptionKwh appears twice"},
        BadText{with_first_reading(R"({"timestampUtcEpochSecs":1646092800,)"
                                   R"("timestampUtcEpochSecs":1646092800,"consumptionKwh":1})"),
                RejectCode::invalid_value,
                "electricReadings[0].timestampUtcEpochSecs appears twice"},
        BadText{with_first_reading(R"({"timestampUtcEpochSecs":1646092800,"consumptionKwh":1.})"),
                RejectCode::malformed,
                "not valid JSON at electricReadings[0].consumptionKwh: '1.' is not a number"},
        BadText{with_first_reading(R"({"timestampUtcEpochSecs":1646092800,"consumptionKwh":NaN})"),
                RejectCode::malformed,
                "not valid JSON at electricReadings[0].consumptionKwh: The JSON document has an "
                "improper structure: missing or superfluous commas, braces, missing keys, etc."},
        BadText{with_first_reading(
                    R"({"timestampUtcEpochSecs":1646092800,"consumptionKwh":-Infinity})"),
                RejectCode::malformed,
                "not valid JSON at electricReadings[0].consumptionKwh: '-Infinity' is not a "
                "number"},
        BadText{with_first_reading(R"({"timestampUtcEpochSecs":1646092800,"consumptionKwh":0.)" +
                                   std::string(101, '1') + "}"),
                RejectCode::invalid_value,
                "electricReadings[0].consumptionKwh 0." + std::string(62, '1') +
                    "... has more than 100 significant digits"},
        BadText{with_first_reading(R"({"timestampUtcEpochSecs":-3600,"consumptionKwh":1})"),
                RejectCode::out_of_range,
                "electricReadings[0].timestampUtcEpochSecs -3600 is outside date 2022-03-01"},
        BadText{with_first_reading(R"({"timestampUtcEpochSecs":"1646092800","consumptionKwh":1})"),
                RejectCode::wrong_type,
                "electricReadings[0].timestampUtcEpochSecs must be an integer, not a string"},
        BadText{with_first_reading(R"({"timestampUtcEpochSecs":1646092800,"consumptionKwh":[]})"),
                RejectCode::wrong_type,
                "electricReadings[0].consumptionKwh must be a number, not an array"},
        BadText{
            with_first_reading(R"({"timestampUtcEpochSecs":1646092800,"consumptionKwh":false})"),
            RejectCode::wrong_type,
            "electricReadings[0].consumptionKwh must be a number, not false"},
        BadText{make_day(15, 97), RejectCode::invalid_value,
                "97 readings for 15-minute intervals, 96 expected"},
        BadText{make_day(60, 500), RejectCode::invalid_value,
                "500 readings for 60-minute intervals, 24 expected"},
        BadText{make_day(60, 24, "0.1", "2022-02-28"), RejectCode::out_of_range,
                "electricReadings[0].timestampUtcEpochSecs 1646092800 (2022-03-01T00:00:00.000Z) "
                "is outside date 2022-02-28"}),
    [](const ::testing::TestParamInfo<BadText>& p) { return "case" + std::to_string(p.index); });

TEST(VoltawareDecoder, ReportsTheFirstProblemInDocumentOrder) {
    // A bad value in a reading is found while reading; the count only at the end.
    std::string day = make_day(15, 95, "-1");
    auto r = decode(day);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.reject->reason(),
              "out_of_range: electricReadings[0].consumptionKwh -1 is negative");
}

TEST(VoltawareDecoder, IsReusableAcrossMessages) {
    VoltawareDecoder d;
    const auto day = fixture("day_60min.json");
    auto bad = d.decode(RawMessage{"v", "t", "{", {}, 0});
    EXPECT_EQ(bad.reject->code, RejectCode::malformed);
    auto good = d.decode(RawMessage{"v", "t", day, {}, 0});
    ASSERT_TRUE(good.ok()) << good.reject->reason();
    EXPECT_EQ(good.readings.size(), 24u);
    auto big = d.decode(RawMessage{"v", "t", fixture("day_15min.json"), {}, 0});
    ASSERT_TRUE(big.ok()) << big.reject->reason();
    EXPECT_EQ(big.readings.size(), 96u);
    auto array = d.decode(RawMessage{"v", "t", "[" + day + "]", {}, 0});
    EXPECT_EQ(array.reject->reason(), "wrong_type: message must be a JSON object, not an array");
    auto again = d.decode(RawMessage{"v", "t", day, {}, 0});
    ASSERT_TRUE(again.ok()) << again.reject->reason();
    EXPECT_EQ(again.readings, good.readings);
}

TEST(VoltawareDecoder, UnitIsTheCanonicalUnitOfTheQuantity) {
    EXPECT_EQ(quantity::find(quantity::energy_consumption)->unit, "Wh");
    EXPECT_EQ(quantity::find(quantity::energy_consumption)->kind, Kind::interval);
}

// --- registry row -------------------------------------------------------------

const ConnectorRegistry& voltaware_registry() {
    static const ConnectorRegistry registry = [] {
        ConnectorRegistry r;
        register_voltaware(r);
        return r;
    }();
    return registry;
}

constexpr const char* kConfig = R"([storage]
path = "/var/lib/mb/mb.db"
[brokers.local]
host = "127.0.0.1"
[[connectors]]
name = "voltaware"
type = "voltaware"
broker = "local"
topics = ["voltaware/readings"]
)";

TEST(VoltawareType, IsAnMqttRowWithOnlyTheCommonKeys) {
    const ConnectorType* row = voltaware_registry().find("voltaware");
    ASSERT_NE(row, nullptr);
    EXPECT_EQ(row->transport, Transport::mqtt);

    const auto ok = load_config_text(kConfig, "/etc/mb/test.toml", voltaware_registry());
    ASSERT_TRUE(ok.errors.empty()) << ok.errors[0].to_string();
    ASSERT_EQ(ok.config->connectors.size(), 1u);
    EXPECT_EQ(ok.config->connectors[0].type, "voltaware");
    EXPECT_EQ(ok.config->connectors[0].topics, std::vector<std::string>{"voltaware/readings"});

    const auto bad = load_config_text(std::string(kConfig) + "meter_field = \"deviceId\"\n",
                                      "/etc/mb/test.toml", voltaware_registry());
    ASSERT_EQ(bad.errors.size(), 1u);
    EXPECT_THAT(bad.errors[0].to_string(), HasSubstr("connectors[0].meter_field: unknown key"));
}

TEST(VoltawareType, BuildsAVoltawareDecoder) {
    const auto spec = voltaware_type_spec();
    EXPECT_EQ(spec.type, "voltaware");
    EXPECT_FALSE(spec.parse_options);
    ConnectorConfig cfg;
    cfg.name = "voltaware";
    cfg.type = "voltaware";
    auto decoder = spec.make_decoder(cfg);
    ASSERT_NE(decoder, nullptr);
    const auto r = decoder->decode(RawMessage{"voltaware", "t", fixture("day_60min.json"), {}, 0});
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_EQ(r.readings.size(), 24u);
}

}  // namespace
}  // namespace mb
