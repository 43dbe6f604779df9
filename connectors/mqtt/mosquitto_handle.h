// RAII ownership of a libmosquitto client handle, and a client configured for
// one broker of the configuration (protocol, TLS, credentials). A handle is
// used by one thread at a time.
#pragma once

#include <mosquitto.h>

#include <chrono>
#include <memory>
#include <string>

#include "connectors/connector_config.h"

namespace mb {

struct MosquittoDeleter {
    void operator()(mosquitto* m) const { mosquitto_destroy(m); }
};
using MosquittoHandle = std::unique_ptr<mosquitto, MosquittoDeleter>;

// mosquitto_lib_init() exactly once per process (it is not thread-safe);
// cleanup is left to process exit because handles may outlive any owner.
void ensure_mosquitto_initialised();

// The system trust store as OpenSSL finds it: $SSL_CERT_FILE / $SSL_CERT_DIR,
// else the file and directory OpenSSL was built with. A default that does not
// exist is left empty.
struct SystemTrustStore {
    std::string file, dir;
};
SystemTrustStore system_trust_store();

// A client for `broker`: protocol version, TLS (verified, 1.2+, CA file/path
// or the system store, client certificate), username and the password read
// from password_file. Throws std::runtime_error starting with `who` (never
// containing the password), also when TLS should use the system trust store
// and there is none.
MosquittoHandle make_mosquitto_client(const std::string& client_id, bool clean_session,
                                      void* userdata, const BrokerConfig& broker,
                                      const std::string& who);

// libmosquitto's text for an error code (errno's for MOSQ_ERR_ERRNO).
std::string mosquitto_error_text(int rc);

// Connects, publishes one message, waits until the broker acknowledged it
// (QoS 1/2) or it was written (QoS 0), disconnects. For CLI verbs (downlinks).
// Throws std::runtime_error on failure, after `timeout`, or when an MQTT 5
// broker's acknowledgement refuses the publication (e.g. its ACL); the
// message names the topic.
void publish_once(const BrokerConfig& broker, const std::string& client_id,
                  const std::string& topic, const std::string& payload, int qos,
                  std::chrono::milliseconds timeout);

}  // namespace mb
