// What a validated Tuya property report becomes in the canonical model
// (readings and state events), and the per-device pairing state that joins the
// first/last readings of day/month across messages. Called by the Tuya
// connector on its MQTT thread, one report at a time; also by the fuzz target.
//
// Pure: a function of the report, the previous pairing and the options (the
// day/month boundaries come as an offset from UTC, computed by the caller); no
// clock, no I/O, no exceptions. The calendar is Howard Hinnant's date library
// (proleptic Gregorian).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "normalize/model.h"
#include "normalize/tuya/tuya_decoder.h"

namespace mb {

// Pairing of the first/last readings of day/month (DP 5↔7, 6↔8, 10↔12, 11↔13).
// The document sends one DP per message, so a value and its time always arrive
// separately, in either order. The connector keeps one TuyaPairing per device
// and passes it to every dp_report_to_canonical call.
//
// Rule: each slot holds at most one pending half (value or time) with the `t`
// of the report that carried it. When the other half arrives and the two
// reports' t differ by at most pair_window_ms, they pair: one water.volume.index
// cumulative reading, value = the volume, ts = the timestamp DP's time; the
// slot is emptied. Otherwise the newer half replaces the pending one (a half
// from an older burst is dropped: pairing it would date one day's volume with
// another day's time). A redelivered half (same t) pairs the same way and gives
// the same reading (deduplicated by the store).
struct TuyaPairHalf {
    bool present = false;
    bool is_time = false;    // false: a raw volume; true: a time in ms
    std::int64_t value = 0;  // raw volume (before scale), or ms
    TimeMs report_t = 0;     // the `t` (ms) of the report that carried it
    bool operator==(const TuyaPairHalf&) const = default;
};
struct TuyaPairing {
    std::array<TuyaPairHalf, 4> slots{};  // indexed by TuyaPairSlot
    bool operator==(const TuyaPairing&) const = default;
};
// A compact one-line text form for persistence ("-" per empty slot, else
// "v:<value>@<t>" or "t:<ms>@<t>", slots separated by ' '), and back; nullopt
// on any other text.
std::string tuya_pairing_to_string(const TuyaPairing& p);
std::optional<TuyaPairing> tuya_pairing_from_string(std::string_view s);

struct TuyaCanonicalOptions {
    // Volumes are raw / 10^volume_scale m3 (the document gives m3 with no
    // scale: default 0). 0..9.
    int volume_scale = 0;
    // The meter's day/month boundaries for water.volume.day/.month, as an
    // offset from UTC at the report's t (the connector may compute it from a
    // time zone per message). Minutes, -1440 < x < 1440.
    int utc_offset_minutes = 0;
    TimeMs pair_window_ms = 10 * 60 * 1000;
};

struct TuyaCanonical {
    std::vector<Reading> readings;
    std::vector<StateEvent> states;
    TuyaPairing pairing;  // the new state to keep for this device
};

// A validated report → readings and state events (meter = cid):
//   DP1 water_flow → water.volume.index, cumulative at t;
//   DP2/3 → water.volume.month/.day, interval over the calendar month/day (in
//     utc_offset_minutes) containing t: later reports of the same day revise it;
//   DP14/16 → water.volume.shared.cold/.hot, instant at t;
//   DP4/9/15/17/18 → state event key = code, value "true"/"false", the enum
//     text, or the decimal integer (valve_open_degree, %: no canonical quantity);
//   DP5/6/10/11 + 7/8/12/13 → see TuyaPairing.
TuyaCanonical dp_report_to_canonical(const TuyaPropertyReport& report, const TuyaPairing& previous,
                                     const TuyaCanonicalOptions& options = {});

}  // namespace mb
