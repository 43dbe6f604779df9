// Every connector type of the registry has its page docs/vendors/<type>.md,
// and the page names every key the type's tables declare (its own keys, their
// sub-table keys, and the keys of its jobs' commands): a key added to a row
// without a word in its page fails here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "connectors/builtin.h"
#include "connectors/mqtt/mqtt_config.h"
#include "connectors/registry.h"

namespace mb {
namespace {

std::filesystem::path page_of(std::string_view type) {
    return std::filesystem::path(MB_SOURCE_DIR) / "docs" / "vendors" / (std::string(type) + ".md");
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The keys a page must name, each in code quotes somewhere in it.
void collect(std::span<const KeySpec> keys, std::vector<std::string>& out) {
    for (const KeySpec& k : keys) {
        out.emplace_back(k.name);
        collect(k.keys, out);
    }
}

std::vector<std::string> missing_keys(const ConnectorType& t, const std::string& page) {
    std::vector<std::string> keys;
    collect(t.keys, keys);
    for (const JobSpec& j : t.jobs) {
        keys.emplace_back(j.command);
        collect(j.keys, keys);
    }
    std::vector<std::string> missing;
    for (const auto& k : keys) {
        // `key`, `key = …`, `mappings[].key`, `registers.<id>.key`.
        const std::regex named("[`.]" + k + "[` =.]");
        if (!std::regex_search(page, named)) missing.push_back(k);
    }
    return missing;
}

TEST(VendorDocs, EveryTypeHasAPageNamingEachOfItsKeys) {
    const auto types = builtin_registry().types();
    ASSERT_FALSE(types.empty());
    for (const ConnectorType& t : types) {
        const auto page = page_of(t.type);
        ASSERT_TRUE(std::filesystem::exists(page)) << "no page " << page << " for type " << t.type;
        const std::string text = read_file(page);
        EXPECT_THAT(missing_keys(t, text), ::testing::IsEmpty())
            << page << " does not name these keys of type " << t.type;
        for (const VendorVerb& v : t.verbs)
            EXPECT_NE(text.find(std::string(v.name)), std::string::npos)
                << page << " does not name the verb " << v.name << " of type " << t.type;
    }
}

// The keys every connector, MQTT connector, broker and job shares are on
// docs/configuration.md.
TEST(VendorDocs, TheConfigurationPageNamesEveryCommonKey) {
    const std::string text =
        read_file(std::filesystem::path(MB_SOURCE_DIR) / "docs" / "configuration.md");
    ConnectorType common;
    common.keys = connector_keys();
    EXPECT_THAT(missing_keys(common, text), ::testing::IsEmpty()) << "[[connectors]] keys";
    common.keys = job_keys();
    EXPECT_THAT(missing_keys(common, text), ::testing::IsEmpty()) << "[[jobs]] keys";
    common.keys = mqtt_connector_keys();
    EXPECT_THAT(missing_keys(common, text), ::testing::IsEmpty()) << "MQTT connector keys";
    common.keys = broker_keys();
    EXPECT_THAT(missing_keys(common, text), ::testing::IsEmpty()) << "[brokers.NAME] keys";
}

// The check itself: a page without one of the type's keys is caught.
TEST(VendorDocs, APageWithoutAKeyIsCaught) {
    const ConnectorType* akenza = builtin_registry().find("akenza");
    ASSERT_NE(akenza, nullptr);
    ASSERT_FALSE(akenza->keys.empty());
    std::string text = read_file(page_of("akenza"));
    ASSERT_THAT(missing_keys(*akenza, text), ::testing::IsEmpty());
    const std::string key(akenza->keys.front().name);
    for (std::size_t at; (at = text.find(key)) != std::string::npos;) text.erase(at, key.size());
    EXPECT_THAT(missing_keys(*akenza, text),
                ::testing::Contains(std::string(akenza->keys.front().name)));
}

}  // namespace
}  // namespace mb
