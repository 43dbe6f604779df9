#include "normalize/enedis/paris_day.h"

#include <date/tz.h>

#include <chrono>

namespace mb {

using std::chrono::milliseconds;

const date::time_zone* paris_zone() {
    static const date::time_zone* const zone = []() -> const date::time_zone* {
        try {
            return date::locate_zone("Europe/Paris");
        } catch (const std::exception&) {
            return nullptr;
        }
    }();
    return zone;
}

date::sys_days paris_day(TimeMs t) {
    const date::sys_time<milliseconds> sys{milliseconds{t}};
    return date::sys_days{date::floor<date::days>(paris_zone()->to_local(sys)).time_since_epoch()};
}

TimeMs paris_midnight(date::sys_days d) {
    const auto sys =
        paris_zone()->to_sys(date::local_days{d.time_since_epoch()}, date::choose::earliest);
    return std::chrono::duration_cast<milliseconds>(sys.time_since_epoch()).count();
}

int paris_minute_of_day(TimeMs t) {
    const date::sys_time<milliseconds> sys{milliseconds{t}};
    const auto local = paris_zone()->to_local(sys);
    const auto since = local - date::floor<date::days>(local);
    return static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(since).count());
}

}  // namespace mb
