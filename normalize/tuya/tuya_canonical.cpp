#include "normalize/tuya/tuya_canonical.h"

#include <date/date.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "normalize/quantity.h"
#include "normalize/tuya/tuya_dp.h"

namespace mb {

namespace {

TimeMs pair_window_distance(TimeMs a, TimeMs b) {
    return a > b ? a - b : b - a;
}

struct Period {
    TimeMs start = 0, end = 0;
};

// The calendar day (or month) that contains t on a clock `offset` ahead of
// UTC, as UTC ms [start, end). A fixed offset: the caller picks the one in
// force at t, so a day that spans a DST change still counts 24 h here.
Period local_period(TimeMs t, std::chrono::minutes offset, bool month) {
    using std::chrono::milliseconds;
    const date::local_time<milliseconds> local{milliseconds{t} + offset};
    const date::local_days day = date::floor<date::days>(local);
    date::local_days first = day;
    date::local_days next = day + date::days{1};
    if (month) {
        const date::year_month_day ymd{day};
        const date::year_month ym = ymd.year() / ymd.month();
        first = date::local_days{ym / 1};
        next = date::local_days{(ym + date::months{1}) / 1};
    }
    const auto utc_ms = [&](date::local_days d) {
        return std::chrono::duration_cast<milliseconds>(d.time_since_epoch() - offset).count();
    };
    return {utc_ms(first), utc_ms(next)};
}

}  // namespace

std::string tuya_pairing_to_string(const TuyaPairing& p) {
    std::string out;
    for (std::size_t i = 0; i < p.slots.size(); ++i) {
        if (i > 0) out += ' ';
        const auto& h = p.slots[i];
        if (!h.present)
            out += '-';
        else
            out += fmt::format("{}:{}@{}", h.is_time ? 't' : 'v', h.value, h.report_t);
    }
    return out;
}

std::optional<TuyaPairing> tuya_pairing_from_string(std::string_view s) {
    TuyaPairing p;
    for (std::size_t i = 0; i < p.slots.size(); ++i) {
        if (i > 0) {
            if (s.empty() || s.front() != ' ') return std::nullopt;
            s.remove_prefix(1);
        }
        const auto end = std::min(s.find(' '), s.size());
        const std::string_view tok = s.substr(0, end);
        s.remove_prefix(end);
        if (tok == "-") continue;
        if (tok.size() < 5 || (tok[0] != 't' && tok[0] != 'v') || tok[1] != ':')
            return std::nullopt;
        const auto at = tok.find('@');
        if (at == std::string_view::npos) return std::nullopt;
        // Canonical numbers only (no leading zero), so that text ↔ state is 1:1.
        const auto canonical = [](std::string_view d) {
            return d.size() > 1 && d.front() == '0' ? std::nullopt : tuya_parse_digits(d);
        };
        const auto value = canonical(tok.substr(2, at - 2));
        const auto t = canonical(tok.substr(at + 1));
        if (!value || !t) return std::nullopt;
        p.slots[i] = TuyaPairHalf{true, tok[0] == 't', *value, *t};
    }
    if (!s.empty()) return std::nullopt;
    return p;
}

TuyaCanonical dp_report_to_canonical(const TuyaPropertyReport& report, const TuyaPairing& previous,
                                     const TuyaCanonicalOptions& options) {
    TuyaCanonical out;
    out.pairing = previous;
    const TuyaDp* dp = tuya_find_dp(report.dp);
    // Not a validated report (the parser guarantees both): nothing, state kept.
    if (!dp || report.t <= 0 || report.t > tuya_max_time_ms) return out;
    const int scale = std::clamp(options.volume_scale, 0, 9);
    double divisor = 1;
    for (int i = 0; i < scale; ++i) divisor *= 10;
    // One correctly rounded division of two exact doubles (raw < 2^53).
    const auto volume = [&](std::int64_t raw) { return static_cast<double>(raw) / divisor; };
    const auto reading = [&](std::string_view q, Kind kind, TimeMs start, TimeMs end,
                             double value) {
        const auto info = quantity::find(q);
        out.readings.push_back(Reading{report.cid, std::string(q),
                                       std::string(info ? info->unit : "m3"), kind, start, end,
                                       value});
    };
    const TimeMs t = report.t;
    switch (dp->role) {
        case TuyaDpRole::reading: {
            if (dp->kind != Kind::interval) {
                reading(dp->quantity, dp->kind, t, t, volume(report.value.integer));
                break;
            }
            const std::chrono::minutes offset{std::clamp(options.utc_offset_minutes, -1439, 1439)};
            const auto [start, end] =
                local_period(t, offset, dp->quantity == quantity::water_volume_month);
            reading(dp->quantity, Kind::interval, start, end, volume(report.value.integer));
            break;
        }
        case TuyaDpRole::state: {
            std::string v;
            switch (report.value.type) {
                case TuyaDpType::boolean:
                    v = report.value.boolean ? "true" : "false";
                    break;
                case TuyaDpType::enumeration:
                    v = report.value.text;
                    break;
                default:
                    v = fmt::format("{}", report.value.integer);
            }
            out.states.push_back(StateEvent{report.cid, std::string(dp->code), std::move(v), t});
            break;
        }
        case TuyaDpRole::pair_value:
        case TuyaDpRole::pair_time: {
            const bool is_time = dp->role == TuyaDpRole::pair_time;
            auto& slot = out.pairing.slots[static_cast<std::size_t>(dp->slot)];
            const TuyaPairHalf half{true, is_time, report.value.integer, t};
            if (slot.present && slot.is_time != is_time &&
                pair_window_distance(slot.report_t, t) <= options.pair_window_ms) {
                const TimeMs when = is_time ? half.value : slot.value;
                const std::int64_t raw = is_time ? slot.value : half.value;
                reading(quantity::water_volume_index, Kind::cumulative, when, when, volume(raw));
                slot = TuyaPairHalf{};
            } else if (!slot.present || slot.is_time == is_time || slot.report_t <= t) {
                slot = half;  // the newer half wins
            }
            // else: an older half than the pending one of the other kind: dropped.
            break;
        }
    }
    return out;
}

}  // namespace mb
