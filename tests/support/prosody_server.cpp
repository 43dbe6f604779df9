#include "tests/support/prosody_server.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>

#include "tests/support/mosquitto_broker.h"
#include "tests/support/temp_dir.h"

namespace mb::test {

using namespace std::chrono_literals;

namespace {

// A Lua long string: no escaping needed for paths.
std::string lua_string(const std::filesystem::path& p) {
    return "[==[" + p.string() + "]==]";
}

// RSA key generation is most of a server's start-up time: one PKI per
// certificate host name and test process, in a directory removed at exit.
const BrokerTls& cached_pki(const std::string& host) {
    static std::mutex mu;
    static const TempDir dir;
    static std::map<std::string, BrokerTls> cache;
    std::lock_guard lk(mu);
    auto it = cache.find(host);
    if (it == cache.end())
        it = cache.emplace(host, make_test_pki(dir.path() / host, "prosody", host)).first;
    return it->second;
}

}  // namespace

ProsodyServer::ProsodyServer(std::filesystem::path dir, ProsodyOptions options)
    : dir_(std::move(dir)), options_(std::move(options)), port_(free_port()) {
    std::filesystem::create_directories(dir_ / "data");
    const std::string cert_host = options_.cert_host.empty() ? options_.domain : options_.cert_host;
    const BrokerTls& pki = cached_pki(cert_host);
    ca_file_ = pki.ca_file;
    config_ = dir_ / "prosody.cfg.lua";
    // MB_PROSODY_LOG=debug logs every stanza (for post-mortems, with MB_KEEP_TEST_FILES).
    const char* env_level = std::getenv("MB_PROSODY_LOG");
    const std::string level =
        !options_.log_level.empty() ? options_.log_level : (env_level ? env_level : "info");
    const std::string conf = fmt::format(
        "-- written by the meterbridge tests (tests/support/prosody_server.cpp)\n"
        // Prosody refuses to start as root unless told; as any other user this is a no-op.
        "run_as_root = {}\n"
        "pidfile = {}\n"
        "data_path = {}\n"
        "certificates = {}\n"
        "plugin_paths = {{}}\n"
        "log = {{ {{ levels = {{ min = \"{}\" }}, to = \"file\", filename = {} }} }}\n"
        "interfaces = {{ \"{}\" }}\n"
        "c2s_ports = {{ {} }}\n"
        "c2s_direct_tls_ports = {{}}\n"
        "legacy_ssl_ports = {{}}\n"
        // posix, c2s, iq, message, presence and offline are loaded by the core.
        "modules_enabled = {{ \"roster\"; \"saslauth\"; \"tls\"; \"disco\"; \"ping\" }}\n"
        "modules_disabled = {{ \"s2s\"; \"s2s_auth_certs\" }}\n"
        "authentication = \"internal_hashed\"\n"
        "storage = \"internal\"\n"
        "c2s_require_encryption = true\n"
        "allow_registration = false\n"
        "VirtualHost \"{}\"\n"
        "  ssl = {{ certificate = {}; key = {}; {} }}\n",
        ::geteuid() == 0 ? "true" : "false", lua_string(dir_ / "prosody.pid"),
        lua_string(dir_ / "data"), lua_string(dir_), level, lua_string(dir_ / "prosody.log"), host_,
        port_, options_.domain, lua_string(pki.cert_file), lua_string(pki.key_file),
        options_.tls_protocol.empty() ? "" : "protocol = \"" + options_.tls_protocol + "\";");
    write_file(config_, conf);
    start();
}

ProsodyServer::~ProsodyServer() {
    kill();  // SIGKILL ends a paused server too
}

std::string ProsodyServer::jid(const std::string& localpart, const std::string& resource) const {
    return localpart + "@" + options_.domain + (resource.empty() ? "" : "/" + resource);
}

void ProsodyServer::add_user(const std::string& localpart, const std::string& password) {
    const RunResult r = run_binary({"/usr/bin/prosodyctl", "--config", config_.string(), "register",
                                    localpart, options_.domain, password},
                                   20s);
    if (r.exit_code != 0)
        throw std::runtime_error(fmt::format("prosodyctl register {}@{} failed ({}): {}{}",
                                             localpart, options_.domain, r.exit_code, r.out,
                                             r.err));
}

void ProsodyServer::start() {
    if (process_) return;
    // -F: stay in the foreground (a child we can signal and wait for).
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/prosody", "-F", "--config", config_.string()}, dir_);
    // Prosody is single-threaded: connections are served only once startup (hosts,
    // certificates) is complete, so an open port is enough.
    if (!wait_for_port(port_, 15s)) {
        const std::string why = process_->stderr_text() + process_->stdout_text() + log();
        kill();
        throw std::runtime_error("prosody did not start: " + why);
    }
}

void ProsodyServer::stop() {
    if (!process_) return;
    process_->signal(SIGCONT);
    process_->signal(SIGTERM);
    if (!process_->wait(10s)) process_->signal(SIGKILL), process_->wait(5s);
    process_.reset();
}

void ProsodyServer::kill() {
    if (!process_) return;
    process_->signal(SIGKILL);
    process_->wait(10s);
    process_.reset();
}

void ProsodyServer::pause() {
    if (process_) process_->signal(SIGSTOP);
}

void ProsodyServer::resume() {
    if (process_) process_->signal(SIGCONT);
}

std::string ProsodyServer::log() const {
    return read_file(dir_ / "prosody.log");
}

}  // namespace mb::test
