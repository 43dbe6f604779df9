// Cadence learning: the recent intervals of one series (between its reading
// times, or between the messages that brought its readings), kept as a short
// list, and the interval they agree on.
//
// Who calls: the Store's writer (once per series per batch, inside the
// batch's transaction), the v5 migration (backfill) and the read side
// (storage/meters.h). Pure functions and a value type: no I/O, no threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mb {

// The last kSize positive intervals, oldest first. Stored as text ("900000
// 900000 ...") in series_stats so that an operator's sqlite3 can read it.
class IntervalRing {
  public:
    static constexpr std::size_t kSize = 7;

    static IntervalRing parse(std::string_view text);
    std::string format() const;

    // Ignores intervals <= 0 (two readings at one time, a resend).
    void push(std::int64_t interval_ms);
    std::size_t size() const { return n_; }

    // The interval the recent ones agree on: the lower median. One gap (a
    // long interval) or one resend (a short one) among them does not move it;
    // 0 when nothing was learned yet.
    std::int64_t learned() const;

  private:
    std::array<std::int64_t, kSize> v_{};
    std::size_t n_ = 0;
};

}  // namespace mb
