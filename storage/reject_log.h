// RejectLog: the log lines about rejected messages, bounded under a flood.
//
// Who calls: the Writer's thread only (add() after each commit, flush() on
// every turn of its loop, which comes at least once a second); not
// thread-safe. Logs through spdlog at info.
//
// Per (source, reason code): the first rejection is logged at once, with its
// reason and topic; later ones within `interval` are counted, and when the
// interval ends one line gives their count and one example. An interval
// without rejections ends the series: the next one is logged at once again.
// So a flood of one reason costs one line per interval, whatever its rate.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "storage/store.h"

namespace mb {

class RejectLog {
  public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    explicit RejectLog(std::chrono::milliseconds interval = std::chrono::minutes(1),
                       Clock clock = {});

    void add(const ApplyDetail::Rejects& r);
    // Logs the counts of intervals that ended (all of them when `all`: at stop).
    void flush(bool all = false);

  private:
    struct Pending {
        std::chrono::steady_clock::time_point since;  // when the current interval began
        std::uint64_t count = 0;                      // rejected since then, not yet logged
        std::string example, topic;
    };

    std::chrono::milliseconds interval_;
    Clock clock_;
    std::map<std::pair<std::string, std::string>, Pending> pending_;  // by (source, code)
};

}  // namespace mb
