// A minimal HTTP/1.1 client for tests of the daemon's listener: one request
// per connection (Connection: close), the whole answer read until the peer
// closes. Blocking, on the caller's thread; failures give status 0 / -1.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <regex>
#include <sstream>
#include <string>

#include "tests/support/process.h"

namespace mb::test {

// A connected TCP socket to 127.0.0.1:port, or -1.
inline int connect_tcp(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Everything the peer sends until it closes (or `timeout` passes).
inline std::string read_all(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[65536];
    for (;;) {
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

struct HttpReply {
    unsigned status = 0;
    std::string head, body;
};

inline HttpReply http_get(std::uint16_t port, const std::string& target, const std::string& method = "GET") {
    HttpReply r;
    const int fd = connect_tcp(port);
    if (fd < 0) return r;
    const std::string req =
        fmt::format("{} {} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", method, target);
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) < 0) {
        ::close(fd);
        return r;
    }
    const std::string all = read_all(fd);
    ::close(fd);
    const auto split = all.find("\r\n\r\n");
    if (all.size() < 12 || split == std::string::npos) return r;
    r.status = static_cast<unsigned>(std::stoul(all.substr(9, 3)));
    r.head = all.substr(0, split);
    r.body = all.substr(split + 4);
    return r;
}

// The value of the sample `name{labels}` exactly as written in the exposition, or -1.
inline double sample(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return -1;
}

// The port the daemon logged ("http listening on 127.0.0.1:PORT"), 0 if none yet.
inline std::uint16_t logged_port(const Process& p) {
    static const std::regex re(R"(http listening on 127\.0\.0\.1:(\d+))");
    std::smatch m;
    const std::string err = p.stderr_text();
    if (!std::regex_search(err, m, re)) return 0;
    return static_cast<std::uint16_t>(std::stoul(m[1]));
}

}  // namespace mb::test
