// The health cell of a connector (or of the transport session under it): the
// state, the last status line and the counters, written by the connector's own
// thread and read from any thread (Connector::health(), the control socket's
// status, the daemon's supervision).
//
// Each read is one consistent snapshot, taken under the cell's own mutex; the
// cell guards nothing else. update() runs its function under that mutex: it
// must be short and must not call back into the connector.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

#include "connectors/connector.h"

namespace mb {

template <class T>
class HealthCell {
  public:
    T get() const {
        std::lock_guard lk(mu_);
        return value_;
    }

    // f(T&) under the lock; returns what f returns.
    template <class F>
    decltype(auto) update(F&& f) {
        std::lock_guard lk(mu_);
        return std::forward<F>(f)(value_);
    }

  private:
    mutable std::mutex mu_;
    T value_{};
};

// A Connector's Health (starting until told otherwise), with the updates
// every connector makes.
class ConnectorHealth : public HealthCell<Health> {
  public:
    void set_state(ConnectorState s, std::string detail) {
        update([&](Health& h) {
            h.state = s;
            h.detail = std::move(detail);
        });
    }
    // `messages` more received, `rejected` of them rejected.
    void count(std::uint64_t messages, std::uint64_t rejected) {
        update([&](Health& h) {
            h.messages += messages;
            h.rejected += rejected;
        });
    }
    void reconnected() {
        update([](Health& h) { h.reconnects++; });
    }
};

}  // namespace mb
