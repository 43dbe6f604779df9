#include "normalize/enedis/quoalise_readings.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <utility>

#include "normalize/enedis/paris_day.h"
#include "normalize/quantity.h"
#include "normalize/time_format.h"

namespace mb::quoalise {

namespace {

constexpr TimeMs kMsPerDay = 86400000;

TimeMs to_ms(date::sys_days d) {
    return static_cast<TimeMs>(d.time_since_epoch().count()) * kMsPerDay;
}

TimeMs utc_midnight(date::year_month_day d) {
    return to_ms(date::sys_days{d});
}

date::year_month_day next_day(date::year_month_day d) {
    return date::year_month_day{date::sys_days{d} + date::days{1}};
}

QuoaliseDecoding rejected(RejectCode code, std::string detail) {
    return QuoaliseDecoding{DecodeResult::rejected(code, std::move(detail)), std::nullopt};
}

// After this, `pending` is in time order.
std::optional<QuoaliseDecoding> check_duplicates(std::vector<Pending>& pending, bool by_day) {
    const auto before = [](const Pending& a, const Pending& b) {
        return a.start != b.start ? a.start < b.start : a.index < b.index;
    };
    // Upstream answers come in time order: one pass to see it, no sort.
    if (!std::is_sorted(pending.begin(), pending.end(), before))
        std::sort(pending.begin(), pending.end(), before);
    for (std::size_t i = 1; i < pending.size(); ++i) {
        const Pending& a = pending[i - 1];
        const Pending& b = pending[i];
        if (a.start != b.start) continue;
        if (by_day)
            return rejected(
                RejectCode::duplicate_timestamp,
                fmt::format("sensml record {}: day {} repeats record {}", b.index,
                            format_day(date::year_month_day{paris_day(b.start)}), a.index));
        return rejected(RejectCode::duplicate_timestamp,
                        fmt::format("sensml record {}: time {} repeats record {}", b.index,
                                    format_iso_ms(b.time), a.index));
    }
    return std::nullopt;
}

QuoaliseDecoding emit(const QuoaliseRequest& req, const std::vector<Pending>& pending,
                      std::optional<StampConvention> stamping) {
    const bool production = req.direction == "production";
    const std::string_view q =
        req.command == QuoaliseCommand::daily
            ? (production ? quantity::energy_production : quantity::energy_consumption)
            : (production ? quantity::power_production : quantity::power_consumption);
    const Reading proto{req.usage_point,
                        std::string(q),
                        std::string(quantity::find(q)->unit),
                        Kind::interval,
                        0,
                        0,
                        0};
    QuoaliseDecoding out;
    out.stamping = stamping;
    out.result.readings.reserve(pending.size());
    for (const Pending& p : pending) {
        Reading& r = out.result.readings.emplace_back(proto);
        r.ts_start = p.start;
        r.ts_end = p.end;
        r.value = p.value;
    }
    return out;
}

}  // namespace

QuoaliseDecoding load_curve_readings(const QuoaliseRequest& req, StampConvention conv,
                                     std::int64_t sampling_s, std::vector<Pending>& pending) {
    const TimeMs step = sampling_s * 1000;
    const TimeMs paris_start = paris_midnight(req.start_date);
    const TimeMs paris_end = paris_midnight(req.end_date);
    const TimeMs utc_start = utc_midnight(req.start_date);
    const TimeMs utc_end = utc_midnight(req.end_date);

    StampConvention stamping =
        conv == StampConvention::start ? StampConvention::start : StampConvention::end;
    if (conv == StampConvention::auto_detect && !pending.empty()) {
        const auto by_time = [](const Pending& a, const Pending& b) { return a.time < b.time; };
        const Pending& first = *std::min_element(pending.begin(), pending.end(), by_time);
        const Pending& last = *std::max_element(pending.begin(), pending.end(), by_time);
        const bool starts = first.time == paris_start || first.time == utc_start;
        const bool ends = last.time == paris_end || last.time == utc_end;
        if (starts && (!ends || first.zero_offset)) stamping = StampConvention::start;
    }

    const TimeMs shift = stamping == StampConvention::start ? 0 : -step;
    const std::string_view how =
        stamping == StampConvention::start ? "start-stamped" : "end-stamped";
    const Pending* outside_paris = nullptr;
    const Pending* outside_utc = nullptr;
    for (Pending& p : pending) {
        p.start = p.time + shift;
        p.end = p.start + step;
        const bool in_paris = p.start >= paris_start && p.end <= paris_end;
        const bool in_utc = p.start >= utc_start && p.end <= utc_end;
        if (!in_paris && !in_utc)
            return rejected(RejectCode::out_of_range,
                            fmt::format("sensml record {} ({}): interval [{}, {}) is outside the "
                                        "requested days [{}, {}) (Paris or UTC midnights)",
                                        p.index, how, format_iso_ms(p.start), format_iso_ms(p.end),
                                        format_day(req.start_date), format_day(req.end_date)));
        if (!in_paris && !outside_paris) outside_paris = &p;
        if (!in_utc && !outside_utc) outside_utc = &p;
    }
    if (outside_paris && outside_utc)
        return rejected(RejectCode::out_of_range,
                        fmt::format("sensml record {} ({}): interval [{}, {}) is outside the "
                                    "requested days [{}, {}) from Paris midnight, and record {} is "
                                    "outside them from UTC midnight: one response cannot mix both",
                                    outside_paris->index, how, format_iso_ms(outside_paris->start),
                                    format_iso_ms(outside_paris->end), format_day(req.start_date),
                                    format_day(req.end_date), outside_utc->index));
    if (auto r = check_duplicates(pending, false)) return std::move(*r);
    return emit(req, pending, stamping);
}

QuoaliseDecoding daily_readings(const QuoaliseRequest& req, std::vector<Pending>& pending) {
    for (Pending& p : pending) {
        const date::year_month_day day{paris_day(p.time)};
        if (date::sys_days{day} < date::sys_days{req.start_date} ||
            date::sys_days{day} >= date::sys_days{req.end_date})
            return rejected(
                RejectCode::out_of_range,
                fmt::format("sensml record {}: time {} is on {} (Europe/Paris), outside "
                            "the requested days [{}, {})",
                            p.index, format_iso_ms(p.time), format_day(day),
                            format_day(req.start_date), format_day(req.end_date)));
        p.start = paris_midnight(day);
        p.end = paris_midnight(next_day(day));
    }
    if (auto r = check_duplicates(pending, true)) return std::move(*r);
    return emit(req, pending, std::nullopt);
}

}  // namespace mb::quoalise
