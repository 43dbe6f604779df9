#include "normalize/topic.h"

#include <gtest/gtest.h>

#include <array>
#include <string_view>
#include <vector>

namespace mb {
namespace {

using Levels = std::vector<std::string_view>;

TEST(TopicTest, LevelsKeepEmptyOnes) {
    EXPECT_EQ(topic_levels("a/b/c"), (Levels{"a", "b", "c"}));
    EXPECT_EQ(topic_levels("/up/s"), (Levels{"", "up", "s"}));
    EXPECT_EQ(topic_levels("a//b/"), (Levels{"a", "", "b", ""}));
    EXPECT_EQ(topic_levels(""), (Levels{""}));
    EXPECT_EQ(topic_levels("/"), (Levels{"", ""}));
    EXPECT_EQ(split_at("a; b;", ';'), (Levels{"a", " b", ""}));
}

TEST(TopicTest, FixedLevelsCountAll) {
    std::array<std::string_view, 3> first;
    EXPECT_EQ(topic_levels("meters/outbound/c/s/m", first), 5U);
    EXPECT_EQ(first[0], "meters");
    EXPECT_EQ(first[2], "c");
    first = {};
    EXPECT_EQ(topic_levels("x/y", first), 2U);
    EXPECT_EQ(first[1], "y");
    EXPECT_EQ(first[2], "");
    EXPECT_EQ(topic_levels("", std::span<std::string_view>{}), 1U);
}

}  // namespace
}  // namespace mb
