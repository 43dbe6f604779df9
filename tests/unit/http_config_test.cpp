// `[http] listen`: the addresses the listener takes, and a bad value named by
// its key (the whole file loaded as `run` and `check-config` load it).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/builtin.h"
#include "connectors/registry.h"
#include "daemon/config.h"
#include "daemon/http/listen_address.h"

namespace mb {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

LoadResult load(const std::string& http) {
    return load_config_text("[storage]\npath = \"/var/lib/mb/mb.db\"\n" + http,
                            "/etc/mb/test.toml", builtin_registry());
}

TEST(HttpListen, AddressesParse) {
    std::string error;
    const auto v4 = http::parse_listen("127.0.0.1:9477", error);
    ASSERT_TRUE(v4) << error;
    EXPECT_EQ(v4->host, "127.0.0.1");
    EXPECT_EQ(v4->port, 9477);
    EXPECT_TRUE(v4->loopback);
    const auto v6 = http::parse_listen("[::1]:9477", error);
    ASSERT_TRUE(v6) << error;
    EXPECT_EQ(v6->host, "::1");
    EXPECT_TRUE(v6->loopback);
    const auto any = http::parse_listen("0.0.0.0:0", error);
    ASSERT_TRUE(any) << error;
    EXPECT_FALSE(any->loopback);
    EXPECT_EQ(any->port, 0);
}

TEST(HttpListen, NonAddressesAreRefusedWithTheReason) {
    for (const char* bad : {"localhost:9477", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                            "127.0.0.1:12a", "::1:9477", "[::1]9477", "[127.0.0.1]:9477",
                            "[::1"}) {
        std::string error;
        EXPECT_FALSE(http::parse_listen(bad, error)) << bad;
        EXPECT_FALSE(error.empty()) << bad;
    }
}

TEST(HttpListen, DefaultIsLoopbackAndEmptyDisables) {
    const auto d = load("");
    ASSERT_TRUE(d.config);
    EXPECT_EQ(d.config->http.listen, "127.0.0.1:9477");
    const auto off = load("[http]\nlisten = \"\"\n");
    ASSERT_TRUE(off.config);
    EXPECT_EQ(off.config->http.listen, "");
    const auto v6 = load("[http]\nlisten = \"[::1]:9100\"\n");
    ASSERT_TRUE(v6.config);
    EXPECT_EQ(v6.config->http.listen, "[::1]:9100");
}

TEST(HttpListen, ABadValueNamesTheKey) {
    const auto r = load("[http]\nlisten = \"localhost:9477\"\n");
    EXPECT_FALSE(r.config);
    std::vector<std::string> texts;
    for (const auto& e : r.errors) texts.push_back(e.to_string());
    EXPECT_THAT(texts, ElementsAre(AllOf(HasSubstr("http.listen"), HasSubstr("localhost:9477"),
                                         HasSubstr("IP address literal"))));
    const auto unknown = load("[http]\nlisten = \"127.0.0.1:1\"\nport = 3\n");
    EXPECT_FALSE(unknown.config);
}

}  // namespace
}  // namespace mb
