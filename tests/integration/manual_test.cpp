// The man pages and the bash completion come from the binary itself
// (`meterbridge manual`): meterbridge(1) names every verb `--help` lists and
// their options, meterbridge.toml(5) every key of every table of the
// registry, and the completion every verb and the --format values.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <span>
#include <sstream>

#include "connectors/builtin.h"
#include "connectors/mqtt/mqtt_config.h"
#include "connectors/registry.h"
#include "tests/support/process.h"

namespace mb::test {
namespace {

// The verbs `meterbridge --help` lists under "Subcommands:".
std::vector<std::string> help_verbs() {
    const auto r = run_binary({MB_BINARY, "--help"});
    std::vector<std::string> verbs;
    std::istringstream in(r.out);
    std::string line;
    bool in_list = false;
    while (std::getline(in, line)) {
        if (line.rfind("Subcommands:", 0) == 0) {
            in_list = true;
            continue;
        }
        std::smatch m;
        if (in_list && std::regex_search(line, m, std::regex(R"(^  ([a-z][a-z-]*)\s)")))
            verbs.push_back(m[1]);
    }
    return verbs;
}

std::string roff_name(const std::string& s) {
    return std::regex_replace(s, std::regex("-"), "\\-");
}

void collect_keys(std::span<const KeySpec> keys, const std::string& prefix,
                  std::set<std::string>& out) {
    for (const KeySpec& k : keys) {
        const std::string name = prefix + std::string(k.name);
        out.insert(name);
        if (k.type == KeyType::tables) collect_keys(k.keys, name + "[].", out);
        if (k.type == KeyType::table) collect_keys(k.keys, name + ".<id>.", out);
    }
}

TEST(ManualTest, Page1NamesEveryVerbOfTheHelpAndNoHiddenOne) {
    const auto page = run_binary({MB_BINARY, "manual", "1"});
    ASSERT_EQ(page.exit_code, 0) << page.err;
    const auto verbs = help_verbs();
    ASSERT_GE(verbs.size(), 14u);  // run … consent, types and the vendors' verbs
    for (const auto& v : verbs)
        EXPECT_NE(page.out.find(".TP\n.B " + roff_name(v) + "\n"), std::string::npos) << v;
    EXPECT_EQ(page.out.find(".B manual\n"), std::string::npos);
    EXPECT_EQ(page.out.find(".B names\n"), std::string::npos);
    // Options and exit codes are there too.
    for (const char* s : {"\\fB\\-\\-format\\fR", "\\fB\\-\\-gateway\\fR", ".B 75\n", ".B 77\n"})
        EXPECT_NE(page.out.find(s), std::string::npos) << s;
}

TEST(ManualTest, Page5NamesEveryKeyOfEveryTable) {
    const auto page = run_binary({MB_BINARY, "manual", "5"});
    ASSERT_EQ(page.exit_code, 0) << page.err;
    std::set<std::string> keys;
    collect_keys(connector_keys(), "", keys);
    collect_keys(job_keys(), "", keys);
    collect_keys(broker_keys(), "", keys);
    collect_keys(mqtt_connector_keys(), "", keys);
    const ConnectorRegistry& registry = builtin_registry();
    for (const std::string& type : registry.type_names()) {
        const ConnectorType& t = *registry.find(type);
        EXPECT_NE(page.out.find(".SS type = \"" + roff_name(type) + "\""), std::string::npos)
            << type;
        collect_keys(t.keys, "", keys);
        for (const JobSpec& j : t.jobs) collect_keys(j.keys, "", keys);
    }
    ASSERT_GE(keys.size(), 40u);
    for (const auto& k : keys)
        EXPECT_NE(page.out.find("\\fB" + roff_name(k) + "\\fR ("), std::string::npos) << k;
}

TEST(ManualTest, TheCompletionOffersEveryVerbAndTheFormats) {
    const auto script = run_binary({MB_BINARY, "manual", "completion"});
    ASSERT_EQ(script.exit_code, 0) << script.err;
    for (const auto& v : help_verbs())
        EXPECT_NE(script.out.find("    " + v + ") opts="), std::string::npos) << v;
    EXPECT_NE(script.out.find("--format) COMPREPLY=($(compgen -W \"table csv json\""),
              std::string::npos);
    EXPECT_NE(script.out.find("complete -F _meterbridge meterbridge"), std::string::npos);
    // `meterbridge help <TAB>` offers the verbs.
    EXPECT_NE(script.out.find("    help) opts=\"run check-config query "), std::string::npos)
        << script.out;
}

}  // namespace
}  // namespace mb::test
