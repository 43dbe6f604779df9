// Decoder: turns one RawMessage into canonical readings and state events, or a
// rejection with a reason.
//
// Contract: pure. No sockets, no clock (time of receipt comes in the message),
// no database, no logging. Per-message failures are values (DecodeResult::reject),
// never exceptions. An instance may keep scratch buffers (a reused simdjson
// parser), so it is used by one thread at a time; each connector thread owns
// its decoder. Configuration errors are reported when the decoder is built
// (see connectors/registry.h), not while decoding.
#pragma once

#include "normalize/model.h"

namespace mb {

class Decoder {
  public:
    virtual ~Decoder() = default;
    virtual DecodeResult decode(const RawMessage& message) = 0;

    // Removes secrets from a message before it is stored (raw messages are
    // kept for lineage, rejected ones for inspection): e.g. the akenza uplink
    // secret in the topic. Called by the connector after decode(), for every
    // message. Default: nothing to remove.
    virtual void redact(RawMessage& message) const { (void)message; }

    // Removes secrets from any other text about a message that leaves the
    // connector: decoded values (a state's value, a meter id), reject details,
    // the MQTT library's log lines (which quote topics). The connector calls
    // it on each. Default: nothing to remove.
    virtual void redact_text(std::string& text) const { (void)text; }
};

}  // namespace mb
