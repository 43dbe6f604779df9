// The shipped etc/meterbridge.toml: its active part loads, and every
// commented EXAMPLE block of a built-in connector type loads too once
// uncommented, so the examples cannot drift away from the code.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "connectors/registry.h"
#include "daemon/config.h"
#include "tests/support/temp_dir.h"

namespace mb {
namespace {

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

}  // namespace
}  // namespace mb
