// A real MQTT client (libmosquitto, its own network thread) that publishes
// and waits until the broker acknowledged everything it published.
#pragma once

#include <mosquitto.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace mb::test {

class MqttPublisher {
  public:
    // clean_session = false keeps the publisher's session (and its QoS 2
    // flows) across broker restarts. While the broker is away, QoS 0 publishes
    // are retried until it is back; QoS 1 and 2 ones are queued by the library
    // and sent once it is back.
    MqttPublisher(std::uint16_t port, const std::string& client_id = "test-publisher",
                  int protocol = 4, bool clean_session = true);
    ~MqttPublisher();
    // MQTT v5 Content Type when non-empty.
    void publish(const std::string& topic, const std::string& payload, int qos,
                 const std::string& content_type = "");
    // True once every publish was acknowledged (QoS 1: PUBACK, QoS 2: PUBCOMP).
    bool wait_all_acked(std::chrono::milliseconds timeout);
    std::uint64_t published() const { return published_; }
    // QoS 1/2 publishes made while disconnected (sent by the library on reconnect).
    std::uint64_t requeued() const { return requeued_; }

  private:
    mosquitto* m_ = nullptr;
    int protocol_;
    std::atomic<std::uint64_t> published_{0}, acked_{0}, requeued_{0};
};

}  // namespace mb::test
