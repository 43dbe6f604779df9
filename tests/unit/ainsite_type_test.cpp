// The Å Insite registry rows: their keys (registers, meter_id), the vendor's
// rules on topic filters, and the decoders they build, through load_config_text
// as an operator's file would go.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/ainsite/ainsite_type.h"
#include "connectors/registry.h"
#include "daemon/config.h"
#include "normalize/ainsite/ainsite_decoder.h"

namespace mb {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr const char* kFile = "/etc/mb/test.toml";
constexpr const char* kHead =
    "[storage]\npath = \"/var/lib/mb/mb.db\"\n[brokers.local]\nhost = \"127.0.0.1\"\n";

const ConnectorRegistry& registry() {
    static const ConnectorRegistry r = [] {
        ConnectorRegistry reg;
        register_ainsite(reg);
        return reg;
    }();
    return r;
}

LoadResult load(const std::string& connectors) {
    return load_config_text(std::string(kHead) + connectors, kFile, registry());
}

std::string consumer(const std::string& topics, const std::string& rest = "") {
    return "[[connectors]]\nname = \"ainsite\"\ntype = \"ainsite\"\nbroker = \"local\"\ntopics = " +
           topics + "\n" + rest;
}

std::string gateway(const std::string& rest) {
    return "[[connectors]]\nname = \"gw\"\ntype = \"ainsite-gateway\"\nbroker = \"local\"\n" + rest;
}

// "key: message" of every error, in order.
std::vector<std::string> errors(const LoadResult& r) {
    std::vector<std::string> out;
    for (const auto& e : r.errors) out.push_back(e.key + ": " + e.message);
    return out;
}

const ConnectorConfig& only_connector(const LoadResult& r) {
    if (!r.config || r.config->connectors.size() != 1)
        throw std::runtime_error("expected one loaded connector");
    return r.config->connectors[0];
}

constexpr const char* kCustomerRule =
    "an Å Insite subscription must include the customer id: start it with "
    "meters/outbound/<customer-id>/ where <customer-id> is written out, not + or # (Å Insite "
    "grants each consumer its customer's base topic only and disconnects a session that "
    "subscribes elsewhere, e.g. to a root #)";
constexpr const char* kFiveLevels =
    "matches no Å Insite topic: they have 5 levels, "
    "meters/outbound/<customer-id>/<subscription-id>/<meter-id>";

TEST(AinsiteType, RegistersBothTypes) {
    ASSERT_NE(registry().find("ainsite"), nullptr);
    ASSERT_NE(registry().find("ainsite-gateway"), nullptr);
    EXPECT_EQ(registry().find("ainsite")->transport, Transport::mqtt);
    EXPECT_EQ(registry().find("ainsite-gateway")->transport, Transport::mqtt);
    EXPECT_THAT(registry().type_names(), ElementsAre("ainsite", "ainsite-gateway"));
}

// --- consumer topics ----------------------------------------------------------

TEST(AinsiteType, ConsumerWithACustomerFilterLoads) {
    const auto r = load(consumer(
        R"(["meters/outbound/cust-42/#", "meters/outbound/cust-42/+/+", "meters/outbound/c/s/m",)"
        R"( "meters/outbound/c/s/#", "meters/outbound/c/s/m/#"])"));
    ASSERT_THAT(errors(r), IsEmpty());
    const auto& c = only_connector(r);
    EXPECT_EQ(c.topics.size(), 5u);
    const auto* o = dynamic_cast<const AinsiteOptions*>(c.options.get());
    ASSERT_NE(o, nullptr);
    EXPECT_TRUE(o->registers.empty());
}

TEST(AinsiteType, ConsumerFiltersWithoutTheCustomerIdAreErrors) {
    for (const char* f : {"#", "meters/#", "meters/outbound/#", "meters/outbound/+/s/m",
                          "meters/outbound/+/#", "+/outbound/c/#", "meters/+/c/#",
                          "meters/outbound", "meters/outbound//s/m", "Meters/outbound/c/#"}) {
        const auto r = load(consumer(std::string("[\"") + f + "\"]"));
        EXPECT_THAT(errors(r),
                    ElementsAre(std::string("connectors[0].topics[0]: ") + kCustomerRule))
            << f;
        EXPECT_FALSE(r.config) << f;
    }
}

TEST(AinsiteType, ConsumerFiltersThatMatchNoTopicAreErrors) {
    for (const char* f : {"meters/outbound/cust", "meters/outbound/cust/+",
                          "meters/outbound/cust/+/+/+", "meters/outbound/c/s/m/x/#"}) {
        const auto r = load(consumer(std::string("[\"") + f + "\"]"));
        EXPECT_THAT(errors(r), ElementsAre(std::string("connectors[0].topics[0]: ") + kFiveLevels))
            << f;
    }
    const auto r = load(consumer(R"(["meters/outbound/c//m"])"));
    EXPECT_THAT(
        errors(r),
        ElementsAre("connectors[0].topics[0]: level 4 is empty, which no Å Insite topic has"));
}

TEST(AinsiteType, EveryBadFilterIsReportedAtItsPosition) {
    const auto r = load(consumer(R"(["#", "meters/outbound/c/#", "meters/+"])"));
    ASSERT_EQ(r.errors.size(), 2u);
    EXPECT_EQ(r.errors[0].key, "connectors[0].topics[0]");
    EXPECT_EQ(r.errors[1].key, "connectors[0].topics[2]");
    // Line 9 of the file (4 head lines, [[connectors]], name, type, broker), at each element.
    EXPECT_EQ(r.errors[0].line, 9u);
    EXPECT_EQ(r.errors[0].column, 11u);
    EXPECT_EQ(r.errors[1].line, 9u);
    EXPECT_EQ(r.errors[1].column, 39u);
    EXPECT_EQ(r.errors[0].to_string(),
              std::string("/etc/mb/test.toml:9:11: connectors[0].topics[0]: ") + kCustomerRule);
}

TEST(AinsiteType, ASingleStringFilterIsCheckedToo) {
    const auto r = load(consumer(R"("#")"));
    EXPECT_THAT(errors(r), ElementsAre(std::string("connectors[0].topics: ") + kCustomerRule));
}

TEST(AinsiteType, AnInvalidMqttFilterIsReportedOnce) {
    const auto r = load(consumer(R"(["meters/outbound/c/a#"])"));
    EXPECT_THAT(errors(r), ElementsAre("connectors[0].topics[0]: '#' must be a whole level"));
}

TEST(AinsiteType, ConsumerAtQos0IsWarned) {
    const auto r = load(consumer(R"(["meters/outbound/c/#"])", "qos = 0\n"));
    EXPECT_THAT(errors(r), IsEmpty());
    EXPECT_THAT(r.warnings,
                ElementsAre("/etc/mb/test.toml:10:7: connectors[0].qos: qos = 0: Å Insite asks for "
                            "QoS 1 (\"to prevent data loss\"); at QoS 0 the broker neither queues "
                            "readings while the daemon is away nor resends lost ones"));
    EXPECT_THAT(load(consumer(R"(["meters/outbound/c/#"])")).warnings, IsEmpty());
    EXPECT_EQ(load(gateway("qos = 0\n")).warnings.size(), 1u);
    EXPECT_THAT(load(gateway("")).warnings, IsEmpty());
}

TEST(AinsiteType, ConsumerTopicsAreRequired) {
    const auto r = load("[[connectors]]\nname = \"a\"\ntype = \"ainsite\"\nbroker = \"local\"\n");
    EXPECT_THAT(errors(r), ElementsAre("connectors[0].topics: missing required key"));
}

// --- registers ----------------------------------------------------------------

TEST(AinsiteType, RegistersAreParsed) {
    const auto r = load(consumer(R"(["meters/outbound/c/#"])", R"(
[connectors.registers.5]
quantity = "register.5"
unit = "kWh"
scale = 1.0
[connectors.registers.12]
quantity = "electricity.energy.consumption"
scale = 1000
[connectors.registers.13]
unit = "degC"
[connectors.registers.2]
quantity = "register.energy_kwh"
unit = "kWh"
)"));
    ASSERT_THAT(errors(r), IsEmpty());
    const auto* o = dynamic_cast<const AinsiteOptions*>(only_connector(r).options.get());
    ASSERT_NE(o, nullptr);
    const ainsite::RegisterMap expected{
        {2, {"register.energy_kwh", "kWh", std::nullopt, 1.0}},
        {5, {"register.5", "kWh", std::nullopt, 1.0}},
        {12, {"electricity.energy.consumption", "Wh", Kind::interval, 1000.0}},
        {13, {"register.13", "degC", std::nullopt, 1.0}},
    };
    EXPECT_EQ(o->registers, expected);
}

TEST(AinsiteType, TheBuiltDecoderUsesTheRegisters) {
    const auto r = load(consumer(R"(["meters/outbound/c/#"])", R"(
[connectors.registers.12]
quantity = "electricity.energy.consumption"
scale = 1000
)"));
    ASSERT_THAT(errors(r), IsEmpty());
    auto d = make_ainsite_decoder(only_connector(r));
    const auto out = d->decode(
        RawMessage{"ainsite",
                   "meters/outbound/c/s/m",
                   R"({"smarteo_payload_schema_version": 2, "measurement_start_timestamp_utc": )"
                   R"("2023-01-01T12:00:00.000Z", "measurement_end_timestamp_utc": )"
                   R"("2023-01-01T12:01:00.000Z", "register_id": 12, "value": 0.123})",
                   {},
                   1});
    ASSERT_TRUE(out.ok()) << out.reject->reason();
    EXPECT_EQ(out.readings.at(0), (Reading{"m", "electricity.energy.consumption", "Wh",
                                           Kind::interval, 1672574400000, 1672574460000, 123.0}));
}

struct RegisterError {
    const char* toml;
    const char* error;
};

class AinsiteTypeRegisterErrors : public ::testing::TestWithParam<RegisterError> {};

TEST_P(AinsiteTypeRegisterErrors, AreReportedAtTheirKey) {
    const auto r = load(consumer(R"(["meters/outbound/c/#"])", GetParam().toml));
    EXPECT_THAT(errors(r), ElementsAre(GetParam().error));
    EXPECT_FALSE(r.config);
}

INSTANTIATE_TEST_SUITE_P(
    Consumer, AinsiteTypeRegisterErrors,
    ::testing::Values(
        RegisterError{"[connectors.registers.x]\nunit = \"kWh\"\n",
                      "connectors[0].registers.x: register ids are decimal integers from 0 to "
                      "2147483647 without sign or leading zero (got 'x')"},
        RegisterError{"[connectors.registers.05]\nunit = \"kWh\"\n",
                      "connectors[0].registers.05: register ids are decimal integers from 0 to "
                      "2147483647 without sign or leading zero (got '05')"},
        RegisterError{"[connectors.registers]\n5 = \"kWh\"\n",
                      "connectors[0].registers.5: expected a table, got a string"},
        RegisterError{"registers = 5\n",
                      "connectors[0].registers: expected a table, got an integer"},
        RegisterError{"[connectors.registers.5]\nquantity = \"energy\"\n",
                      "connectors[0].registers.5.quantity: 'energy' is not a canonical quantity "
                      "(docs/data-model.md) nor register.<name> (letters, digits, '_', '.', '-')"},
        RegisterError{"[connectors.registers.5]\nquantity = \"register.a b\"\n",
                      "connectors[0].registers.5.quantity: 'register.a b' is not a canonical "
                      "quantity (docs/data-model.md) nor register.<name> (letters, digits, '_', "
                      "'.', '-')"},
        RegisterError{"[connectors.registers.5]\nquantity = "
                      "\"electricity.energy.consumption\"\nunit = \"kWh\"\n",
                      "connectors[0].registers.5.unit: must be 'Wh', the unit of "
                      "electricity.energy.consumption (convert with scale, e.g. scale = 1000 "
                      "from kWh to Wh)"},
        RegisterError{"[connectors.registers.12]\nquantity = \"water.volume.index\"\n",
                      "connectors[0].registers.12.quantity: register 12 arrives in schema "
                      "version 2 as interval readings, but water.volume.index is cumulative"},
        RegisterError{"[connectors.registers.2]\nquantity = "
                      "\"electricity.energy.consumption\"\n",
                      "connectors[0].registers.2.quantity: register 2 arrives in schema version 1 "
                      "as cumulative readings, but electricity.energy.consumption is interval"},
        RegisterError{"[connectors.registers.5]\nkind = \"interval\"\n",
                      "connectors[0].registers.5.kind: type 'ainsite' takes the kind from the "
                      "payload: schema version 1 (register 2) gives cumulative readings, version "
                      "2 (the other registers) interval readings"},
        RegisterError{"[connectors.registers.5]\nscale = 0\n",
                      "connectors[0].registers.5.scale: must be a finite number other than 0 "
                      "(got 0)"},
        RegisterError{"[connectors.registers.5]\nscale = nan\n",
                      "connectors[0].registers.5.scale: must be a finite number other than 0 "
                      "(got nan)"},
        RegisterError{"[connectors.registers.5]\nscale = -inf\n",
                      "connectors[0].registers.5.scale: must be a finite number other than 0 "
                      "(got -inf)"},
        RegisterError{"[connectors.registers.5]\nscale = \"1000\"\n",
                      "connectors[0].registers.5.scale: expected a number, got a string"},
        RegisterError{"[connectors.registers.5]\nunits = \"kWh\"\n",
                      "connectors[0].registers.5.units: unknown key"},
        RegisterError{"[connectors.registers.5]\nunit = \"k\\nWh\"\n",
                      "connectors[0].registers.5.unit: must not contain control characters"},
        RegisterError{"[connectors.registers.5]\nunit = \"0123456789012345678901234567890123\"\n",
                      "connectors[0].registers.5.unit: must be at most 32 bytes"},
        RegisterError{"[connectors.registers.5]\nquantity = \"register.x\"\n"
                      "[connectors.registers.6]\nquantity = \"register.x\"\n",
                      "connectors[0].registers.6.quantity: register 6 would also become "
                      "register.x, like register 5: their readings would overwrite each other"},
        RegisterError{"[connectors.registers.7]\nquantity = \"register.5\"\n",
                      "connectors[0].registers.7.quantity: register 7 would also become "
                      "register.5, like register 5: their readings would overwrite each other"}));

TEST(AinsiteType, ARegisterNameFreedByAnotherMappingCanBeReused) {
    const auto r = load(consumer(R"(["meters/outbound/c/#"])", R"(
[connectors.registers.5]
quantity = "register.flow"
[connectors.registers.7]
quantity = "register.5"
)"));
    EXPECT_THAT(errors(r), IsEmpty());
}

// --- gateway ------------------------------------------------------------------

TEST(AinsiteType, GatewaySubscribesToEveryStandardGatewayByDefault) {
    const auto r = load(gateway(""));
    ASSERT_THAT(errors(r), IsEmpty());
    const auto& c = only_connector(r);
    EXPECT_THAT(c.topics, ElementsAre("gateways/generic/+/+/+/+/+"));
    const auto* o = dynamic_cast<const AinsiteGatewayOptions*>(c.options.get());
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->settings.meter_id, GatewayMeterId::external);
    EXPECT_TRUE(o->settings.registers.empty());
}

TEST(AinsiteType, GatewayKeys) {
    const auto r = load(gateway(R"(topics = ["gateways/generic/42/#", "gateways/#",)"
                                R"( "gateways/generic/1/p/Water/+/10", "gw/x/+/+/+/+/+/#"]
meter_id = "gateway"
[connectors.registers.10]
quantity = "water.volume.index"
scale = 0.001
[connectors.registers.7]
unit = "degC"
kind = "instant"
[connectors.registers.8]
quantity = "register.heat"
unit = "MWh"
kind = "cumulative"
)"));
    ASSERT_THAT(errors(r), IsEmpty());
    const auto& c = only_connector(r);
    EXPECT_EQ(c.topics.size(), 4u);
    const auto* o = dynamic_cast<const AinsiteGatewayOptions*>(c.options.get());
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->settings.meter_id, GatewayMeterId::gateway);
    const ainsite::RegisterMap expected{
        {7, {"register.7", "degC", Kind::instant, 1.0}},
        {8, {"register.heat", "MWh", Kind::cumulative, 1.0}},
        {10, {"water.volume.index", "m3", Kind::cumulative, 0.001}},
    };
    EXPECT_EQ(o->settings.registers, expected);

    auto d = make_ainsite_gateway_decoder(c);
    const auto out = d->decode(
        RawMessage{"gw",
                   "gateways/generic/52/c863d30b-7c02-4851-aeeb-c75319ed4340/Water/Toilets/10",
                   "1234.5",
                   {},
                   1000});
    ASSERT_TRUE(out.ok()) << out.reject->reason();
    EXPECT_EQ(out.readings.at(0),
              (Reading{"52/c863d30b-7c02-4851-aeeb-c75319ed4340/Toilets", "water.volume.index",
                       "m3", Kind::cumulative, 1000, 1000, 1.2345}));
}

TEST(AinsiteType, GatewayFilterErrors) {
    const struct {
        const char* filter;
        const char* message;
    } cases[] = {
        {"#",
         "must start with the gateway prefix (gateways/generic/…), not a wildcard, which would "
         "take every topic on the broker"},
        {"+/generic/+/+/+/+/+",
         "must start with the gateway prefix (gateways/generic/…), not a wildcard, which would "
         "take every topic on the broker"},
        {"gateways/generic/1/p/Water/m",
         "matches no gateway topic: they have 7 levels, <gateway prefix: 4 "
         "levels>/<utility>/<meter_external_id>/<register_type_id>"},
        {"gateways/generic/1/p/Water/m/1/x",
         "matches no gateway topic: they have 7 levels, <gateway prefix: 4 "
         "levels>/<utility>/<meter_external_id>/<register_type_id>"},
        {"gateways//1/p/Water/m/1", "level 2 is empty, which no gateway topic has"},
        {"gateways/generic/1/p/Gas/#",
         "level 5 is the utility: Electrical, Thermal, Water or NaturalGas, or + (got 'Gas')"},
        {"gateways/generic/1/p/Water/m/x",
         "level 7 is the register type id: a decimal integer, or + (got 'x')"},
    };
    for (const auto& c : cases) {
        const auto r = load(gateway(std::string("topics = [\"") + c.filter + "\"]\n"));
        EXPECT_THAT(errors(r), ElementsAre(std::string("connectors[0].topics[0]: ") + c.message))
            << c.filter;
    }
    // '#' also matches its parent level: a 7-level prefix and '#' is fine.
    EXPECT_THAT(errors(load(gateway("topics = [\"gateways/generic/1/p/Water/m/1/#\"]\n"))),
                IsEmpty());
}

TEST(AinsiteType, GatewayRegisterAndKeyErrors) {
    const struct {
        const char* toml;
        const char* error;
    } cases[] = {
        {"meter_id = \"name\"\n",
         "connectors[0].meter_id: must be one of \"external\", \"gateway\" (got 'name')"},
        {"[connectors.registers.5]\nkind = \"interval\"\n",
         "connectors[0].registers.5.kind: must be one of \"instant\", \"cumulative\" (got "
         "'interval')"},
        {"[connectors.registers.5]\nquantity = \"electricity.power.consumption\"\n",
         "connectors[0].registers.5.quantity: electricity.power.consumption is an interval "
         "quantity, but a gateway reading is an instant (the time of receipt)"},
        {"[connectors.registers.5]\nquantity = \"water.volume.index\"\nkind = \"instant\"\n",
         "connectors[0].registers.5.kind: must be 'cumulative', the kind of water.volume.index"},
        {"[connectors.registers.12]\nquantity = \"electricity.energy.consumption.index\"\n",
         "connectors[0].registers.12.quantity: register 12 would also become "
         "electricity.energy.consumption.index, like register 2: their readings would overwrite "
         "each other"},
    };
    for (const auto& c : cases) {
        const auto r = load(gateway(c.toml));
        EXPECT_THAT(errors(r), ElementsAre(c.error)) << c.toml;
    }
}

TEST(AinsiteType, DecoderOfAnotherTypesOptionsIsAProgrammingError) {
    ConnectorConfig c;
    c.name = "x";
    c.type = "ainsite";
    c.options = std::make_shared<AinsiteGatewayOptions>();
    EXPECT_THROW(make_ainsite_decoder(c), std::runtime_error);
    c.options = std::make_shared<AinsiteOptions>();
    EXPECT_THROW(make_ainsite_gateway_decoder(c), std::runtime_error);
    c.options = nullptr;  // built in code without options: the defaults
    EXPECT_NE(make_ainsite_decoder(c), nullptr);
}

}  // namespace
}  // namespace mb
