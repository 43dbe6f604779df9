// Quoalise payloads as the DataConnect proxy answers them, generated for any
// window: daily energy stamped at Paris midnight, and 30-minute load curves
// stamped at the end of each interval (as the proxy's code copies the
// upstream's dates). For the fake proxy and the job engine's tests.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <optional>
#include <string>

#include "normalize/enedis/paris_day.h"

namespace mb::test {

inline std::string quoalise_document(const std::string& prm, const char* quantity, const char* unit,
                                     const char* aggregate, int sampling,
                                     const std::string& records,
                                     const std::string& direction = "consumption") {
    return fmt::format(
        R"(<quoalise xmlns="urn:quoalise:0"><data><meta><device type="electricity-meter"><identifier authority="enedis" type="prm" value="{}"/></device><measurement><physical quantity="{}" type="electrical" unit="{}"/><business direction="{}"/><aggregate type="{}"/><sampling interval="{}"/></measurement></meta><sensml xmlns="urn:ietf:params:xml:ns:senml">{}</sensml></data></quoalise>)",
        prm, quantity, unit, direction, aggregate, sampling, records);
}

// Wh per Paris day of [from, to); `value` gives a day's value, nullopt for a
// day the upstream has no data for. Default: a value derived from the day.
inline std::string daily_quoalise(
    const std::string& prm, date::sys_days from, date::sys_days to,
    const std::function<std::optional<int>(date::sys_days)>& value = {},
    const std::string& direction = "consumption") {
    const TimeMs bt = paris_midnight(from) / 1000;
    std::string records;
    for (date::sys_days d = from; d < to; d += date::days{1}) {
        const auto v =
            value
                ? value(d)
                : std::optional<int>(10000 + static_cast<int>(d.time_since_epoch().count() % 5000));
        if (!v) continue;
        const TimeMs t = paris_midnight(d) / 1000 - bt;
        records +=
            records.empty()
                ? fmt::format(
                      R"(<senml bn="urn:dev:prm:{}_daily_{}" bt="{}" t="{}" v="{}" bu="Wh"/>)", prm,
                      direction, bt, t, *v)
                : fmt::format(R"(<senml t="{}" v="{}"/>)", t, *v);
    }
    return quoalise_document(prm, "energy", "Wh", "sum", 86400, records, direction);
}

// 30-minute W averages from Paris midnight of `from` to that of `to`, end-stamped.
inline std::string curve_quoalise(const std::string& prm, date::sys_days from, date::sys_days to,
                                  const std::string& direction = "consumption") {
    const TimeMs bt = paris_midnight(from) / 1000;
    const TimeMs n = (paris_midnight(to) - paris_midnight(from)) / 1800000;
    std::string records;
    for (TimeMs k = 1; k <= n; ++k) {
        const int v = 100 + static_cast<int>((bt / 1800 + k) % 900);
        records +=
            k == 1 ? fmt::format(
                         R"(<senml bn="urn:dev:prm:{}_{}_load" bt="{}" t="1800" v="{}" bu="W"/>)",
                         prm, direction, bt, v)
                   : fmt::format(R"(<senml t="{}" v="{}"/>)", k * 1800, v);
    }
    return quoalise_document(prm, "power", "W", "average", 1800, records, direction);
}

}  // namespace mb::test
