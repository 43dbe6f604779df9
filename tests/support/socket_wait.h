// Waiting on a test's socket for the peer (the daemon's listener or control
// socket) to close it. Blocking, on the caller's thread.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <chrono>

namespace mb::test {

// Whether the peer closed `fd` (EOF or reset) within `timeout`, having sent nothing.
inline bool closed_by_peer(int fd, std::chrono::milliseconds timeout) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    const auto n = ::recv(fd, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

}  // namespace mb::test
