// A real mosquitto broker for a test: its own config, port, persistence file
// and log in a temporary directory. Restartable on the same port with the
// same persistence (to test broker restarts).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "tests/support/process.h"

namespace mb::test {

struct BrokerTls {
    std::filesystem::path ca_file, cert_file, key_file;
};

class MosquittoBroker {
  public:
    // `extra_conf`: more mosquitto.conf lines (e.g. password_file, allow_anonymous false).
    explicit MosquittoBroker(std::filesystem::path dir, std::optional<BrokerTls> tls = std::nullopt,
                             std::string extra_conf = "");
    ~MosquittoBroker();

    void start();  // again, after stop() or kill(): the constructor starts it
    void stop();  // SIGTERM: mosquitto saves its persistence file
    void kill();  // SIGKILL
    std::uint16_t port() const { return port_; }
    std::string log() const;

  private:
    void write_conf() const;
    bool launch();

    std::filesystem::path dir_;
    std::optional<BrokerTls> tls_;
    std::string extra_conf_;
    std::uint16_t port_ = 0;
    std::unique_ptr<Process> process_;
};

std::uint16_t free_port();
bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout);

// A certificate authority and a server certificate for `host_name` made with
// openssl in `dir` (ca.pem, server.pem, server.key).
BrokerTls make_test_pki(const std::filesystem::path& dir, const std::string& name,
                        const std::string& host_name);

}  // namespace mb::test
