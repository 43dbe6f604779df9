// The shipped etc/meterbridge.toml: its active part loads, and every
// commented EXAMPLE block of a built-in connector type loads too once
// uncommented, so the examples cannot drift away from the code.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include <gmock/gmock.h>

#include <fmt/format.h>

#include "connectors/builtin.h"
#include "connectors/mqtt/mqtt_config.h"
#include "connectors/registry.h"
#include "daemon/config.h"
#include "tests/support/scoped_env.h"
#include "tests/support/temp_dir.h"

namespace mb {
namespace {

using ::testing::ElementsAre;

std::string example_text() {
    std::ifstream in(std::string(MB_SOURCE_DIR) + "/etc/meterbridge.toml");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

struct Block {
    std::string title;
    std::string toml;  // uncommented
    std::string type;
};

// "# EXAMPLE — ..." starts a block; its lines "#key = ..." / "#[table]" are settings.
std::vector<Block> example_blocks(const std::string& text) {
    std::vector<Block> blocks;
    std::istringstream in(text);
    std::string line;
    const std::regex setting(R"(^#([A-Za-z_\[].*)$)");
    const std::regex type_line(R"re(^type = "([^"]+)")re");
    while (std::getline(in, line)) {
        if (line.starts_with("# EXAMPLE")) {
            blocks.push_back(Block{line, "", ""});
            continue;
        }
        if (blocks.empty()) continue;
        if (line.empty()) continue;
        std::smatch m;
        if (std::regex_match(line, m, setting)) {
            std::string uncommented = m[1];
            std::smatch t;
            if (std::regex_search(uncommented, t, type_line)) blocks.back().type = t[1];
            blocks.back().toml += uncommented + "\n";
        }
    }
    return blocks;
}

TEST(ExampleConfig, ActivePartLoads) {
    auto r = load_config(std::string(MB_SOURCE_DIR) + "/etc/meterbridge.toml", builtin_registry());
    for (const auto& e : r.errors) ADD_FAILURE() << e.to_string();
    EXPECT_TRUE(r.config.has_value());
}

TEST(ExampleConfig, EveryBuiltinConnectorExampleLoadsWhenUncommented) {
    const auto blocks = example_blocks(example_text());
    test::TempDir dir;
    std::ofstream(dir / "akenza-uplink.secret") << "an-uplink-secret-value\n";
    std::ofstream(dir / "xmpp.pass") << "an-xmpp-password\n";
    // As under systemd: bare secret names are looked up in $CREDENTIALS_DIRECTORY.
    ::setenv("CREDENTIALS_DIRECTORY", dir.path().c_str(), 1);
    int checked = 0;
    for (const auto& b : blocks) {
        if (b.type.empty() || !builtin_registry().find(b.type)) continue;
        std::string toml =
            "[storage]\npath = \"x.db\"\n\n[brokers.local]\nhost = \"127.0.0.1\"\n\n" + b.toml;
        // Secrets and directories of the examples live next to the test's file.
        toml = std::regex_replace(toml, std::regex(R"re(directory = "[^"]*")re"),
                                  "directory = \"spool\"");
        auto r = load_config_text(toml, dir / "example.toml", builtin_registry());
        for (const auto& e : r.errors)
            ADD_FAILURE() << b.title << "\n" << e.to_string() << "\n" << toml;
        ++checked;
    }
    ::unsetenv("CREDENTIALS_DIRECTORY");
    // voltaware, ainsite, ainsite-gateway, akenza, canonical, spool
    EXPECT_GE(checked, 6);
}

// `check-config` (and SIGHUP, and start-up) refuse a secret file the daemon
// could not read: for every connector type of the registry, each `*_file` key
// of its example that names a secret, and the broker's password_file for the
// MQTT types. Missing and empty files are errors at their key.
TEST(ExampleConfig, EverySecretFileOfEveryConnectorTypeMustBeReadable) {
    const auto blocks = example_blocks(example_text());
    test::TempDir dir;
    std::ofstream(dir / "akenza-uplink.secret") << "an-uplink-secret-value\n";
    std::ofstream(dir / "xmpp.pass") << "an-xmpp-password\n";
    std::ofstream(dir / "broker.pass") << "a-broker-password\n";
    std::ofstream(dir / "empty.secret") << "";
    test::ScopedEnv env("CREDENTIALS_DIRECTORY", dir.path().string());
    const std::regex secret_key(R"re(^(\w*(password|secret|token|credential)\w*_file) = .*$)re");

    const auto errors_at = [&](const std::string& toml, const std::string& key) {
        std::vector<std::string> out;
        for (const auto& e :
             load_config_text(toml, dir / "example.toml", builtin_registry()).errors)
            out.push_back(e.key == key && e.line > 0 ? e.message : e.to_string());
        return out;
    };
    const std::string missing = "'" + (dir / "missing.secret").string() + "' does not exist";
    const std::string empty = "'" + (dir / "empty.secret").string() + "' is empty";

    for (const std::string& type : builtin_registry().type_names()) {
        SCOPED_TRACE(type);
        const auto b = std::find_if(blocks.begin(), blocks.end(),
                                    [&](const Block& x) { return x.type == type; });
        ASSERT_NE(b, blocks.end()) << "etc/meterbridge.toml has no EXAMPLE block of this type";
        const std::string head =
            "[storage]\npath = \"x.db\"\n\n[brokers.local]\nhost = \"127.0.0.1\"\nusername = "
            "\"u\"\npassword_file = \"broker.pass\"\n\n";
        const std::string body = std::regex_replace(
            b->toml, std::regex(R"re(directory = "[^"]*")re"), "directory = \"spool\"");
        ASSERT_THAT(errors_at(head + body, ""), ::testing::IsEmpty());

        int checked = 0;
        std::istringstream lines(body);
        std::string line;
        while (std::getline(lines, line)) {
            std::smatch m;
            if (!std::regex_match(line, m, secret_key)) continue;
            const std::string key = m[1];
            for (const auto& [name, why] :
                 {std::pair{"missing.secret", missing}, std::pair{"empty.secret", empty}}) {
                std::string bad = body;
                bad.replace(bad.find(line), line.size(), key + " = \"" + name + "\"");
                EXPECT_THAT(errors_at(head + bad, "connectors[0]." + key), ElementsAre(why)) << bad;
            }
            ++checked;
        }
        if (builtin_registry().find(type)->transport == Transport::mqtt) {
            for (const auto& [name, why] :
                 {std::pair{"missing.secret", missing}, std::pair{"empty.secret", empty}}) {
                std::string bad_head = head;
                bad_head.replace(bad_head.find("broker.pass"), 11, name);
                EXPECT_THAT(errors_at(bad_head + body, "brokers.local.password_file"),
                            ElementsAre(why));
            }
            ++checked;
        }
        if (builtin_registry().find(type)->transport != Transport::local) {
            EXPECT_GT(checked, 0) << "a networked type without any secret file to check";
        }
    }
}

// The key tables of the rows are what the loader accepts: for every type of
// the registry, each key of its tables (those of every connector, of its
// transport, its own, its jobs') that has a default loads when set to it, and
// a key of no table is refused.
std::string toml_value(const KeySpec& k) {
    const std::string v(k.default_value);
    switch (k.type) {
        case KeyType::integer:
        case KeyType::number:
        case KeyType::boolean:
            return v;
        case KeyType::strings:
            return v.starts_with('[') ? v : "\"" + v + "\"";
        default:
            return "\"" + v + "\"";
    }
}

// `body` with `key = value` as the first table's key (replacing its own).
std::string with_key(const std::string& body, std::string_view key, const std::string& value) {
    std::istringstream in(body);
    std::string line, head, rest;
    bool in_rest = false;
    bool first = true;
    while (std::getline(in, line)) {
        if (!first && line.starts_with("[")) in_rest = true;
        first = false;
        if (in_rest) {
            rest += line + "\n";
        } else if (!line.starts_with(std::string(key) + " =")) {
            head += line + "\n";
        }
    }
    return head + std::string(key) + " = " + value + "\n" + rest;
}

TEST(ExampleConfig, EveryKeyOfEveryTypeTableIsAcceptedAndNoOther) {
    const auto blocks = example_blocks(example_text());
    test::TempDir dir;
    std::ofstream(dir / "akenza-uplink.secret") << "an-uplink-secret-value\n";
    std::ofstream(dir / "xmpp.pass") << "an-xmpp-password\n";
    test::ScopedEnv env("CREDENTIALS_DIRECTORY", dir.path().string());
    const std::string head = "[storage]\npath = \"x.db\"\n\n[brokers.local]\nhost = \"127.0.0.1\"\n\n";
    const auto errors = [&](const std::string& toml) {
        std::vector<std::string> out;
        for (const auto& e :
             load_config_text(toml, dir / "example.toml", builtin_registry()).errors)
            out.push_back(e.key + ": " + e.message);
        return out;
    };
    const auto check_table = [&](const std::string& before, const std::string& body,
                                 const std::string& after, const std::string& path,
                                 std::span<const KeySpec> keys) {
        int set = 0;
        for (const KeySpec& k : keys) {
            if (k.default_value.empty() || k.type == KeyType::table ||
                k.type == KeyType::tables)
                continue;
            SCOPED_TRACE(std::string(k.name));
            EXPECT_THAT(errors(before + with_key(body, k.name, toml_value(k)) + after),
                        ::testing::IsEmpty());
            ++set;
        }
        EXPECT_THAT(errors(before + with_key(body, "no_such_key", "1") + after),
                    ElementsAre(path + ".no_such_key: unknown key"));
        return set;
    };

    int keys_set = 0;
    for (const ConnectorType& t : builtin_registry().types()) {
        SCOPED_TRACE(t.type);
        // A row that parses keys declares them all; one that takes jobs, theirs.
        EXPECT_TRUE(!t.parse_options || !t.keys.empty());
        EXPECT_TRUE(!t.parse_job || !t.jobs.empty());
        const auto b = std::find_if(blocks.begin(), blocks.end(),
                                    [&](const Block& x) { return x.type == t.type; });
        ASSERT_NE(b, blocks.end()) << "etc/meterbridge.toml has no EXAMPLE block of this type";
        const std::string body = std::regex_replace(
            b->toml, std::regex(R"re(directory = "[^"]*")re"), "directory = \"spool\"");
        ASSERT_THAT(errors(head + body), ::testing::IsEmpty());
        std::vector<KeySpec> keys(connector_keys().begin(), connector_keys().end());
        if (t.transport == Transport::mqtt)
            keys.insert(keys.end(), mqtt_connector_keys().begin(), mqtt_connector_keys().end());
        keys.insert(keys.end(), t.keys.begin(), t.keys.end());
        keys_set += check_table(head, body, "", "connectors[0]", keys);

        for (const JobSpec& j : t.jobs) {
            SCOPED_TRACE(std::string(j.command));
            const auto jb = std::find_if(blocks.begin(), blocks.end(), [&](const Block& x) {
                return x.toml.starts_with("[[jobs]]") &&
                       x.toml.find(fmt::format("command = \"{}\"", j.command)) != std::string::npos;
            });
            ASSERT_NE(jb, blocks.end()) << "etc/meterbridge.toml has no EXAMPLE job of this command";
            std::vector<KeySpec> job(job_keys().begin(), job_keys().end());
            job.insert(job.end(), j.keys.begin(), j.keys.end());
            keys_set += check_table(head + body, jb->toml, "", "jobs[0]", job);
        }
    }
    EXPECT_GT(keys_set, 30);
}

// A row that reads a key its table does not declare is a programming error,
// reported at the connector, never a key silently accepted.
TEST(ExampleConfig, ARowReadingAnUndeclaredKeyIsCaught) {
    static constexpr KeySpec keys[] = {{.name = "declared", .type = KeyType::integer}};
    ConnectorRegistry r;
    ConnectorType t;
    t.type = "local-test";
    t.transport = Transport::local;
    t.keys = keys;
    t.parse_options = [](TableReader& reader,
                         ConnectorConfig&) -> std::shared_ptr<const ConnectorOptions> {
        reader.integer("declared");
        reader.string("undeclared");
        return nullptr;
    };
    r.add(std::move(t));
    const auto result = load_config_text(
        "[storage]\npath = \"x.db\"\n[[connectors]]\nname = \"l\"\ntype = \"local-test\"\n"
        "undeclared = \"x\"\n",
        "/etc/mb.toml", r);
    ASSERT_EQ(result.errors.size(), 2u);
    EXPECT_EQ(result.errors[0].to_string(),
              "/etc/mb.toml:3:1: connectors[0]: type 'local-test' could not read its options: "
              "connectors[0].undeclared: the key is not declared in its key table");
    EXPECT_EQ(result.errors[1].to_string(), "/etc/mb.toml:6:1: connectors[0].undeclared: unknown key");
}

}  // namespace
}  // namespace mb
