// Quoalise decoder (seed 003, Enedis DataConnect through the consometers
// proxy): the document's examples verbatim, both stamping conventions and the
// auto rule, both meta forms, DST days, exact readings, one rejection per rule
// with its exact reason, and the request topic. Fixtures: tests/fixtures/enedis/.
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "normalize/enedis/quoalise_decoder.h"
#include "tests/support/fixture.h"

namespace mb {
namespace {

namespace fs = std::filesystem;

constexpr TimeMs kHalfHour = 1800000;
constexpr TimeMs kHour = 3600000;
constexpr TimeMs kDay = 86400000;

constexpr const char* kPrm = "22516914714270";
// 2021-02-01T00:00 Europe/Paris (CET) = 2021-01-31T23:00:00Z.
constexpr TimeMs kParis20210201 = 1612134000000;

std::string fixture(const std::string& name) {
    return test::read_fixture("enedis", name);
}

date::year_month_day ymd(int y, unsigned m, unsigned d) {
    return date::year{y} / date::month{m} / date::day{d};
}

QuoaliseRequest load_curve(std::string prm, std::string direction, date::year_month_day start,
                           date::year_month_day end) {
    return QuoaliseRequest{QuoaliseCommand::load_curve, std::move(prm), std::move(direction), start,
                           end};
}

QuoaliseRequest daily(std::string prm, std::string direction, date::year_month_day start,
                      date::year_month_day end) {
    return QuoaliseRequest{QuoaliseCommand::daily, std::move(prm), std::move(direction), start,
                           end};
}

// The request of the edge-case load curves: 2021-02-01, consumption.
QuoaliseRequest edge_curve() {
    return load_curve(kPrm, "consumption", ymd(2021, 2, 1), ymd(2021, 2, 2));
}

std::string reason(const DecodeResult& r) {
    return r.reject ? r.reject->reason() : "accepted";
}

Reading power(const std::string& meter, const std::string& direction, TimeMs start, TimeMs len,
              double value) {
    return Reading{meter, "electricity.power." + direction, "W", Kind::interval, start, start + len,
                   value};
}

Reading energy(const std::string& meter, const std::string& direction, TimeMs start, TimeMs end,
               double value) {
    return Reading{meter, "electricity.energy." + direction, "Wh", Kind::interval, start, end,
                   value};
}

// A quoalise element with the nested meta of the document and these records.
std::string response(const std::string& records, const std::string& direction = "consumption",
                     const std::string& interval = "1800", const std::string& unit = "W",
                     const std::string& prm = kPrm) {
    return R"(<quoalise xmlns="urn:quoalise:0"><data><meta><device type="electricity-meter">)"
           R"(<identifier authority="enedis" type="prm" value=")" +
           prm + R"("/></device><measurement><physical quantity="power" type="electrical" unit=")" +
           unit + R"("/><business graph="load-profile" direction=")" + direction +
           R"("/><aggregate type="average"/><sampling interval=")" + interval +
           R"("/></measurement></meta><sensml xmlns="urn:ietf:params:xml:ns:senml">)" + records +
           "</sensml></data></quoalise>";
}

// A quoalise element with a flat measurement element holding `measurement`.
std::string flat_response(const std::string& measurement, const std::string& records) {
    return R"(<quoalise xmlns="urn:quoalise:0"><data><meta><device type="electricity-meter">)"
           R"(<identifier authority="enedis" type="prm" value=")" +
           std::string(kPrm) + R"("/></device><measurement )" + measurement +
           R"(/></meta><sensml xmlns="urn:ietf:params:xml:ns:senml">)" + records +
           "</sensml></data></quoalise>";
}

// Half-hour records end-stamped from Paris midnight 2021-02-01, t = 1800·k.
std::string curve_records(int first_k, int count) {
    std::string s = R"(<senml bn="urn:dev:prm:22516914714270_consumption_load" bt="1612134000")"
                    R"( bu="W" t=")" +
                    std::to_string(first_k * 1800) + R"(" v="1"/>)";
    for (int k = first_k + 1; k < first_k + count; ++k)
        s += R"(<senml t=")" + std::to_string(k * 1800) + R"(" v="1"/>)";
    return s;
}

DecodeResult decode_curve(const std::string& xml,
                          StampConvention conv = StampConvention::auto_detect) {
    return decode_quoalise(xml, edge_curve(), conv);
}

void expect_reject(const DecodeResult& r, RejectCode code, const std::string& detail) {
    ASSERT_FALSE(r.ok()) << "accepted with " << r.readings.size() << " readings";
    EXPECT_EQ(to_string(r.reject->code), to_string(code)) << r.reject->detail;
    EXPECT_EQ(r.reject->detail, detail);
    EXPECT_TRUE(r.readings.empty());
    EXPECT_TRUE(r.states.empty());
}

// --- the document's examples, verbatim ---------------------------------------------------

const QuoaliseRequest kDocLoadCurve =
    load_curve("10284856584123", "production", ymd(2020, 9, 14), ymd(2020, 9, 15));
const QuoaliseRequest kDocDaily =
    daily("11453290002823", "consumption", ymd(2020, 8, 16), ymd(2020, 8, 31));
// 2020-09-14T00:00:00Z, the example's bt.
constexpr TimeMs kDocBt = 1600041600000;

std::vector<Reading> doc_load_curve_readings(TimeMs shift) {
    const std::string m = "10284856584123";
    return {power(m, "production", kDocBt + shift, kHalfHour, 245),
            power(m, "production", kDocBt + shift + kHalfHour, kHalfHour, 420),
            power(m, "production", kDocBt + shift + 2 * kHalfHour, kHalfHour, 367),
            power(m, "production", kDocBt + shift + 3 * kHalfHour, kHalfHour, 377)};
}

TEST(QuoaliseDecoder, DocumentLoadCurveIsStartStampedFromUtcMidnight) {
    // The first record is at t = 0 on the window's UTC midnight: auto says start.
    const auto d = decode_quoalise_detailed(fixture("doc_load_curve_response.xml"), kDocLoadCurve,
                                            StampConvention::auto_detect);
    ASSERT_TRUE(d.result.ok()) << reason(d.result);
    EXPECT_EQ(d.stamping, StampConvention::start);
    EXPECT_EQ(d.result.readings, doc_load_curve_readings(0));
    EXPECT_TRUE(d.result.states.empty());
}

TEST(QuoaliseDecoder, DocumentLoadCurveWithAFixedConvention) {
    const auto start = decode_quoalise_detailed(fixture("doc_load_curve_response.xml"),
                                                kDocLoadCurve, StampConvention::start);
    ASSERT_TRUE(start.result.ok()) << reason(start.result);
    EXPECT_EQ(start.stamping, StampConvention::start);
    EXPECT_EQ(start.result.readings, doc_load_curve_readings(0));
    // Four records cannot tell: read as end-stamped they fit the Paris-midnight window.
    const auto end = decode_quoalise_detailed(fixture("doc_load_curve_response.xml"), kDocLoadCurve,
                                              StampConvention::end);
    ASSERT_TRUE(end.result.ok()) << reason(end.result);
    EXPECT_EQ(end.stamping, StampConvention::end);
    EXPECT_EQ(end.result.readings, doc_load_curve_readings(-kHalfHour));
}

TEST(QuoaliseDecoder, DocumentLoadCurveAsTheQuoaliseElementAlone) {
    const std::string iq = fixture("doc_load_curve_response.xml");
    const auto from = iq.find("<quoalise");
    const auto to = iq.find("</quoalise>");
    ASSERT_NE(from, std::string::npos);
    ASSERT_NE(to, std::string::npos);
    const auto r = decode_quoalise(iq.substr(from, to + 11 - from), kDocLoadCurve,
                                   StampConvention::auto_detect);
    ASSERT_TRUE(r.ok()) << reason(r);
    EXPECT_EQ(r.readings, doc_load_curve_readings(0));
}

TEST(QuoaliseDecoder, DocumentLoadCurveThroughTheDecoderAndItsTopic) {
    QuoaliseDecoder decoder;
    const RawMessage m{"enedis",
                       "get_load_curve 10284856584123 production 2020-09-14 2020-09-15",
                       fixture("doc_load_curve_response.xml"),
                       {},
                       1600200000000};
    const auto r = decoder.decode(m);
    ASSERT_TRUE(r.ok()) << reason(r);
    EXPECT_EQ(r.readings, doc_load_curve_readings(0));
    // Decoding again (a replay of the stored message) gives the same readings.
    EXPECT_EQ(decoder.decode(m).readings, r.readings);
}

TEST(QuoaliseDecoder, DocumentDailyIsOneReadingPerParisDay) {
    const auto d = decode_quoalise_detailed(fixture("doc_daily_response.xml"), kDocDaily,
                                            StampConvention::auto_detect);
    ASSERT_TRUE(d.result.ok()) << reason(d.result);
    EXPECT_FALSE(d.stamping.has_value());
    // UTC midnight of 2020-08-16 is 02:00 in Paris on the 16th: the Paris day
    // 2020-08-16 runs from 2020-08-15T22:00Z (CEST) for 24 h.
    const TimeMs day16 = 1597528800000;
    const std::string m = "11453290002823";
    const std::vector<Reading> expected{
        energy(m, "consumption", day16, day16 + kDay, 16433),
        energy(m, "consumption", day16 + kDay, day16 + 2 * kDay, 15081),
        energy(m, "consumption", day16 + 2 * kDay, day16 + 3 * kDay, 14664),
        energy(m, "consumption", day16 + 14 * kDay, day16 + 15 * kDay, 16330),  // 2020-08-30
    };
    EXPECT_EQ(d.result.readings, expected);
}

TEST(QuoaliseDecoder, DocumentDailyThroughTheDecoderWithAnyConvention) {
    // Daily values designate their day: the stamping setting does not apply.
    for (auto conv : {StampConvention::start, StampConvention::end, StampConvention::auto_detect}) {
        QuoaliseDecoder decoder(conv);
        const auto r =
            decoder.decode(RawMessage{"enedis",
                                      "get_daily 11453290002823 consumption 2020-08-16 2020-08-31",
                                      fixture("doc_daily_response.xml"),
                                      {},
                                      1});
        ASSERT_TRUE(r.ok()) << reason(r);
        ASSERT_EQ(r.readings.size(), 4u);
        EXPECT_EQ(r.readings[0].ts_start, 1597528800000);
    }
}

TEST(QuoaliseDecoder, DocumentErrorIsAnUpstreamErrorWithItsCode) {
    expect_reject(
        decode_quoalise(fixture("doc_error.xml"), kDocLoadCurve, StampConvention::auto_detect),
        RejectCode::upstream_error,
        "undefined-condition: The requested period cannot be anterior to the meter's "
        "last activation date (upstream enedis-data-connect code ADAM-ERR0123)");
}

TEST(QuoaliseDecoder, DocumentStanzasWithoutDataHaveNoQuoaliseElement) {
    for (const char* name :
         {"doc_authorize_request.xml", "doc_authorize_response.xml", "doc_consent_message.xml",
          "doc_load_curve_request.xml", "doc_daily_request.xml"}) {
        SCOPED_TRACE(name);
        expect_reject(decode_quoalise(fixture(name), kDocLoadCurve, StampConvention::auto_detect),
                      RejectCode::missing_field, "no quoalise element");
    }
}

// --- load curves: stamping -------------------------------------------------------------------

std::vector<Reading> half_hours(TimeMs first_start, std::size_t n, const std::string& direction,
                                double (*value)(std::size_t)) {
    std::vector<Reading> v;
    for (std::size_t i = 0; i < n; ++i)
        v.push_back(power(kPrm, direction, first_start + static_cast<TimeMs>(i) * kHalfHour,
                          kHalfHour, value(i)));
    return v;
}

double fixture_value(std::size_t i) {
    return 100.0 + 7.0 * static_cast<double>(i);
}

TEST(QuoaliseDecoder, EndStampedFullDayFromParisMidnight) {
    const auto expected = half_hours(kParis20210201, 48, "consumption", fixture_value);
    for (auto conv : {StampConvention::auto_detect, StampConvention::end}) {
        const auto d =
            decode_quoalise_detailed(fixture("load_curve_end_full_day.xml"), edge_curve(), conv);
        ASSERT_TRUE(d.result.ok()) << reason(d.result);
        EXPECT_EQ(d.stamping, StampConvention::end);
        EXPECT_EQ(d.result.readings, expected);
    }
    // Read as start-stamped, the last half-hour overhangs the Paris day, and the
    // first one starts before the UTC day.
    expect_reject(decode_curve(fixture("load_curve_end_full_day.xml"), StampConvention::start),
                  RejectCode::out_of_range,
                  "sensml record 47 (start-stamped): interval [2021-02-01T23:00:00.000Z, "
                  "2021-02-01T23:30:00.000Z) is outside the requested days [2021-02-01, "
                  "2021-02-02) from Paris midnight, and record 0 is outside them from UTC "
                  "midnight: one response cannot mix both");
}

TEST(QuoaliseDecoder, StartStampedFullDayFromParisMidnight) {
    const auto expected = half_hours(kParis20210201, 48, "consumption", fixture_value);
    for (auto conv : {StampConvention::auto_detect, StampConvention::start}) {
        const auto d =
            decode_quoalise_detailed(fixture("load_curve_start_full_day.xml"), edge_curve(), conv);
        ASSERT_TRUE(d.result.ok()) << reason(d.result);
        EXPECT_EQ(d.stamping, StampConvention::start);
        EXPECT_EQ(d.result.readings, expected);
    }
    expect_reject(decode_curve(fixture("load_curve_start_full_day.xml"), StampConvention::end),
                  RejectCode::out_of_range,
                  "sensml record 0 (end-stamped): interval [2021-01-31T22:30:00.000Z, "
                  "2021-01-31T23:00:00.000Z) is outside the requested days [2021-02-01, "
                  "2021-02-02) (Paris or UTC midnights)");
}

TEST(QuoaliseDecoder, AutoUsesEitherEndOfAPartialResponse) {
    // End-stamped, the first 10 half-hours missing: the last record is at the end.
    auto d = decode_quoalise_detailed(response(curve_records(11, 38)), edge_curve(),
                                      StampConvention::auto_detect);
    ASSERT_TRUE(d.result.ok()) << reason(d.result);
    EXPECT_EQ(d.stamping, StampConvention::end);
    EXPECT_EQ(d.result.readings.front().ts_start, kParis20210201 + 10 * kHalfHour);
    EXPECT_EQ(d.result.readings.back().ts_end, kParis20210201 + kDay);
    // Start-stamped, the last 10 missing: the first record is at the start.
    d = decode_quoalise_detailed(response(curve_records(0, 38)), edge_curve(),
                                 StampConvention::auto_detect);
    ASSERT_TRUE(d.result.ok()) << reason(d.result);
    EXPECT_EQ(d.stamping, StampConvention::start);
    EXPECT_EQ(d.result.readings.front().ts_start, kParis20210201);
    // Neither boundary: the fallback, end.
    d = decode_quoalise_detailed(response(curve_records(3, 5)), edge_curve(),
                                 StampConvention::auto_detect);
    ASSERT_TRUE(d.result.ok()) << reason(d.result);
    EXPECT_EQ(d.stamping, StampConvention::end);
    EXPECT_EQ(d.result.readings.front().ts_start, kParis20210201 + 2 * kHalfHour);
}

TEST(QuoaliseDecoder, AutoWithHourlySamplingInWinterUsesTheZeroOffset) {
    // In winter, Paris midnight + 1 h is UTC midnight: a start-stamped UTC day
    // and an end-stamped Paris day both touch both boundaries.
    const TimeMs utc = kParis20210201 + kHour;
    std::string doc_style =
        R"(<senml bn="urn:dev:prm:22516914714270_consumption_load" bt="1612137600" t="0" v="0" bu="W"/>)";
    for (int h = 1; h < 24; ++h)
        doc_style +=
            R"(<senml t=")" + std::to_string(h * 3600) + R"(" v=")" + std::to_string(h) + R"("/>)";
    auto d = decode_quoalise_detailed(response(doc_style, "consumption", "PT1H"), edge_curve(),
                                      StampConvention::auto_detect);
    ASSERT_TRUE(d.result.ok()) << reason(d.result);
    EXPECT_EQ(d.stamping, StampConvention::start);
    ASSERT_EQ(d.result.readings.size(), 24u);
    EXPECT_EQ(d.result.readings[0], power(kPrm, "consumption", utc, kHour, 0));
    EXPECT_EQ(d.result.readings[23].ts_end, utc + kDay);

    std::string proxy_style =
        R"(<senml bn="urn:dev:prm:22516914714270_consumption_load" bt="1612134000" t="3600" v="0" bu="W"/>)";
    for (int h = 2; h <= 24; ++h)
        proxy_style += R"(<senml t=")" + std::to_string(h * 3600) + R"(" v=")" +
                       std::to_string(h - 1) + R"("/>)";
    d = decode_quoalise_detailed(response(proxy_style, "consumption", "3600"), edge_curve(),
                                 StampConvention::auto_detect);
    ASSERT_TRUE(d.result.ok()) << reason(d.result);
    EXPECT_EQ(d.stamping, StampConvention::end);
    ASSERT_EQ(d.result.readings.size(), 24u);
    EXPECT_EQ(d.result.readings[0], power(kPrm, "consumption", kParis20210201, kHour, 0));
    EXPECT_EQ(d.result.readings[23].ts_end, kParis20210201 + kDay);
}

TEST(QuoaliseDecoder, EmptySensmlIsAValidAnswerWithoutReadings) {
    const auto d = decode_quoalise_detailed(fixture("empty_sensml.xml"), edge_curve(),
                                            StampConvention::auto_detect);
    ASSERT_TRUE(d.result.ok()) << reason(d.result);
    EXPECT_TRUE(d.result.readings.empty());
    EXPECT_EQ(d.stamping, StampConvention::end);
    // Comments only, or an open/close pair, are no records either.
    EXPECT_TRUE(decode_curve(response("<!-- nothing -->")).ok());
    EXPECT_TRUE(decode_curve(response("")).readings.empty());
}

// --- load curves: forms ----------------------------------------------------------------------

TEST(QuoaliseDecoder, FlatMetaWithIsoSamplingAndDecimalBaseTime) {
    const auto r = decode_curve(fixture("load_curve_flat_meta_pt30m.xml"));
    ASSERT_TRUE(r.ok()) << reason(r);
    EXPECT_EQ(r.readings, half_hours(kParis20210201, 4, "consumption", fixture_value));
}

TEST(QuoaliseDecoder, NumberFormsAndKilowattsAreExact) {
    const auto r = decode_curve(fixture("load_curve_number_forms.xml"));
    ASSERT_TRUE(r.ok()) << reason(r);
    // bt 1.612134E9, t 1.8e3 … 9000, end-stamped (no boundary: the fallback).
    const std::vector<Reading> expected{
        power(kPrm, "consumption", kParis20210201, kHalfHour, 1005),                  // 1.005 kW
        power(kPrm, "consumption", kParis20210201 + kHalfHour, kHalfHour, 250),       // .25 kW
        power(kPrm, "consumption", kParis20210201 + 2 * kHalfHour, kHalfHour, 1000),  // 0.1e1 kW
        power(kPrm, "consumption", kParis20210201 + 3 * kHalfHour, kHalfHour, 123),   // u="W"
        power(kPrm, "consumption", kParis20210201 + 4 * kHalfHour, kHalfHour, 250),   // " 2.5E-1 "
    };
    EXPECT_EQ(r.readings, expected);
}

TEST(QuoaliseDecoder, BaseValuesAndBaseTimesApplyUntilReplaced) {
    const std::string records =
        R"(<senml bn="urn:dev:prm:22516914714270" bt="1612134000" bu="W" bv="1000" t="1800" v="5"/>)"
        R"(<senml t="3600"/>)"                        // bv alone
        R"(<senml bt="1612139400" t="0" v="-2"/>)"    // a new base time
        R"(<senml bv="0" t="1800" v="0.5" u="kW"/>)"  // bv replaced, unit for one record
        R"(<senml t="3600" v="7"/>)";                 // bu again
    const auto r = decode_curve(response(records), StampConvention::end);
    ASSERT_TRUE(r.ok()) << reason(r);
    const std::vector<Reading> expected{
        power(kPrm, "consumption", kParis20210201, kHalfHour, 1005),
        power(kPrm, "consumption", kParis20210201 + kHalfHour, kHalfHour, 1000),
        power(kPrm, "consumption", kParis20210201 + 2 * kHalfHour, kHalfHour, 998),
        power(kPrm, "consumption", kParis20210201 + 3 * kHalfHour, kHalfHour, 500),
        power(kPrm, "consumption", kParis20210201 + 4 * kHalfHour, kHalfHour, 7),
    };
    EXPECT_EQ(r.readings, expected);
}

TEST(QuoaliseDecoder, RecordsAreEmittedInTimeOrderAndMinusZeroIsZero) {
    const std::string records =
        R"(<senml bn="urn:dev:prm:22516914714270_consumption_load" bt="1612134000" bu="W" t="5400" v="-0"/>)"
        R"(<senml t="1800" v="1"/><senml t="3600" v="2"/>)";
    const auto r = decode_curve(response(records), StampConvention::end);
    ASSERT_TRUE(r.ok()) << reason(r);
    ASSERT_EQ(r.readings.size(), 3u);
    EXPECT_EQ(r.readings[0].value, 1);
    EXPECT_EQ(r.readings[1].value, 2);
    EXPECT_EQ(r.readings[2].ts_start, kParis20210201 + 2 * kHalfHour);
    EXPECT_EQ(r.readings[2].value, 0);
    EXPECT_FALSE(std::signbit(r.readings[2].value));
}

TEST(QuoaliseDecoder, NamesMatchTheUsagePointAsAUrn) {
    const auto with_name = [](const std::string& bn, const std::string& n = "") {
        std::string rec = R"(<senml bn=")" + bn + R"(" bt="1612134000" bu="W" t="1800" v="1")";
        if (!n.empty()) rec += R"( n=")" + n + R"(")";
        return decode_curve(response(rec + "/>"));
    };
    EXPECT_TRUE(with_name("urn:dev:prm:22516914714270_consumption_load").ok());
    EXPECT_TRUE(with_name("urn:dev:prm:22516914714270").ok());
    EXPECT_TRUE(with_name("urn:dev:prm:22516914714270", "consumption_load_corrected").ok());
    EXPECT_TRUE(with_name("URN:Dev:PRM:22516914714270/consumption").ok());
    expect_reject(with_name("urn:dev:prm:225169147142700_consumption_load"),
                  RejectCode::invalid_value,
                  "sensml record 0: name \"urn:dev:prm:225169147142700_consumption_load\" is not "
                  "that of usage point 22516914714270 (urn:dev:prm:22516914714270…)");
    expect_reject(with_name("22516914714270"), RejectCode::invalid_value,
                  "sensml record 0: name \"22516914714270\" is not that of usage point "
                  "22516914714270 (urn:dev:prm:22516914714270…)");
    // No name at all: the usage point comes from the request.
    const auto r = decode_curve(response(R"(<senml bt="1612134000" bu="W" t="1800" v="1"/>)"));
    ASSERT_TRUE(r.ok()) << reason(r);
    EXPECT_EQ(r.readings[0].meter, kPrm);
    // One response, one series.
    expect_reject(
        decode_curve(response(
            R"(<senml bn="urn:dev:prm:22516914714270_" n="a" bt="1612134000" bu="W" t="1800" v="1"/>)"
            R"(<senml n="b" t="3600" v="1"/>)")),
        RejectCode::invalid_value,
        "sensml record 1: name \"urn:dev:prm:22516914714270_b\" differs from record 0's "
        "\"urn:dev:prm:22516914714270_a\"");
}

TEST(QuoaliseDecoder, PrefixedElementsAreMatchedByLocalName) {
    const std::string xml =
        R"(<q:quoalise xmlns:q="urn:quoalise:0"><q:data><q:meta><q:device><q:identifier value="22516914714270"/></q:device>)"
        R"(<q:measurement direction="consumption" unit="W" sampling-interval="1800"/></q:meta>)"
        R"(<s:sensml xmlns:s="urn:ietf:params:xml:ns:senml"><s:senml bt="1612134000" t="1800" v="3"/></s:sensml></q:data></q:quoalise>)";
    const auto r = decode_curve(xml);
    ASSERT_TRUE(r.ok()) << reason(r);
    EXPECT_EQ(r.readings,
              (std::vector<Reading>{power(kPrm, "consumption", kParis20210201, kHalfHour, 3)}));
}

TEST(QuoaliseDecoder, SamplingAsSecondsOrIsoDurations) {
    const auto with = [](const std::string& interval, int step) {
        std::string rec =
            R"(<senml bt="1612134000" bu="W" t=")" + std::to_string(step) + R"(" v="1"/>)";
        return decode_curve(response(rec, "consumption", interval));
    };
    for (const auto& [text, step] : std::vector<std::pair<std::string, int>>{{"1800", 1800},
                                                                             {"PT30M", 1800},
                                                                             {"PT1800S", 1800},
                                                                             {"PT1H", 3600},
                                                                             {"3600", 3600},
                                                                             {"PT10M", 600},
                                                                             {"PT15M", 900},
                                                                             {"PT0H30M", 1800}}) {
        const auto r = with(text, step);
        ASSERT_TRUE(r.ok()) << text << ": " << reason(r);
        EXPECT_EQ(r.readings[0].ts_end - r.readings[0].ts_start, step * 1000) << text;
    }
    expect_reject(with("PT7M", 420), RejectCode::invalid_value,
                  "meta: sampling interval \"PT7M\" (420 s) is not a load-curve step (60 s to 1 "
                  "h, dividing the hour)");
    expect_reject(with("86400", 86400), RejectCode::invalid_value,
                  "meta: sampling interval \"86400\" (86400 s) is not a load-curve step (60 s to "
                  "1 h, dividing the hour)");
    for (const char* bad : {"P1M", "PT", "P", "30M", "PT30", "PT-30M", "1800.0", "PT30M1H", ""}) {
        SCOPED_TRACE(bad);
        expect_reject(with(bad, 1800), RejectCode::invalid_value,
                      std::string("meta: sampling interval \"") + bad +
                          "\" is neither seconds nor an ISO-8601 duration");
    }
}

// --- DST days ----------------------------------------------------------------------------------

TEST(QuoaliseDecoder, LoadCurveOnTheSpringForwardDayHas46HalfHours) {
    const auto req = load_curve(kPrm, "production", ymd(2024, 3, 31), ymd(2024, 4, 1));
    const auto d = decode_quoalise_detailed(fixture("load_curve_dst_spring.xml"), req,
                                            StampConvention::auto_detect);
    ASSERT_TRUE(d.result.ok()) << reason(d.result);
    EXPECT_EQ(d.stamping, StampConvention::end);
    // 2024-03-31T00:00 CET = 2024-03-30T23:00Z to 2024-04-01T00:00 CEST = 2024-03-31T22:00Z.
    EXPECT_EQ(d.result.readings, half_hours(1711839600000, 46, "production", fixture_value));
    EXPECT_EQ(d.result.readings.back().ts_end - d.result.readings.front().ts_start, 23 * kHour);
}

TEST(QuoaliseDecoder, LoadCurveOnTheFallBackDayHas50HalfHours) {
    const auto req = load_curve(kPrm, "production", ymd(2024, 10, 27), ymd(2024, 10, 28));
    const auto d = decode_quoalise_detailed(fixture("load_curve_dst_fall.xml"), req,
                                            StampConvention::auto_detect);
    ASSERT_TRUE(d.result.ok()) << reason(d.result);
    EXPECT_EQ(d.stamping, StampConvention::end);
    // 2024-10-27T00:00 CEST = 2024-10-26T22:00Z to 2024-10-28T00:00 CET = 2024-10-27T23:00Z.
    EXPECT_EQ(d.result.readings, half_hours(1729980000000, 50, "production", fixture_value));
    EXPECT_EQ(d.result.readings.back().ts_end - d.result.readings.front().ts_start, 25 * kHour);
}

TEST(QuoaliseDecoder, DailyAcrossTheSpringForwardDayFromParisMidnights) {
    const auto req = daily(kPrm, "production", ymd(2024, 3, 30), ymd(2024, 4, 2));
    const auto r =
        decode_quoalise(fixture("daily_dst_spring.xml"), req, StampConvention::auto_detect);
    ASSERT_TRUE(r.ok()) << reason(r);
    const TimeMs d30 = 1711753200000;     // 2024-03-30T00:00 CET
    const TimeMs d31 = d30 + kDay;        // 2024-03-31T00:00 CET
    const TimeMs d01 = d31 + 23 * kHour;  // 2024-04-01T00:00 CEST
    const std::vector<Reading> expected{
        energy(kPrm, "production", d30, d31, 1000),
        energy(kPrm, "production", d31, d01, 1001),
        energy(kPrm, "production", d01, d01 + kDay, 1002),
    };
    EXPECT_EQ(r.readings, expected);
}

TEST(QuoaliseDecoder, DailyAcrossTheFallBackDayFromUtcMidnights) {
    const auto req = daily(kPrm, "production", ymd(2024, 10, 26), ymd(2024, 10, 29));
    const auto r =
        decode_quoalise(fixture("daily_dst_fall.xml"), req, StampConvention::auto_detect);
    ASSERT_TRUE(r.ok()) << reason(r);
    const TimeMs d26 = 1729893600000;     // 2024-10-26T00:00 CEST = 2024-10-25T22:00Z
    const TimeMs d27 = d26 + kDay;        // 2024-10-27T00:00 CEST
    const TimeMs d28 = d27 + 25 * kHour;  // 2024-10-28T00:00 CET
    const std::vector<Reading> expected{
        energy(kPrm, "production", d26, d27, 2000),
        energy(kPrm, "production", d27, d28, 2001),
        energy(kPrm, "production", d28, d28 + kDay, 2002),
    };
    EXPECT_EQ(r.readings, expected);
}

TEST(QuoaliseDecoder, DailyFlatMetaP1DInKilowattHours) {
    const auto req = daily(kPrm, "consumption", ymd(2021, 2, 1), ymd(2021, 2, 4));
    const auto r =
        decode_quoalise(fixture("daily_flat_meta_p1d.xml"), req, StampConvention::auto_detect);
    ASSERT_TRUE(r.ok()) << reason(r);
    const std::vector<Reading> expected{
        energy(kPrm, "consumption", kParis20210201, kParis20210201 + kDay, 16433),
        energy(kPrm, "consumption", kParis20210201 + kDay, kParis20210201 + 2 * kDay, 15081),
        energy(kPrm, "consumption", kParis20210201 + 2 * kDay, kParis20210201 + 3 * kDay, 5),
    };
    EXPECT_EQ(r.readings, expected);
}

TEST(QuoaliseDecoder, DailyStampsDesignateTheParisDayThatContainsThem) {
    const auto req = daily(kPrm, "consumption", ymd(2021, 2, 1), ymd(2021, 2, 2));
    const auto one = [&](const std::string& bt) {
        return decode_quoalise(flat_response(R"(direction="consumption" unit="Wh")",
                                             R"(<senml bt=")" + bt + R"(" v="10"/>)"),
                               req, StampConvention::auto_detect);
    };
    // Paris midnight, UTC midnight, noon and the last second of the Paris day.
    for (const char* bt : {"1612134000", "1612137600", "1612180800", "1612220399"}) {
        const auto r = one(bt);
        ASSERT_TRUE(r.ok()) << bt << ": " << reason(r);
        EXPECT_EQ(r.readings, (std::vector<Reading>{energy(kPrm, "consumption", kParis20210201,
                                                           kParis20210201 + kDay, 10)}));
    }
    // The next Paris midnight (an end stamp) designates the next day: outside.
    expect_reject(one("1612220400"), RejectCode::out_of_range,
                  "sensml record 0: time 2021-02-01T23:00:00.000Z is on 2021-02-02 "
                  "(Europe/Paris), outside the requested days [2021-02-01, 2021-02-02)");
    expect_reject(one("1612133999"), RejectCode::out_of_range,
                  "sensml record 0: time 2021-01-31T22:59:59.000Z is on 2021-01-31 "
                  "(Europe/Paris), outside the requested days [2021-02-01, 2021-02-02)");
    // Paris midnight and UTC midnight of one day are the same day twice.
    expect_reject(
        decode_quoalise(
            flat_response(R"(direction="consumption" unit="Wh")",
                          R"(<senml bt="1612134000" v="1"/><senml bt="1612137600" v="2"/>)"),
            req, StampConvention::auto_detect),
        RejectCode::duplicate_timestamp, "sensml record 1: day 2021-02-01 repeats record 0");
}

TEST(QuoaliseDecoder, DailyMetaRules) {
    const auto req = daily(kPrm, "consumption", ymd(2021, 2, 1), ymd(2021, 2, 2));
    const std::string rec = R"(<senml bt="1612134000" v="10"/>)";
    const auto with = [&](const std::string& m) {
        return decode_quoalise(flat_response(m, rec), req, StampConvention::auto_detect);
    };
    EXPECT_TRUE(with(R"(direction="consumption" unit="Wh" sampling-interval="86400")").ok());
    EXPECT_TRUE(with(R"(direction="consumption" unit="Wh" sampling-interval="PT24H")").ok());
    expect_reject(with(R"(direction="consumption" unit="Wh" sampling-interval="PT30M")"),
                  RejectCode::invalid_value,
                  "meta: sampling interval \"PT30M\" is not one day, which get_daily answers");
    expect_reject(with(R"(direction="consumption" unit="W")"), RejectCode::invalid_value,
                  "meta: unit \"W\" is not one of Wh, kWh, which get_daily answers");
    expect_reject(with(R"(direction="consumption" unit="Wh" aggregation="average")"),
                  RejectCode::invalid_value,
                  "meta: aggregation \"average\" is not sum, which get_daily answers");
    expect_reject(with(R"(direction="consumption" unit="Wh" quantity="power")"),
                  RejectCode::invalid_value,
                  "meta: quantity \"power\" is not energy, which get_daily answers");
}

// --- rejections: fixtures ----------------------------------------------------------------

struct RejectCase {
    const char* file;
    RejectCode code;
    const char* detail;
};

class QuoaliseRejectFixture : public ::testing::TestWithParam<RejectCase> {};

TEST_P(QuoaliseRejectFixture, HasItsExactReason) {
    const RejectCase& c = GetParam();
    expect_reject(decode_curve(fixture(c.file)), c.code, c.detail);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, QuoaliseRejectFixture,
    ::testing::Values(
        RejectCase{"reject_malformed_truncated.xml", RejectCode::malformed,
                   "not well-formed XML at byte 648: Error parsing element attribute"},
        RejectCase{"reject_doctype_entity.xml", RejectCode::invalid_value,
                   "DOCTYPE is not allowed (XMPP forbids DTDs; entities are never expanded)"},
        RejectCase{"reject_unknown_unit.xml", RejectCode::invalid_value,
                   "sensml record 0: bu: unit \"VA\" is not one of W, kW, Wh, kWh"},
        RejectCase{"reject_wrong_direction.xml", RejectCode::invalid_value,
                   "meta: direction \"production\" is not the requested consumption"},
        RejectCase{"reject_nan_value.xml", RejectCode::out_of_range,
                   "sensml record 2: v: \"NaN\" is not a finite number"},
        RejectCase{"reject_not_a_number.xml", RejectCode::malformed,
                   "sensml record 3: v: not a number \"abc\""},
        RejectCase{"reject_huge_value.xml", RejectCode::out_of_range,
                   "sensml record 1: value 1e+16 W is beyond ±1e15"},
        RejectCase{"reject_duplicate_timestamp.xml", RejectCode::duplicate_timestamp,
                   "sensml record 4: time 2021-02-01T00:00:00.000Z repeats record 1"},
        RejectCase{"reject_outside_window.xml", RejectCode::out_of_range,
                   "sensml record 4 (end-stamped): interval [2021-02-01T23:00:00.000Z, "
                   "2021-02-01T23:30:00.000Z) is outside the requested days [2021-02-01, "
                   "2021-02-02) from Paris midnight, and record 0 is outside them from UTC "
                   "midnight: one response cannot mix both"},
        RejectCase{"reject_wrong_identifier.xml", RejectCode::invalid_value,
                   "meta: identifier \"22516914714271\" is not the requested usage point "
                   "22516914714270"},
        RejectCase{"reject_name_other_prm.xml", RejectCode::invalid_value,
                   "sensml record 0: name \"urn:dev:prm:22516914714271_consumption_load\" is not "
                   "that of usage point 22516914714270 (urn:dev:prm:22516914714270…)"},
        RejectCase{"reject_energy_unit.xml", RejectCode::invalid_value,
                   "meta: quantity \"energy\" is not power, which get_load_curve answers"},
        RejectCase{"reject_misaligned.xml", RejectCode::invalid_value,
                   "sensml record 1: time 2021-01-31T23:45:00.000Z is not on the 1800 s sampling "
                   "grid"},
        RejectCase{"reject_missing_meta.xml", RejectCode::missing_field, "data: no meta element"},
        RejectCase{"reject_error_note.xml", RejectCode::upstream_error,
                   "note: No consent for usage point 22516914714270"}),
    [](const ::testing::TestParamInfo<RejectCase>& p) {
        std::string name = p.param.file;
        name = name.substr(7, name.size() - 11);  // reject_….xml
        return name;
    });

// --- rejections: inline ------------------------------------------------------------------

// A record without its closing "/>", and its head without t and v.
const std::string kHead =
    R"(<senml bn="urn:dev:prm:22516914714270_consumption_load" bt="1612134000" bu="W")";
const std::string kRecord = kHead + R"( t="1800" v="1")";

TEST(QuoaliseDecoder, XmlLevelRejections) {
    expect_reject(decode_curve(""), RejectCode::malformed,
                  "not well-formed XML at byte 0: No document element found");
    expect_reject(decode_curve("<!DOCTYPE quoalise>" + response(kRecord + "/>")),
                  RejectCode::invalid_value,
                  "DOCTYPE is not allowed (XMPP forbids DTDs; entities are never expanded)");
    expect_reject(decode_curve(response(kRecord + "/>") + "<x/>"), RejectCode::malformed,
                  "more than one root element (<quoalise> and <x>)");
    expect_reject(decode_curve("<iq type='result'/>"), RejectCode::missing_field,
                  "no quoalise element");
    expect_reject(decode_curve("<x>" + response("") + response("") + "</x>"),
                  RejectCode::invalid_value, "2 quoalise elements; a response holds one");
    expect_reject(decode_curve("<quoalise/>"), RejectCode::missing_field,
                  "quoalise: no data element");
    expect_reject(decode_curve("<quoalise><data/><data/></quoalise>"), RejectCode::invalid_value,
                  "quoalise: 2 data elements; get_load_curve answers with one");
    const std::string oversized(std::size_t{16} * 1024 * 1024 + 1, ' ');
    expect_reject(decode_curve(oversized), RejectCode::oversized,
                  "16777217 bytes, above the 16777216 bytes limit");
    expect_reject(decode_curve("<iq type='error'/>"), RejectCode::upstream_error, "error");
}

TEST(QuoaliseDecoder, MetaRejections) {
    const std::string rec = kRecord + "/>";
    expect_reject(decode_curve("<quoalise><data><meta/><sensml/></data></quoalise>"),
                  RejectCode::missing_field, "meta: no device identifier value");
    expect_reject(
        decode_curve(
            R"(<quoalise><data><meta><device><identifier value="22516914714270"/></device></meta></data></quoalise>)"),
        RejectCode::missing_field, "meta: no measurement element");
    expect_reject(decode_curve(flat_response(R"(unit="W" sampling-interval="1800")", rec)),
                  RejectCode::missing_field, "meta: no measurement direction");
    expect_reject(decode_curve(flat_response(R"(direction="consumption" unit="W")", rec)),
                  RejectCode::missing_field, "meta: no sampling interval");
    expect_reject(
        decode_curve(
            R"(<quoalise><data><meta><device><identifier value="22516914714270"/></device>)"
            R"(<measurement direction="consumption" sampling-interval="1800"/></meta></data></quoalise>)"),
        RejectCode::missing_field, "data: no sensml element");
    expect_reject(
        decode_curve(flat_response(
            R"(direction="consumption" unit="W" sampling-interval="1800" aggregation="sum")", rec)),
        RejectCode::invalid_value,
        "meta: aggregation \"sum\" is not average (mean), which get_load_curve answers");
    expect_reject(decode_curve(flat_response(
                      R"(direction="consumption" unit="VA" sampling-interval="1800")", rec)),
                  RejectCode::invalid_value, "meta: unit \"VA\" is not one of W, kW, Wh, kWh");
    expect_reject(decode_curve(flat_response(
                      R"(direction="consumption" unit="kWh" sampling-interval="1800")", rec)),
                  RejectCode::invalid_value,
                  "meta: unit \"kWh\" is not one of W, kW, which get_load_curve answers");
}

TEST(QuoaliseDecoder, RecordRejections) {
    const auto one = [](const std::string& rec) { return decode_curve(response(rec)); };
    expect_reject(decode_curve(flat_response(R"(direction="consumption" sampling-interval="1800")",
                                             R"(<senml bt="1612134000" t="1800" v="1"/>)")),
                  RejectCode::missing_field, "sensml record 0: no unit (u, bu) and none in meta");
    expect_reject(one(kRecord + R"( u="Wh"/>)"), RejectCode::invalid_value,
                  "sensml record 0: unit \"Wh\" is not one of W, kW, which get_load_curve answers");
    expect_reject(one(R"(<senml bt="1612134000" bu="W" t="1800"/>)"), RejectCode::missing_field,
                  "sensml record 0: no value (v)");
    expect_reject(
        one(R"(<senml bt="1612134000" bu="W" t="1800" vs="on"/>)"), RejectCode::wrong_type,
        "sensml record 0: vs holds a non-numeric value, get_load_curve needs a number (v)");
    expect_reject(one(kRecord + R"( x_="1"/>)"), RejectCode::unknown_field,
                  "sensml record 0: must-understand field \"x_\" is not supported");
    expect_reject(one(kRecord + R"( v="2"/>)"), RejectCode::malformed,
                  "sensml record 0: attribute \"v\" appears twice");
    expect_reject(one(kRecord + "/><record/>"), RejectCode::unknown_field,
                  "sensml record 1: <record> is not a senml element");
    expect_reject(one(R"(<senml bu="W" t="0" v="1"/>)"), RejectCode::out_of_range,
                  "sensml record 0: time bt + t = 0 s is below 2^28 s, a relative time (RFC 8428 "
                  "§4.5.3)");
    expect_reject(one(R"(<senml bu="W" bt="1e300" t="0" v="1"/>)"), RejectCode::out_of_range,
                  "sensml record 0: time bt + t = 1e+300 s is after year 9999");
    expect_reject(one(R"(<senml bu="W" bt="1612134000" t="1e400" v="1"/>)"),
                  RejectCode::out_of_range, "sensml record 0: t: \"1e400\" is out of range");
    expect_reject(one(R"(<senml bu="W" bt="INF" t="0" v="1"/>)"), RejectCode::out_of_range,
                  "sensml record 0: bt: \"INF\" is not a finite number");
    expect_reject(one(kHead + R"( t="1800" v="-inf"/>)"), RejectCode::out_of_range,
                  "sensml record 0: v: \"-inf\" is not a finite number");
    expect_reject(one(R"(<senml bu="W" bt="1612134000" bv="0x10" t="1800" v="1"/>)"),
                  RejectCode::malformed, "sensml record 0: bv: not a number \"0x10\"");
    expect_reject(one(kHead + R"( t="1800" v="1.5e12" u="kW"/>)"), RejectCode::out_of_range,
                  "sensml record 0: value 1.5e+15 W is beyond ±1e15");
    // bv is checked where it is written, and scaled by the unit of each record using it.
    expect_reject(one(R"(<senml bt="1612134000" bu="W" bv="1e306" t="1800" v="1" u="kW"/>)"),
                  RejectCode::out_of_range, "sensml record 0: bv: \"1e306\" is out of range");
    expect_reject(one(R"(<senml bt="1612134000" bu="W" bv="1e400" t="1800" v="1"/>)"),
                  RejectCode::out_of_range, "sensml record 0: bv: \"1e400\" is out of range");
    // Underflow is zero, not an error.
    const auto tiny = one(kHead + R"( t="1800" v="1e-400"/>)");
    ASSERT_TRUE(tiny.ok()) << reason(tiny);
    EXPECT_EQ(tiny.readings[0].value, 0);
    for (const char* bad : {"", " ", "1.2.3", "1e", ".", "+-1", "1 2", "0x1", "1f", "e5"}) {
        SCOPED_TRACE(bad);
        expect_reject(one(kHead + R"( t="1800" v=")" + bad + R"("/>)"), RejectCode::malformed,
                      std::string("sensml record 0: v: not a number \"") + bad + "\"");
    }
}

// --- numbers: the fast path and the exact one ------------------------------------------

// A number takes the fast path with at most 19 significant digits that make
// at most 2^53 and a decimal exponent (the unit's shift included) within ±22;
// the exact path otherwise. Both must read what strtod reads.

DecodeResult decode_value(const std::string& v, const std::string& unit) {
    return decode_curve(response(kHead + R"( t="1800" u=")" + unit + R"(" v=")" + v + R"("/>)"));
}

// strtod of `text` times 10^shift, by moving its exponent: no rounding of its own.
double strtod_shifted(const std::string& text, int shift) {
    const auto e = text.find_first_of("eE");
    const long exponent = e == std::string::npos ? 0 : std::stol(text.substr(e + 1));
    const std::string shifted = text.substr(0, e) + "e" + std::to_string(exponent + shift);
    return std::strtod(shifted.c_str(), nullptr);
}

TEST(QuoaliseDecoder, NumbersReadOnBothPathsAreWhatStrtodReads) {
    const std::vector<std::string> fast{
        "1600041600.0",
        "245",
        "1.5e3",
        "0.1",
        "1.001",
        "4.35",
        "2.675",
        ".5",
        "5.",
        "-1.25E+2",
        "123456789012345e-3",
        "9007199254740992e-5",           // 2^53
        "00000000000000000000000012.5",  // leading zeros are not significant
        "1600041600.000000000",          // 19 digits, trailing zeros into the exponent
        "1e-22",
        "0.000001",
        "-0.5",
        "1234567890.12345",
    };
    const std::vector<std::string> exact{
        "0.12345678901234567",  // 17 significant digits
        "123456.78901234567",
        "9007199254740993e-5",  // above 2^53
        "12345678901234567890123e-15",
        "1000000000000000000000000000000e-25",  // 31 digits
        "1e-26",
        "1e-30",
        "0.0000000000000000000000000001",
        "4.9e-324",
        "2.2250738585072011e-308",
        "-7.0000000000000000000000001",
        "1e-400",  // underflow: zero
    };
    for (const auto* list : {&fast, &exact}) {
        for (const std::string& text : *list) {
            for (const auto& [unit, shift] : {std::pair{"W", 0}, std::pair{"kW", 3}}) {
                SCOPED_TRACE(text + " " + unit);
                const auto r = decode_value(text, unit);
                ASSERT_TRUE(r.ok()) << reason(r);
                const double expected = strtod_shifted(text, shift) + 0.0;
                EXPECT_EQ(std::bit_cast<std::uint64_t>(r.readings[0].value),
                          std::bit_cast<std::uint64_t>(expected))
                    << r.readings[0].value << " != " << expected;
            }
        }
    }
    // 1.001 kW is 1001 W exactly, where 1.001 * 1000.0 is not.
    ASSERT_NE(1.001 * 1000.0, 1001.0);
    EXPECT_EQ(decode_value("1.001", "kW").readings[0].value, 1001.0);
}

TEST(QuoaliseDecoder, NegativeZeroOnBothPathsIsZero) {
    for (const char* v : {"-0", "-0.0", "-0e5", "-.0E-3", "-0e-400", "-0e999999",
                          "-0000000000000000000000000.000000000000000000000"}) {
        SCOPED_TRACE(v);
        const auto r = decode_value(v, "kW");
        ASSERT_TRUE(r.ok()) << reason(r);
        EXPECT_EQ(r.readings[0].value, 0);
        EXPECT_FALSE(std::signbit(r.readings[0].value));
    }
}

TEST(QuoaliseDecoder, TimesReadOnBothPathsAreExact) {
    const std::pair<const char*, const char*> times[] = {
        {"1612134000", "1800"},
        {"1612134000.0", "1.8e3"},
        {"1.612134e9", "1800.000"},
        {"161213400000000000000e-11", "0.0000000000000000000000018e27"},  // exact path
        {"1612134000.0000000000000000000001", "1800"},                    // rounded to the ms
        {"1612133999.9996", "1800.0000000000000000000000"},
    };
    for (const auto& [bt, t] : times) {
        SCOPED_TRACE(std::string(bt) + " + " + t);
        const auto r = decode_curve(
            response(std::string(R"(<senml bt=")") + bt + R"(" bu="W" t=")" + t + R"(" v="1"/>)"),
            StampConvention::end);
        ASSERT_TRUE(r.ok()) << reason(r);
        EXPECT_EQ(r.readings[0].ts_start, kParis20210201);
    }
}

TEST(QuoaliseDecoder, RejectedNumbersKeepTheirReasonsOnBothPaths) {
    for (const char* v : {"nan", "-NaN", "INF", "+Infinity", "-inf"})
        expect_reject(decode_value(v, "W"), RejectCode::out_of_range,
                      std::string("sensml record 0: v: \"") + v + "\" is not a finite number");
    for (const char* v : {"1e400", "-1e309", "17976931348623159e292", "1e999999999"})
        expect_reject(decode_value(v, "W"), RejectCode::out_of_range,
                      std::string("sensml record 0: v: \"") + v + "\" is out of range");
    expect_reject(decode_value("1e16", "W"), RejectCode::out_of_range,
                  "sensml record 0: value 1e+16 W is beyond ±1e15");
    expect_reject(decode_value("10000000000000000000000", "W"), RejectCode::out_of_range,
                  "sensml record 0: value 1e+22 W is beyond ±1e15");
    expect_reject(decode_value("1000000000000.5", "kW"), RejectCode::out_of_range,
                  "sensml record 0: value 1e+15 W is beyond ±1e15");
    for (const char* v : {"1e", ".", "-", "--1", "1e+", "1.2.3", "12345678901234567890123x",
                          "0.000000000000000000000001e", "1e5.5"})
        expect_reject(decode_value(v, "W"), RejectCode::malformed,
                      std::string("sensml record 0: v: not a number \"") + v + "\"");
}

TEST(QuoaliseDecoder, WindowRejections) {
    // Entirely on the next day.
    expect_reject(decode_curve(response(kHead + R"( t="172800" v="1"/>)")),
                  RejectCode::out_of_range,
                  "sensml record 0 (end-stamped): interval [2021-02-02T22:30:00.000Z, "
                  "2021-02-02T23:00:00.000Z) is outside the requested days [2021-02-01, "
                  "2021-02-02) (Paris or UTC midnights)");
    // The UTC-midnight window alone is fine: [2021-02-01T00:00Z, 2021-02-02T00:00Z).
    const auto utc = decode_curve(
        response(
            R"(<senml bt="1612137600" bu="W" t="0" v="1"/><senml bt="1612222200" t="0" v="2"/>)"),
        StampConvention::start);
    ASSERT_TRUE(utc.ok()) << reason(utc);
    EXPECT_EQ(utc.readings.back().ts_end, 1612224000000);
}

TEST(QuoaliseDecoder, UpstreamErrorsWithoutCodeOrText) {
    expect_reject(
        decode_curve(
            R"(<iq type="error"><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>)"),
        RejectCode::upstream_error, "item-not-found");
    expect_reject(
        decode_curve(
            R"(<iq type="error"><error><text>no data</text><upstream-error issuer="enedis-data-connect"/></error></iq>)"),
        RejectCode::upstream_error, "error: no data (upstream enedis-data-connect)");
    // An upstream-error outside an error iq still says what went wrong.
    expect_reject(
        decode_curve(
            R"(<iq type="result"><error><undefined-condition/><upstream-error code="X1"/></error></iq>)"),
        RejectCode::upstream_error, "undefined-condition (upstream code X1)");
    // Control characters from the upstream stay out of the one-line detail.
    expect_reject(decode_curve("<iq type='error'><error><text>a\nb</text></error></iq>"),
                  RejectCode::upstream_error, "error: a\\u000ab");
}

TEST(QuoaliseDecoder, InvalidRequestIsABadTopic) {
    auto req = edge_curve();
    req.direction = "both";
    expect_reject(decode_quoalise(response(""), req, StampConvention::auto_detect),
                  RejectCode::bad_topic,
                  "request: direction \"both\" is not consumption or production");
}

// --- the request topic -----------------------------------------------------------------------

TEST(QuoaliseRequestTopic, RoundTrips) {
    for (const auto& req : {kDocLoadCurve, kDocDaily, edge_curve()}) {
        const std::string topic = quoalise_request_topic(req);
        const auto back = parse_quoalise_request_topic(topic);
        ASSERT_TRUE(back.has_value()) << topic;
        EXPECT_EQ(*back, req) << topic;
    }
    EXPECT_EQ(quoalise_request_topic(kDocLoadCurve),
              "get_load_curve 10284856584123 production 2020-09-14 2020-09-15");
    EXPECT_EQ(quoalise_request_topic(kDocDaily),
              "get_daily 11453290002823 consumption 2020-08-16 2020-08-31");
}

TEST(QuoaliseRequestTopic, RejectsAnythingElse) {
    for (const char* bad : {
             "",
             "get_load_curve 10284856584123 production 2020-09-14",
             "get_load_curve 10284856584123 production 2020-09-14 2020-09-15 x",
             "get_load_curve 10284856584123 production 2020-09-14 2020-09-15 ",
             " get_load_curve 10284856584123 production 2020-09-14 2020-09-15",
             "get_load_curve  10284856584123 production 2020-09-14 2020-09-15",
             "get_authorize_uri 10284856584123 production 2020-09-14 2020-09-15",
             "get_load_curve 1028485658412a production 2020-09-14 2020-09-15",
             "get_load_curve 123456789012345678901234567890123 production 2020-09-14 2020-09-15",
             "get_load_curve 10284856584123 both 2020-09-14 2020-09-15",
             "get_load_curve 10284856584123 production 2020-02-30 2020-03-01",
             "get_load_curve 10284856584123 production 2020-9-14 2020-09-15",
             "get_load_curve 10284856584123 production 2020-09-15 2020-09-15",
             "get_load_curve 10284856584123 production 2020-09-16 2020-09-15",
             "get_load_curve 10284856584123 production 1969-12-31 1970-01-02",
         }) {
        EXPECT_FALSE(parse_quoalise_request_topic(bad).has_value()) << '"' << bad << '"';
    }
}

TEST(QuoaliseRequestTopic, TheDecoderRejectsABadTopicWithItsReason) {
    QuoaliseDecoder decoder;
    const auto r = decoder.decode(RawMessage{
        "enedis", "get_daily 11453290002823 consumption 2020-08-31 2020-08-16", "", {}, 1});
    expect_reject(r, RejectCode::bad_topic,
                  "topic \"get_daily 11453290002823 consumption 2020-08-31 2020-08-16\": end date "
                  "2020-08-16 is not after start date 2020-08-31");
    expect_reject(decoder.decode(RawMessage{"enedis", "enedis/get_daily", "", {}, 1}),
                  RejectCode::bad_topic,
                  "topic \"enedis/get_daily\" is not \"get_load_curve|get_daily <usage point> "
                  "consumption|production <start YYYY-MM-DD> <end YYYY-MM-DD>\"");
    expect_reject(decoder.decode(RawMessage{
                      "enedis", "get_daily 1 consumption 2020-08-31 2020-13-01", "", {}, 1}),
                  RejectCode::bad_topic,
                  "topic \"get_daily 1 consumption 2020-08-31 2020-13-01\": \"2020-13-01\" is not "
                  "a date (YYYY-MM-DD)");
}

TEST(QuoaliseRequestTopic, ConventionAndCommandNames) {
    for (auto c : {StampConvention::start, StampConvention::end, StampConvention::auto_detect})
        EXPECT_EQ(parse_stamp_convention(to_string(c)), c);
    EXPECT_EQ(to_string(StampConvention::auto_detect), "auto");
    EXPECT_FALSE(parse_stamp_convention("Auto").has_value());
    for (auto c : {QuoaliseCommand::load_curve, QuoaliseCommand::daily})
        EXPECT_EQ(parse_quoalise_command(to_string(c)), c);
    EXPECT_FALSE(parse_quoalise_command("get_authorize_uri").has_value());
}

}  // namespace
}  // namespace mb
