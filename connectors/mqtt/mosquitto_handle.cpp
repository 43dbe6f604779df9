#include "connectors/mqtt/mosquitto_handle.h"

#include <fmt/format.h>
#include <mqtt_protocol.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "normalize/config/secret.h"

namespace mb {

void ensure_mosquitto_initialised() {
    static const int rc = mosquitto_lib_init();
    if (rc != MOSQ_ERR_SUCCESS) throw std::runtime_error("mosquitto_lib_init failed");
}

std::string mosquitto_error_text(int rc) {
    if (rc == MOSQ_ERR_ERRNO) return std::strerror(errno);
    return mosquitto_strerror(rc);
}

SystemTrustStore system_trust_store() {
    // Where SSL_CTX_set_default_verify_paths() looks (OpenSSL's by_file and by_dir
    // lookups): the environment first, else the paths OpenSSL was built with.
    SystemTrustStore s;
    const char* file = std::getenv(X509_get_default_cert_file_env());
    s.file = file && *file ? file : X509_get_default_cert_file();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(s.file, ec) || ::access(s.file.c_str(), R_OK) != 0)
        s.file.clear();
    const char* dir = std::getenv(X509_get_default_cert_dir_env());
    if (dir && *dir) {
        s.dir = dir;  // may be a list (':'); OpenSSL reads what exists
    } else {
        s.dir = X509_get_default_cert_dir();
        if (!std::filesystem::is_directory(s.dir, ec)) s.dir.clear();
    }
    return s;
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
        // The system trust store goes in as a CA file and directory rather than with
        // MOSQ_OPT_TLS_USE_OS_CERTS: libmosquitto 2.0.11 keeps its TLS context across
        // reconnects and, with that option alone, refuses every reconnect
        // (MOSQ_ERR_INVAL) until the process restarts. With a CA file or path it sets
        // the context up again at each connect.
        std::string ca_file = broker.ca_file, ca_path = broker.ca_path;
        if (ca_file.empty() && ca_path.empty()) {
            const SystemTrustStore store = system_trust_store();
            if (store.file.empty() && store.dir.empty())
                throw std::runtime_error(fmt::format(
                    "{}: broker {} uses TLS and names no ca_file or ca_path, but the system "
                    "trust store is missing ({} and {}; ${} and ${} override them)",
                    who, broker.name, X509_get_default_cert_file(), X509_get_default_cert_dir(),
                    X509_get_default_cert_file_env(), X509_get_default_cert_dir_env()));
            ca_file = store.file;
            ca_path = store.dir;
        }
        const auto c_str = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
        if (int rc = mosquitto_tls_set(m, c_str(ca_file), c_str(ca_path), c_str(broker.cert_file),
                                       c_str(broker.key_file), nullptr);
            rc != MOSQ_ERR_SUCCESS)
            throw std::runtime_error(fmt::format("{}: TLS files of broker {} rejected: {}", who,
                                                 broker.name, mosquitto_error_text(rc)));
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
    int reason = 0;  // MQTT 5 PUBACK/PUBREC reason code; 0 with 3.1.1
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
    mosquitto_publish_v5_callback_set(
        m, [](mosquitto*, void* p, int, int reason, const mosquitto_property*) {
            auto* s = static_cast<PublishState*>(p);
            s->acked = true;
            s->reason = reason;
        });
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
        throw std::runtime_error(
            fmt::format("broker {}:{} refused the connection: {}", broker.host, broker.port,
                        broker.protocol == 5 ? mosquitto_reason_string(st.connect_rc)
                                             : mosquitto_connack_string(st.connect_rc)));
    if (int rc = mosquitto_publish(m, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                                   payload.data(), qos, false);
        rc != MOSQ_ERR_SUCCESS)
        throw std::runtime_error(
            fmt::format("publish to {} failed: {}", topic, mosquitto_error_text(rc)));
    pump([&] { return st.acked; });
    mosquitto_disconnect(m);
    mosquitto_loop(m, 100, 1);
    // A v5 broker acknowledges a publication it refuses (ACL) with a reason code.
    if (st.reason >= 0x80)
        throw std::runtime_error(fmt::format("the broker refused the publication to {}: {}", topic,
                                             mosquitto_reason_string(st.reason)));
}

}  // namespace mb
