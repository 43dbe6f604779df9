// A hostile XMPP server for the tests, where a real one cannot misbehave: it
// listens on a free loopback port and runs a script against each client that
// connects (one at a time, on its own thread), plaintext only. The scripts
// speak raw XML: just enough of a server (the stream header, SASL PLAIN and
// resource binding) to bring a gloox client to a session, then whatever the
// test wants to send.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace mb::test {

// One client's connection, as a script sees it.
class XmppPeer {
  public:
    XmppPeer(int fd, const std::atomic<bool>& stop) : fd_(fd), stop_(stop) {}
    // Reads until `needle` arrives; returns what came up to and including it (the
    // rest stays for the next call). nullopt when the client closed or timed out.
    std::optional<std::string> expect(std::string_view needle,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // False once the client is gone.
    bool send(std::string_view data);
    // Reads until the client closes (or the timeout); everything it sent since
    // the last expect().
    std::string until_closed(std::chrono::milliseconds timeout = std::chrono::seconds(10));

    // A stream header from the server for domain `domain`.
    static std::string stream_header(const std::string& domain);
    // The client's stream header, then the server's with SASL PLAIN offered;
    // the client's <auth>, <success/>; the client's new header, the server's with
    // <bind/>; the client's bind, its result giving `full_jid`. Then a ping that the
    // client answers, so that it is known to have its session. False when the
    // client did not play along.
    bool login(const std::string& domain, const std::string& full_jid);

  private:
    bool fill(std::chrono::steady_clock::time_point deadline);

    int fd_;
    const std::atomic<bool>& stop_;  // the server's: ends every wait
    std::string in_;
};

class XmppStandIn {
  public:
    using Script = std::function<void(XmppPeer&)>;

    explicit XmppStandIn(Script script);
    ~XmppStandIn();
    XmppStandIn(const XmppStandIn&) = delete;
    XmppStandIn& operator=(const XmppStandIn&) = delete;

    std::uint16_t port() const { return port_; }
    // Clients accepted so far (one script run each).
    int connections() const { return connections_; }

  private:
    void run();

    Script script_;
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::thread thread_;
};

// "<a>" nested `depth` deep and closed again: about 7 bytes a level.
std::string nested(std::size_t depth, const std::string& name = "a");

}  // namespace mb::test
