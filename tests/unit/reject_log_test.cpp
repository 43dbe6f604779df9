// RejectLog: the first rejection of a (source, reason code) at once, then one
// line per interval with the count, whatever the rate; a quiet interval makes
// the next one news again. The clock is the test's.
#include <gtest/gtest.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <memory>

#include "storage/reject_log.h"

namespace mb {
namespace {

using namespace std::chrono_literals;

class RejectLogTest : public ::testing::Test {
  protected:
    void SetUp() override {
        previous = spdlog::default_logger();
        sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
        sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
            "%v", spdlog::pattern_time_type::local, ""));  // no end of line
        auto logger = std::make_shared<spdlog::logger>("test", sink);
        logger->set_level(spdlog::level::info);
        spdlog::set_default_logger(logger);
    }
    void TearDown() override { spdlog::set_default_logger(previous); }
    std::vector<std::string> lines() const { return sink->last_formatted(); }

    std::shared_ptr<spdlog::logger> previous;
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink;
    std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
    RejectLog log{60s, [this] { return now; }};
};

ApplyDetail::Rejects rejects(std::string source, std::string code, std::uint64_t n,
                             std::string example = "malformed: line 1") {
    return {std::move(source), std::move(code), n, std::move(example), "t/1"};
}

TEST_F(RejectLogTest, AFloodOfOneReasonIsOneLineAtOnceAndOnePerInterval) {
    log.add(rejects("feed", "malformed", 1));
    ASSERT_EQ(lines().size(), 1u);
    EXPECT_EQ(lines()[0], "feed: rejected 1 message (malformed), e.g. on topic t/1: malformed: line 1");
    for (int i = 0; i < 1000; ++i) {
        now += 50ms;  // 50 s in all: within the interval
        log.add(rejects("feed", "malformed", 1, "malformed: line " + std::to_string(i + 2)));
        log.flush();
    }
    EXPECT_EQ(lines().size(), 1u);
    now += 10s;
    log.flush();
    ASSERT_EQ(lines().size(), 2u);
    EXPECT_EQ(lines()[1],
              "feed: rejected 1000 more messages (malformed) in the last 60 s, e.g. on topic t/1: "
              "malformed: line 2");
    // A quiet interval, then the next rejection is logged at once again.
    now += 61s;
    log.flush();
    EXPECT_EQ(lines().size(), 2u);
    log.add(rejects("feed", "malformed", 3));
    ASSERT_EQ(lines().size(), 3u);
    EXPECT_EQ(lines()[2].rfind("feed: rejected 3 messages (malformed)", 0), 0u) << lines()[2];
}

TEST_F(RejectLogTest, SourcesAndReasonsAreCountedApartAndStopFlushesTheRest) {
    log.add(rejects("a", "malformed", 1));
    log.add(rejects("a", "missing_field", 1, "missing_field: value"));
    log.add(rejects("b", "malformed", 1));
    EXPECT_EQ(lines().size(), 3u);
    log.add(rejects("a", "malformed", 5));
    log.flush(true);
    ASSERT_EQ(lines().size(), 4u);
    EXPECT_EQ(lines()[3].rfind("a: rejected 5 more messages (malformed) in the last 0 s", 0), 0u)
        << lines()[3];
}

}  // namespace
}  // namespace mb
