// French local days (Europe/Paris), as Enedis counts them: 23 h and 25 h on
// DST days. The zone comes from the system tz database through date's tz
// library, looked up once per process.
//
// Who calls: the quoalise decoder and the Enedis fetch planning, any thread.
// paris_zone() is nullptr when the tz database lacks Europe/Paris; the other
// functions must then not be called (callers check once and refuse).
#pragma once

#include <date/date.h>

#include "normalize/model.h"

namespace date {
class time_zone;
}

namespace mb {

const date::time_zone* paris_zone();

// The French local day containing t.
date::sys_days paris_day(TimeMs t);
// The UTC ms of day d's Paris midnight (never skipped nor repeated in Paris).
TimeMs paris_midnight(date::sys_days d);
// Minutes since Paris midnight at t.
int paris_minute_of_day(TimeMs t);

}  // namespace mb
