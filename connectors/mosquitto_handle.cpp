#include "connectors/mosquitto_handle.h"

#include <fmt/format.h>
#include <mqtt_protocol.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "daemon/secret.h"

namespace mb {

void ensure_mosquitto_initialised() {
    static const int rc = mosquitto_lib_init();
    if (rc != MOSQ_ERR_SUCCESS) throw std::runtime_error("mosquitto_lib_init failed");
}

std::string mosquitto_error_text(int rc) {
    if (rc == MOSQ_ERR_ERRNO) return std::strerror(errno);
    return mosquitto_strerror(rc);
}

MosquittoHandle make_mosquitto_client(const std::string& client_id, bool clean_session,
                                      void* userdata, const BrokerConfig& broker,
                                      const std::string& who) {
    ensure_mosquitto_initialised();
    MosquittoHandle h(mosquitto_new(client_id.c_str(), clean_session, userdata));
    if (!h)
        throw std::runtime_error(
            fmt::format("{}: cannot create an MQTT client: {}", who, std::strerror(errno)));
    mosquitto* m = h.get();
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION,
                         broker.protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
    if (broker.tls.value_or(false)) {
        const char* ca_file = broker.ca_file.empty() ? nullptr : broker.ca_file.c_str();
        const char* ca_path = broker.ca_path.empty() ? nullptr : broker.ca_path.c_str();
        if (!ca_file && !ca_path) mosquitto_int_option(m, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
        const char* cert = broker.cert_file.empty() ? nullptr : broker.cert_file.c_str();
        const char* key = broker.key_file.empty() ? nullptr : broker.key_file.c_str();
        if (ca_file || ca_path || cert) {
            if (int rc = mosquitto_tls_set(m, ca_file, ca_path, cert, key, nullptr);
                rc != MOSQ_ERR_SUCCESS)
                throw std::runtime_error(fmt::format("{}: TLS files of broker {} rejected: {}", who,
                                                     broker.name, mosquitto_error_text(rc)));
        }
        // Verify the peer, TLS 1.2 or newer.
        if (int rc = mosquitto_tls_opts_set(m, 1, "tlsv1.2", nullptr); rc != MOSQ_ERR_SUCCESS)
            throw std::runtime_error(
                fmt::format("{}: TLS options rejected: {}", who, mosquitto_error_text(rc)));
        mosquitto_tls_insecure_set(m, broker.tls_insecure);
    }
    if (!broker.username.empty()) {
        // libmosquitto keeps its own copies: the secret does not outlive this scope here.
        const std::string password =
            broker.password_file.empty() ? std::string() : read_secret_file(broker.password_file);
        mosquitto_username_pw_set(m, broker.username.c_str(),
                                  broker.password_file.empty() ? nullptr : password.c_str());
    }
    return h;
}

namespace {
struct PublishState {
    bool connected = false;
    int connect_rc = -1;
    bool acked = false;
};
}  // namespace

void publish_once(const BrokerConfig& broker, const std::string& client_id,
                  const std::string& topic, const std::string& payload, int qos,
                  std::chrono::milliseconds timeout) {
    PublishState st;
    auto h = make_mosquitto_client(client_id, true, &st, broker, "publish");
    mosquitto* m = h.get();
    mosquitto_connect_callback_set(m, [](mosquitto*, void* p, int rc) {
        auto* s = static_cast<PublishState*>(p);
        s->connect_rc = rc;
        s->connected = rc == 0;
    });
    mosquitto_publish_callback_set(
        m, [](mosquitto*, void* p, int) { static_cast<PublishState*>(p)->acked = true; });
    if (int rc = mosquitto_connect(m, broker.host.c_str(), broker.port, 30); rc != MOSQ_ERR_SUCCESS)
        throw std::runtime_error(fmt::format("cannot connect to {}:{}: {}", broker.host,
                                             broker.port, mosquitto_error_text(rc)));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pump = [&](auto done) {
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline)
                throw std::runtime_error("timed out waiting for the broker");
            if (int rc = mosquitto_loop(m, 100, 1); rc != MOSQ_ERR_SUCCESS)
                throw std::runtime_error(fmt::format("connection to {}:{} failed: {}", broker.host,
                                                     broker.port, mosquitto_error_text(rc)));
        }
    };
    pump([&] { return st.connect_rc >= 0; });
    if (!st.connected)
        throw std::runtime_error(fmt::format("broker {}:{} refused the connection: {}", broker.host,
                                             broker.port, mosquitto_connack_string(st.connect_rc)));
    if (int rc = mosquitto_publish(m, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                                   payload.data(), qos, false);
        rc != MOSQ_ERR_SUCCESS)
        throw std::runtime_error(
            fmt::format("publish to {} failed: {}", topic, mosquitto_error_text(rc)));
    pump([&] { return st.acked; });
    mosquitto_disconnect(m);
    mosquitto_loop(m, 100, 1);
}

}  // namespace mb
