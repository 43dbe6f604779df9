// AkenzaDecoder: topics and secrets, the mapping of JSON / text / CSV payloads
// to readings, every rejection with its exact reason, redaction, downlink topics.
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "normalize/akenza/akenza_decoder.h"
#include "normalize/quantity.h"

#ifndef MB_SOURCE_DIR
#error "MB_SOURCE_DIR must name the source tree (for tests/fixtures/akenza)"
#endif

namespace mb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

constexpr const char* kSecret = "s3cr3t-Secret-42";
constexpr TimeMs kNow = 1709290800000;         // 2024-03-01T11:00:00Z, time of receipt
constexpr TimeMs kTen = 1709287200000;         // 2024-03-01T10:00:00Z
constexpr TimeMs kTenFifteen = 1709288100000;  // 2024-03-01T10:15:00Z

std::string fixture(const std::string& name) {
    const std::string path = std::string(MB_SOURCE_DIR) + "/tests/fixtures/akenza/" + name;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("missing fixture " + path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> fixture_lines(const std::string& name) {
    std::istringstream in(fixture(name));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

AkenzaMapping reading(std::string topic, std::string pointer, std::string q, double scale = 1) {
    AkenzaMapping m;
    m.data_topic = std::move(topic);
    m.pointer = std::move(pointer);
    if (auto info = quantity::find(q)) {
        m.unit = info->unit;
        m.kind = info->kind;
    }
    m.quantity = std::move(q);
    m.scale = scale;
    return m;
}

AkenzaMapping with_unit(AkenzaMapping m, std::string unit, Kind kind = Kind::instant) {
    m.unit = std::move(unit);
    m.kind = kind;
    return m;
}

AkenzaMapping timed(AkenzaMapping m, std::string pointer,
                    AkenzaTimeFormat f = AkenzaTimeFormat::iso8601) {
    m.timestamp = std::move(pointer);
    m.timestamp_format = f;
    return m;
}

AkenzaMapping state(std::string topic, std::string pointer, std::string key) {
    AkenzaMapping m;
    m.data_topic = std::move(topic);
    m.pointer = std::move(pointer);
    m.state_key = std::move(key);
    return m;
}

AkenzaOptions test_options() {
    using quantity::energy_consumption_index;
    AkenzaOptions o;
    o.secret = kSecret;
    auto energy = reading("default", "/energy", std::string(energy_consumption_index), 1000);
    energy.required = true;
    auto power = reading("timed", "/power", std::string(quantity::power_consumption));
    power.duration_ms = 15 * 60 * 1000;
    power.stamp = AkenzaStamp::end;
    auto day = reading("water", "/day", std::string(quantity::water_volume_day));
    day.duration_ms = 24 * 3600 * 1000;
    day.stamp = AkenzaStamp::start;
    o.mappings = {
        energy,
        with_unit(reading("default", "/temperature", "register.temperature"), "degC"),
        state("default", "/door_open", "door_open"),
        timed(reading("timed", "/energy", std::string(energy_consumption_index), 1000), "/time"),
        timed(power, "/time"),
        timed(reading("nested", "/data/0/value", std::string(quantity::water_volume_index)),
              "/data/0/ts", AkenzaTimeFormat::unix_s),
        reading("nested", "/meta/a~1b", "register.ab"),
        with_unit(reading("nested", "/meta/m~0n", "register.mn"), "", Kind::cumulative),
        timed(reading("ms", "/v", "register.v"), "/t", AkenzaTimeFormat::unix_ms),
        reading("alerts_critical", "/level", "register.alert_level"),
        state("alerts_critical", "/message", "alert_message"),
        with_unit(reading("plain", "", "register.power"), "W"),
        state("plainstate", "", "relay"),
        timed(reading("csv", "/energy", std::string(energy_consumption_index), 1000), "/time"),
        timed(with_unit(reading("csv", "/temperature", "register.temperature"), "degC"), "/time"),
        state("foo", "/foo", "foo"),
        reading("foonum", "/foo", "register.foo"),
        reading("root", "", "register.x"),
        timed(day, "/date"),
    };
    return o;
}

std::string up(const std::string& sub = "", const std::string& secret = kSecret) {
    return "/up/" + secret + "/id/dev-1" + (sub.empty() ? "" : "/" + sub);
}

class AkenzaDecoderTest : public ::testing::Test {
  protected:
    DecodeResult decode(const std::string& topic, const std::string& payload,
                        const std::string& content_type = "") {
        return decoder_.decode(RawMessage{"akenza", topic, payload, content_type, kNow});
    }
    AkenzaDecoder decoder_{test_options()};
};

// ---- readings -------------------------------------------------------------

TEST_F(AkenzaDecoderTest, DefaultDataTopicMapsNumbersAndBooleans) {
    auto r = decode(up(), fixture("energy_meter.json"));
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_THAT(r.readings,
                ElementsAre(Reading{"dev-1", "electricity.energy.consumption.index", "Wh",
                                    Kind::cumulative, kNow, kNow, 1234.567 * 1000},
                            Reading{"dev-1", "register.temperature", "degC", Kind::instant, kNow,
                                    kNow, 21.5}));
    EXPECT_THAT(r.states, ElementsAre(StateEvent{"dev-1", "door_open", "false", kNow}));
}

TEST_F(AkenzaDecoderTest, ApplicationJsonWithParametersIsJson) {
    auto r = decode(up(), R"({"energy": 2})", "Application/JSON; charset=\"UTF-8\"");
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_THAT(r.readings, ElementsAre(Reading{"dev-1", "electricity.energy.consumption.index",
                                                "Wh", Kind::cumulative, kNow, kNow, 2000}));
}

TEST_F(AkenzaDecoderTest, PayloadTimestampAndIntervalEndingAtIt) {
    auto r = decode(up("timed"), fixture("timed.json"));
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_THAT(r.readings,
                ElementsAre(Reading{"dev-1", "electricity.energy.consumption.index", "Wh",
                                    Kind::cumulative, kTenFifteen, kTenFifteen, 1234500},
                            Reading{"dev-1", "electricity.power.consumption", "W", Kind::interval,
                                    kTen, kTenFifteen, 512.25}));
    EXPECT_THAT(r.states, IsEmpty());
}

TEST_F(AkenzaDecoderTest, IntervalStartingAtADateOnlyTimestamp) {
    auto r = decode(up("water"), R"({"date": "2024-03-01", "day": 1.25})");
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_THAT(r.readings, ElementsAre(Reading{"dev-1", "water.volume.day", "m3", Kind::interval,
                                                1709251200000, 1709337600000, 1.25}));
}

TEST_F(AkenzaDecoderTest, NestedPointersArrayIndexesAndEscapes) {
    auto r = decode(up("nested"), fixture("nested.json"));
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_THAT(r.readings,
                ElementsAre(Reading{"dev-1", "water.volume.index", "m3", Kind::cumulative, kTen,
                                    kTen, 3.25},
                            Reading{"dev-1", "register.ab", "", Kind::instant, kNow, kNow, 7},
                            Reading{"dev-1", "register.mn", "", Kind::cumulative, kNow, kNow, 8}));
}

// RFC 6901 §4: "~01" is the key "~1" (not "/"), "~1~0" is "/~".
TEST(AkenzaDecoder, PointerEscapesReadInOrder) {
    AkenzaOptions o;
    o.secret = std::string(kSecret);
    o.mappings = {reading("default", "/a~01", "register.a"),
                  reading("default", "/b~1~0", "register.b")};
    AkenzaDecoder d(o);
    auto r = d.decode(RawMessage{"akenza", up(), R"({"a~1": 1, "a/": 9, "b/~": 2})", "", kNow});
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_THAT(r.readings,
                ElementsAre(Reading{"dev-1", "register.a", "", Kind::instant, kNow, kNow, 1},
                            Reading{"dev-1", "register.b", "", Kind::instant, kNow, kNow, 2}));
}

TEST_F(AkenzaDecoderTest, UnixMillisecondTimestamp) {
    auto r = decode(up("ms"), fixture("unix_ms.json"));
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_THAT(r.readings, ElementsAre(Reading{"dev-1", "register.v", "", Kind::instant,
                                                kTen + 123, kTen + 123, 12}));
}

TEST_F(AkenzaDecoderTest, UnixSecondsWithFractionAndExponentNotation) {
    auto r = decode(up("nested"), R"({"data": [{"value": 1, "ts": 1709287200.5}]})");
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    ASSERT_EQ(r.readings.size(), 1u);
    EXPECT_EQ(r.readings[0].ts_start, kTen + 500);
    r = decode(up("ms"), R"({"v": 1, "t": 1.7092872e12})");
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    ASSERT_EQ(r.readings.size(), 1u);
    EXPECT_EQ(r.readings[0].ts_start, 1709287200000);
}

TEST_F(AkenzaDecoderTest, SubTopicLevelsJoinedWithUnderscore) {
    auto r = decode(up("alerts/critical"), fixture("alerts_critical.json"));
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_THAT(r.readings, ElementsAre(Reading{"dev-1", "register.alert_level", "", Kind::instant,
                                                kNow, kNow, 3}));
    EXPECT_THAT(r.states, ElementsAre(StateEvent{"dev-1", "alert_message", "leak detected", kNow}));
    // One level named like the joined ones is the same data topic, as in akenza.
    EXPECT_TRUE(decode(up("alerts_critical"), fixture("alerts_critical.json")).ok());
}

TEST_F(AkenzaDecoderTest, AbsentOptionalFieldsAreSkippedNullToo) {
    auto r = decode(up(), R"({"energy": 5, "temperature": null, "other": [1, {"x": "y"}]})");
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_THAT(r.readings, ElementsAre(Reading{"dev-1", "electricity.energy.consumption.index",
                                                "Wh", Kind::cumulative, kNow, kNow, 5000}));
    EXPECT_THAT(r.states, IsEmpty());
}

TEST_F(AkenzaDecoderTest, StatesFromStringsAndNumbers) {
    auto r = decode(up(), R"({"energy": 1, "door_open": "ajar"})");
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_THAT(r.states, ElementsAre(StateEvent{"dev-1", "door_open", "ajar", kNow}));
    r = decode(up(), R"({"energy": 1, "door_open": 1.50})");
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_THAT(r.states, ElementsAre(StateEvent{"dev-1", "door_open", "1.50", kNow}));
}

TEST_F(AkenzaDecoderTest, RootScalarWithTheEmptyPointer) {
    auto r = decode(up("root"), " -4.5e1 \n");
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_THAT(r.readings,
                ElementsAre(Reading{"dev-1", "register.x", "", Kind::instant, kNow, kNow, -45}));
}

TEST_F(AkenzaDecoderTest, DecoderIsReusableAcrossMessages) {
    ASSERT_TRUE(decode(up("nested"), fixture("nested.json")).ok());
    ASSERT_FALSE(decode(up(), fixture("malformed_truncated.json")).ok());
    auto r = decode(up(), R"({"energy": 7})");
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_EQ(r.readings.at(0).value, 7000);
}

// ---- text/plain and text/csv ----------------------------------------------

TEST_F(AkenzaDecoderTest, TextPlainNumber) {
    auto r = decode(up("plain"), fixture("plain_number.txt"), "text/plain");
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_THAT(r.readings, ElementsAre(Reading{"dev-1", "register.power", "W", Kind::instant, kNow,
                                                kNow, 42.5}));
    r = decode(up("plain"), "+7.", "text/plain; charset=us-ascii");
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_EQ(r.readings.at(0).value, 7);
}

TEST_F(AkenzaDecoderTest, TextPlainState) {
    auto r = decode(up("plainstate"), fixture("plain_state.txt"), "text/plain");
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_THAT(r.states, ElementsAre(StateEvent{"dev-1", "relay", "open", kNow}));
}

TEST_F(AkenzaDecoderTest, CsvWithHeaderSeveralLinesAndEmptyCells) {
    auto r = decode(up("csv"), fixture("measurements.csv"), "text/csv");
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_THAT(r.readings,
                ElementsAre(Reading{"dev-1", "electricity.energy.consumption.index", "Wh",
                                    Kind::cumulative, kTen, kTen, 1000500},
                            Reading{"dev-1", "register.temperature", "degC", Kind::instant, kTen,
                                    kTen, 20.5},
                            Reading{"dev-1", "electricity.energy.consumption.index", "Wh",
                                    Kind::cumulative, kTenFifteen, kTenFifteen, 1001000}));
}

// Excel's "CSV UTF-8" starts with a byte order mark and ends lines with CRLF:
// the same readings as the plain file, the header's first name found.
TEST_F(AkenzaDecoderTest, CsvFromASpreadsheetWithAByteOrderMark) {
    const std::string excel = fixture("excel_bom.csv");
    ASSERT_TRUE(excel.starts_with("\xEF\xBB\xBFtime,"));
    auto r = decode(up("csv"), excel, "text/csv");
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_EQ(r.readings, decode(up("csv"), fixture("measurements.csv"), "text/csv").readings);
    EXPECT_THAT(r.readings, SizeIs(3));
}

TEST_F(AkenzaDecoderTest, CsvQuotedCells) {
    auto r = decode(up("csv"), fixture("quoted.csv"), "text/csv");
    ASSERT_FALSE(r.ok());
    // The quoted cell with "" and a comma is one string cell; " 12 " was a number.
    EXPECT_EQ(r.reject->reason(),
              "wrong_type: text/csv line 2: /temperature must be a number, got a string");
}

TEST(AkenzaDecoderCsv, WithoutHeaderColumnsAreIndexes) {
    AkenzaOptions o;
    o.secret = kSecret;
    o.csv_header = false;
    o.csv_delimiter = ';';
    o.mappings = {with_unit(reading("default", "/0", "register.temperature"), "degC"),
                  with_unit(reading("default", "/1", "register.pressure"), "hPa"),
                  reading("default", "/01", "register.never")};
    AkenzaDecoder d(o);
    auto r =
        d.decode(RawMessage{"a", up(), fixture("measurements_noheader.csv"), "text/csv", kNow});
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_THAT(
        r.readings,
        ElementsAre(
            Reading{"dev-1", "register.temperature", "degC", Kind::instant, kNow, kNow, 21.5},
            Reading{"dev-1", "register.pressure", "hPa", Kind::instant, kNow, kNow, 1013.25}));
}

// ---- rejections -----------------------------------------------------------

struct Bad {
    const char* name;  // fixture file, or inline payload when `inline_payload`
    const char* sub;
    const char* content_type;
    const char* reason;
    bool inline_payload = false;
};

void PrintTo(const Bad& b, std::ostream* os) {
    *os << b.name << " on " << b.sub;
}

class AkenzaDecoderRejects : public AkenzaDecoderTest, public ::testing::WithParamInterface<Bad> {};

TEST_P(AkenzaDecoderRejects, WithExactReason) {
    const Bad& b = GetParam();
    const std::string payload = b.inline_payload ? b.name : fixture(b.name);
    auto r = decode(up(b.sub), payload, b.content_type);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.reject->reason(), b.reason);
    EXPECT_THAT(r.readings, IsEmpty());
    EXPECT_THAT(r.states, IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, AkenzaDecoderRejects,
    ::testing::Values(
        Bad{"malformed_truncated.json", "", "", "malformed: not valid JSON"},
        Bad{"malformed_trailing.json", "", "",
            "malformed: trailing bytes after the JSON document (from byte 14)"},
        Bad{"malformed_number.json", "", "", "malformed: not valid JSON: bad number"},
        Bad{"malformed_unmapped_value.json", "", "", "malformed: not valid JSON: bad number"},
        Bad{"malformed_empty.json", "", "", "malformed: not valid JSON"},
        Bad{"malformed_utf8.json", "", "",
            "malformed: not valid JSON: the text is not valid UTF-8"},
        Bad{"wrong_type_string.json", "", "", "wrong_type: /energy must be a number, got a string"},
        Bad{"wrong_type_bool.json", "", "",
            "wrong_type: /energy must be a number, got a boolean (map booleans with state_key)"},
        Bad{"wrong_type_object.json", "", "",
            "wrong_type: /energy must be a number, got an object"},
        Bad{"wrong_type_state_array.json", "", "",
            "wrong_type: /door_open must be a boolean, string or number (state door_open), got "
            "an array"},
        Bad{"huge_number.json", "", "",
            "invalid_value: /energy 1e400 is not a representable number"},
        Bad{"scale_overflow.json", "", "",
            "invalid_value: /energy 1e306 × scale 1000 is not finite"},
        Bad{"duplicate_key.json", "", "",
            "invalid_value: /energy appears more than once in the payload (duplicate key)"},
        Bad{"missing_required.json", "", "", "missing_field: /energy (required)"},
        Bad{"null_required.json", "", "", "missing_field: /energy (required, and it is null)"},
        Bad{"doc_payload_foo_bar.json", "timed", "",
            "missing_field: none of the mapped fields is in the payload (/energy, /power)"},
        Bad{"doc_payload_foo_bar.json", "foonum", "",
            "wrong_type: /foo must be a number, got a string"},
        Bad{"timestamp_bad.json", "timed", "",
            "invalid_value: /time 'yesterday' is not an ISO-8601 timestamp with a zone"},
        Bad{"timestamp_no_zone.json", "timed", "",
            "invalid_value: /time '2024-03-01T10:15:00' is not an ISO-8601 timestamp with a "
            "zone"},
        Bad{"timestamp_wrong_type.json", "timed", "",
            "wrong_type: /time must be ISO-8601 text (timestamp_format = \"iso8601\"), got a "
            "number"},
        Bad{"timestamp_missing.json", "timed", "",
            "missing_field: /time (the timestamp of /energy)"},
        Bad{"timestamp_negative.json", "nested", "",
            "out_of_range: /data/0/ts -5 is outside 1970-01-01 .. 9999-12-31 (timestamp_format "
            "= \"unix_s\")"},
        Bad{"timestamp_absurd.json", "nested", "",
            "out_of_range: /data/0/ts 1709287200000 is outside 1970-01-01 .. 9999-12-31 "
            "(timestamp_format = \"unix_s\")"},
        Bad{"unix_ms_fraction.json", "ms", "",
            "wrong_type: /t must be an integer number of milliseconds (timestamp_format = "
            "\"unix_ms\"), got 1709287200123.5"},
        Bad{"plain_not_number.txt", "plain", "text/plain",
            "wrong_type: text/plain: the whole payload (pointer \"\") must be a number, got a "
            "string"},
        Bad{"plain_empty.txt", "plain", "text/plain", "missing_field: text/plain payload is empty"},
        Bad{"plain_number.txt", "", "text/plain", "missing_field: text/plain: /energy (required)"},
        Bad{"plain_number.txt", "timed", "text/plain",
            "missing_field: a text/plain payload is one value at the pointer \"\", and no "
            "mapping of this data topic has it (/energy, /power)"},
        Bad{"csv_ragged.csv", "csv", "text/csv",
            "invalid_value: text/csv line 2 has 4 cells, the header has 3"},
        Bad{"csv_unterminated.csv", "csv", "text/csv",
            "malformed: text/csv line 2: unterminated quoted cell"},
        Bad{"csv_duplicate_header.csv", "csv", "text/csv",
            "invalid_value: text/csv header: column 'energy' appears twice"},
        Bad{"csv_duplicate_time.csv", "csv", "text/csv",
            "duplicate_timestamp: text/csv: two lines give electricity.energy.consumption.index "
            "at 2024-03-01T10:00:00.000Z (map a timestamp column to send several lines)"},
        Bad{"csv_header_only.csv", "csv", "text/csv", "missing_field: text/csv: no data line"},
        Bad{"csv_not_number.csv", "csv", "text/csv",
            "wrong_type: text/csv line 2: /energy must be a number, got a string"},
        Bad{"doc_payload.xml", "", "application/xml",
            "unsupported_content_type: 'application/xml' payloads are not decoded (supported: "
            "application/json, text/plain, text/csv)"},
        Bad{"doc_payload_foo_bar.json", "", "application/octet-stream",
            "unsupported_content_type: 'application/octet-stream' payloads are not decoded "
            "(supported: application/json, text/plain, text/csv)"},
        Bad{"doc_payload_foo_bar.json", "", "image/png",
            "unsupported_content_type: unknown content type 'image/png' (supported: "
            "application/json, text/plain, text/csv)"},
        Bad{"doc_payload_foo_bar.json", "", "application/json; charset=ISO-8859-1",
            "unsupported_content_type: charset 'ISO-8859-1' is not decoded (only UTF-8)"},
        Bad{"doc_payload_foo_bar.json", "nothing/here", "",
            "invalid_value: no mapping for data topic 'nothing_here'"}),
    [](const auto& param) { return std::to_string(param.index); });

INSTANTIATE_TEST_SUITE_P(
    Inline, AkenzaDecoderRejects,
    ::testing::Values(
        Bad{"42 x", "root", "", "malformed: trailing bytes after the JSON document (from byte 2)",
            true},
        Bad{"not json", "root", "", "malformed: not a JSON document", true},
        Bad{"not json", "", "", "malformed: not a JSON document", true},
        Bad{"nul", "root", "", "malformed: not a JSON document", true},
        Bad{"-", "root", "", "malformed: not valid JSON: bad number", true},
        Bad{"01", "root", "", "malformed: not valid JSON: bad number", true},
        Bad{"\"a\\x\"", "root", "", "malformed: not valid JSON", true},
        Bad{"true", "root", "",
            "wrong_type: the whole payload (pointer \"\") must be a number, got a boolean (map "
            "booleans with state_key)",
            true},
        Bad{"[1]", "root", "",
            "wrong_type: the whole payload (pointer \"\") must be a number, got an array", true},
        Bad{R"({"energy": 1}})", "", "",
            "malformed: trailing bytes after the JSON document (from byte 13)", true},
        Bad{R"({"energy": 1, "x": [1, 2,]})", "", "", "malformed: not valid JSON", true},
        Bad{R"({"energy": 1, "x": tru})", "", "", "malformed: not valid JSON", true},
        Bad{R"({"energy": 1 "x": 2})", "", "", "malformed: not valid JSON", true},
        Bad{R"({"energy": 1, "x": "\q"})", "", "", "malformed: not valid JSON", true},
        Bad{R"({"energy": 1e-400})", "", "",
            "invalid_value: /energy 1e-400 is not a representable number", true},
        Bad{R"({"energy": -1, "temperature": 123456789012345678901234567890e300})", "", "",
            "invalid_value: /temperature 123456789012345678901234567890e300 is not a "
            "representable number",
            true},
        Bad{R"({"v": 1, "t": 253402300800000})", "ms", "",
            "out_of_range: /t 253402300800000 is outside 1970-01-01 .. 9999-12-31 "
            "(timestamp_format = \"unix_ms\")",
            true},
        Bad{R"({"time": "1969-12-31T23:59:59Z", "energy": 1})", "timed", "",
            "out_of_range: /time 1969-12-31T23:59:59Z is outside 1970-01-01 .. 9999-12-31", true},
        Bad{R"({"time": "1970-01-01T00:10:00Z", "power": 1})", "timed", "",
            "out_of_range: /power: the interval [-300000 ms, 600000 ms) is outside 1970-01-01 .. "
            "9999-12-31",
            true},
        Bad{"a,b\n\"x\"y,1\n", "csv", "text/csv",
            "malformed: text/csv line 2: unexpected text after a quoted cell", true},
        Bad{"a,b\nx\"y,1\n", "csv", "text/csv",
            "malformed: text/csv line 2: '\"' inside an unquoted cell", true},
        Bad{"", "csv", "text/csv", "missing_field: text/csv: no header line", true},
        Bad{"time,other\n2024-03-01T10:00:00Z,1\n", "csv", "text/csv",
            "missing_field: none of the mapped columns has a value (/energy, /temperature)", true},
        Bad{"\xc3\x28", "plain", "text/plain", "malformed: text/plain payload is not valid UTF-8",
            true},
        Bad{"a\n\xc3\x28", "csv", "text/csv", "malformed: text/csv payload is not valid UTF-8",
            true}),
    [](const auto& param) { return std::to_string(param.index); });

TEST_F(AkenzaDecoderTest, NestingIsBounded) {
    std::string deep(200, '[');
    deep += std::string(200, ']');
    auto r = decode(up(), deep);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.reject->reason(), "out_of_range: JSON nested deeper than 128 levels");
    // 100 levels are walked (and validated) normally.
    std::string ok =
        R"({"energy": 1, "x": )" + std::string(100, '[') + "0" + std::string(100, ']') + "}";
    r = decode(up(), ok);
    ASSERT_TRUE(r.ok()) << r.reject->reason();
}

// ---- topics and authentication ---------------------------------------------

class AkenzaBadTopic : public AkenzaDecoderTest,
                       public ::testing::WithParamInterface<std::pair<const char*, const char*>> {};

TEST_P(AkenzaBadTopic, IsRejected) {
    auto r = decode(GetParam().first, R"({"energy": 1})");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.reject->reason(), GetParam().second);
}

INSTANTIATE_TEST_SUITE_P(
    All, AkenzaBadTopic,
    ::testing::Values(
        std::pair{"up/s3cr3t-Secret-42/id/dev-1",
                  "bad_topic: not an akenza uplink topic (expected "
                  "/up/<secret>/id/<deviceId>[/<sub-topic>...]; note the leading '/')"},
        std::pair{"",
                  "bad_topic: not an akenza uplink topic (expected "
                  "/up/<secret>/id/<deviceId>[/<sub-topic>...]; note the leading '/')"},
        std::pair{"/down/s3cr3t-Secret-42/id/dev-1/myTopic",
                  "bad_topic: not an akenza uplink topic (expected "
                  "/up/<secret>/id/<deviceId>[/<sub-topic>...]; note the leading '/')"},
        std::pair{
            "/up/s3cr3t-Secret-42/id",
            "bad_topic: too few levels (expected /up/<secret>/id/<deviceId>[/<sub-topic>...])"},
        std::pair{"/up/s3cr3t-Secret-42/ids/dev-1",
                  "bad_topic: the level after the secret must be 'id' (expected "
                  "/up/<secret>/id/<deviceId>[/<sub-topic>...])"},
        std::pair{"/up//id/dev-1",
                  "bad_topic: empty secret level (expected "
                  "/up/<secret>/id/<deviceId>[/<sub-topic>...])"},
        std::pair{"/up/s3cr3t-Secret-42/id/",
                  "bad_topic: empty device id (expected "
                  "/up/<secret>/id/<deviceId>[/<sub-topic>...])"},
        std::pair{"/up/s3cr3t-Secret-42/id/dev-1/", "bad_topic: empty sub-topic level 1"},
        std::pair{"/up/s3cr3t-Secret-42/id/dev-1/alerts//x", "bad_topic: empty sub-topic level 2"},
        std::pair{"/up/s3cr3t-Secret-42/id/dev-1/#",
                  "bad_topic: a published topic cannot contain '+', '#' or NUL"},
        std::pair{"/up/+/id/dev-1", "bad_topic: a published topic cannot contain '+', '#' or NUL"}),
    [](const auto& param) { return std::to_string(param.index); });

TEST_F(AkenzaDecoderTest, WrongSecretsAreUnauthorized) {
    const std::string expected =
        "unauthorized: the uplink secret in the topic does not match secret_file";
    for (const std::string& secret :
         {std::string("s3cr3t-Secret-43"), std::string("s3cr3t-Secret-4"),
          std::string("s3cr3t-Secret-422"), std::string("S3CR3T-SECRET-42"), std::string("x")}) {
        auto r = decode(up("", secret), R"({"energy": 1})");
        ASSERT_FALSE(r.ok()) << secret;
        EXPECT_EQ(r.reject->reason(), expected) << secret;
    }
}

TEST_F(AkenzaDecoderTest, DeviceCredentialsRejectedByDefault) {
    auto r = decode("/up/device/id/dev-1", R"({"energy": 1})");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.reject->reason(),
              "unauthorized: device-credential uplinks (/up/device/id/...) are not accepted "
              "(accept_device_credentials = false)");
}

TEST(AkenzaDecoderAuth, DeviceCredentialsAcceptedWhenConfigured) {
    AkenzaOptions o = test_options();
    o.accept_device_credentials = true;
    AkenzaDecoder d(o);
    auto r = d.decode(RawMessage{"a", "/up/device/id/dev-9", R"({"energy": 1})", "", kNow});
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_EQ(r.readings.at(0).meter, "dev-9");
    // The secret variant keeps working alongside.
    EXPECT_TRUE(d.decode(RawMessage{"a", up(), R"({"energy": 1})", "", kNow}).ok());
}

TEST(AkenzaDecoderAuth, WithoutSecretOnlyDeviceCredentials) {
    AkenzaOptions o = test_options();
    o.secret.clear();
    o.accept_device_credentials = true;
    AkenzaDecoder d(o);
    EXPECT_TRUE(d.decode(RawMessage{"a", "/up/device/id/d", R"({"energy": 1})", "", kNow}).ok());
    auto r = d.decode(RawMessage{"a", up(), R"({"energy": 1})", "", kNow});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.reject->reason(),
              "unauthorized: no uplink secret is configured (secret_file): only "
              "/up/device/id/... uplinks are accepted");
}

// Every topic shape of the vendor document, verbatim. With the document's
// placeholder as the configured secret, its uplink topics decode as they are.
TEST(AkenzaDecoderDocument, TopicShapesOfTheDocument) {
    AkenzaOptions o;
    o.secret = "<deviceConnectorSecret>";
    o.accept_device_credentials = true;
    o.mappings = {state("default", "/foo", "foo"), state("alerts", "/foo", "foo"),
                  state("alerts_critical", "/foo", "foo")};
    AkenzaDecoder d(o);
    const auto lines = fixture_lines("doc_topics.txt");
    ASSERT_EQ(lines.size(), 9u);
    const std::string payload = fixture("doc_payload_foo_bar.json");
    struct Expect {
        std::string meter_or_reason;
        std::string state_value;
    };
    const std::vector<Expect> expected = {
        {"{deviceId}", "bar"},
        {"bad_topic: not an akenza uplink topic (expected "
         "/up/<secret>/id/<deviceId>[/<sub-topic>...]; note the leading '/')",
         ""},
        {"<deviceID>", "bar"},
        // In the document as the secret variant's "downlink topic": a filter, never a
        // published topic.
        {"bad_topic: a published topic cannot contain '+', '#' or NUL", ""},
        {"{deviceId}", "bar"},
        {"{deviceId}", "bar"},
        {"bad_topic: not an akenza uplink topic (expected "
         "/up/<secret>/id/<deviceId>[/<sub-topic>...]; note the leading '/')",
         ""},
        {"bad_topic: not an akenza uplink topic (expected "
         "/up/<secret>/id/<deviceId>[/<sub-topic>...]; note the leading '/')",
         ""},
        {"bad_topic: not an akenza uplink topic (expected "
         "/up/<secret>/id/<deviceId>[/<sub-topic>...]; note the leading '/')",
         ""},
    };
    for (std::size_t i = 0; i < lines.size(); ++i) {
        auto r = d.decode(RawMessage{"a", lines[i], payload, "", kNow});
        if (expected[i].state_value.empty()) {
            ASSERT_FALSE(r.ok()) << lines[i];
            EXPECT_EQ(r.reject->reason(), expected[i].meter_or_reason) << lines[i];
        } else {
            ASSERT_TRUE(r.ok()) << lines[i] << ": " << r.reject->reason();
            EXPECT_THAT(r.states, ElementsAre(StateEvent{expected[i].meter_or_reason, "foo",
                                                         expected[i].state_value, kNow}))
                << lines[i];
        }
    }
}

TEST(AkenzaDecoderDocument, XmlExampleIsTheDocumentsPythonLiteral) {
    // The document shows the XML payload as a Python literal; the fixture holds its bytes.
    std::string literal = fixture("doc_payload_xml_python_line.txt");
    const std::string prefix = "payload = '";
    ASSERT_TRUE(literal.starts_with(prefix) && literal.ends_with("'"));
    literal = literal.substr(prefix.size(), literal.size() - prefix.size() - 1);
    std::string unescaped;
    for (std::size_t i = 0; i < literal.size(); ++i) {
        if (literal[i] == '\\' && i + 1 < literal.size()) ++i;
        unescaped += literal[i];
    }
    EXPECT_EQ(unescaped, fixture("doc_payload.xml"));
}

TEST(AkenzaDecoderDocument, XmlExampleIsDecodedNeitherAsXmlNorAsJson) {
    AkenzaDecoder d(test_options());
    auto r = d.decode(RawMessage{"a", up(), fixture("doc_payload.xml"), "application/xml", kNow});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.reject->code, RejectCode::unsupported_content_type);
    // Without the v5 property the payload is taken as JSON, as akenza does.
    r = d.decode(RawMessage{"a", up(), fixture("doc_payload.xml"), "", kNow});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.reject->reason(), "malformed: not a JSON document");
}

TEST(AkenzaDecoderDocument, FooBarAsAState) {
    AkenzaDecoder d(test_options());
    auto r = d.decode(RawMessage{"a", up("foo"), fixture("doc_payload_foo_bar.json"), "", kNow});
    ASSERT_TRUE(r.ok()) << r.reject->reason();
    EXPECT_THAT(r.readings, IsEmpty());
    EXPECT_THAT(r.states, ElementsAre(StateEvent{"dev-1", "foo", "bar", kNow}));
}

// ---- redaction ------------------------------------------------------------

TEST(AkenzaRedact, TopicSecretLevelIsMasked) {
    EXPECT_EQ(akenza_redact_topic(up("alerts"), kSecret), "/up/***/id/dev-1/alerts");
    // A wrong secret may be someone's real one.
    EXPECT_EQ(akenza_redact_topic("/up/another-real-secret/id/d", kSecret), "/up/***/id/d");
    EXPECT_EQ(akenza_redact_topic("up/another-real-secret/id/d", kSecret), "up/***/id/d");
    EXPECT_EQ(akenza_redact_topic("/down/another-real-secret/id/d/t", kSecret), "/down/***/id/d/t");
    EXPECT_EQ(akenza_redact_topic("/up/x", ""), "/up/***");
    EXPECT_EQ(akenza_redact_topic("/up/device/id/d", kSecret), "/up/device/id/d");
    EXPECT_EQ(akenza_redact_topic("/up//id/d", kSecret), "/up//id/d");
    EXPECT_EQ(akenza_redact_topic("/up/", kSecret), "/up/");
    EXPECT_EQ(akenza_redact_topic("other/topic", kSecret), "other/topic");
    // The configured secret anywhere else.
    EXPECT_EQ(akenza_redact_topic("/up/device/id/s3cr3t-Secret-42/x", kSecret),
              "/up/device/id/***/x");
    EXPECT_EQ(akenza_redact_topic("junk/s3cr3t-Secret-42s3cr3t-Secret-42", kSecret), "junk/******");
}

TEST(AkenzaRedact, MessageTopicAndPayload) {
    AkenzaDecoder d(test_options());
    RawMessage m{"akenza", up("a/b"),
                 R"({"key":"s3cr3t-Secret-42","again":"xs3cr3t-Secret-42x","v":1})", "", kNow};
    d.redact(m);
    EXPECT_EQ(m.topic, "/up/***/id/dev-1/a/b");
    EXPECT_EQ(m.payload, R"({"key":"***","again":"x***x","v":1})");
    EXPECT_THAT(m.topic + m.payload, Not(HasSubstr(kSecret)));

    RawMessage wrong{"akenza", "/up/not-our-secret/id/dev-1", R"({"v":1})", "", kNow};
    d.redact(wrong);
    EXPECT_EQ(wrong.topic, "/up/***/id/dev-1");
    EXPECT_EQ(wrong.payload, R"({"v":1})");
}

TEST(AkenzaRedact, AnyTextSuchAsTheMqttLibrarysLogLines) {
    const auto redacted = [](std::string text) {
        akenza_redact_text(text, kSecret);
        return text;
    };
    // libmosquitto's own lines quote the topic of every packet.
    EXPECT_EQ(
        redacted("Client mb received PUBLISH (d0, q1, r0, m1, '/up/s3cr3t-Secret-42/id/dev-1', "
                 "... (12 bytes))"),
        "Client mb received PUBLISH (d0, q1, r0, m1, '/up/***/id/dev-1', ... (12 bytes))");
    // A wrong secret may be another connector's real one.
    EXPECT_EQ(redacted("m2, '/up/another-real-secret/id/dev-1/a/b', ..."),
              "m2, '/up/***/id/dev-1/a/b', ...");
    EXPECT_EQ(redacted("publish to /down/another-real-secret/id/d/t failed"),
              "publish to /down/***/id/d/t failed");
    EXPECT_EQ(redacted("\"up/another-real-secret/id/d\""), "\"up/***/id/d\"");
    EXPECT_EQ(redacted("'/up/a/id/x' and '/up/b/id/y'"), "'/up/***/id/x' and '/up/***/id/y'");
    // The configured secret anywhere, also where no topic is.
    EXPECT_EQ(redacted("opened by s3cr3t-Secret-42!"), "opened by ***!");
    // What is not a secret level stays: device credentials, filters, other words.
    EXPECT_EQ(redacted("'/up/device/id/dev-1'"), "'/up/device/id/dev-1'");
    EXPECT_EQ(redacted("SUBSCRIBE (Mid: 1, Topic: /up/+/id/#, QoS: 1)"),
              "SUBSCRIBE (Mid: 1, Topic: /up/+/id/#, QoS: 1)");
    EXPECT_EQ(redacted("setup/backup/x and /up//id/d"), "setup/backup/x and /up//id/d");
    EXPECT_EQ(redacted(""), "");

    AkenzaDecoder d(test_options());
    std::string value = "door opened with s3cr3t-Secret-42 on /up/other-secret/id/x";
    d.redact_text(value);
    EXPECT_EQ(value, "door opened with *** on /up/***/id/x");
}

TEST(AkenzaRedact, APayloadCutShortLosesTheStartOfTheSecretAtItsEnd) {
    AkenzaDecoder d(test_options());
    RawMessage cut{"akenza", up(), R"({"a":"s3cr3t-Secret-42","b":"s3cr3t-Se)", "", kNow, 1000};
    d.redact(cut);
    EXPECT_EQ(cut.payload, R"({"a":"***","b":"***)");
    // The same text, whole: nothing was cut, so its end is left alone.
    RawMessage whole{"akenza", up(), R"({"b":"s3cr3t-Se)", "", kNow};
    d.redact(whole);
    EXPECT_EQ(whole.payload, R"({"b":"s3cr3t-Se)");
    RawMessage other{"akenza", up(), R"({"b":"xyz)", "", kNow, 1000};
    d.redact(other);
    EXPECT_EQ(other.payload, R"({"b":"xyz)");
}

TEST(AkenzaRedact, RejectDetailsNeverHoldTheSecret) {
    AkenzaDecoder d(test_options());
    auto r = d.decode(RawMessage{"a", up(kSecret), R"({"energy": 1})", "", kNow});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.reject->reason(), "invalid_value: no mapping for data topic '***'");
    r = d.decode(
        RawMessage{"a", up("timed"), R"({"time": "s3cr3t-Secret-42", "energy": 1})", "", kNow});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.reject->reason(),
              "invalid_value: /time '***' is not an ISO-8601 timestamp with a zone");
}

TEST(AkenzaDetails, EchoedValuesStayOnOneLineAndShort) {
    AkenzaDecoder d(test_options());
    // A JSON string may carry a newline; the reason quoting it must not.
    auto r =
        d.decode(RawMessage{"a", up("timed"), R"({"time": "to\nmorrow", "energy": 1})", "", kNow});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.reject->reason(),
              "invalid_value: /time 'to\\u000amorrow' is not an ISO-8601 timestamp with a zone");
    r = d.decode(RawMessage{"a", up("timed"),
                            R"({"time": ")" + std::string(200, 'x') + R"(", "energy": 1})", "",
                            kNow});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.reject->reason(), "invalid_value: /time '" + std::string(80, 'x') +
                                      "...' is not an ISO-8601 timestamp with a zone");
}

// ---- downlink topics ------------------------------------------------------

TEST(AkenzaDownlink, BuildsTheDocumentsShape) {
    // The document's example: /down/{0}/id/{1}/myTopic.
    EXPECT_EQ(akenza_downlink_topic("{0}", "{1}", "myTopic"), fixture_lines("doc_topics.txt")[8]);
    EXPECT_EQ(akenza_downlink_topic(kSecret, "dev-1", "config/set"),
              "/down/s3cr3t-Secret-42/id/dev-1/config/set");
    EXPECT_EQ(akenza_downlink_topic("device", "dev-1", "t"), "/down/device/id/dev-1/t");
}

TEST(AkenzaDownlink, RefusesWhatIsNotOneTopic) {
    for (const auto& [secret, device, topic] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"", "d", "t"},
             {"a/b", "d", "t"},
             {"s", "", "t"},
             {"s", "d+", "t"},
             {"s", "d/e", "t"},
             {"s", "d", ""},
             {"s", "d", "#"},
             {"s", "d", "a/+/b"},
             {"s", "d", "a//b"},
             {"s", "d", "/a"},
             {"s", "d", "a/"},
             {"s", std::string("d\0e", 3), "t"},
             {"s", "d", "\xc3\x28"},
             {"s", "d", std::string(65536, 'x')},
         })
        EXPECT_EQ(akenza_downlink_topic(secret, device, topic), "") << secret << "|" << device;
}

// ---- construction ---------------------------------------------------------

TEST(AkenzaDecoderOptions, InvalidOptionsThrowWithoutTheSecret) {
    const auto message = [](AkenzaOptions o) -> std::string {
        try {
            AkenzaDecoder d(std::move(o));
        } catch (const std::invalid_argument& e) {
            return e.what();
        }
        return "no exception";
    };
    AkenzaOptions o = test_options();
    o.secret = "short";
    EXPECT_EQ(message(o), "the uplink secret is shorter than 8 bytes");
    o.secret = "device";
    EXPECT_EQ(message(o), "the uplink secret is shorter than 8 bytes");
    o.secret = "abcdefgh/ijkl";
    EXPECT_EQ(message(o),
              "the uplink secret contains '/', '+', '#' or NUL, which cannot appear in one MQTT "
              "topic level");
    o.secret = "abcdefghijkl\n";
    EXPECT_EQ(message(o),
              "the uplink secret begins or ends with a blank (a stray space or newline in the "
              "file?)");
    o.secret.clear();
    EXPECT_EQ(message(o),
              "no uplink secret and device credentials not accepted: every uplink would be "
              "rejected");

    o = test_options();
    o.mappings.clear();
    EXPECT_EQ(message(o), "no mappings");

    const auto one = [&](AkenzaMapping m) {
        AkenzaOptions x;
        x.secret = kSecret;
        x.mappings = {std::move(m)};
        return message(x);
    };
    EXPECT_EQ(one(reading("default", "energy", "register.e")),
              "mappings[0]: pointer: a JSON pointer is \"\" or starts with '/' (e.g. "
              "\"/temperature\", \"/data/0/value\")");
    EXPECT_EQ(one(reading("default", "/a~2", "register.e")),
              "mappings[0]: pointer: '~' must be followed by '0' (for '~') or '1' (for '/') in a "
              "JSON pointer");
    EXPECT_EQ(one(with_unit(reading("default", "/e", "water.volume.index"), "l")),
              "mappings[0]: the unit of water.volume.index is m3");
    EXPECT_EQ(one(reading("default", "/e", "bogus")),
              "mappings[0]: quantity 'bogus' is neither a canonical quantity nor register.<id>");
    EXPECT_EQ(one(reading("default", "/e", "register.e", 0)),
              "mappings[0]: scale must be finite and not zero");
    EXPECT_EQ(one(reading("default", "/e", "electricity.energy.consumption")),
              "mappings[0]: an interval reading needs a positive duration");
    EXPECT_EQ(one(reading("a/b", "/e", "register.e")),
              "mappings[0]: data_topic cannot contain '/', '+', '#' or NUL (sub-topic levels are "
              "joined with '_': alerts/critical is \"alerts_critical\")");
    auto both = reading("default", "/e", "register.e");
    both.state_key = "s";
    EXPECT_EQ(one(both),
              "mappings[0]: needs exactly one of quantity (a reading) or state_key (a state "
              "event)");

    o = test_options();
    o.mappings.push_back(reading("default", "/other", "register.temperature"));
    EXPECT_EQ(message(o),
              "mappings[19]: mappings[1] already maps register.temperature for data topic "
              "'default'");
    o = test_options();
    o.csv_delimiter = '"';
    EXPECT_EQ(message(o), "csv_delimiter cannot be '\"', a space, a line end or NUL");
}

}  // namespace
}  // namespace mb
