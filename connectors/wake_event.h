// The wake-up of a poll() loop by other threads, on a non-blocking eventfd the
// caller owns: wake_event() from any thread, drain_wake_event() on the polling
// thread once poll() reports it. Used by the transports' own threads (MQTT,
// XMPP). Results are ignored on purpose: a counter already set still wakes the
// loop, and an empty one has nothing to drain.
#pragma once

#include <unistd.h>

#include <cstdint>

namespace mb {

inline void wake_event(int fd) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(fd, &one, sizeof one);
}

inline void drain_wake_event(int fd) {
    std::uint64_t v = 0;
    [[maybe_unused]] const auto n = ::read(fd, &v, sizeof v);
}

}  // namespace mb
