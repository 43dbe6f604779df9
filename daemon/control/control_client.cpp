#include "daemon/control/control_client.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sys/time.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace mb {

namespace {

constexpr std::chrono::milliseconds kConnectTimeout{5000};

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// Whether a failed send still leaves an answer to read: the daemon may have
// answered (refused, busy) and closed before our request went out.
bool peer_closed(int err) {
    return err == EPIPE || err == ECONNRESET;
}

}  // namespace

control::Response control_call(const std::filesystem::path& path, const control::Request& request,
                               std::chrono::milliseconds timeout) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string p = path.string();
    if (p.size() >= sizeof addr.sun_path)
        throw std::runtime_error(fmt::format("control socket path {} is too long", p));
    std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
    Fd s{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    if (s.fd < 0) throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
    // A daemon that does not accept (stuck, or its backlog full) makes connect() wait
    // this long, then fail with EAGAIN, instead of forever.
    const auto connect_wait = std::min<std::chrono::milliseconds>(timeout, kConnectTimeout);
    const timeval tv{static_cast<time_t>(connect_wait.count() / 1000),
                     static_cast<suseconds_t>(connect_wait.count() % 1000 * 1000)};
    ::setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        const int e = errno;
        if (e == ENOENT || e == ECONNREFUSED)
            throw ControlUnavailable(fmt::format(
                "cannot reach the daemon at {}: {} (is `meterbridge run` running with this "
                "configuration?)",
                p, std::strerror(e)));
        if (e == EACCES || e == EPERM)
            throw ControlPermissionDenied(fmt::format(
                "permission denied: cannot connect to {}: {} (the socket is mode 0660: run as the daemon's user or "
                "group, or root)",
                p, std::strerror(e)));
        if (e == EAGAIN || e == EINTR)
            throw ControlUnavailable(fmt::format(
                "the daemon's control socket {} is full: the connection was not accepted within "
                "{} ms (is the daemon stuck?)",
                p, connect_wait.count()));
        throw ControlUnavailable(fmt::format("cannot connect to {}: {}", p, std::strerror(e)));
    }
    const std::string line = control::render(request) + "\n";
    for (std::size_t off = 0; off < line.size();) {
        const auto n = ::send(s.fd, line.data() + off, line.size() - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (peer_closed(errno)) break;  // read what the daemon said before it closed
            throw ControlUnavailable(
                fmt::format("cannot send the request to {}: {}", p, std::strerror(errno)));
        }
        off += static_cast<std::size_t>(n);
    }
    std::string answer;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (answer.find('\n') == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            throw ControlUnavailable(
                fmt::format("no answer from the daemon at {} within {} ms", p, timeout.count()));
        pollfd pfd{s.fd, POLLIN, 0};
        const int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (r < 0 && errno != EINTR)
            throw std::runtime_error(fmt::format("poll: {}", std::strerror(errno)));
        if (r <= 0) continue;
        const auto n = ::read(s.fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (peer_closed(errno)) break;
            throw ControlUnavailable(
                fmt::format("reading the answer from {}: {}", p, std::strerror(errno)));
        }
        if (n == 0) break;
        answer.append(buf, static_cast<std::size_t>(n));
        if (answer.size() > control::kMaxLine * 4)
            throw std::runtime_error("the daemon's answer is too long");
    }
    if (answer.find('\n') == std::string::npos)
        throw ControlUnavailable(
            fmt::format("the daemon at {} closed the connection without answering", p));
    answer.resize(answer.find('\n'));
    std::string error;
    auto resp = control::parse_response(answer, error);
    if (!resp) throw std::runtime_error(error);
    if (resp->status == "refused")
        throw ControlPermissionDenied(fmt::format(
            "permission denied: the daemon refused the connection: {}", resp->detail));
    if (resp->status == "busy")
        throw ControlUnavailable(fmt::format("the daemon is busy: {}", resp->detail));
    return *resp;
}

}  // namespace mb
