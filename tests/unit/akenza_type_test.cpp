// The `akenza` registry row: its keys, every configuration mistake with its
// position, and building the decoder from the secret file.
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/akenza/akenza_type.h"
#include "connectors/registry.h"
#include "daemon/config.h"
#include "tests/support/temp_dir.h"

namespace mb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

namespace fs = std::filesystem;

constexpr const char* kSecret = "s3cr3t-Secret-42";
constexpr const char* kFile = "/etc/mb/test.toml";

const ConnectorRegistry& registry() {
    static const ConnectorRegistry r = [] {
        ConnectorRegistry reg;
        register_akenza(reg);
        return reg;
    }();
    return r;
}

void write_file(const fs::path& p, const std::string& content) {
    std::ofstream out(p, std::ios::binary);
    out << content;
}

class AkenzaTypeTest : public ::testing::Test {
  protected:
    AkenzaTypeTest() { write_file(secret_path(), std::string(kSecret) + "\n"); }

    fs::path secret_path() const { return dir_ / "akenza.secret"; }

    // Lines 1-9 are fixed, so that the tests can name the line of each error.
    std::string config(const std::string& connector_keys, const std::string& mappings) const {
        return "[storage]\n"                     // 1
               "path = \"/var/lib/mb/mb.db\"\n"  // 2
               "[brokers.akenza]\n"              // 3
               "host = \"127.0.0.1\"\n"          // 4
               "[[connectors]]\n"                // 5
               "name = \"akenza\"\n"             // 6
               "type = \"akenza\"\n"             // 7
               "broker = \"akenza\"\n"           // 8
               "secret_file = \"" +
               secret_path().string() + "\"\n" +  // 9
               connector_keys + mappings;
    }

    static std::string mapping(const std::string& keys) {
        return "[[connectors.mappings]]\n" + keys;
    }

    static const std::string& topics() {
        static const std::string t = "topics = [\"/up/+/id/#\"]\n";
        return t;
    }

    LoadResult load(const std::string& text) const {
        return load_config_text(text, kFile, registry());
    }

    // "line: key: message" of every error.
    std::vector<std::string> errors(const std::string& text) const {
        std::vector<std::string> out;
        for (const auto& e : load(text).errors)
            out.push_back(std::to_string(e.line) + ": " + e.key + ": " + e.message);
        return out;
    }

    test::TempDir dir_;
};

TEST_F(AkenzaTypeTest, FullExampleParses) {
    const std::string text = config(topics() +                                // 10
                                        "accept_device_credentials = true\n"  // 11
                                        "csv_header = false\n"                // 12
                                        "csv_delimiter = \";\"\n",            // 13
                                    mapping("pointer = \"/energy\"\n"
                                            "quantity = \"electricity.energy.consumption.index\"\n"
                                            "scale = 1000\n"
                                            "required = true\n"
                                            "timestamp = \"/time\"\n"
                                            "timestamp_format = \"unix_ms\"\n") +
                                        mapping("data_topic = \"alerts_critical\"\n"
                                                "pointer = \"/temperature\"\n"
                                                "quantity = \"register.temperature\"\n"
                                                "unit = \"degC\"\n"
                                                "kind = \"cumulative\"\n") +
                                        mapping("pointer = \"/power\"\n"
                                                "quantity = \"electricity.power.consumption\"\n"
                                                "duration = \"PT15M\"\n"
                                                "timestamp_marks = \"start\"\n") +
                                        mapping("pointer = \"/door\"\n"
                                                "state_key = \"door_open\"\n"));
    const LoadResult r = load(text);
    ASSERT_THAT(r.errors, IsEmpty()) << r.errors[0].to_string();
    ASSERT_EQ(r.config->connectors.size(), 1u);
    const ConnectorConfig& c = r.config->connectors[0];
    EXPECT_THAT(c.topics, ElementsAre("/up/+/id/#"));
    const auto* o = dynamic_cast<const AkenzaConnectorOptions*>(c.options.get());
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->secret_file, secret_path().string());
    EXPECT_EQ(o->decoder.secret, "");  // never in the loaded config
    EXPECT_TRUE(o->decoder.accept_device_credentials);
    EXPECT_FALSE(o->decoder.csv_header);
    EXPECT_EQ(o->decoder.csv_delimiter, ';');
    ASSERT_EQ(o->decoder.mappings.size(), 4u);

    const AkenzaMapping& e = o->decoder.mappings[0];
    EXPECT_EQ(e.data_topic, "default");
    EXPECT_EQ(e.pointer, "/energy");
    EXPECT_EQ(e.quantity, "electricity.energy.consumption.index");
    EXPECT_EQ(e.unit, "Wh");
    EXPECT_EQ(e.kind, Kind::cumulative);
    EXPECT_EQ(e.scale, 1000);
    EXPECT_TRUE(e.required);
    EXPECT_EQ(e.timestamp, std::optional<std::string>("/time"));
    EXPECT_EQ(e.timestamp_format, AkenzaTimeFormat::unix_ms);

    const AkenzaMapping& t = o->decoder.mappings[1];
    EXPECT_EQ(t.data_topic, "alerts_critical");
    EXPECT_EQ(t.unit, "degC");
    EXPECT_EQ(t.kind, Kind::cumulative);
    EXPECT_EQ(t.scale, 1);
    EXPECT_FALSE(t.required);
    EXPECT_EQ(t.timestamp, std::nullopt);

    const AkenzaMapping& p = o->decoder.mappings[2];
    EXPECT_EQ(p.unit, "W");
    EXPECT_EQ(p.kind, Kind::interval);
    EXPECT_EQ(p.duration_ms, 15 * 60 * 1000);
    EXPECT_EQ(p.stamp, AkenzaStamp::start);

    const AkenzaMapping& s = o->decoder.mappings[3];
    EXPECT_EQ(s.state_key, "door_open");
    EXPECT_EQ(s.quantity, "");
}

TEST_F(AkenzaTypeTest, DecoderReadsTheSecretFile) {
    const LoadResult r = load(config(topics(), mapping("pointer = \"/energy\"\n"
                                                       "quantity = \"register.energy\"\n"
                                                       "unit = \"kWh\"\n")));
    ASSERT_THAT(r.errors, IsEmpty()) << r.errors[0].to_string();
    auto decoder = make_akenza_decoder(r.config->connectors[0]);
    ASSERT_NE(decoder, nullptr);
    const std::string topic = std::string("/up/") + kSecret + "/id/m-7";
    auto ok = decoder->decode(RawMessage{"akenza", topic, R"({"energy": 3.5})", "", 1000});
    ASSERT_TRUE(ok.ok()) << ok.reject->reason();
    EXPECT_THAT(ok.readings, ElementsAre(Reading{"m-7", "register.energy", "kWh", Kind::instant,
                                                 1000, 1000, 3.5}));
    auto bad = decoder->decode(
        RawMessage{"akenza", "/up/s3cr3t-Secret-41/id/m-7", R"({"energy": 3.5})", "", 1000});
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.reject->code, RejectCode::unauthorized);
    RawMessage m{"akenza", topic + "/x", std::string("{\"k\":\"") + kSecret + "\"}", "", 1};
    decoder->redact(m);
    EXPECT_EQ(m.topic, "/up/***/id/m-7/x");
    EXPECT_EQ(m.payload, "{\"k\":\"***\"}");
}

TEST_F(AkenzaTypeTest, SpecNamesTheTypeAndBuildsADecoder) {
    const MqttTypeSpec spec = akenza_type_spec();
    EXPECT_EQ(spec.type, "akenza");
    ASSERT_TRUE(spec.parse_options);
    ASSERT_TRUE(spec.make_decoder);
    const LoadResult r = load(config(topics(), mapping("pointer = \"\"\n"
                                                       "quantity = \"register.v\"\n")));
    ASSERT_THAT(r.errors, IsEmpty()) << r.errors[0].to_string();
    auto d = spec.make_decoder(r.config->connectors[0]);
    auto res =
        d->decode(RawMessage{"a", std::string("/up/") + kSecret + "/id/x", "5", "text/plain", 9});
    ASSERT_TRUE(res.ok()) << res.reject->reason();
    EXPECT_EQ(res.readings.at(0).value, 5);
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "no exception";
}

TEST_F(AkenzaTypeTest, UnusableSecretFilesFailTheStartWithoutShowingTheSecret) {
    const LoadResult r = load(config(topics(), mapping("pointer = \"/e\"\n"
                                                       "quantity = \"register.e\"\n")));
    ASSERT_THAT(r.errors, IsEmpty()) << r.errors[0].to_string();
    const ConnectorConfig& c = r.config->connectors[0];
    const std::string path = secret_path().string();
    const auto build = [&] { make_akenza_decoder(c); };

    fs::remove(secret_path());
    EXPECT_EQ(error_of(build), "connector akenza: secret_file: cannot read secret file '" + path +
                                   "': No such file or directory");
    write_file(secret_path(), "\n");
    EXPECT_EQ(error_of(build),
              "connector akenza: secret_file: secret file '" + path + "' is empty");
    write_file(secret_path(), "hunter2\n");
    const std::string short_secret = error_of(build);
    EXPECT_EQ(short_secret, "connector akenza: secret_file '" + path +
                                "': the uplink secret is shorter than 8 bytes");
    EXPECT_THAT(short_secret, Not(HasSubstr("hunter2")));
    write_file(secret_path(), "abc/defgh-ijk\n");
    const std::string slash = error_of(build);
    EXPECT_EQ(slash, "connector akenza: secret_file '" + path +
                         "': the uplink secret contains '/', '+', '#' or NUL, which cannot "
                         "appear in one MQTT topic level");
    EXPECT_THAT(slash, Not(HasSubstr("defgh")));
}

TEST_F(AkenzaTypeTest, MissingSecretFileIsAConfigError) {
    fs::remove(secret_path());
    EXPECT_THAT(errors(config(topics(), mapping("pointer = \"/e\"\n"
                                                "quantity = \"register.e\"\n"))),
                ElementsAre("9: connectors[0].secret_file: '" + secret_path().string() +
                            "' does not exist"));
}

TEST_F(AkenzaTypeTest, DeviceCredentialsOnlyNeedNoSecretFile) {
    std::string text = config(topics() + "accept_device_credentials = true\n",
                              mapping("pointer = \"/e\"\nquantity = \"register.e\"\n"));
    const std::string secret_line = "secret_file = \"" + secret_path().string() + "\"\n";
    text.erase(text.find(secret_line), secret_line.size());
    const LoadResult r = load(text);
    ASSERT_THAT(r.errors, IsEmpty()) << r.errors[0].to_string();
    auto d = make_akenza_decoder(r.config->connectors[0]);
    EXPECT_TRUE(d->decode(RawMessage{"a", "/up/device/id/x", R"({"e":1})", "", 1}).ok());
    auto res =
        d->decode(RawMessage{"a", std::string("/up/") + kSecret + "/id/x", R"({"e":1})", "", 1});
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.reject->code, RejectCode::unauthorized);

    text.erase(text.find("accept_device_credentials = true\n"),
               std::string("accept_device_credentials = true\n").size());
    EXPECT_THAT(errors(text),
                ElementsAre("5: connectors[0].secret_file: missing required key: the file "
                            "holding the device connector's uplink secret (or set "
                            "accept_device_credentials = true to take only /up/device/... "
                            "uplinks)"));
}

struct BadConfig {
    std::string connector_keys;  // from line 10
    std::string mappings;        // after them
    std::vector<std::string> expected;
};

class AkenzaTypeErrors : public AkenzaTypeTest, public ::testing::WithParamInterface<BadConfig> {};

TEST_P(AkenzaTypeErrors, AreReportedWithKeyAndLine) {
    const BadConfig& b = GetParam();
    EXPECT_EQ(errors(config(b.connector_keys, b.mappings)), b.expected);
}

const std::string kTopics = "topics = [\"/up/+/id/#\"]\n";  // line 10
const std::string kMap = "[[connectors.mappings]]\n";

INSTANTIATE_TEST_SUITE_P(
    All, AkenzaTypeErrors,
    ::testing::Values(
        BadConfig{kTopics,
                  "",
                  {"5: connectors[0].mappings: missing required key: at least one "
                   "[[connectors.mappings]] (pointer → quantity) is needed"}},
        BadConfig{kTopics + "mappings = []\n",
                  "",
                  {"11: connectors[0].mappings: must hold at least one mapping"}},
        BadConfig{kTopics + "mappings = 3\n",
                  "",
                  {"11: connectors[0].mappings: expected an array of tables ([[mappings]]), got "
                   "an integer"}},
        BadConfig{kTopics + "secret = \"s3cr3t-Secret-42\"\n",
                  kMap + "pointer = \"/e\"\nquantity = \"register.e\"\n",
                  {"11: connectors[0].secret: secrets are not accepted inline; put it in a file "
                   "and use secret_file"}},
        BadConfig{kTopics + "secrett_file = \"x\"\n",
                  kMap + "pointer = \"/e\"\nquantity = \"register.e\"\n",
                  {"11: connectors[0].secrett_file: unknown key"}},
        BadConfig{kTopics + "csv_delimiter = \"::\"\n",
                  kMap + "pointer = \"/e\"\nquantity = \"register.e\"\n",
                  {"11: connectors[0].csv_delimiter: must be one of \",\", \";\", \"\t\", \"|\" "
                   "(got '::')"}},
        BadConfig{kTopics,
                  kMap + "pointer = \"/e\"\nquantity = \"register.e\"\ncolour = \"red\"\n",
                  {"14: connectors[0].mappings[0].colour: unknown key"}},
        BadConfig{kTopics,
                  kMap + "quantity = \"register.e\"\n",
                  {"11: connectors[0].mappings[0].pointer: missing required key"}},
        BadConfig{kTopics,
                  kMap + "pointer = \"energy\"\nquantity = \"register.e\"\n",
                  {"12: connectors[0].mappings[0].pointer: a JSON pointer is \"\" or starts "
                   "with '/' (e.g. \"/temperature\", \"/data/0/value\")"}},
        BadConfig{kTopics,
                  kMap + "pointer = \"/e\"\n",
                  {"11: connectors[0].mappings[0]: needs quantity (a reading) or state_key (a "
                   "state event)"}},
        BadConfig{kTopics,
                  kMap + "pointer = \"/e\"\nquantity = \"register.e\"\nstate_key = \"s\"\n"
                         "unit = \"W\"\n",
                  {"14: connectors[0].mappings[0].state_key: a mapping has either quantity (a "
                   "reading) or state_key (a state event), not both"}},
        BadConfig{kTopics,
                  kMap + "pointer = \"/e\"\nquantity = \"energy\"\nunit = \"W\"\n",
                  {"13: connectors[0].mappings[0].quantity: 'energy' is neither a canonical "
                   "quantity (electricity.energy.consumption, electricity.energy.production, "
                   "electricity.power.consumption, electricity.power.production, "
                   "electricity.energy.consumption.index, water.volume.index, water.volume.day, "
                   "water.volume.month, water.volume.shared.cold, water.volume.shared.hot) nor "
                   "register.<id>"}},
        BadConfig{kTopics,
                  kMap + "pointer = \"/e\"\nquantity = \"water.volume.index\"\nunit = \"l\"\n"
                         "kind = \"instant\"\n",
                  {"14: connectors[0].mappings[0].unit: the unit of water.volume.index is m3: "
                   "omit unit, or write \"m3\" and scale the value into it",
                   "15: connectors[0].mappings[0].kind: water.volume.index is always "
                   "cumulative: omit kind"}},
        BadConfig{kTopics,
                  kMap + "pointer = \"/e\"\nquantity = \"register.e\"\nunit = \"\"\n"
                         "kind = \"sometimes\"\n",
                  {"14: connectors[0].mappings[0].unit: must not be empty (omit it for no unit)",
                   "15: connectors[0].mappings[0].kind: must be one of \"instant\", "
                   "\"cumulative\", \"interval\" (got 'sometimes')"}},
        BadConfig{kTopics,
                  kMap + "pointer = \"/e\"\nquantity = \"register.e\"\nscale = 0\n" + kMap +
                      "pointer = \"/f\"\nquantity = \"register.f\"\nscale = nan\n" + kMap +
                      "pointer = \"/g\"\nquantity = \"register.g\"\nscale = \"x\"\n",
                  {"14: connectors[0].mappings[0].scale: must be a finite number other than 0 "
                   "(e.g. 1000 for kWh → Wh)",
                   "18: connectors[0].mappings[1].scale: must be a finite number other than 0 "
                   "(e.g. 1000 for kWh → Wh)",
                   "22: connectors[0].mappings[2].scale: expected a number, got a string"}},
        BadConfig{kTopics,
                  kMap + "pointer = \"/p\"\nquantity = \"electricity.power.consumption\"\n",
                  {"11: connectors[0].mappings[0].duration: missing required key: an interval "
                   "reading (electricity.power.consumption) needs the length of its interval "
                   "(e.g. \"PT15M\")",
                   "11: connectors[0].mappings[0].timestamp_marks: missing required key: does "
                   "the timestamp (or the time of receipt) mark the \"start\" or the \"end\" of "
                   "the interval?"}},
        BadConfig{kTopics,
                  kMap + "pointer = \"/p\"\nquantity = \"register.p\"\nkind = \"interval\"\n"
                         "duration = \"500ms\"\ntimestamp_marks = \"middle\"\n",
                  {"15: connectors[0].mappings[0].duration: must be between 1s and 366 days",
                   "16: connectors[0].mappings[0].timestamp_marks: must be one of \"start\", "
                   "\"end\" (got 'middle')"}},
        BadConfig{kTopics,
                  kMap + "pointer = \"/p\"\nquantity = \"register.p\"\nduration = \"PT1H\"\n"
                         "timestamp_marks = \"end\"\n",
                  {"14: connectors[0].mappings[0].duration: is only used by interval readings "
                   "(register.p is instant)",
                   "15: connectors[0].mappings[0].timestamp_marks: is only used by interval "
                   "readings (register.p is instant)"}},
        BadConfig{kTopics,
                  kMap +
                      "pointer = \"/p\"\nquantity = \"register.p\"\n"
                      "timestamp_format = \"unix_s\"\n" +
                      kMap +
                      "pointer = \"/q\"\nquantity = \"register.q\"\ntimestamp = \"/t\"\n"
                      "timestamp_format = \"rfc2822\"\n" +
                      kMap + "pointer = \"/r\"\nquantity = \"register.r\"\ntimestamp = \"t\"\n",
                  {"14: connectors[0].mappings[0].timestamp_format: is only used with timestamp "
                   "(without one, readings take the time of receipt)",
                   "19: connectors[0].mappings[1].timestamp_format: must be one of \"iso8601\", "
                   "\"unix_s\", \"unix_ms\" (got 'rfc2822')",
                   "23: connectors[0].mappings[2].timestamp: a JSON pointer is \"\" or starts "
                   "with '/' (e.g. \"/temperature\", \"/data/0/value\")"}},
        BadConfig{kTopics,
                  kMap +
                      "data_topic = \"alerts/critical\"\npointer = \"/p\"\n"
                      "quantity = \"register.p\"\n" +
                      kMap + "data_topic = \"\"\npointer = \"/p\"\nquantity = \"register.p\"\n",
                  {"12: connectors[0].mappings[0].data_topic: cannot contain '/', '+', '#' or "
                   "NUL: sub-topic levels are joined with '_' "
                   "(/up/<secret>/id/<deviceId>/alerts/critical is \"alerts_critical\")",
                   "16: connectors[0].mappings[1].data_topic: must not be empty (no sub-topic is "
                   "\"default\")"}},
        BadConfig{kTopics,
                  kMap + "pointer = \"/a\"\nquantity = \"register.p\"\n" + kMap +
                      "data_topic = \"other\"\npointer = \"/b\"\nquantity = \"register.p\"\n" +
                      kMap +
                      "data_topic = \"default\"\npointer = \"/c\"\nquantity = "
                      "\"register.p\"\n" +
                      kMap + "pointer = \"/d\"\nstate_key = \"s\"\n" + kMap +
                      "pointer = \"/e\"\nstate_key = \"s\"\n",
                  {"21: connectors[0].mappings[2].quantity: quantity register.p is already mapped "
                   "for data topic 'default' by mappings[0] (one message would give it twice)",
                   "27: connectors[0].mappings[4].state_key: state s is already mapped for data "
                   "topic 'default' by mappings[3] (one message would give it twice)"}},
        BadConfig{kTopics,
                  kMap + "pointer = \"/d\"\nstate_key = \"door open\"\nunit = \"W\"\n"
                         "scale = 2\nrequired = \"yes\"\n",
                  {"13: connectors[0].mappings[0].state_key: state_key may only contain letters, "
                   "digits, '_', '.' and '-'",
                   "14: connectors[0].mappings[0].unit: is only used by readings (quantity), not "
                   "by state events (state_key)",
                   "15: connectors[0].mappings[0].scale: is only used by readings (quantity), not "
                   "by state events (state_key)",
                   "16: connectors[0].mappings[0].required: expected a boolean (true or false), "
                   "got a string"}},
        BadConfig{"topics = [\"up/+/id/#\", \"/down/+/id/#\", \"/up/s3cr3t-Secret-42/id/#\", "
                  "\"/up/device/id/#\", \"#\", \"/+/+/id/#\", \"+/up/+/id/+\"]\n",
                  kMap + "pointer = \"/e\"\nquantity = \"register.e\"\n",
                  {"10: connectors[0].topics: topics[0] can never match an akenza uplink, whose "
                   "topic starts with '/' (/up/<secret>/id/<deviceId>): is the leading '/' "
                   "missing? (\"/up/+/id/#\")",
                   "10: connectors[0].topics: topics[1] can never match an akenza uplink "
                   "(/up/<secret>/id/<deviceId>)",
                   "10: connectors[0].topics: topics[2]: write '+' in place of the uplink secret "
                   "(\"/up/+/id/#\"); a secret in a subscription would sit in the configuration "
                   "and the logs; the decoder checks it against secret_file",
                   "10: connectors[0].topics: topics[3] subscribes to device-credential uplinks "
                   "(/up/device/...), which are rejected unless accept_device_credentials = "
                   "true"}},
        BadConfig{"",
                  kMap + "pointer = \"/e\"\nquantity = \"register.e\"\n",
                  {"5: connectors[0].topics: missing required key"}}),
    [](const auto& param) { return std::to_string(param.index); });

}  // namespace
}  // namespace mb
