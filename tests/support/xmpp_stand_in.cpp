#include "tests/support/xmpp_stand_in.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <stdexcept>
#include <utility>

namespace mb::test {

using namespace std::chrono;

bool XmppPeer::fill(steady_clock::time_point deadline) {
    pollfd p{fd_, POLLIN, 0};
    for (;;) {
        const auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
        if (left <= 0 || stop_) return false;
        const int n = ::poll(&p, 1, static_cast<int>(std::min<long>(left, 50)));
        if (n < 0) return false;
        if (n > 0) break;
    }
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    in_.append(buf, static_cast<std::size_t>(n));
    return true;
}

std::optional<std::string> XmppPeer::expect(std::string_view needle, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    for (;;) {
        if (const auto at = in_.find(needle); at != std::string::npos) {
            std::string got = in_.substr(0, at + needle.size());
            in_.erase(0, at + needle.size());
            return got;
        }
        if (!fill(deadline)) return std::nullopt;
    }
}

bool XmppPeer::send(std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::string XmppPeer::until_closed(milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    while (fill(deadline)) {
    }
    return std::exchange(in_, {});
}

std::string XmppPeer::stream_header(const std::string& domain) {
    return fmt::format(
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' id='stand-in' from='{}' version='1.0' "
        "xml:lang='en'>",
        domain);
}

bool XmppPeer::login(const std::string& domain, const std::string& full_jid) {
    if (!expect("<stream:stream") || !expect(">")) return false;
    if (!send(stream_header(domain) +
              "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
              "<mechanism>PLAIN</mechanism></mechanisms></stream:features>"))
        return false;
    if (!expect("<auth") || !expect("</auth>")) return false;
    if (!send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")) return false;
    if (!expect("<stream:stream") || !expect(">")) return false;
    if (!send(stream_header(domain) +
              "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
              "</stream:features>"))
        return false;
    const auto iq = expect("</iq>");
    std::smatch m;
    if (!iq || iq->find("<bind") == std::string::npos ||
        !std::regex_search(*iq, m, std::regex("id='([^']*)'")))
        return false;
    if (!send(fmt::format("<iq type='result' id='{}'><bind "
                          "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>{}</jid></bind></iq>",
                          m[1].str(), full_jid)))
        return false;
    // Any answer to this iq, even an error, comes from a client with its session.
    if (!send(fmt::format("<iq type='get' id='stand-in-ping' from='{}' to='{}'>"
                          "<ping xmlns='urn:xmpp:ping'/></iq>",
                          domain, full_jid)))
        return false;
    return expect("'stand-in-ping'").has_value();
}

XmppStandIn::XmppStandIn(Script script) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::listen(listen_fd_, 4) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw std::runtime_error("stand-in XMPP server: cannot listen on loopback");
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
}

XmppStandIn::~XmppStandIn() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(listen_fd_);
}

void XmppStandIn::run() {
    while (!stop_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        ++connections_;
        timeval tv{10, 0};  // a client that stops reading cannot hold the server forever
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        XmppPeer peer(fd, stop_);
        script_(peer);
        ::close(fd);
    }
}

std::string nested(std::size_t depth, const std::string& name) {
    std::string open = "<" + name + ">", close = "</" + name + ">";
    std::string out;
    out.reserve(depth * (open.size() + close.size()));
    for (std::size_t i = 0; i < depth; ++i) out += open;
    for (std::size_t i = 0; i < depth; ++i) out += close;
    return out;
}

}  // namespace mb::test
