#include "connectors/xmpp/xmpp_connection.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <resolv.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <string_view>

#include "connectors/wake_event.h"

namespace mb {

using namespace std::chrono;
using Clock = steady_clock;

namespace {

constexpr auto kMaxPollWait = 250ms;
constexpr std::uint16_t kDefaultPort = 5222;

std::string errno_text(int e) {
    return std::strerror(e);
}

std::uint16_t get16(const unsigned char* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

// The targets of the domain's _xmpp-client._tcp SRV records, by priority
// (weights only order equal priorities). Empty when there are none.
std::vector<XmppTarget> srv_targets(const std::string& domain) {
    struct __res_state st {};
    if (res_ninit(&st) != 0) return {};
    unsigned char buf[4096];
    const std::string name = "_xmpp-client._tcp." + domain;
    const int n = res_nquery(&st, name.c_str(), ns_c_in, ns_t_srv, buf, sizeof buf);
    res_nclose(&st);
    if (n < 12 || n > static_cast<int>(sizeof buf)) return {};
    const unsigned char* end = buf + n;
    const unsigned char* p = buf + 12;
    struct Srv {
        std::uint16_t priority, weight;
        XmppTarget target;
    };
    std::vector<Srv> found;
    for (int q = get16(buf + 4); q > 0; --q) {
        const int l = dn_skipname(p, end);
        if (l < 0 || p + l + 4 > end) return {};
        p += l + 4;
    }
    for (int a = get16(buf + 6); a > 0; --a) {
        const int l = dn_skipname(p, end);
        if (l < 0 || p + l + 10 > end) break;
        p += l;
        const std::uint16_t type = get16(p);
        const std::uint16_t rdlen = get16(p + 8);
        p += 10;
        if (p + rdlen > end) break;
        if (type == ns_t_srv && rdlen > 6) {
            char target[NS_MAXDNAME];
            if (dn_expand(buf, end, p + 6, target, sizeof target) >= 0 && target[0] != '\0' &&
                std::string_view(target) != ".")
                found.push_back({get16(p), get16(p + 2), {target, get16(p + 4)}});
        }
        p += rdlen;
    }
    std::stable_sort(found.begin(), found.end(), [](const Srv& x, const Srv& y) {
        return x.priority != y.priority ? x.priority < y.priority : x.weight > y.weight;
    });
    std::vector<XmppTarget> out;
    for (auto& s : found) out.push_back(std::move(s.target));
    return out;
}

// A gloox code and what the logs say of it.
struct CodeText {
    int code;
    std::string_view text;
};

std::string code_text(int code, std::span<const CodeText> table, std::string_view other) {
    for (const CodeText& t : table)
        if (t.code == code) return std::string(t.text);
    return fmt::format("{} {}", other, code);
}

constexpr CodeText kStreamErrors[] = {
    {gloox::StreamErrorConflict, "conflict (another session took this resource)"},
    {gloox::StreamErrorConnectionTimeout, "connection-timeout"},
    {gloox::StreamErrorHostUnknown, "host-unknown (the server does not serve this domain)"},
    {gloox::StreamErrorNotAuthorized, "not-authorized"},
    {gloox::StreamErrorPolicyViolation, "policy-violation"},
    {gloox::StreamErrorResourceConstraint, "resource-constraint"},
    {gloox::StreamErrorSeeOtherHost, "see-other-host"},
    {gloox::StreamErrorSystemShutdown, "system-shutdown"},
    {gloox::StreamErrorInternalServerError, "internal-server-error"},
};

constexpr CodeText kAuthErrors[] = {
    {gloox::SaslNotAuthorized, "not-authorized: wrong JID or password"},
    {gloox::SaslTemporaryAuthFailure, "temporary-auth-failure"},
    {gloox::SaslMechanismTooWeak, "mechanism-too-weak"},
    {gloox::SaslInvalidMechanism, "invalid-mechanism"},
    {gloox::SaslAborted, "aborted"},
    {gloox::SaslMalformedRequest, "malformed-request"},
};

constexpr CodeText kConnectionErrors[] = {
    {gloox::ConnStreamClosed, "the server closed the connection"},
    {gloox::ConnIoError, "I/O error on the connection"},
    {gloox::ConnParseError, "XML parse error in the stream"},
    {gloox::ConnStreamVersionError, "unsupported stream version"},
    {gloox::ConnTlsFailed, "TLS handshake failed"},
    {gloox::ConnTlsNotAvailable,
     "the server does not offer TLS (STARTTLS) and plaintext is not allowed"},
    {gloox::ConnNoSupportedAuth, "the server offers no SASL mechanism gloox supports"},
    {gloox::ConnConnectionRefused, "connection refused"},
    {gloox::ConnDnsError, "host not found"},
    {gloox::ConnUserDisconnected, "disconnected"},
};

}  // namespace

std::vector<XmppTarget> xmpp_targets(const std::string& server, std::uint16_t port,
                                     const std::string& domain) {
    const std::uint16_t fixed = port ? port : kDefaultPort;
    if (!server.empty()) return {{server, fixed}};
    std::vector<XmppTarget> targets = srv_targets(domain);
    if (port)
        for (auto& t : targets) t.port = port;
    if (targets.empty()) targets.push_back({domain, fixed});
    return targets;
}

int xmpp_poll_ms(Clock::duration d) {
    const auto ms = duration_cast<milliseconds>(d).count();
    return static_cast<int>(std::clamp<std::int64_t>(ms + 1, 0, kMaxPollWait.count()));
}

bool is_loopback(const std::string& host) {
    if (host == "localhost") return true;
    in_addr a4{};
    if (::inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    in6_addr a6{};
    if (::inet_pton(AF_INET6, host.c_str(), &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}

int xmpp_tcp_connect(const std::vector<XmppTarget>& targets, Clock::time_point deadline,
                     milliseconds send_timeout, XmppConnectStop interrupt, const std::string& name,
                     std::string& error) {
    std::vector<std::string> errors;
    for (const XmppTarget& t : targets) {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        const std::string port = std::to_string(t.port);
        if (const int rc = ::getaddrinfo(t.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
            errors.push_back(fmt::format("{}: {}", t.host, ::gai_strerror(rc)));
            continue;
        }
        for (const addrinfo* ai = res; ai; ai = ai->ai_next) {
            const int fd =
                ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                errors.push_back(fmt::format("socket: {}", errno_text(errno)));
                continue;
            }
            int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
            int err = rc == 0 ? 0 : errno;
            while (err == EINPROGRESS && !interrupt.stop) {
                const auto now = Clock::now();
                if (now >= deadline) {
                    err = ETIMEDOUT;
                    break;
                }
                pollfd p[2] = {{fd, POLLOUT, 0}, {interrupt.wake_fd, POLLIN, 0}};
                ::poll(p, 2, xmpp_poll_ms(deadline - now));
                if (p[1].revents) drain_wake_event(interrupt.wake_fd);
                if (p[0].revents) {
                    socklen_t len = sizeof err;
                    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                }
            }
            if (err == 0 && !interrupt.stop) {
                ::freeaddrinfo(res);
                // Blocking from now on; a stalled peer cannot block a send for long.
                ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
                timeval tv{};
                tv.tv_sec = std::max<std::int64_t>(1, duration_cast<seconds>(send_timeout).count());
                ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
                const int on = 1;
                ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
                ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
                spdlog::debug("{}: TCP connected to {}:{}", name, t.host, t.port);
                return fd;
            }
            ::close(fd);
            if (interrupt.stop) {
                ::freeaddrinfo(res);
                error = "stopped";
                return -1;
            }
            errors.push_back(fmt::format("{}:{}: {}", t.host, t.port, errno_text(err)));
        }
        ::freeaddrinfo(res);
    }
    error = fmt::format("cannot connect: {}", fmt::join(errors, "; "));
    return -1;
}

XmppConnection::~XmppConnection() {
    if (fd_ >= 0) ::close(fd_);
}

gloox::ConnectionError XmppConnection::connect() {
    if (fd_ >= 0) {
        m_socket = fd_;
        fd_ = -1;
    }
    return gloox::ConnectionTCPClient::connect();
}

gloox::ConnectionError XmppConnection::recv(int /*timeout*/) {
    if (m_cancel || m_socket < 0) return gloox::ConnNotConnected;
    const ssize_t n = ::recv(m_socket, m_buf, static_cast<std::size_t>(m_bufsize), MSG_DONTWAIT);
    if (n > 0) {
        m_totalBytesIn += n;
        if (m_handler)
            m_handler->handleReceivedData(this, std::string(m_buf, static_cast<std::size_t>(n)));
        return gloox::ConnNoError;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return gloox::ConnNoError;
    const gloox::ConnectionError e = n == 0 ? gloox::ConnStreamClosed : gloox::ConnIoError;
    if (m_handler) m_handler->handleDisconnect(this, e);
    return e;
}

bool XmppConnection::send(const std::string& data) {
    if (data.empty() || m_socket < 0 || !write_error_.empty()) return false;
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::send(m_socket, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            write_error_ = n < 0 ? errno_text(errno) : "nothing written";
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    m_totalBytesOut += static_cast<long>(data.size());
    return true;
}

std::string xmpp_connection_error_text(gloox::ConnectionError e) {
    return code_text(e, kConnectionErrors, "connection error");
}

std::string xmpp_stream_error_text(gloox::StreamError e) {
    return code_text(e, kStreamErrors, "condition");
}

std::string xmpp_auth_error_text(gloox::AuthenticationError e) {
    return code_text(e, kAuthErrors, "condition");
}

}  // namespace mb
