#include "tests/support/process.h"

#include "tests/support/temp_dir.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace mb::test {

using namespace std::chrono;

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const std::filesystem::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

namespace {
std::atomic<int> g_counter{0};
}

Process::Process(const std::vector<std::string>& args, const std::filesystem::path& log_dir,
                 const std::vector<std::string>& extra_env) {
    const int n = g_counter++;
    out_path_ = log_dir / ("proc" + std::to_string(n) + ".out");
    err_path_ = log_dir / ("proc" + std::to_string(n) + ".err");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string s(*e);
        bool overridden = false;
        for (const auto& x : extra_env)
            if (s.substr(0, s.find('=') + 1) == x.substr(0, x.find('=') + 1)) overridden = true;
        // A test's own NOTIFY_SOCKET/JOURNAL_STREAM (when run under systemd) must not leak in.
        if (!overridden && !s.starts_with("NOTIFY_SOCKET=") && !s.starts_with("JOURNAL_STREAM=") &&
            !s.starts_with("WATCHDOG_"))
            env.push_back(s);
    }
    for (const auto& x : extra_env) env.push_back(x);
    std::vector<char*> argv, envp;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error(std::string("posix_spawn: ") + std::strerror(rc));
}

Process::~Process() {
    if (!exit_code_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status;
        ::waitpid(pid_, &status, 0);
    }
}

void Process::signal(int signo) {
    ::kill(pid_, signo);
}

std::optional<int> Process::wait(milliseconds timeout) {
    if (exit_code_) return exit_code_;
    const auto deadline = steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            if (WIFSIGNALED(status)) killed_by_ = WTERMSIG(status);
            return exit_code_;
        }
        if (steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(10ms);
    }
}

std::string Process::stderr_text() const {
    return read_file(err_path_);
}
std::string Process::stdout_text() const {
    return read_file(out_path_);
}

bool Process::wait_for_log(const std::string& needle, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    while (steady_clock::now() < deadline) {
        if (stderr_text().find(needle) != std::string::npos) return true;
        if (wait(0ms)) return stderr_text().find(needle) != std::string::npos;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

RunResult run_binary(const std::vector<std::string>& args, milliseconds timeout,
                     const std::vector<std::string>& extra_env) {
    const TempDir dir;  // parallel test processes must not share output files
    Process p(args, dir.path(), extra_env);
    RunResult r;
    auto code = p.wait(timeout);
    if (!code) p.signal(SIGKILL), p.wait(5s);
    r.exit_code = code.value_or(-1);
    r.out = p.stdout_text();
    r.err = p.stderr_text();
    return r;
}

NotifySocket::NotifySocket(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.string().size() >= sizeof(addr.sun_path))
        throw std::runtime_error("socket path too long");
    std::strcpy(addr.sun_path, path.c_str());
    ::unlink(path.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
        throw std::runtime_error(std::string("bind notify socket: ") + std::strerror(errno));
}

NotifySocket::~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
}

std::optional<std::string> NotifySocket::receive(milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0) return std::nullopt;
    last_.assign(buf, static_cast<std::size_t>(n));
    return last_;
}

bool NotifySocket::wait_for(const std::string& needle, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    while (steady_clock::now() < deadline) {
        auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
        auto m = receive(std::max(left, 1ms));
        if (m && m->find(needle) != std::string::npos) return true;
    }
    return false;
}

}  // namespace mb::test
