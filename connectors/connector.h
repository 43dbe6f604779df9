// Connector: one transport session (an MQTT client, an XMPP client, a spool
// directory) that receives vendor messages, decodes them and hands them to the
// store's writer.
//
// Contract: the daemon's main thread calls start() once, then stop() (possibly
// more than once). start() returns quickly; the connector runs on a thread it
// owns. stop() is idempotent, blocks until that thread has joined, and returns
// only after every message the connector accepted has been handed to the
// writer (acknowledge-after-commit transports must not ack after stop()).
// health() may be called from any thread at any time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mb {

enum class ConnectorState : std::uint8_t { starting, running, reconnecting, stopped, failed };

std::string_view to_string(ConnectorState s);

struct Health {
    ConnectorState state = ConnectorState::starting;
    std::string detail;  // last error or status line
    std::uint64_t messages = 0;
    std::uint64_t rejected = 0;
    std::uint64_t reconnects = 0;
};

class Connector {
  public:
    virtual ~Connector() = default;
    virtual void start() = 0;
    virtual void stop() = 0;
    virtual Health health() const = 0;
    virtual const std::string& name() const = 0;
};

}  // namespace mb
