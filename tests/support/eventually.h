// Polls a condition until it holds or a deadline passes: how tests wait for
// a daemon in another process without sleeping a fixed time.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace mb::test {

inline bool eventually(const std::function<bool()>& cond,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (cond()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return cond();
}

}  // namespace mb::test
