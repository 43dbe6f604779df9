// Configuration loading (DESIGN.md §4): every class of mistake an operator can
// make must come back as a positioned, specific error, all of them at once.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <toml++/toml.h>

#include "connectors/builtin.h"
#include "connectors/registry.h"
#include "daemon/config.h"
#include "normalize/config/table_reader.h"
#include "normalize/config/secret.h"
#include "tests/support/scoped_env.h"
#include "tests/support/temp_dir.h"

#ifndef MB_SOURCE_DIR
#error "MB_SOURCE_DIR must name the source tree (for etc/meterbridge.toml)"
#endif

namespace mb {
namespace {

using namespace std::chrono_literals;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

namespace fs = std::filesystem;

constexpr const char* kFile = "/etc/mb/test.toml";
constexpr const char* kStorage = "[storage]\npath = \"/var/lib/mb/mb.db\"\n";
constexpr const char* kBroker = "[brokers.local]\nhost = \"127.0.0.1\"\n";

struct ScaleOptions : ConnectorOptions {
    double scale = 1.0;
};

struct WhenOptions : JobOptions {
    std::string when;
};

// Types standing for the real rows: one MQTT type with an extra key, one
// non-MQTT type that takes jobs, one that derives its topics, one bare.
const ConnectorRegistry& test_registry() {
    static const ConnectorRegistry registry = [] {
        ConnectorRegistry r;

        ConnectorType mqtt;
        mqtt.type = "test-mqtt";
        mqtt.transport = Transport::mqtt;
        mqtt.parse_options = [](TableReader& reader,
                                ConnectorConfig&) -> std::shared_ptr<const ConnectorOptions> {
            auto o = std::make_shared<ScaleOptions>();
            if (auto s = reader.number("scale")) o->scale = *s;
            return o;
        };
        r.add(std::move(mqtt));

        ConnectorType jobs;
        jobs.type = "test-jobs";
        jobs.transport = Transport::local;
        jobs.parse_job = [](TableReader& reader,
                            const JobConfig&) -> std::shared_ptr<const JobOptions> {
            auto o = std::make_shared<WhenOptions>();
            if (auto w = reader.one_of("when", {"daily", "once"})) o->when = *w;
            return o;
        };
        r.add(std::move(jobs));

        ConnectorType derived;
        derived.type = "test-derived";
        derived.transport = Transport::mqtt;
        derived.parse_options =
            [](TableReader& reader,
               ConnectorConfig& connector) -> std::shared_ptr<const ConnectorOptions> {
            auto& topics = connector.topics;
            for (const auto& gw :
                 reader.string_list("gateways").value_or(std::vector<std::string>{}))
                topics.push_back("gateway_id/" + gw + "/#");
            return nullptr;
        };
        r.add(std::move(derived));

        ConnectorType bare;
        bare.type = "test-bare";
        bare.transport = Transport::mqtt;
        r.add(std::move(bare));
        return r;
    }();
    return registry;
}

LoadResult load(const std::string& text, const fs::path& file = kFile) {
    return load_config_text(text, file, test_registry());
}

std::vector<std::string> texts(const LoadResult& r) {
    std::vector<std::string> out;
    for (const auto& e : r.errors) out.push_back(e.to_string());
    return out;
}

std::string with_storage(const std::string& rest) {
    return std::string(kStorage) + rest;
}

std::string with_broker(const std::string& rest) {
    return std::string(kStorage) + kBroker + rest;
}

using test::ScopedEnv;
using test::TempDir;

fs::path write_file(const TempDir& dir, const std::string& name, const std::string& content) {
    const fs::path p = dir / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
}

// ---------------------------------------------------------------- valid files

TEST(Config, OnlyStorageIsValid) {
    const auto r = load(kStorage);
    ASSERT_THAT(texts(r), IsEmpty());
    ASSERT_TRUE(r.config);
    EXPECT_THAT(r.warnings, IsEmpty());
    const Config& c = *r.config;
    EXPECT_EQ(c.storage.path, fs::path("/var/lib/mb/mb.db"));
    EXPECT_EQ(c.storage.synchronous, SyncMode::full);
    EXPECT_EQ(c.storage.queue_capacity, StorageConfig{}.queue_capacity);
    EXPECT_EQ(c.storage.raw_retention, StorageConfig{}.raw_retention);
    EXPECT_EQ(c.log.level, "info");
    EXPECT_TRUE(c.brokers.empty());
    EXPECT_TRUE(c.connectors.empty());
    EXPECT_TRUE(c.jobs.empty());
    EXPECT_EQ(c.file, fs::path(kFile));
}

TEST(Config, FullValidFileIsLoaded) {
    const auto r = load(with_broker(R"toml(
[log]
level = "debug"

[[connectors]]
name = "meter-a"
type = "test-mqtt"
broker = "local"
topics = ["a/+/readings", "b/#"]
scale = 0.5
max_payload = "1MiB"

[[connectors]]
name = "spool"
type = "test-jobs"

[[jobs]]
name = "daily"
connector = "spool"
command = "fetch"
when = "daily"
)toml"));
    ASSERT_THAT(texts(r), IsEmpty());
    ASSERT_TRUE(r.config);
    const Config& c = *r.config;
    EXPECT_EQ(c.log.level, "debug");
    ASSERT_EQ(c.connectors.size(), 2u);
    const ConnectorConfig& m = c.connectors[0];
    EXPECT_EQ(m.name, "meter-a");
    EXPECT_EQ(m.broker, "local");
    EXPECT_THAT(m.topics, ElementsAre("a/+/readings", "b/#"));
    EXPECT_EQ(m.qos, 1);
    EXPECT_FALSE(m.clean_session);
    EXPECT_EQ(m.client_id, "meterbridge-meter-a");
    EXPECT_EQ(m.max_payload, 1024u * 1024u);
    EXPECT_EQ(m.line, 9u);
    const auto* opts = dynamic_cast<const ScaleOptions*>(m.options.get());
    ASSERT_NE(opts, nullptr);
    EXPECT_DOUBLE_EQ(opts->scale, 0.5);

    ASSERT_EQ(c.jobs.size(), 1u);
    EXPECT_EQ(c.jobs[0].connector, "spool");
    EXPECT_EQ(c.jobs[0].command, "fetch");
    const auto* when = dynamic_cast<const WhenOptions*>(c.jobs[0].options.get());
    ASSERT_NE(when, nullptr);
    EXPECT_EQ(when->when, "daily");
    EXPECT_THAT(c.jobs[0].fingerprint, HasSubstr("command = 'fetch'"));
}

TEST(Config, ExampleConfigLoads) {
    const fs::path example = fs::path(MB_SOURCE_DIR) / "etc" / "meterbridge.toml";
    const auto r = load_config(example, test_registry());
    ASSERT_THAT(texts(r), IsEmpty());
    ASSERT_TRUE(r.config);
    EXPECT_THAT(r.warnings, IsEmpty());
    EXPECT_EQ(r.config->storage.path, fs::path("/var/lib/meterbridge/meterbridge.db"));
    ASSERT_TRUE(r.config->brokers.contains("local"));
    EXPECT_EQ(r.config->brokers.at("local").tls, false);

    // The daemon loads it with the built-in types; its active part needs none.
    const auto builtin = load_config(example, builtin_registry());
    EXPECT_THAT(texts(builtin), IsEmpty());
}

// The commented examples must stay valid TOML: uncommenting them is what
// operators do first.
TEST(Config, ExampleConfigCommentedSettingsAreValidToml) {
    std::ifstream in(fs::path(MB_SOURCE_DIR) / "etc" / "meterbridge.toml");
    ASSERT_TRUE(in);
    std::string uncommented, line;
    int settings = 0;
    while (std::getline(in, line)) {
        if (line.size() > 1 && line[0] == '#' && line[1] != ' ' && line[1] != '#' &&
            line[1] != '-') {
            line.erase(0, 1);
            ++settings;
        }
        uncommented += line + "\n";
    }
    EXPECT_GT(settings, 40);
    try {
        const toml::table t = toml::parse(uncommented);
        const auto* connectors = t["connectors"].as_array();
        ASSERT_NE(connectors, nullptr);
        std::vector<std::string> types;
        for (const auto& c : *connectors)
            types.push_back((*c.as_table())["type"].value_or(std::string{}));
        // One example of every type of the registry, and of no other type.
        EXPECT_THAT(types, ::testing::UnorderedElementsAreArray(builtin_registry().type_names()));
    } catch (const toml::parse_error& e) {
        FAIL() << e.description() << " at " << e.source().begin;
    }
}

TEST(Config, LoadConfigMissingFileHasNoPosition) {
    const auto r = load_config("/nonexistent/meterbridge.toml", test_registry());
    ASSERT_THAT(r.errors, SizeIs(1));
    EXPECT_EQ(r.errors[0].line, 0u);
    EXPECT_FALSE(r.config);
    EXPECT_EQ(r.errors[0].to_string(),
              "/nonexistent/meterbridge.toml: cannot read the configuration: No such file or "
              "directory");
}

TEST(Config, LoadConfigReadsAFile) {
    TempDir dir;
    const fs::path file = write_file(dir, "mb.toml", "[storage]\npath = \"db/mb.db\"\n");
    const auto r = load_config(file, test_registry());
    ASSERT_THAT(texts(r), IsEmpty());
    EXPECT_EQ(r.config->storage.path, dir.path() / "db" / "mb.db");
}

// ------------------------------------------------------------------- errors

TEST(Config, SyntaxErrorReportsItsLine) {
    const auto r = load("[storage]\npath = \"/x.db\"\n\nbroken = \n");
    ASSERT_THAT(r.errors, SizeIs(1));
    EXPECT_FALSE(r.config);
    EXPECT_EQ(r.errors[0].file, kFile);
    EXPECT_EQ(r.errors[0].line, 4u);
    EXPECT_EQ(r.errors[0].key, "");
    EXPECT_THAT(r.errors[0].message, HasSubstr("expected value"));
}

TEST(Config, UnknownTopLevelKey) {
    // Before any [table] header: a key after [storage] would belong to it.
    const auto r = load("colour = \"red\"\n" + std::string(kStorage));
    EXPECT_THAT(texts(r), ElementsAre("/etc/mb/test.toml:1:1: colour: unknown key"));
    EXPECT_FALSE(r.config);
}

TEST(Config, UnknownNestedKeys) {
    const auto r = load(with_broker(R"toml(hots = "x"
[[connectors]]
name = "m"
type = "test-mqtt"
brokr = "local"
broker = "local"
topics = "t"
[storage.extra]
)toml"));
    EXPECT_THAT(texts(r), ElementsAre("/etc/mb/test.toml:5:1: brokers.local.hots: unknown key",
                                      "/etc/mb/test.toml:9:1: connectors[0].brokr: unknown key",
                                      "/etc/mb/test.toml:12:10: storage.extra: unknown key"));
}

TEST(Config, InlineSecretsAreRefused) {
    const auto r = load(with_broker(R"toml(username = "u"
password = "hunter2"
[[connectors]]
name = "m"
type = "test-mqtt"
broker = "local"
topics = "t"
token = "abc123"
)toml"));
    EXPECT_THAT(texts(r),
                ElementsAre("/etc/mb/test.toml:6:1: brokers.local.password: secrets are not "
                            "accepted inline; put it in a file and use password_file",
                            "/etc/mb/test.toml:12:1: connectors[0].token: secrets are not "
                            "accepted inline; put it in a file and use token_file"));
    for (const auto& t : texts(r)) {
        EXPECT_THAT(t, Not(HasSubstr("hunter2")));
        EXPECT_THAT(t, Not(HasSubstr("abc123")));
    }
}

TEST(Config, WrongTypes) {
    const auto r = load(R"toml([storage]
path = 5
queue_capacity = "many"
[brokers.local]
port = "1883"
tls = "yes"
)toml");
    EXPECT_THAT(
        texts(r),
        ElementsAre("/etc/mb/test.toml:2:8: storage.path: expected a string, got an integer",
                    "/etc/mb/test.toml:3:18: storage.queue_capacity: expected an integer, "
                    "got a string",
                    "/etc/mb/test.toml:5:8: brokers.local.port: expected an integer, got a "
                    "string",
                    "/etc/mb/test.toml:6:7: brokers.local.tls: expected a boolean (true or "
                    "false), got a string"));
}

TEST(Config, OutOfRangeValues) {
    const auto r = load(R"toml([storage]
path = "/x.db"
queue_capacity = 0
max_stored_payload = "17MiB"
batch_max_delay = "11s"
[brokers.local]
port = 70000
keepalive = "2s"
[[connectors]]
name = "m"
type = "test-mqtt"
broker = "local"
topics = "t"
qos = 3
max_payload = 0
)toml");
    const auto t = texts(r);
    ASSERT_THAT(t, SizeIs(7));
    EXPECT_EQ(
        t[0],
        "/etc/mb/test.toml:3:18: storage.queue_capacity: must be between 1 and 1000000 (got 0)");
    EXPECT_THAT(t[1],
                HasSubstr("storage.max_stored_payload: must be between 0 and 16777216 bytes"));
    EXPECT_THAT(t[2], HasSubstr("storage.batch_max_delay: must be between 0s and 10s (got 11s)"));
    EXPECT_THAT(t[3], HasSubstr("brokers.local.port: must be between 1 and 65535 (got 70000)"));
    EXPECT_THAT(t[4], HasSubstr("brokers.local.keepalive: must be between 5s and 65535s"));
    EXPECT_THAT(t[5], HasSubstr(":14:7: connectors[0].qos: must be between 0 and 2 (got 3)"));
    EXPECT_THAT(t[6], HasSubstr(":15:15: connectors[0].max_payload: must be between 1 and "
                                "16777216 bytes (got 0)"));
}

TEST(Config, ChoicesListTheAccepted) {
    const auto r = load(R"toml([storage]
path = "/x.db"
synchronous = "off"
[log]
level = "verbose"
)toml");
    EXPECT_THAT(texts(r),
                ElementsAre(HasSubstr("storage.synchronous: must be one of \"normal\", \"full\" "
                                      "(got 'off')"),
                            HasSubstr("log.level: must be one of \"trace\", \"debug\", \"info\", "
                                      "\"warn\", \"error\" (got 'verbose')")));
}

TEST(Config, MissingRequiredKeys) {
    const auto r =
        load(with_broker("[[connectors]]\ntype = \"test-mqtt\"\nbroker = \"local\"\n"
                         "topics = \"t\"\n[[jobs]]\nname = \"j\"\n"));
    EXPECT_THAT(texts(r),
                ElementsAre("/etc/mb/test.toml:5:1: connectors[0].name: missing required key",
                            "/etc/mb/test.toml:9:1: jobs[0].command: missing required key",
                            "/etc/mb/test.toml:9:1: jobs[0].connector: missing required key"));
}

TEST(Config, EmptyStoragePathIsAnError) {
    const auto r = load("[storage]\npath = \"\"\n");
    EXPECT_THAT(texts(r), ElementsAre("/etc/mb/test.toml:2:8: storage.path: must not be empty"));
}

TEST(Config, MissingStorageTable) {
    const auto r = load("[log]\nlevel = \"info\"\n");
    ASSERT_THAT(r.errors, SizeIs(1));
    EXPECT_EQ(r.errors[0].key, "storage");
    EXPECT_EQ(r.errors[0].message, "missing required table [storage]");
    EXPECT_FALSE(r.config);
}

TEST(Config, EmptyFileLacksStorage) {
    const auto r = load("");
    ASSERT_THAT(r.errors, SizeIs(1));
    EXPECT_EQ(r.errors[0].key, "storage");
}

TEST(Config, DanglingBrokerReference) {
    const auto r =
        load(with_broker("[[connectors]]\nname = \"m\"\ntype = \"test-mqtt\"\nbroker = "
                         "\"cloud\"\ntopics = \"t\"\n"));
    EXPECT_THAT(texts(r),
                ElementsAre("/etc/mb/test.toml:8:10: connectors[0].broker: broker 'cloud' "
                            "is not defined (defined brokers: local)"));
}

TEST(Config, MqttConnectorNeedsABroker) {
    const auto r =
        load(with_storage("[[connectors]]\nname = \"m\"\ntype = \"test-mqtt\"\ntopics = \"t\"\n"));
    EXPECT_THAT(texts(r), ElementsAre(HasSubstr("connectors[0].broker: missing required key")));
}

TEST(Config, BrokerNotAllowedForOtherTransports) {
    const auto r = load(with_broker(
        "[[connectors]]\nname = \"s\"\ntype = \"test-jobs\"\nbroker = \"local\"\nqos = 1\n"));
    EXPECT_THAT(texts(r),
                ElementsAre(HasSubstr("connectors[0].broker: only MQTT connector types use broker; "
                                      "type 'test-jobs' uses local"),
                            HasSubstr("connectors[0].qos: only MQTT connector types use qos")));
}

TEST(Config, UnknownConnectorTypeListsKnownTypes) {
    const auto r =
        load(with_broker("[[connectors]]\nname = \"m\"\ntype = \"voltawre\"\n"
                         "broker = \"local\"\nwhatever = 1\n"));
    // Only the type is reported: its own keys cannot be judged without it.
    EXPECT_THAT(texts(r),
                ElementsAre("/etc/mb/test.toml:7:8: connectors[0].type: unknown connector "
                            "type 'voltawre' (known types: test-bare, test-derived, "
                            "test-jobs, test-mqtt)"));
}

TEST(Config, DuplicateConnectorName) {
    const auto r = load(with_broker(R"toml([[connectors]]
name = "m"
type = "test-mqtt"
broker = "local"
topics = "a"
[[connectors]]
name = "m"
type = "test-mqtt"
broker = "local"
topics = "b"
client_id = "other"
)toml"));
    EXPECT_THAT(texts(r), ElementsAre("/etc/mb/test.toml:11:8: connectors[1].name: duplicate "
                                      "connector name 'm' (first defined at line 5)"));
}

TEST(Config, InvalidConnectorName) {
    const auto r =
        load(with_broker("[[connectors]]\nname = \"my meter\"\ntype = \"test-mqtt\"\nbroker = "
                         "\"local\"\ntopics = \"t\"\n"));
    EXPECT_THAT(texts(r), ElementsAre(HasSubstr("connectors[0].name: may only contain")));
}

TEST(Config, ClientIdsAreUniquePerBroker) {
    const auto r = load(with_broker(R"toml([brokers.other]
host = "localhost"
[[connectors]]
name = "a"
type = "test-mqtt"
broker = "local"
topics = "a"
client_id = "shared"
[[connectors]]
name = "b"
type = "test-mqtt"
broker = "other"
topics = "b"
client_id = "shared"
[[connectors]]
name = "c"
type = "test-mqtt"
broker = "local"
topics = "c"
client_id = "shared"
)toml"));
    EXPECT_THAT(texts(r),
                ElementsAre("/etc/mb/test.toml:24:13: connectors[2].client_id: client id "
                            "'shared' is already used by connector 'a' on broker 'local'; "
                            "the broker would disconnect one whenever the other connects"));
}

TEST(Config, InvalidTopicFilters) {
    const auto r = load(with_broker(R"toml([[connectors]]
name = "m"
type = "test-mqtt"
broker = "local"
topics = ["ok/+/x/#", "", "a/#/b", "a#", "a/b+", "+", "#", "nul\u0000here", 7]
)toml"));
    EXPECT_THAT(r.errors, SizeIs(6));
    EXPECT_THAT(
        texts(r),
        ElementsAre(HasSubstr(":9:23: connectors[0].topics[1]: an empty topic filter"),
                    HasSubstr("connectors[0].topics[2]: '#' is only allowed as the last level"),
                    HasSubstr("connectors[0].topics[3]: '#' must be a whole level"),
                    HasSubstr("connectors[0].topics[4]: '+' must be a whole level"),
                    HasSubstr("connectors[0].topics[7]: a topic filter cannot contain NUL"),
                    HasSubstr("connectors[0].topics[8]: expected a string, got an integer")));
}

TEST(Config, TopicFilterRules) {
    EXPECT_EQ(mqtt_filter_problem("sport/tennis/+/#"), "");
    EXPECT_EQ(mqtt_filter_problem("/up/+/id/#"), "");
    EXPECT_EQ(mqtt_filter_problem("a//b"), "");
    EXPECT_EQ(mqtt_filter_problem("$SYS/#"), "");
    EXPECT_NE(mqtt_filter_problem("#/a"), "");
    EXPECT_NE(mqtt_filter_problem("a/+b"), "");
    EXPECT_NE(mqtt_filter_problem(std::string(65536, 'a')), "");
    EXPECT_EQ(mqtt_filter_problem(std::string(65535, 'a')), "");
}

TEST(Config, MqttConnectorNeedsTopics) {
    const auto r = load(with_broker(R"toml([[connectors]]
name = "a"
type = "test-mqtt"
broker = "local"
[[connectors]]
name = "b"
type = "test-mqtt"
broker = "local"
topics = []
)toml"));
    EXPECT_THAT(texts(r),
                ElementsAre(HasSubstr(":5:1: connectors[0].topics: missing required key"),
                            HasSubstr(":13:10: connectors[1].topics: must not be empty")));
}

TEST(Config, TypeMayDeriveItsTopics) {
    const auto r = load(with_broker(R"toml([[connectors]]
name = "gw"
type = "test-derived"
broker = "local"
gateways = ["gw-1", "gw-2"]
[[connectors]]
name = "none"
type = "test-derived"
broker = "local"
)toml"));
    EXPECT_THAT(texts(r), ElementsAre(HasSubstr("connectors[1].topics: missing required key")));
    ASSERT_FALSE(r.config);
    const auto ok =
        load(with_broker("[[connectors]]\nname = \"gw\"\ntype = \"test-derived\"\nbroker = "
                         "\"local\"\ngateways = \"g\"\n"));
    ASSERT_THAT(texts(ok), IsEmpty());
    EXPECT_THAT(ok.config->connectors[0].topics, ElementsAre("gateway_id/g/#"));
}

TEST(Config, PlaintextToNonLoopbackHost) {
    // A remote host on the plaintext port without an explicit `tls` is ambiguous.
    const auto bad =
        load(with_storage("[brokers.cloud]\nhost = \"mqtt.example.org\"\nport = 1883\n"));
    EXPECT_THAT(texts(bad),
                ElementsAre(AllOf(HasSubstr(":5:8: brokers.cloud.port:"),
                                  HasSubstr("write tls = false to connect in plaintext"))));

    // Unset tls is on for remote hosts, with the TLS port by default.
    const auto remote = load(with_storage("[brokers.cloud]\nhost = \"mqtt.example.org\"\n"));
    ASSERT_THAT(texts(remote), IsEmpty());
    EXPECT_EQ(remote.config->brokers.at("cloud").tls, true);
    EXPECT_EQ(remote.config->brokers.at("cloud").port, 8883);

    // Explicit plaintext is accepted, with a warning.
    const auto plain =
        load(with_storage("[brokers.cloud]\nhost = \"10.0.0.5\"\nport = 1883\ntls = false\n"));
    ASSERT_THAT(texts(plain), IsEmpty());
    EXPECT_EQ(plain.config->brokers.at("cloud").tls, false);
    EXPECT_THAT(plain.warnings, ElementsAre(HasSubstr("/etc/mb/test.toml:6:7: brokers.cloud.tls: "
                                                      "plaintext MQTT to '10.0.0.5'")));

    // Loopback hosts default to plaintext on 1883.
    for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"}) {
        const auto local =
            load(with_storage(std::string("[brokers.l]\nhost = \"") + host + "\"\nport = 1883\n"));
        ASSERT_THAT(texts(local), IsEmpty()) << host;
        EXPECT_EQ(local.config->brokers.at("l").tls, false) << host;
        EXPECT_THAT(local.warnings, IsEmpty()) << host;
    }
    const auto not_local = load(with_storage("[brokers.l]\nhost = \"128.0.0.1\"\nport = 1883\n"));
    EXPECT_THAT(texts(not_local), SizeIs(1));
}

TEST(Config, TlsInsecureWarns) {
    const auto r =
        load(with_storage("[brokers.b]\nhost = \"localhost\"\ntls = true\ntls_insecure = true\n"));
    ASSERT_THAT(texts(r), IsEmpty());
    EXPECT_TRUE(r.config->brokers.at("b").tls_insecure);
    EXPECT_THAT(r.warnings,
                ElementsAre(AllOf(HasSubstr("/etc/mb/test.toml:6:16: brokers.b.tls_insecure:"),
                                  HasSubstr("not verified"))));

    const auto no_tls =
        load(with_storage("[brokers.b]\nhost = \"localhost\"\ntls_insecure = true\n"));
    EXPECT_THAT(texts(no_tls), ElementsAre(HasSubstr("brokers.b.tls_insecure: requires TLS")));
}

TEST(Config, QosTwoWarns) {
    const auto r =
        load(with_broker("[[connectors]]\nname = \"m\"\ntype = \"test-mqtt\"\nbroker = "
                         "\"local\"\ntopics = \"t\"\nqos = 2\n"));
    ASSERT_THAT(texts(r), IsEmpty());
    EXPECT_EQ(r.config->connectors[0].qos, 2);
    EXPECT_THAT(r.warnings,
                ElementsAre(AllOf(HasSubstr(":10:7: connectors[0].qos: qos = 2:"),
                                  HasSubstr("libmosquitto"), HasSubstr("qos = 1 is recommended"))));
}

TEST(Config, CleanSessionWarns) {
    const auto r =
        load(with_broker("[[connectors]]\nname = \"m\"\ntype = \"test-mqtt\"\n"
                         "broker = \"local\"\ntopics = \"t\"\nclean_session = true\n"));
    ASSERT_THAT(texts(r), IsEmpty());
    EXPECT_THAT(r.warnings,
                ElementsAre(HasSubstr("messages published while the daemon is down are lost")));
}

TEST(Config, MissingCaFile) {
    TempDir dir;
    const fs::path ca = write_file(dir, "ca.pem", "-----BEGIN CERTIFICATE-----\n");
    const auto missing =
        load(with_storage("[brokers.b]\nhost = \"mqtt.example.org\"\n"
                          "ca_file = \"/nonexistent/ca.pem\"\n"));
    EXPECT_THAT(texts(missing), ElementsAre("/etc/mb/test.toml:5:11: brokers.b.ca_file: "
                                            "'/nonexistent/ca.pem' does not exist"));

    const auto present =
        load(with_storage("[brokers.b]\nhost = \"mqtt.example.org\"\nca_file = \"" + ca.string() +
                          "\"\nca_path = \"" + dir.path().string() + "\"\n"));
    ASSERT_THAT(texts(present), IsEmpty());
    EXPECT_EQ(present.config->brokers.at("b").ca_file, ca.string());

    // Relative names are taken next to the config file.
    const auto relative = load(with_storage("[brokers.b]\nhost = \"mqtt.example.org\"\n"
                                            "ca_file = \"ca.pem\"\n"),
                               dir.path() / "mb.toml");
    ASSERT_THAT(texts(relative), IsEmpty());
    EXPECT_EQ(relative.config->brokers.at("b").ca_file, ca.string());

    const auto wrong_kind =
        load(with_storage("[brokers.b]\nhost = \"mqtt.example.org\"\nca_path = \"" + ca.string() +
                          "\"\ncert_file = \"" + ca.string() + "\"\n"));
    EXPECT_THAT(
        texts(wrong_kind),
        ElementsAre(HasSubstr("brokers.b.ca_path: '" + ca.string() + "' is not a directory"),
                    HasSubstr("brokers.b.cert_file: requires key_file")));

    // TLS files on a broker without TLS would be silently ignored otherwise.
    const auto tls_off = load(
        with_storage("[brokers.b]\nhost = \"127.0.0.1\"\nca_file = \"" + ca.string() + "\"\n"));
    EXPECT_THAT(texts(tls_off), ElementsAre(HasSubstr("brokers.b.ca_file: is only used with TLS")));
}

TEST(Config, PasswordFileUsesCredentialsDirectory) {
    TempDir creds;
    write_file(creds, "mqtt.pass", "s3cret\n");
    const std::string broker =
        "[brokers.b]\nhost = \"localhost\"\nusername = \"u\"\n"
        "password_file = \"mqtt.pass\"\n";
    {
        ScopedEnv env("CREDENTIALS_DIRECTORY", creds.path().string());
        const auto r = load(with_storage(broker));
        ASSERT_THAT(texts(r), IsEmpty());
        EXPECT_EQ(r.config->brokers.at("b").password_file, "mqtt.pass");
    }
    {
        ScopedEnv env("CREDENTIALS_DIRECTORY", (creds.path() / "elsewhere").string());
        const auto r = load(with_storage(broker));
        EXPECT_THAT(texts(r),
                    ElementsAre(HasSubstr("brokers.b.password_file: '" +
                                          (creds.path() / "elsewhere" / "mqtt.pass").string() +
                                          "' does not exist")));
    }
    const auto no_user = load(with_storage("[brokers.b]\nhost = \"localhost\"\npassword_file = \"" +
                                           (creds.path() / "mqtt.pass").string() + "\"\n"));
    EXPECT_THAT(texts(no_user), ElementsAre(HasSubstr("password_file: requires username")));
}

TEST(Config, JobOnATypeThatTakesNoJobs) {
    const auto r = load(with_broker(R"toml([[connectors]]
name = "m"
type = "test-mqtt"
broker = "local"
topics = "t"
[[jobs]]
name = "j"
connector = "m"
command = "go"
)toml"));
    EXPECT_THAT(texts(r), ElementsAre("/etc/mb/test.toml:12:13: jobs[0].connector: connector 'm' "
                                      "(type 'test-mqtt') takes no jobs"));
}

TEST(Config, DanglingJobConnector) {
    const auto r =
        load(with_storage("[[jobs]]\nname = \"j\"\nconnector = \"enedis\"\ncommand = \"go\"\n"));
    EXPECT_THAT(texts(r), ElementsAre("/etc/mb/test.toml:5:13: jobs[0].connector: connector "
                                      "'enedis' is not defined in [[connectors]]"));
}

TEST(Config, JobKeysAreJudgedByTheType) {
    const auto r = load(with_storage(R"toml([[connectors]]
name = "s"
type = "test-jobs"
[[jobs]]
name = "j"
connector = "s"
command = "go"
when = "never"
extra = 1
[[jobs]]
name = "j"
connector = "s"
command = "go"
)toml"));
    EXPECT_THAT(texts(r),
                ElementsAre(HasSubstr(":10:8: jobs[0].when: must be one of \"daily\", \"once\""),
                            HasSubstr(":11:1: jobs[0].extra: unknown key"),
                            HasSubstr(":13:8: jobs[1].name: duplicate job name 'j'")));
}

TEST(Config, Durations) {
    const std::vector<std::pair<std::string, std::chrono::milliseconds>> valid{
        {"50ms", 50ms},
        {"10s", 10s},
        {"5m", 5min},
        {"6h", 6h},
        {"30d", 24h * 30},
        {"0s", 0ms},
        {"0", 0ms},  // zero needs no unit; any other number does
        {"PT30S", 30s},
        {"PT5M", 5min},
        {"PT1H30M", 90min},
        {"P1D", 24h},
        {"P1DT6H", 30h},
        {"P2W", 24h * 14},
        {"P1M", 24h * 30},
        {"P1Y", 24h * 365},
        {"P365D", 24h * 365},
        {"PT0.5S", 500ms},
        {"P1Y2M3DT4H5M6S", 24h * (365 + 60 + 3) + 4h + 5min + 6s},
    };
    for (const auto& [text, expected] : valid) {
        const auto d = parse_duration(text);
        ASSERT_TRUE(d) << text;
        EXPECT_EQ(*d, expected) << text;
    }
    for (const char* text : {"",
                             "10",
                             "00",
                             "1",
                             "s",
                             "10 s",
                             "1.5h",
                             "-5s",
                             "10sec",
                             "P",
                             "PT",
                             "P1DT",
                             "P1H",
                             "PT1D",
                             "P1D2Y",
                             "p1d",
                             "PT1.5M",
                             "PT0.0001S",
                             "99999999999999999999s",
                             "P9999999999999999Y"})
        EXPECT_FALSE(parse_duration(text)) << text;

    const auto r = load(with_storage("batch_max_delay = \"soon\"\nraw_retention = 30\n"));
    EXPECT_THAT(
        texts(r),
        ElementsAre(AllOf(HasSubstr(":3:19: storage.batch_max_delay: invalid duration 'soon'"),
                          HasSubstr("\"PT30S\""), HasSubstr("\"50ms\""), HasSubstr("\"30d\"")),
                    AllOf(HasSubstr(":4:17: storage.raw_retention: 30 is not a duration"),
                          HasSubstr("\"30d\""), HasSubstr("\"PT30S\""))));

    const auto ok =
        load(with_storage("raw_retention = \"0s\"\nbatch_max_delay = \"PT0.2S\"\n"
                          "[brokers.b]\nkeepalive = \"PT1M\"\n"));
    ASSERT_THAT(texts(ok), IsEmpty());
    EXPECT_EQ(ok.config->storage.raw_retention, 0h);
    EXPECT_EQ(ok.config->storage.batch_max_delay, 200ms);
    EXPECT_EQ(ok.config->brokers.at("b").keepalive, 60s);

    const auto partial_hours = load(with_storage("raw_retention = \"90m\"\n"));
    EXPECT_THAT(texts(partial_hours), ElementsAre(HasSubstr("whole number of hours")));
}

// The documentation says `raw_retention = 0` keeps no payload: 0, written as an
// integer or as the string "0", is the zero duration of every duration key
// (they are all read by TableReader::duration); no other bare number is.
TEST(Config, ZeroIsADurationWithoutAUnit) {
    for (const char* zero : {"0", "\"0\""}) {
        const auto r = load(
            with_storage(fmt::format("raw_retention = {}\nbatch_max_delay = {}\n", zero, zero)));
        ASSERT_THAT(texts(r), IsEmpty()) << zero;
        EXPECT_EQ(r.config->storage.raw_retention, 0h) << zero;
        EXPECT_EQ(r.config->storage.batch_max_delay, 0ms) << zero;
    }
    // A key with a lower bound says so, not that 0 is no duration.
    const auto keepalive = load(with_storage("[brokers.b]\nkeepalive = 0\n"));
    EXPECT_THAT(texts(keepalive),
                ElementsAre(HasSubstr("brokers.b.keepalive: must be between 5s and 65535s")));
    // Any other integer, and a float, names the key and the accepted forms.
    const auto other = load(with_storage("raw_retention = 7\nbatch_max_delay = 0.5\n"));
    EXPECT_THAT(
        texts(other),
        ElementsAre(AllOf(HasSubstr("storage.raw_retention: 7 is not a duration"),
                          HasSubstr("\"P30D\""), HasSubstr("\"10s\""), HasSubstr("0 alone")),
                    AllOf(HasSubstr("storage.batch_max_delay: expected a duration"),
                          HasSubstr("got a float"), HasSubstr("\"P30D\""))));
}

TEST(Config, Sizes) {
    const auto ok = load(with_storage("max_stored_payload = \"16MiB\"\n"));
    ASSERT_THAT(texts(ok), IsEmpty());
    EXPECT_EQ(ok.config->storage.max_stored_payload, 16u * 1024u * 1024u);
    const auto bad = load(with_storage("max_stored_payload = \"16MB\"\n"));
    EXPECT_THAT(texts(bad),
                ElementsAre(HasSubstr("storage.max_stored_payload: invalid size '16MB'")));
}

TEST(Config, CacheSize) {
    const auto def = load(with_storage(""));
    ASSERT_THAT(texts(def), IsEmpty());
    EXPECT_EQ(def.config->storage.cache_size, 4u * 1024u * 1024u);
    const auto ok = load(with_storage("cache_size = \"64MiB\"\n"));
    ASSERT_THAT(texts(ok), IsEmpty());
    EXPECT_EQ(ok.config->storage.cache_size, 64u * 1024u * 1024u);
    EXPECT_THAT(texts(load(with_storage("cache_size = \"100KiB\"\n"))),
                ElementsAre(HasSubstr("storage.cache_size: must be between 262144 and")));
    EXPECT_THAT(texts(load(with_storage("cache_size = \"2GiB\"\n"))),
                ElementsAre(HasSubstr("storage.cache_size: must be between")));
}

TEST(Config, RelativeStoragePathResolvesNextToTheFile) {
    const auto r = load("[storage]\npath = \"data/../db/mb.db\"\n", "/etc/meterbridge/mb.toml");
    ASSERT_THAT(texts(r), IsEmpty());
    EXPECT_EQ(r.config->storage.path, fs::path("/etc/meterbridge/db/mb.db"));

    const auto cwd_file = load("[storage]\npath = \"mb.db\"\n", "mb.toml");
    ASSERT_THAT(texts(cwd_file), IsEmpty());
    EXPECT_EQ(cwd_file.config->storage.path, fs::current_path() / "mb.db");

    const auto absolute = load("[storage]\npath = \"/srv/mb.db\"\n", "/etc/meterbridge/mb.toml");
    EXPECT_EQ(absolute.config->storage.path, fs::path("/srv/mb.db"));
}

TEST(Config, AllErrorsAreReported) {
    const auto r = load(R"toml([storage]
path = "/x.db"
queue_capacity = -1
[brokers.local]
prot = 1883
[[connectors]]
name = "m"
type = "test-mqtt"
broker = "nowhere"
topics = "t"
)toml");
    EXPECT_FALSE(r.config);
    EXPECT_THAT(texts(r), ElementsAre(HasSubstr(":3:18: storage.queue_capacity:"),
                                      HasSubstr(":5:1: brokers.local.prot: unknown key"),
                                      HasSubstr(":9:10: connectors[0].broker: broker 'nowhere'")));
}

TEST(Config, FingerprintFollowsTheConnectorAndItsBroker) {
    const std::string connector =
        "[[connectors]]\nname = \"m\"\ntype = \"test-mqtt\"\nbroker = \"local\"\ntopics = \"t\"\n";
    const auto a = load(with_broker(connector));
    const auto b = load(with_broker(connector + "qos = 0\n"));
    const auto c =
        load(std::string(kStorage) + "[brokers.local]\nhost = \"127.0.0.2\"\n" + connector);
    const auto d = load(with_broker("[log]\nlevel = \"debug\"\n" + connector));
    ASSERT_TRUE(a.config && b.config && c.config && d.config);
    const auto& fa = a.config->connectors[0].fingerprint;
    EXPECT_NE(fa, b.config->connectors[0].fingerprint);
    EXPECT_NE(fa, c.config->connectors[0].fingerprint);
    EXPECT_EQ(fa, d.config->connectors[0].fingerprint);  // unrelated tables do not restart it
    EXPECT_EQ(a.config->connectors[0].line, 5u);
    EXPECT_EQ(d.config->connectors[0].line, 7u);
}

TEST(Config, ErrorTextWithoutPosition) {
    ConfigError e{"x.toml", 0, 0, "", "cannot read the configuration: denied"};
    EXPECT_EQ(e.to_string(), "x.toml: cannot read the configuration: denied");
    ConfigError k{"x.toml", 12, 1, "connectors[1].brokr", "unknown key"};
    EXPECT_EQ(k.to_string(), "x.toml:12:1: connectors[1].brokr: unknown key");
}

TEST(TableReader, ChildPathsAndQuotedKeys) {
    const toml::table t = toml::parse(R"toml(
[outer]
"odd key" = 1
[outer.inner]
value = "x"
)toml");
    std::vector<ConfigError> errors;
    std::vector<std::string> warnings;
    TableReader root(t, "", "f.toml", errors, warnings);
    const toml::table* outer = root.table("outer");
    ASSERT_NE(outer, nullptr);
    TableReader o = root.child(*outer, "outer");
    EXPECT_EQ(o.key_path("odd key"), "outer.\"odd key\"");
    const toml::table* inner = o.table("inner");
    ASSERT_NE(inner, nullptr);
    EXPECT_EQ(o.child(*inner, "inner").path(), "outer.inner");
    EXPECT_EQ(o.child(*inner, "outer.inner").path(), "outer.inner");
    EXPECT_EQ(o.child(*inner, "[0]").path(), "outer[0]");
    o.finish();
    o.finish();  // a second call reports nothing twice
    EXPECT_THAT(errors, SizeIs(1));
    EXPECT_EQ(errors[0].to_string(), "f.toml:3:1: outer.\"odd key\": unknown key");
}

// --------------------------------------------------------------------- registry

TEST(Registry, FindsRowsAndRejectsDuplicates) {
    ConnectorRegistry r;
    ConnectorType a;
    a.type = "b-type";
    r.add(a);
    a.type = "a-type";
    a.transport = Transport::xmpp;
    r.add(a);
    EXPECT_THAT(r.type_names(), ElementsAre("a-type", "b-type"));
    ASSERT_NE(r.find("a-type"), nullptr);
    EXPECT_EQ(r.find("a-type")->transport, Transport::xmpp);
    EXPECT_EQ(r.find("c-type"), nullptr);
    EXPECT_THROW(r.add(a), std::logic_error);
    EXPECT_THROW(r.add(ConnectorType{}), std::logic_error);
}

TEST(Registry, StateNames) {
    EXPECT_EQ(to_string(ConnectorState::starting), "starting");
    EXPECT_EQ(to_string(ConnectorState::running), "running");
    EXPECT_EQ(to_string(ConnectorState::reconnecting), "reconnecting");
    EXPECT_EQ(to_string(ConnectorState::stopped), "stopped");
    EXPECT_EQ(to_string(ConnectorState::failed), "failed");
}

// ---------------------------------------------------------------------- secrets

TEST(Secret, ReadsFromCredentialsDirectory) {
    TempDir creds;
    write_file(creds, "mqtt.pass", "s3cret\n");
    write_file(creds, "two-lines", "s3cret\n\n");
    write_file(creds, "crlf", "s3cret\r\n");
    ScopedEnv env("CREDENTIALS_DIRECTORY", creds.path().string());
    EXPECT_EQ(resolve_secret_path("mqtt.pass"), creds.path() / "mqtt.pass");
    EXPECT_EQ(read_secret_file("mqtt.pass"), "s3cret");
    EXPECT_EQ(read_secret_file("two-lines"), "s3cret\n");  // only one newline is stripped
    EXPECT_EQ(read_secret_file("crlf"), "s3cret");
    // A path with a '/' is used as written.
    EXPECT_EQ(resolve_secret_path("./mqtt.pass"), fs::path("./mqtt.pass"));
    EXPECT_EQ(read_secret_file((creds.path() / "mqtt.pass").string()), "s3cret");
}

// What check-config says of a secret file, without reading the secret: every
// case in which read_secret_file() would fail when the daemon starts.
TEST(Secret, ProblemsAreFoundWithoutReadingTheSecret) {
    TempDir dir;
    write_file(dir, "ok", "s3cret\n");
    write_file(dir, "empty", "");
    write_file(dir, "newline", "\r\n");
    write_file(dir, "big", std::string(65 * 1024, 'x'));
    fs::create_directory(dir / "dir");
    ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
    ScopedEnv env("CREDENTIALS_DIRECTORY", dir.path().string());
    const auto at = [&](const char* name) { return "'" + (dir / name).string() + "'"; };
    EXPECT_EQ(secret_file_problem("ok"), "");
    EXPECT_EQ(secret_file_problem((dir / "ok").string()), "");
    EXPECT_EQ(secret_file_problem(""), "must not be empty");
    EXPECT_EQ(secret_file_problem("missing"), at("missing") + " does not exist");
    EXPECT_EQ(secret_file_problem("empty"), at("empty") + " is empty");
    EXPECT_EQ(secret_file_problem("newline"), at("newline") + " is empty");
    EXPECT_EQ(secret_file_problem("dir"), at("dir") + " is a directory, expected a file");
    EXPECT_EQ(secret_file_problem("big"),
              at("big") + " is larger than 65536 bytes; is it the right file?");
    EXPECT_EQ(secret_file_problem("fifo"), "");  // opened without waiting for a writer
    for (const char* name : {"empty", "newline", "big", "dir"})
        EXPECT_THROW((void)read_secret_file(name), std::runtime_error) << name;
    if (::geteuid() != 0) {  // root reads anything
        fs::permissions(dir / "ok", fs::perms::none);
        EXPECT_EQ(secret_file_problem("ok"), at("ok") + " is not readable: Permission denied");
    }
    ScopedEnv unset("CREDENTIALS_DIRECTORY", "");
    EXPECT_THAT(secret_file_problem("surely-not-here.pass"),
                HasSubstr("($CREDENTIALS_DIRECTORY is not set, so the name is taken in the "
                          "current directory)"));
}

TEST(Secret, WithoutCredentialsDirectoryNamesAreRelative) {
    ScopedEnv env("CREDENTIALS_DIRECTORY", "");
    EXPECT_EQ(resolve_secret_path("mqtt.pass"), fs::path("mqtt.pass"));
}

TEST(Secret, ErrorsNeverContainTheSecret) {
    TempDir dir;
    const std::string secret = "hunter2-very-secret";
    std::string big = secret;
    while (big.size() <= 70 * 1024) big += secret;
    write_file(dir, "big", big);
    write_file(dir, "empty", "\n");
    ScopedEnv env("CREDENTIALS_DIRECTORY", dir.path().string());

    for (const char* name : {"big", "empty", "missing"}) {
        try {
            (void)read_secret_file(name);
            ADD_FAILURE() << name << ": no exception";
        } catch (const std::runtime_error& e) {
            const std::string what = e.what();
            EXPECT_THAT(what, HasSubstr((dir.path() / name).string())) << name;
            EXPECT_THAT(what, Not(HasSubstr("hunter2"))) << name;
        }
    }
    EXPECT_THROW((void)read_secret_file(""), std::runtime_error);
    EXPECT_THROW((void)read_secret_file(dir.path().string()), std::runtime_error);
}

}  // namespace
}  // namespace mb
