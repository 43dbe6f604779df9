// A simulated Tuya edge gateway: a real MQTT client (libmosquitto, its own
// network thread) that publishes the gateway's uplinks and records what the
// platform sends back (responses, commands). It answers commands on
// commands/response as told: success, an error code, or not at all.
#pragma once

#include <mosquitto.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace mb::test {

struct Received {
    std::string topic, payload;
};

class TuyaGateway {
  public:
    enum class Answer { success, error, never };

    TuyaGateway(std::uint16_t port, std::string gateway_id);
    ~TuyaGateway();

    const std::string& id() const { return id_; }
    // Publishes at QoS 1 on gateway_id/<id>/<kind> and waits for the PUBACK.
    void publish(const std::string& kind, const std::string& payload);

    // The next message received on gateway_id/<id>/<kind> (e.g.
    // "properties/report/response"), in arrival order; nullopt on timeout.
    std::optional<Received> next(const std::string& kind, std::chrono::milliseconds timeout);

    void answer_commands(Answer how, int code = 0, std::string msg = "success");
    std::vector<Received> commands() const;

  private:
    void on_message(const mosquitto_message* m);

    std::string id_;
    mosquitto* m_ = nullptr;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Received> inbox_;     // not yet taken by next()
    std::vector<Received> commands_;  // every command seen
    Answer answer_ = Answer::success;
    int code_ = 0;
    std::string msg_ = "success";
    int acked_ = 0;
    bool subscribed_ = false;
};

}  // namespace mb::test
