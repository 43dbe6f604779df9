// The network part of the XMPP transport: where to connect (the domain's
// _xmpp-client._tcp SRV records, RFC 6120 3.2), a TCP connect of our own
// (non-blocking, with a deadline, interruptible), and XmppConnection, the
// gloox connection over the socket that connect made.
//
// Called by XmppSession on its session thread; DNS lookups (SRV, getaddrinfo)
// block. Errors are values: xmpp_tcp_connect() returns -1 with one line per
// address tried. An XmppConnection owns its socket (given to it connected) and
// is owned by the gloox client it is installed in.
#pragma once

#include <gloox/connectiontcpclient.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace mb {

struct XmppTarget {
    std::string host;
    std::uint16_t port = 0;
};

// `server`:`port` when a server is set, else the targets of the domain's SRV
// records by priority (`port`, when set, replaces theirs), else the domain;
// port 0 stands for 5222.
std::vector<XmppTarget> xmpp_targets(const std::string& server, std::uint16_t port,
                                     const std::string& domain);

// What interrupts a connect: `stop` set and `wake_fd` (an eventfd, see
// connectors/wake_event.h) signalled, whose wake-ups it drains.
struct XmppConnectStop {
    const std::atomic<bool>& stop;
    int wake_fd;
};

// The first address of the targets that accepts a TCP connection before
// `deadline`: a blocking socket (sends bounded by `send_timeout`, at least one
// second), or -1 with `error` ("stopped", or "cannot connect: " and each
// failure). `name` prefixes the log lines.
int xmpp_tcp_connect(const std::vector<XmppTarget>& targets,
                     std::chrono::steady_clock::time_point deadline,
                     std::chrono::milliseconds send_timeout, XmppConnectStop interrupt,
                     const std::string& name, std::string& error);

// A poll() timeout for a wait of `d`: at least 0, at most 250 ms (the loops
// check their stop flag that often), rounded up.
int xmpp_poll_ms(std::chrono::steady_clock::duration d);

// Whether `host` is "localhost" or a loopback address (plaintext is allowed
// only towards one).
bool is_loopback(const std::string& host);

// A TCP connection whose socket we connected ourselves (non-blocking, with a
// deadline). gloox's own recv() select()s (FD_SETSIZE) and its send() may raise
// SIGPIPE: both are replaced.
class XmppConnection final : public gloox::ConnectionTCPClient {
  public:
    XmppConnection(gloox::ConnectionDataHandler* cdh, const gloox::LogSink& log, int fd,
                   const std::string& host, int port)
        : gloox::ConnectionTCPClient(cdh, log, host, port), fd_(fd) {}
    ~XmppConnection() override;

    // The base class skips its DNS lookup and connect when it already has a socket.
    gloox::ConnectionError connect() override;
    // Called when poll() said the socket is readable: never blocks.
    gloox::ConnectionError recv(int timeout) override;
    // Blocking (bounded by SO_SNDTIMEO), without SIGPIPE. A failure is only noted:
    // gloox's own send() calls handleDisconnect() from here, i.e. from inside the
    // TLS layer's encrypt() (its push callback); the session loop disconnects from
    // the top instead.
    bool send(const std::string& data) override;

    int fd() const { return m_socket; }
    // Why a send failed ("" while none has).
    const std::string& write_error() const { return write_error_; }

  private:
    int fd_;
    std::string write_error_;
};

// The reason texts of gloox's codes, for logs and health: why a connection
// ended, why the server ended the stream, why SASL failed.
std::string xmpp_connection_error_text(gloox::ConnectionError e);
std::string xmpp_stream_error_text(gloox::StreamError e);
std::string xmpp_auth_error_text(gloox::AuthenticationError e);

}  // namespace mb
