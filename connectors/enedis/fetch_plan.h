// Fetch planning for the Enedis jobs (get_load_curve, get_daily): which days
// to ask for next, and when a job runs. Pure: no I/O, no clock (the time is a
// parameter), no exceptions for bad text (parse functions return nullopt with
// a reason).
//
// Days are French local days (Europe/Paris), as the upstream counts them; a
// window is [from, to) in such days, as the commands' start_date/end_date.
// What was fetched is remembered per (job, usage point, direction) as a DaySet
// of days done: a day answered by the upstream counts as done even when it had
// no data (the upstream's gaps are not ours to fill again and again).
//
// Who calls: the job scheduler on the daemon's main thread.
#pragma once

#include <date/date.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "normalize/model.h"
#include "normalize/enedis/paris_day.h"

namespace mb {

using Day = date::sys_days;  // a French local day, by its calendar date

struct DayRange {
    Day from, to;  // [from, to)
    bool empty() const { return from >= to; }
    std::int64_t days() const { return (to - from).count(); }
    bool operator==(const DayRange&) const = default;
};

// A set of days as sorted, disjoint, non-adjacent ranges.
class DaySet {
  public:
    void add(DayRange r);
    bool contains(Day d) const;
    // The parts of `r` not in the set, oldest first.
    std::vector<DayRange> missing(DayRange r) const;
    const std::vector<DayRange>& ranges() const { return ranges_; }

    // "2024-01-01/2024-03-01 2024-03-05/2024-03-07" ("" when empty), and back.
    std::string to_string() const;
    static std::optional<DaySet> parse(std::string_view text);

    bool operator==(const DaySet&) const = default;

  private:
    std::vector<DayRange> ranges_;
};

// "2024-03-31" ↔ Day.
std::optional<Day> parse_day(std::string_view text);
std::string format_day(Day d);

enum class FetchKind : std::uint8_t { load_curve, daily };

struct FetchPlanInput {
    FetchKind kind = FetchKind::daily;
    TimeMs now = 0;
    std::int64_t backfill_days = 365;  // how far back from today
    // Yesterday's data is published at this Paris time (minutes after midnight);
    // before it, the newest day asked for is the day before yesterday.
    int publish_minute = 8 * 60;
    std::optional<Day> floor;  // "no older data" learned from the upstream
    DaySet done;
    // At most this many days per request (0: the upstream's limit for the kind:
    // 7 for load curves, 365 for daily).
    std::int64_t max_window_days = 0;
};

// The range that should be in the database now: [today - backfill, newest
// published day + 1), clipped by the floor.
DayRange wanted_range(const FetchPlanInput& in);
// The windows to request, newest first (so that a "no older data" answer ends
// the backfill), each within the upstream's limit and holding only missing days.
std::vector<DayRange> plan_windows(const FetchPlanInput& in);

// A job's schedule (DESIGN.md §4): "once", "daily HH:MM" (Europe/Paris), or
// "every Nh" / "every Nm" (N ≥ 1; minutes at least 5).
struct Schedule {
    enum class Kind : std::uint8_t { once, daily, every } kind = Kind::once;
    int minute_of_day = 0;           // daily
    std::chrono::minutes period{0};  // every
    bool operator==(const Schedule&) const = default;
};
std::optional<Schedule> parse_schedule(std::string_view text, std::string& why);
// The first run time strictly after `last_run` (or the first one at or after
// `now` when the job never ran). nullopt: a "once" job that already ran.
std::optional<TimeMs> next_run(const Schedule& s, std::optional<TimeMs> last_run, TimeMs now);

}  // namespace mb
