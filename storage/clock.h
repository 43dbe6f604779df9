// The wall clock, read in one place: UTC milliseconds since the Unix epoch
// (system_clock), for receive times, retention and connector schedules.
//
// Who calls: the writer (its default retention clock), the connectors and the
// daemon, from any thread. It lives in the storage layer, the lowest one that
// reads the clock: the base and the decoders below it stay pure (times are
// their parameters), which the layer check enforces.
#pragma once

#include "normalize/model.h"

namespace mb {

TimeMs now_ms();

}  // namespace mb
