#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "connectors/spool/line_reader.h"

namespace mb {
namespace {

// A byte source handing out `data` in reads of at most `chunk` bytes, then
// failing with `fail_errno` (0: the end) once `fail_at` bytes were read.
struct Source {
    std::string data;
    std::size_t chunk = 7;
    std::size_t fail_at = std::string::npos;
    int fail_errno = 0;
    std::size_t pos = 0;
    int interrupted = 0;  // EINTR answers still to give

    ssize_t operator()(char* buf, std::size_t n) {
        if (interrupted > 0) {
            --interrupted;
            errno = EINTR;
            return -1;
        }
        if (pos >= fail_at && fail_errno != 0) {
            errno = fail_errno;
            return -1;
        }
        std::size_t k = std::min({n, chunk, data.size() - pos});
        if (fail_at != std::string::npos) k = std::min(k, fail_at - pos);
        std::memcpy(buf, data.data() + pos, k);
        pos += k;
        return static_cast<ssize_t>(k);
    }
};

std::vector<LineReader::Line> read_all(LineReader& r) {
    std::vector<LineReader::Line> out;
    while (auto l = r.next()) out.push_back(*l);
    return out;
}

TEST(LineReader, SplitsLinesAcrossReadsAndKeepsALastLineWithoutNewline) {
    Source src{"first\nsecond line\r\n\n  \nlast"};
    src.interrupted = 2;
    LineReader r(std::ref(src), 100, 100, 4);
    const auto lines = read_all(r);
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[0].text, "first");
    EXPECT_EQ(lines[1].text, "second line");  // "\r\n" ends a line too
    EXPECT_EQ(lines[1].size, 11u);
    EXPECT_EQ(lines[2].text, "");
    EXPECT_EQ(lines[3].text, "  ");
    EXPECT_EQ(lines[4].text, "last");
    for (const auto& l : lines) EXPECT_FALSE(l.oversized);
    EXPECT_EQ(r.error(), 0);
}

TEST(LineReader, EmptyInputHasNoLines) {
    Source src{""};
    LineReader r(std::ref(src), 10, 10);
    EXPECT_FALSE(r.next().has_value());
    EXPECT_EQ(r.error(), 0);
}

TEST(LineReader, ALineOverTheLimitIsReadThroughKeepingOnlyItsStart) {
    const std::string big(100000, 'x');
    Source src{"ok\n" + std::string("abc") + big + "\nafter\n"};
    src.chunk = 4096;
    LineReader r(std::ref(src), 1000, 16, 512);
    const auto lines = read_all(r);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0].text, "ok");
    EXPECT_TRUE(lines[1].oversized);
    EXPECT_EQ(lines[1].size, big.size() + 3);
    EXPECT_EQ(lines[1].text, "abc" + std::string(13, 'x'));  // the first `keep` bytes
    EXPECT_EQ(lines[2].text, "after");
    EXPECT_FALSE(lines[2].oversized);
}

TEST(LineReader, TheLimitIsOnTheLineWithoutItsLineEnding) {
    Source src{"12345\r\n123456\n12345"};
    LineReader r(std::ref(src), 5, 3);
    const auto lines = read_all(r);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_FALSE(lines[0].oversized);
    EXPECT_EQ(lines[0].text, "12345");
    EXPECT_TRUE(lines[1].oversized);
    EXPECT_EQ(lines[1].size, 6u);
    EXPECT_EQ(lines[1].text, "123");
    EXPECT_FALSE(lines[2].oversized);
}

TEST(LineReader, KeepsMoreThanTheLimitWhenAskedTo) {
    // max_stored_payload may exceed max_payload: an oversized line keeps that much.
    Source src{std::string(50, 'a') + "\r\n"};
    LineReader r(std::ref(src), 10, 1000);
    const auto l = r.next();
    ASSERT_TRUE(l.has_value());
    EXPECT_TRUE(l->oversized);
    EXPECT_EQ(l->size, 50u);
    EXPECT_EQ(l->text, std::string(50, 'a'));
}

// A read error is not the end of the file: the line it cut is not returned,
// and the caller learns why.
TEST(LineReader, AReadErrorEndsTheLinesAndIsReported) {
    Source src{"one\ntwo\nthree\n"};
    src.chunk = 3;
    src.fail_at = 6;  // in the middle of "two"
    src.fail_errno = EIO;
    LineReader r(std::ref(src), 100, 100);
    auto first = r.next();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->text, "one");
    EXPECT_FALSE(r.next().has_value());
    EXPECT_EQ(r.error(), EIO);
    EXPECT_FALSE(r.next().has_value());  // and stays ended
    EXPECT_EQ(r.error(), EIO);
}

TEST(LineReader, AnErrorOnTheFirstReadIsReported) {
    Source src{"never read\n"};
    src.fail_at = 0;
    src.fail_errno = EISDIR;
    LineReader r(std::ref(src), 100, 100);
    EXPECT_FALSE(r.next().has_value());
    EXPECT_EQ(r.error(), EISDIR);
}

}  // namespace
}  // namespace mb
