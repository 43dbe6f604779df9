#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <spdlog/spdlog.h>

#include "daemon/logging.h"
#include "normalize/detail_text.h"

namespace mb {
namespace {

using namespace std::string_literals;

TEST(DisplayEscape, PlainTextIsKept) {
    EXPECT_FALSE(needs_display_escape("gw-1/cid 42: \"valve\" \\ ok"));
    EXPECT_EQ(display_escape("gw-1/cid 42: \"valve\" \\ ok"), "gw-1/cid 42: \"valve\" \\ ok");
    EXPECT_EQ(display_escape(""), "");
}

TEST(DisplayEscape, ControlCharactersBecomeEscapes) {
    EXPECT_EQ(display_escape("a\nb\rc\td"), "a\\nb\\rc\\td");
    EXPECT_EQ(display_escape("\x1b[31mred\x1b[0m"), "\\e[31mred\\e[0m");
    EXPECT_EQ(display_escape("nul\0bel\a del\x7f"s), "nul\\x00bel\\x07 del\\x7f");
    // The journald case: nothing that could start a line of its own survives.
    const std::string injected = display_escape("cid\n<0>FAKE EMERGENCY");
    EXPECT_EQ(injected, "cid\\n<0>FAKE EMERGENCY");
    EXPECT_EQ(injected.find('\n'), std::string::npos);
}

TEST(DisplayEscape, ValidUtf8IsKeptInvalidBytesAreEscaped) {
    EXPECT_EQ(display_escape("Å Insite — 21 °C, 💧"), "Å Insite — 21 °C, 💧");
    // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate,
    // a code point above U+10FFFF: each byte escaped, the valid text around kept.
    EXPECT_EQ(display_escape("a\x80z"), "a\\x80z");
    EXPECT_EQ(display_escape("\xc3"), "\\xc3");
    EXPECT_EQ(display_escape("\xe2\x82z"), "\\xe2\\x82z");
    EXPECT_EQ(display_escape("\xc0\xaf"), "\\xc0\\xaf");
    EXPECT_EQ(display_escape("\xed\xa0\x80"), "\\xed\\xa0\\x80");
    EXPECT_EQ(display_escape("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
    EXPECT_EQ(display_escape("\xff\xc3\xa9"), "\\xffé");
}

TEST(PercentEncode, KeepsUnreservedCharactersAndEncodesEveryOtherByte) {
    EXPECT_EQ(percent_encode("aZ09-._~"), "aZ09-._~");
    EXPECT_EQ(percent_encode("a b/&=?#%+"), "a%20b%2F%26%3D%3F%23%25%2B");
    EXPECT_EQ(percent_encode("\xc3\xa9\n<"), "%C3%A9%0A%3C");
}

TEST(DisplayEscape, C1ControlsAreEscaped) {
    // U+009B is CSI on terminals that take 8-bit controls.
    EXPECT_EQ(display_escape("a\xc2\x9b"
                             "31mb"),
              "a\\u009b31mb");
    EXPECT_EQ(display_escape("\xc2\x85"), "\\u0085");
    EXPECT_EQ(display_escape("\xc2\xa0"), "\xc2\xa0");  // U+00A0 is text
}

// Both sinks, through spdlog as the daemon logs: one message, one line.
std::string captured_stderr(LogFormat format, const std::string& message) {
    std::fflush(stderr);
    char* buf = nullptr;
    std::size_t len = 0;
    std::FILE* mem = open_memstream(&buf, &len);
    std::FILE* saved = stderr;
    stderr = mem;
    setup_logging(format);
    spdlog::warn("device {} is stale", message);
    spdlog::default_logger()->flush();
    stderr = saved;
    std::fclose(mem);
    std::string out(buf, len);
    std::free(buf);
    setup_logging(LogFormat::text);
    return out;
}

TEST(DisplayEscape, JournalSinkWritesOneEscapedLine) {
    const auto out = captured_stderr(LogFormat::journal, "cid\n<0>FAKE EMERGENCY\x1b[2J");
    EXPECT_EQ(out, "<4>device cid\\n<0>FAKE EMERGENCY\\e[2J is stale\n");
}

TEST(DisplayEscape, TextSinkWritesOneEscapedLine) {
    const auto out = captured_stderr(LogFormat::text, "cid\r\n\x1b]0;title\a");
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.find('\n'), out.size() - 1) << out;
    EXPECT_NE(out.find(" device cid\\r\\n\\e]0;title\\x07 is stale\n"), std::string::npos) << out;
    EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
}

}  // namespace
}  // namespace mb
