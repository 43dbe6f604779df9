#include "normalize/time_format.h"

#include <date/date.h>
#include <fmt/format.h>

#include <charconv>
#include <chrono>

namespace mb {

std::string format_iso_ms(TimeMs t) {
    using namespace std::chrono;
    const sys_time<milliseconds> tp{milliseconds{t}};
    const auto day = floor<days>(tp);
    const date::year_month_day ymd{day};
    const date::hh_mm_ss<milliseconds> hms{tp - day};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                       hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                       hms.subseconds().count());
}

namespace {
bool read_int(std::string_view s, std::size_t pos, std::size_t len, int& out) {
    if (pos + len > s.size()) return false;
    for (std::size_t i = pos; i < pos + len; ++i)
        if (s[i] < '0' || s[i] > '9') return false;
    auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return ec == std::errc{} && p == s.data() + pos + len;
}
}  // namespace

std::optional<TimeMs> parse_iso8601(std::string_view s) {
    using namespace std::chrono;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (!read_int(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !read_int(s, 5, 2, mo) ||
        s[7] != '-' || !read_int(s, 8, 2, d))
        return std::nullopt;
    const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                                   date::day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return std::nullopt;
    const auto day_ms = duration_cast<milliseconds>(date::sys_days{ymd}.time_since_epoch()).count();
    if (s.size() == 10) return day_ms;
    if (s.size() < 19 || (s[10] != 'T' && s[10] != 't') || !read_int(s, 11, 2, h) || s[13] != ':' ||
        !read_int(s, 14, 2, mi) || s[16] != ':' || !read_int(s, 17, 2, sec))
        return std::nullopt;
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;  // 60: leap second notation
    std::size_t pos = 19;
    int ms = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        int digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (digits < 3) ms = ms * 10 + (s[pos] - '0');
            ++digits;
            ++pos;
        }
        if (digits == 0) return std::nullopt;
        for (int i = digits; i < 3; ++i) ms *= 10;
    }
    TimeMs offset_ms = 0;
    if (pos == s.size()) return std::nullopt;  // a zone is required
    if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
        int oh = 0, om = 0;
        if (!read_int(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !read_int(s, pos + 4, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset_ms = (static_cast<TimeMs>(oh) * 60 + om) * 60000;
        if (s[pos] == '+') offset_ms = -offset_ms;
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    return day_ms + ((static_cast<TimeMs>(h) * 60 + mi) * 60 + sec) * 1000 + ms + offset_ms;
}

std::string format_iso_duration(std::int64_t ms) {
    if (ms <= 0) return "";
    const std::int64_t days = ms / 86400000, hours = ms / 3600000 % 24, minutes = ms / 60000 % 60,
                       seconds = ms / 1000 % 60, millis = ms % 1000;
    std::string out = "P";
    if (days > 0) out += std::to_string(days) + "D";
    if (hours == 0 && minutes == 0 && seconds == 0 && millis == 0) return out;
    out += "T";
    if (hours > 0) out += std::to_string(hours) + "H";
    if (minutes > 0) out += std::to_string(minutes) + "M";
    if (millis > 0) {
        std::string frac = std::to_string(1000 + millis).substr(1);
        while (frac.back() == '0') frac.pop_back();
        out += std::to_string(seconds) + "." + frac + "S";
    } else if (seconds > 0) {
        out += std::to_string(seconds) + "S";
    }
    return out;
}

}  // namespace mb
