// MqttProtocol: what an MQTT connector runs for each received message.
//
// Most vendors only decode (DecoderProtocol wraps a pure Decoder). A protocol
// that answers its devices (Tuya: responses by request_id, commands) also
// publishes through the MqttOutbox and keeps per-device state.
//
// Thread: every method except submit_command() runs on the connector's own
// thread, one call at a time. submit_command() may be called from any thread
// and must only queue; the connector then wakes and calls on_tick().
// Delivery: a publication queued by on_message() or on_tick() is held by the
// connector and handed to libmosquitto only after every envelope staged
// before it has been committed, so an answer never acknowledges something the
// database does not hold and a command never leaves unrecorded. A failed
// commit drops the publications queued since the last commit, at any QoS
// (they never reach the library, which would resend QoS 1/2 ones after a
// reconnect), with the acknowledgements; the broker redelivers the messages
// and they are answered again. on_commit() tells the protocol which it was.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector.h"
#include "normalize/decoder.h"
#include "storage/envelope.h"

namespace mb {

class MqttOutbox {
  public:
    virtual ~MqttOutbox() = default;
    // Queues a publication at the connector's QoS; it leaves after the next
    // successful commit, or never (see Delivery above). False when it cannot be
    // queued: not connected.
    virtual bool publish(const std::string& topic, std::string_view payload) = 0;
    virtual bool connected() const = 0;
};

class MqttProtocol {
  public:
    virtual ~MqttProtocol() = default;

    // `env.raw` is filled (payload within max_payload); fill env.result (and
    // any device/command records), redact env.raw if needed, queue answers.
    virtual void on_message(Envelope& env, MqttOutbox& out) = 0;

    // For a message on_message() does not see (oversized): remove secrets
    // before it is stored as rejected.
    virtual void redact(RawMessage& raw) const { (void)raw; }

    // Removes secrets from any text that leaves the connector: decoded values
    // and reject details of every message (the connector applies it after
    // on_message), and libmosquitto's log lines. Default: nothing to remove.
    virtual void redact_text(std::string& text) const { (void)text; }

    // At least every 250 ms, and soon after submit_command(); also while
    // disconnected (out.connected() is false). May stage record-only envelopes.
    virtual void on_tick(TimeMs now, Batch& staged, MqttOutbox& out) {
        (void)now, (void)staged, (void)out;
    }

    // The connector is stopping: complete what is pending (aborted).
    virtual void on_stop(TimeMs now, Batch& staged) { (void)now, (void)staged; }

    // After each commit of what on_message(), on_tick() or on_stop() staged:
    // `committed`, the publications queued since the previous call went to the
    // library; otherwise they were dropped (`error` says why the commit failed).
    virtual void on_commit(bool committed, const std::string& error) {
        (void)committed, (void)error;
    }

    // Any thread. Default: refused.
    virtual void submit_command(DeviceCommand command, CommandDone done);

    // Any thread: the protocol's own figures for Health::samples. Default: none.
    virtual std::vector<HealthSample> samples() const { return {}; }
};

// The protocol of every decode-only vendor.
class DecoderProtocol final : public MqttProtocol {
  public:
    explicit DecoderProtocol(std::unique_ptr<Decoder> decoder) : decoder_(std::move(decoder)) {}
    void on_message(Envelope& env, MqttOutbox&) override {
        env.result = decoder_->decode(env.raw);
        decoder_->redact(env.raw);
    }
    void redact(RawMessage& raw) const override { decoder_->redact(raw); }
    void redact_text(std::string& text) const override { decoder_->redact_text(text); }

  private:
    std::unique_ptr<Decoder> decoder_;
};

}  // namespace mb
