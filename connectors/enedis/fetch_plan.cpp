#include "connectors/enedis/fetch_plan.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace mb {

namespace {

using std::chrono::milliseconds;

bool parse_int(std::string_view s, int& out) {
    if (s.empty()) return false;
    const auto* end = s.data() + s.size();
    auto [p, ec] = std::from_chars(s.data(), end, out);
    return ec == std::errc() && p == end;
}

}  // namespace

void DaySet::add(DayRange r) {
    if (r.empty()) return;
    std::vector<DayRange> out;
    out.reserve(ranges_.size() + 1);
    bool placed = false;
    for (const DayRange& x : ranges_) {
        if (x.to < r.from) {
            out.push_back(x);
        } else if (r.to < x.from) {
            if (!placed) out.push_back(r), placed = true;
            out.push_back(x);
        } else {  // overlapping or adjacent: merge into r
            r.from = std::min(r.from, x.from);
            r.to = std::max(r.to, x.to);
        }
    }
    if (!placed) out.push_back(r);
    ranges_ = std::move(out);
}

bool DaySet::contains(Day d) const {
    for (const DayRange& x : ranges_)
        if (d >= x.from && d < x.to) return true;
    return false;
}

std::vector<DayRange> DaySet::missing(DayRange r) const {
    std::vector<DayRange> out;
    Day cursor = r.from;
    for (const DayRange& x : ranges_) {
        if (x.to <= cursor) continue;
        if (x.from >= r.to) break;
        if (x.from > cursor) out.push_back({cursor, x.from});
        cursor = std::max(cursor, x.to);
        if (cursor >= r.to) break;
    }
    if (cursor < r.to) out.push_back({cursor, r.to});
    return out;
}

std::string DaySet::to_string() const {
    std::string out;
    for (const DayRange& x : ranges_) {
        if (!out.empty()) out += ' ';
        out += format_day(x.from) + "/" + format_day(x.to);
    }
    return out;
}

std::optional<DaySet> DaySet::parse(std::string_view text) {
    DaySet set;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t end = std::min(text.find(' ', pos), text.size());
        const std::string_view item = text.substr(pos, end - pos);
        const std::size_t slash = item.find('/');
        if (slash == std::string_view::npos) return std::nullopt;
        const auto from = parse_day(item.substr(0, slash));
        const auto to = parse_day(item.substr(slash + 1));
        if (!from || !to || *from >= *to) return std::nullopt;
        set.add({*from, *to});
        pos = end + 1;
    }
    return set;
}

std::optional<Day> parse_day(std::string_view text) {
    int y = 0, m = 0, d = 0;
    if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !parse_int(text.substr(0, 4), y) ||
        !parse_int(text.substr(5, 2), m) || !parse_int(text.substr(8, 2), d))
        return std::nullopt;
    const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(m)},
                                   date::day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return std::nullopt;
    return Day{ymd};
}

std::string format_day(Day d) {
    const date::year_month_day ymd{d};
    return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

DayRange wanted_range(const FetchPlanInput& in) {
    const Day today = paris_day(in.now);
    // The newest day asked for: yesterday once it is published, else the day before.
    const Day end =
        paris_minute_of_day(in.now) >= in.publish_minute ? today : today - date::days{1};
    Day from = today - date::days{in.backfill_days};
    if (in.floor) from = std::max(from, *in.floor);
    return {from, std::max(from, end)};
}

std::vector<DayRange> plan_windows(const FetchPlanInput& in) {
    const std::int64_t limit =
        in.max_window_days > 0 ? in.max_window_days : (in.kind == FetchKind::load_curve ? 7 : 365);
    std::vector<DayRange> out;
    const auto gaps = in.done.missing(wanted_range(in));
    for (auto it = gaps.rbegin(); it != gaps.rend(); ++it) {
        Day to = it->to;
        while (to > it->from) {
            const Day from = std::max(it->from, to - date::days{limit});
            out.push_back({from, to});
            to = from;
        }
    }
    return out;
}

std::optional<Schedule> parse_schedule(std::string_view text, std::string& why) {
    Schedule s;
    if (text == "once") return s;
    if (text.substr(0, 6) == "daily ") {
        const auto hm = text.substr(6);
        int h = 0, m = 0;
        if (hm.size() != 5 || hm[2] != ':' || !parse_int(hm.substr(0, 2), h) ||
            !parse_int(hm.substr(3, 2), m) || h > 23 || m > 59) {
            why = "\"daily HH:MM\" needs a 24-hour Europe/Paris time, e.g. \"daily 08:30\"";
            return std::nullopt;
        }
        s.kind = Schedule::Kind::daily;
        s.minute_of_day = h * 60 + m;
        return s;
    }
    if (text.substr(0, 6) == "every ") {
        const auto n = text.substr(6);
        int v = 0;
        if (n.size() >= 2 && parse_int(n.substr(0, n.size() - 1), v) && v >= 1 &&
            (n.back() == 'h' || n.back() == 'm')) {
            s.kind = Schedule::Kind::every;
            s.period = n.back() == 'h' ? std::chrono::minutes(v * 60) : std::chrono::minutes(v);
            if (s.period >= std::chrono::minutes(5) && s.period <= std::chrono::hours(24 * 31))
                return s;
        }
        why = "\"every N\" needs hours or minutes, from 5m to 744h, e.g. \"every 6h\"";
        return std::nullopt;
    }
    why = "expected \"once\", \"daily HH:MM\" (Europe/Paris) or \"every Nh\"";
    return std::nullopt;
}

std::optional<TimeMs> next_run(const Schedule& s, std::optional<TimeMs> last_run, TimeMs now) {
    switch (s.kind) {
        case Schedule::Kind::once:
            if (last_run) return std::nullopt;
            return now;
        case Schedule::Kind::every:
            if (!last_run) return now;
            return std::max(now,
                            *last_run + std::chrono::duration_cast<milliseconds>(s.period).count());
        case Schedule::Kind::daily: {
            if (!last_run) return now;
            // The first Paris HH:MM after the last run: that day's, else the next day's.
            Day d = paris_day(*last_run);
            for (int i = 0; i < 3; ++i, d += date::days{1}) {
                const date::local_time<std::chrono::minutes> local{
                    date::local_days{d.time_since_epoch()}.time_since_epoch() +
                    std::chrono::minutes{s.minute_of_day}};
                // A time skipped by DST happens at its hour's shifted instant.
                const auto sys = paris_zone()->to_sys(local, date::choose::earliest);
                const TimeMs t =
                    std::chrono::duration_cast<milliseconds>(sys.time_since_epoch()).count();
                if (t > *last_run) return std::max(t, now);
            }
            return now;
        }
    }
    return now;
}

}  // namespace mb
