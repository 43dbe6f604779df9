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

#include "connectors/builtin.h"
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

}  // namespace
}  // namespace mb
