// Å Insite gateway decoder (seed 001, "Publish meter data over MQTT"): the
// document's example topics and payload verbatim, the topic shape, the
// utility table, bare-number payloads. Fixtures: tests/fixtures/ainsite/gateway_*.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "normalize/ainsite/ainsite_gateway_decoder.h"
#include "tests/support/fixture.h"

namespace mb {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(MB_SOURCE_DIR) / "tests" / "fixtures" / "ainsite";
constexpr TimeMs kReceived = 1672576496789;  // 2023-01-01T12:34:56.789Z
constexpr const char* kWaterTopic =
    "gateways/generic/52/c863d30b-7c02-4851-aeeb-c75319ed4340/Water/Toilets/10";

std::string fixture(const std::string& name) {
    return test::read_fixture("ainsite", name);
}

std::string first_line(const std::string& name) {
    std::istringstream in(fixture(name));
    std::string line;
    std::getline(in, line);
    return line;
}

DecodeResult decode(const std::string& topic, const std::string& payload,
                    AinsiteGatewaySettings settings = {}) {
    AinsiteGatewayDecoder d(std::move(settings));
    return d.decode(RawMessage{"gw", topic, payload, {}, kReceived});
}

std::string reason(const DecodeResult& r) {
    return r.reject ? r.reject->reason() : "accepted";
}

// --- the document's examples -------------------------------------------------

TEST(AinsiteGatewayDecoder, DocumentElectricalExampleIsTheEnergyIndexAtReceipt) {
    const std::string topic = first_line("gateway_doc_topic_electrical.txt");
    ASSERT_EQ(topic,
              "gateways/generic/42/6e6a4667-22a8-4e54-a5b8-7b75c158c525/Electrical/MAIN_SUPPLY/2");
    const auto r = decode(topic, fixture("gateway_doc_payload.txt"));
    ASSERT_TRUE(r.ok()) << reason(r);
    ASSERT_EQ(r.readings.size(), 1u);
    EXPECT_TRUE(r.states.empty());
    EXPECT_EQ(r.readings[0], (Reading{"MAIN_SUPPLY", "electricity.energy.consumption.index", "Wh",
                                      Kind::cumulative, kReceived, kReceived, 123456.0}));
}

TEST(AinsiteGatewayDecoder, DocumentWaterExampleIsAnInstantOfAnUnmappedRegister) {
    const std::string topic = first_line("gateway_doc_topic_water.txt");
    ASSERT_EQ(topic, kWaterTopic);
    const auto r = decode(topic, fixture("gateway_doc_payload.txt"));
    ASSERT_TRUE(r.ok()) << reason(r);
    ASSERT_EQ(r.readings.size(), 1u);
    EXPECT_EQ(r.readings[0], (Reading{"Toilets", "register.10", "", Kind::instant, kReceived,
                                      kReceived, 123.456}));
}

TEST(AinsiteGatewayDecoder, DocumentPrefixAloneIsNotATopic) {
    const std::string prefix = first_line("gateway_doc_prefix.txt");
    EXPECT_EQ(reason(decode(prefix, "1")),
              "bad_topic: 'gateways/generic/<service_account_id>/<parser_id>' is not <gateway "
              "prefix: 4 levels>/<utility>/<meter_external_id>/<register_type_id>: 4 levels "
              "instead of 7");
}

TEST(AinsiteGatewayDecoder, DocumentPlaceholdersJoinedAreRejected) {
    const std::string topic =
        first_line("gateway_doc_prefix.txt") + first_line("gateway_doc_suffix.txt");
    ASSERT_EQ(topic,
              "gateways/generic/<service_account_id>/<parser_id>/<utility_type>/"
              "<meter_external_id>/<register_type_id>");
    EXPECT_EQ(reason(decode(topic, "1")),
              fmt::format("bad_topic: '{}' is not <gateway prefix: 4 levels>/<utility>/"
                          "<meter_external_id>/<register_type_id>: register_type_id "
                          "'<register_type_id>' is not a register id (a decimal integer "
                          "0..2147483647 without sign or leading zero)",
                          topic));
    const std::string with_register = topic.substr(0, topic.rfind('/')) + "/2";
    EXPECT_EQ(reason(decode(with_register, "1")),
              "invalid_value: utility '<utility_type>' is not Electrical, Thermal, Water or "
              "NaturalGas");
}

TEST(AinsiteGatewayDecoder, EveryGatewayFixtureIsTested) {
    const std::set<std::string> tested{"gateway_doc_topic_electrical.txt",
                                       "gateway_doc_topic_water.txt", "gateway_doc_payload.txt",
                                       "gateway_doc_prefix.txt", "gateway_doc_suffix.txt"};
    std::size_t seen = 0;
    for (const auto& e : fs::directory_iterator(kFixtures)) {
        const std::string name = e.path().filename().string();
        if (!name.starts_with("gateway_")) continue;
        ++seen;
        EXPECT_TRUE(tested.contains(name)) << name << " is not used by any test";
    }
    EXPECT_EQ(seen, tested.size());
}

// --- utilities ----------------------------------------------------------------

TEST(AinsiteGatewayDecoder, EveryDocumentedUtilityIsAccepted) {
    for (const char* u : {"Electrical", "Thermal", "Water", "NaturalGas"}) {
        const auto r = decode(fmt::format("gateways/generic/1/p/{}/m/7", u), "5");
        ASSERT_TRUE(r.ok()) << u << ": " << reason(r);
        EXPECT_EQ(r.readings[0],
                  (Reading{"m", "register.7", "", Kind::instant, kReceived, kReceived, 5.0}))
            << u;
    }
}

TEST(AinsiteGatewayDecoder, OtherUtilitiesAreInvalid) {
    for (const char* u : {"electrical", "ELECTRICAL", "Gas", "Heat", "Natural Gas", "Water "}) {
        EXPECT_EQ(reason(decode(fmt::format("gateways/generic/1/p/{}/m/7", u), "5")),
                  fmt::format("invalid_value: utility '{}' is not Electrical, Thermal, Water or "
                              "NaturalGas",
                              u));
    }
}

TEST(AinsiteGatewayDecoder, Register2OfAnotherUtilityIsNotElectricity) {
    const auto r = decode("gateways/generic/1/p/Thermal/heat-1/2", "123.456");
    ASSERT_TRUE(r.ok()) << reason(r);
    EXPECT_EQ(r.readings[0], (Reading{"heat-1", "register.2", "", Kind::cumulative, kReceived,
                                      kReceived, 123.456}));
}

// --- payloads -----------------------------------------------------------------

TEST(AinsiteGatewayDecoder, NumbersAreReadExactly) {
    const struct {
        std::string payload;
        double value;
    } cases[] = {
        {"42", 42.0},    {"-1.5", -1.5},
        {"0", 0.0},      {"-0", 0.0},
        {"1e3", 1000.0}, {"2.5E-1", 0.25},
        {" 7\n", 7.0},   {"\t8\r\n", 8.0},
        {"0.1", 0.1},    {"1" + std::string(63, '0'), 1e63},
    };
    for (const auto& c : cases) {
        const auto r = decode(kWaterTopic, c.payload);
        ASSERT_TRUE(r.ok()) << c.payload << ": " << reason(r);
        EXPECT_EQ(r.readings[0].value, c.value) << c.payload;
        if (c.value == 0) {
            EXPECT_FALSE(std::signbit(r.readings[0].value)) << c.payload << " (no negative zero)";
        }
    }
}

TEST(AinsiteGatewayDecoder, KwhBecomeWhWithoutRoundingNoise) {
    const std::string topic = "gateways/generic/1/p/Electrical/main/2";
    EXPECT_EQ(decode(topic, "0.123").readings.at(0).value, 123.0);
    EXPECT_EQ(decode(topic, "1.005").readings.at(0).value, 1005.0);
}

struct BadPayload {
    std::string payload;
    std::string reason;
};

class AinsiteGatewayDecoderBadPayloads : public ::testing::TestWithParam<BadPayload> {};

TEST_P(AinsiteGatewayDecoderBadPayloads, AreRejected) {
    const auto& c = GetParam();
    const auto r = decode(kWaterTopic, c.payload);
    EXPECT_EQ(reason(r), c.reason) << c.payload;
    EXPECT_TRUE(r.readings.empty());
}

BadPayload malformed(const std::string& payload, const std::string& shown) {
    return {payload, fmt::format("malformed: payload '{}' is not a decimal number", shown)};
}

INSTANTIATE_TEST_SUITE_P(
    All, AinsiteGatewayDecoderBadPayloads,
    ::testing::Values(
        BadPayload{"", "malformed: empty payload"}, BadPayload{" \r\n", "malformed: empty payload"},
        malformed("abc", "abc"), malformed("NaN", "NaN"), malformed("nan", "nan"),
        malformed("-nan", "-nan"), malformed("Infinity", "Infinity"), malformed("inf", "inf"),
        malformed("-Infinity", "-Infinity"), malformed("1.5 kWh", "1.5 kWh"),
        malformed("123,456", "123,456"), malformed("+1", "+1"), malformed("0x1A", "0x1A"),
        malformed("007", "007"), malformed(".5", ".5"), malformed("5.", "5."),
        malformed("1e", "1e"), malformed("1 2", "1 2"), malformed("\"123.456\"", "\"123.456\""),
        malformed("{\"value\":1}", "{\"value\":1}"), malformed("[1]", "[1]"),
        malformed("true", "true"), malformed(std::string("1\0", 2), "1\\x00"),
        malformed("\xef\xbb\xbf"
                  "1",
                  "\\xef\\xbb\\xbf1"),
        BadPayload{"1e400", "out_of_range: payload '1e400' does not fit a double"},
        BadPayload{"-1e400", "out_of_range: payload '-1e400' does not fit a double"},
        BadPayload{"1e-400", "out_of_range: payload '1e-400' does not fit a double"},
        BadPayload{std::string(65, '1'), "oversized: 65 bytes; a numeric payload is at most 64"},
        BadPayload{std::string(100000, ' ') + "1",
                   "oversized: 100001 bytes; a numeric payload is at most 64"}));

// --- topics -------------------------------------------------------------------

struct BadTopic {
    std::string topic;
    std::string why;
};

class AinsiteGatewayDecoderBadTopics : public ::testing::TestWithParam<BadTopic> {};

TEST_P(AinsiteGatewayDecoderBadTopics, AreRejectedBeforeThePayload) {
    const auto& c = GetParam();
    const auto r = decode(c.topic, "not a number either");
    EXPECT_EQ(reason(r), fmt::format("bad_topic: '{}' is not <gateway prefix: 4 levels>/<utility>/"
                                     "<meter_external_id>/<register_type_id>: {}",
                                     c.topic, c.why));
}

INSTANTIATE_TEST_SUITE_P(
    All, AinsiteGatewayDecoderBadTopics,
    ::testing::Values(
        BadTopic{"", "1 level instead of 7"},
        BadTopic{"gateways/generic/1/p/Water/m", "6 levels instead of 7"},
        BadTopic{"gateways/generic/1/p/Water/m/10/x", "8 levels instead of 7"},
        BadTopic{"/generic/1/p/Water/m/10", "level 1 is empty"},
        BadTopic{"gateways//1/p/Water/m/10", "level 2 is empty"},
        BadTopic{"gateways/generic//p/Water/m/10", "service_account_id is empty"},
        BadTopic{"gateways/generic/1//Water/m/10", "parser_id is empty"},
        BadTopic{"gateways/generic/1/p//m/10", "utility is empty"},
        BadTopic{"gateways/generic/1/p/Water//10", "meter_external_id is empty"},
        BadTopic{"gateways/generic/1/p/Water/m/", "register_type_id is empty"},
        BadTopic{"gateways/generic/1/p/Water/m+/10", "meter_external_id contains a wildcard"},
        BadTopic{"gateways/generic/1/p/Water/m/#", "register_type_id contains a wildcard"},
        BadTopic{"gateways/generic/1/p/Water/m/x",
                 "register_type_id 'x' is not a register id (a decimal integer 0..2147483647 "
                 "without sign or leading zero)"},
        BadTopic{"gateways/generic/1/p/Water/m/010",
                 "register_type_id '010' is not a register id (a decimal integer 0..2147483647 "
                 "without sign or leading zero)"},
        BadTopic{"gateways/generic/1/p/Water/m/-1",
                 "register_type_id '-1' is not a register id (a decimal integer 0..2147483647 "
                 "without sign or leading zero)"},
        BadTopic{"gateways/generic/1/p/Water/m/2147483648",
                 "register_type_id '2147483648' is not a register id (a decimal integer "
                 "0..2147483647 without sign or leading zero)"}));

// --- settings -----------------------------------------------------------------

TEST(AinsiteGatewayDecoder, GatewayQualifiedMeterIds) {
    AinsiteGatewaySettings s;
    s.meter_id = GatewayMeterId::gateway;
    const auto r = decode(kWaterTopic, "1", s);
    ASSERT_TRUE(r.ok()) << reason(r);
    EXPECT_EQ(r.readings[0].meter, "52/c863d30b-7c02-4851-aeeb-c75319ed4340/Toilets");
}

TEST(AinsiteGatewayDecoder, ConfiguredRegisterToCanonicalCumulativeQuantity) {
    AinsiteGatewaySettings s;
    // Litres to m3: a power-of-ten scale, so 1234.5 l is exactly 1.2345 m3.
    s.registers[10] = {"water.volume.index", "m3", Kind::cumulative, 0.001};
    const auto r = decode(kWaterTopic, "1234.5", s);
    ASSERT_TRUE(r.ok()) << reason(r);
    EXPECT_EQ(r.readings[0], (Reading{"Toilets", "water.volume.index", "m3", Kind::cumulative,
                                      kReceived, kReceived, 1.2345}));
}

TEST(AinsiteGatewayDecoder, ConfiguredRegisterAppliesToEveryUtility) {
    AinsiteGatewaySettings s;
    s.registers[2] = {"register.2", "kWh", std::nullopt, 1};
    for (const char* u : {"Electrical", "Thermal"}) {
        const auto r = decode(fmt::format("gateways/generic/1/p/{}/m/2", u), "3.5", s);
        ASSERT_TRUE(r.ok()) << reason(r);
        EXPECT_EQ(r.readings[0],
                  (Reading{"m", "register.2", "kWh", Kind::cumulative, kReceived, kReceived, 3.5}))
            << u;
    }
}

TEST(AinsiteGatewayDecoder, ConfiguredKindOfAnUnmappedName) {
    AinsiteGatewaySettings s;
    s.registers[7] = {"register.heat_meter", "MWh", Kind::cumulative, 1};
    const auto r = decode("gateways/generic/1/p/Thermal/h/7", "12", s);
    ASSERT_TRUE(r.ok()) << reason(r);
    EXPECT_EQ(r.readings[0], (Reading{"h", "register.heat_meter", "MWh", Kind::cumulative,
                                      kReceived, kReceived, 12.0}));
}

// The config refuses this mapping; a decoder built by hand still never emits
// an instant reading of an interval quantity.
TEST(AinsiteGatewayDecoder, CanonicalIntervalQuantityIsRejected) {
    AinsiteGatewaySettings s;
    s.registers[10] = {"electricity.energy.consumption", "Wh", Kind::interval, 1};
    EXPECT_EQ(reason(decode(kWaterTopic, "1", s)),
              "invalid_value: register 10 is configured as electricity.energy.consumption, an "
              "interval quantity, but a gateway reading is an instant");
}

TEST(AinsiteGatewayDecoder, UtilityTable) {
    EXPECT_TRUE(is_gateway_utility("NaturalGas"));
    EXPECT_FALSE(is_gateway_utility("naturalgas"));
    EXPECT_FALSE(is_gateway_utility(""));
}

}  // namespace
}  // namespace mb
