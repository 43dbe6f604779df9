#include "tests/support/mqtt_publisher.h"

#include <mqtt_protocol.h>

#include <stdexcept>
#include <thread>

namespace mb::test {

using namespace std::chrono_literals;

MqttPublisher::MqttPublisher(std::uint16_t port, const std::string& client_id, int protocol,
                             bool clean_session)
    : protocol_(protocol) {
    mosquitto_lib_init();
    m_ = mosquitto_new(client_id.c_str(), clean_session, this);
    mosquitto_int_option(m_, MOSQ_OPT_PROTOCOL_VERSION,
                         protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
    mosquitto_publish_callback_set(
        m_, [](mosquitto*, void* self, int) { static_cast<MqttPublisher*>(self)->acked_++; });
    if (mosquitto_connect(m_, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS)
        throw std::runtime_error("publisher connect");
    mosquitto_loop_start(m_);
}

MqttPublisher::~MqttPublisher() {
    mosquitto_disconnect(m_);
    mosquitto_loop_stop(m_, false);
    mosquitto_destroy(m_);
}

void MqttPublisher::publish(const std::string& topic, const std::string& payload, int qos,
                            const std::string& content_type) {
    mosquitto_property* props = nullptr;
    if (!content_type.empty())
        mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, content_type.c_str());
    const auto disconnected = [](int r) {
        return r == MOSQ_ERR_NO_CONN || r == MOSQ_ERR_CONN_LOST;
    };
    int rc;
    // Refused before it was queued: retry. Without a connection, a QoS 0 message is
    // dropped (retry); a QoS 1 or 2 message was queued before libmosquitto tried to
    // send it (lib/actions.c, message__queue) and goes out when the connection comes
    // back: publishing it again would make it two messages.
    while ((rc = mosquitto_publish_v5(m_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                                      payload.data(), qos, false, props)) ==
               MOSQ_ERR_OVERSIZE_PACKET ||
           rc == MOSQ_ERR_NOMEM || (qos == 0 && disconnected(rc)))
        std::this_thread::sleep_for(1ms);
    mosquitto_property_free_all(&props);
    if (qos > 0 && disconnected(rc)) {
        ++requeued_;
        rc = MOSQ_ERR_SUCCESS;
    }
    if (rc != MOSQ_ERR_SUCCESS)
        throw std::runtime_error(std::string("publish: ") + mosquitto_strerror(rc));
    published_++;
    if (qos == 0) acked_++;
}

bool MqttPublisher::wait_all_acked(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (acked_ < published_) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

}  // namespace mb::test
