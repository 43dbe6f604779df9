#include "tests/support/mosquitto_broker.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

namespace mb::test {

using namespace std::chrono_literals;

namespace {
std::string current_user() {
    const passwd* pw = ::getpwuid(::getuid());
    return pw ? pw->pw_name : "root";
}
}  // namespace

std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
        throw std::runtime_error("bind");
    socklen_t len = sizeof(a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
        ::close(fd);
        if (ok) return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

MosquittoBroker::MosquittoBroker(std::filesystem::path dir, std::optional<BrokerTls> tls,
                                 std::string extra_conf)
    : dir_(std::move(dir)), tls_(std::move(tls)), extra_conf_(std::move(extra_conf)) {
    std::filesystem::create_directories(dir_);
    // Between free_port() and mosquitto's bind, a concurrent test may take
    // the port: then this broker exits, and a connect to the port would reach
    // the other test's broker. Try another port.
    for (int attempt = 1;; ++attempt) {
        port_ = free_port();
        write_conf();
        if (launch()) return;
        if (attempt == 5) throw std::runtime_error("mosquitto did not start: " + log());
    }
}

void MosquittoBroker::write_conf() const {
    std::string conf = fmt::format(
        "listener {} 127.0.0.1\n"
        "{}"
        "persistence true\n"
        "persistence_location {}/\n"
        "autosave_interval 1\n"
        // A persistent session must keep everything queued while meterbridge is away.
        "max_queued_messages 0\n"
        "max_inflight_messages 100\n"
        "log_dest file {}/mosquitto.log\n"
        "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
        // Started as root, mosquitto would drop to its own user, which cannot read the test's 0700
        // files.
        "user {}\n",
        port_, extra_conf_.empty() ? "allow_anonymous true\n" : extra_conf_, dir_.string(),
        dir_.string(), current_user());
    if (tls_)
        conf +=
            fmt::format("cafile {}\ncertfile {}\nkeyfile {}\ntls_version tlsv1.2\n",
                        tls_->ca_file.string(), tls_->cert_file.string(), tls_->key_file.string());
    write_file(dir_ / "mosquitto.conf", conf);
}

// Starts mosquitto and waits until it logs that it runs (its listener is
// open); false when it exits first (the port was taken).
bool MosquittoBroker::launch() {
    const auto count_running = [this] {
        const std::string text = log();
        std::size_t n = 0;
        for (auto at = text.find(" running"); at != std::string::npos;
             at = text.find(" running", at + 1))
            ++n;
        return n;
    };
    const std::size_t before = count_running();
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/sbin/mosquitto", "-c", (dir_ / "mosquitto.conf").string()},
        dir_);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (process_->wait(0ms)) {
            process_.reset();
            return false;
        }
        if (count_running() > before && wait_for_port(port_, 1s)) return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

MosquittoBroker::~MosquittoBroker() {
    kill();
}

void MosquittoBroker::start() {
    // A second mosquitto on the running one's port would replace it and then
    // fail to bind while the first lets go of the port: a flaky test.
    if (process_)
        throw std::logic_error("MosquittoBroker::start: the broker runs already (the constructor "
                               "starts it; start() is for after stop() or kill())");
    if (!launch())
        throw std::runtime_error("mosquitto did not start: " +
                                 (process_ ? process_->stderr_text() : std::string()) + log());
}

void MosquittoBroker::stop() {
    if (!process_) return;
    process_->signal(SIGTERM);
    process_->wait(10s);
    process_.reset();
}

void MosquittoBroker::kill() {
    if (!process_) return;
    process_->signal(SIGKILL);
    process_->wait(10s);
    process_.reset();
}

std::string MosquittoBroker::log() const {
    if (!std::filesystem::exists(dir_ / "mosquitto.log")) return {};
    return read_file(dir_ / "mosquitto.log");
}

BrokerTls make_test_pki(const std::filesystem::path& dir, const std::string& name,
                        const std::string& host_name) {
    std::filesystem::create_directories(dir);
    const auto d = dir.string();
    const std::string script = fmt::format(
        "set -e; cd '{0}'; "
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN={1} test CA' -keyout "
        "{1}-ca.key -out {1}-ca.pem 2>/dev/null; "
        "openssl req -newkey rsa:2048 -nodes -subj '/CN={2}' -keyout {1}-server.key -out "
        "{1}-server.csr 2>/dev/null; "
        "printf 'subjectAltName=DNS:{2}' > {1}-ext.cnf; "
        "openssl x509 -req -in {1}-server.csr -CA {1}-ca.pem -CAkey {1}-ca.key -CAcreateserial "
        "-days 2 "
        "-extfile {1}-ext.cnf -out {1}-server.pem 2>/dev/null",
        d, name, host_name);
    if (std::system(script.c_str()) != 0) throw std::runtime_error("openssl failed");
    return BrokerTls{dir / (name + "-ca.pem"), dir / (name + "-server.pem"),
                     dir / (name + "-server.key")};
}

}  // namespace mb::test
