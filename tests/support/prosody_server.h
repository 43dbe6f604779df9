// A real prosody XMPP server for a test: its own config, port, data directory,
// pid file and log in a temporary directory, run as the current user. One
// virtual host (the XMPP domain, e.g. "meterbridge.test") served on a free
// loopback port: clients connect to 127.0.0.1 with server/port overrides while
// their JIDs keep the virtual host as domain. STARTTLS is required, with a
// certificate for the virtual host signed by a test CA (make_test_pki);
// accounts are stored hashed (SCRAM). No s2s, no HTTP: c2s with roster,
// saslauth, tls, disco and ping (XEP-0199); IQs between two full JIDs are
// routed by the core (mod_iq, always loaded).
//
// Restartable on the same port with the same data (accounts survive).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "tests/support/process.h"

namespace mb::test {

struct ProsodyOptions {
    std::string domain = "meterbridge.test";
    // The name the server certificate is issued for; "" = `domain`. Another
    // name makes a server whose certificate does not match its domain.
    std::string cert_host;
    // luasec's `protocol` for c2s TLS, e.g. "tlsv1_2" (TLS 1.2 only); "" = prosody's default.
    std::string tls_protocol;
    // Prosody's log level; "" = MB_PROSODY_LOG or "info" ("debug" logs every stanza).
    std::string log_level;
};

class ProsodyServer {
  public:
    // Writes the config and the PKI in `dir` and starts the server.
    explicit ProsodyServer(std::filesystem::path dir, ProsodyOptions options = {});
    ~ProsodyServer();
    ProsodyServer(const ProsodyServer&) = delete;
    ProsodyServer& operator=(const ProsodyServer&) = delete;

    // Creates (or changes the password of) an account with prosodyctl and the
    // same config; works whether the server runs or not. Throws on failure.
    void add_user(const std::string& localpart, const std::string& password);

    void start();   // returns when the c2s port accepts connections
    void stop();    // SIGTERM: clean shutdown, streams are closed
    void kill();    // SIGKILL: connections drop without a word
    void pause();   // SIGSTOP: connections stay open, nothing is answered
    void resume();  // SIGCONT
    bool running() const { return process_ != nullptr; }

    std::uint16_t port() const { return port_; }
    const std::string& host() const { return host_; }  // 127.0.0.1
    const std::string& domain() const { return options_.domain; }
    std::string jid(const std::string& localpart, const std::string& resource = "") const;
    const std::filesystem::path& ca_file() const { return ca_file_; }
    const std::filesystem::path& config_file() const { return config_; }
    std::string log() const;  // prosody's log file, and its stdout/stderr

  private:
    std::filesystem::path dir_;
    ProsodyOptions options_;
    std::string host_ = "127.0.0.1";
    std::uint16_t port_;
    std::filesystem::path config_, ca_file_;
    std::unique_ptr<Process> process_;
};

}  // namespace mb::test
