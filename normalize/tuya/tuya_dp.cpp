#include "normalize/tuya/tuya_dp.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

#include "normalize/quantity.h"

namespace mb {

namespace {

constexpr std::int64_t kVolumeMax = 999999999;

constexpr std::array<std::string_view, 4> kValveStates = {"opened", "closed", "opening", "closing"};
constexpr std::array<std::string_view, 6> kStallTypes = {"square_area", "ignore", "consumption",
                                                         "proportion",  "lease",  "power"};

using T = TuyaDpType;
using S = TuyaPairSlot;
using quantity::water_volume_index;

// The DP kinds of the document, one constructor each, so that the table below
// reads one DP a line. Value DPs have the volumes' documented range.
constexpr TuyaDp read_only(int id, std::string_view code, T type, TuyaDpRole role,
                           std::string_view q, Kind kind, S slot) {
    const std::int64_t max = type == T::value ? kVolumeMax : 0;
    return {id, code, type, false, 0, max, {}, role, q, kind, slot};
}
// A volume, a reading of `q`.
constexpr TuyaDp volume(int id, std::string_view code, std::string_view q, Kind kind) {
    return read_only(id, code, T::value, TuyaDpRole::reading, q, kind, S::day_begin);
}
// A first/last reading of day/month: its volume…
constexpr TuyaDp pair_volume(int id, std::string_view code, S slot) {
    return read_only(id, code, T::value, TuyaDpRole::pair_value, water_volume_index,
                     Kind::cumulative, slot);
}
// …and its Unix time.
constexpr TuyaDp pair_time(int id, std::string_view code, S slot) {
    return read_only(id, code, T::timestamp, TuyaDpRole::pair_time, {}, Kind::cumulative, slot);
}
// A read-write setting, reported as a state event.
constexpr TuyaDp setting(int id, std::string_view code, T type,
                         std::span<const std::string_view> values = {}) {
    TuyaDp dp = read_only(id, code, type, TuyaDpRole::state, {}, Kind::instant, S::day_begin);
    dp.writable = true;
    dp.enum_values = values;
    return dp;
}

constexpr std::array<TuyaDp, 18> kDps = {{
    volume(1, "water_flow", water_volume_index, Kind::cumulative),
    volume(2, "monthly_water_total", quantity::water_volume_month, Kind::interval),
    volume(3, "daily_water_total", quantity::water_volume_day, Kind::interval),
    setting(4, "switch_state", T::boolean),
    pair_volume(5, "d_begin_water_total", S::day_begin),
    pair_volume(6, "d_end_water_total", S::day_end),
    pair_time(7, "d_begin_time", S::day_begin),
    pair_time(8, "d_end_time", S::day_end),
    setting(9, "valve_state", T::enumeration, kValveStates),
    pair_volume(10, "m_begin_water_total", S::month_begin),
    pair_volume(11, "m_end_water_total", S::month_end),
    pair_time(12, "m_begin_time", S::month_begin),
    pair_time(13, "m_end_time", S::month_end),
    volume(14, "cold_stall_userdata", quantity::water_volume_shared_cold, Kind::instant),
    setting(15, "cold_stall_type", T::enumeration, kStallTypes),
    volume(16, "hot_stall_userdata", quantity::water_volume_shared_hot, Kind::instant),
    setting(17, "hot_stall_type", T::enumeration, kStallTypes),
    // Unit %, range as documented (0..999999999, sic).
    setting(18, "valve_open_degree", T::value),
}};

}  // namespace

std::optional<std::int64_t> tuya_parse_digits(std::string_view s) {
    if (s.empty() || s.size() > 19) return std::nullopt;
    if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    std::uint64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return std::nullopt;
    return static_cast<std::int64_t>(v);
}

std::span<const TuyaDp> tuya_dps() {
    return kDps;
}

const TuyaDp* tuya_find_dp(int id) {
    if (id < 1 || id > static_cast<int>(kDps.size())) return nullptr;
    return &kDps[static_cast<std::size_t>(id - 1)];
}

const TuyaDp* tuya_find_dp(std::string_view id_or_code) {
    if (const auto n = tuya_parse_digits(id_or_code)) {
        if (*n > 1000) return nullptr;
        return tuya_find_dp(static_cast<int>(*n));
    }
    for (const auto& dp : kDps)
        if (dp.code == id_or_code) return &dp;
    return nullptr;
}

}  // namespace mb
