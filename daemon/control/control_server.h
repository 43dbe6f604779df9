// ControlServer: the daemon's control socket (a Unix stream socket, mode 0660)
// on the main thread's io_context. One request per connection, one JSON line
// each way (control_protocol.h).
//
// Who calls: App creates it after the store is open and stops it at shutdown;
// every handler runs on the io_context's thread. The handler answers through
// the `reply` callback it is given, at most once, from any thread: the reply
// is posted back to the io_context.
//
// Who may connect: the socket file's mode keeps others out; in case it does
// not (a socket directory or mode changed by hand, a descriptor passed on),
// each peer's credentials (SO_PEERCRED, SO_PEERGROUPS) are checked too: root,
// the daemon's user, or a member of its group (see peer_refusal). Anyone else
// gets {"status":"refused"} and is disconnected.
//
// Bounds: at most `max_connections` at once. A connection has
// `request_timeout` to send its request line (at most control::kMaxLine
// bytes); when all places are taken, the oldest connection that has not sent
// its request yet is closed to make room, so idle connections cannot lock
// operators out. Only when every place holds a request in progress is the
// newcomer answered {"status":"busy"}.
// Errors: the constructor throws std::runtime_error when the path is in use by
// a live daemon or cannot be bound; a stale socket file is replaced.
#pragma once

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it under C++20

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/control/control_protocol.h"

namespace mb {

// The kernel's word on who is at the other end of a connection.
struct PeerCredentials {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;  // supplementary groups
};

// Who may use the control socket besides root: the daemon's user, and members
// (primary or supplementary) of one of `gids` (the daemon's group and the
// socket file's).
struct PeerPolicy {
    uid_t uid = 0;
    std::vector<gid_t> gids;
};

// Why `peer` may not use the control socket, or "" when it may. Pure.
std::string peer_refusal(const PeerCredentials& peer, const PeerPolicy& policy);

struct ControlServerOptions {
    std::size_t max_connections = 64;
    // Our CLI sends its request as soon as it is connected: a connection that
    // says nothing for this long is not one.
    std::chrono::milliseconds request_timeout{2000};
};

class ControlServer {
  public:
    using Reply = std::function<void(const control::Response&)>;
    using Handler = std::function<void(const control::Request&, Reply reply)>;

    ControlServer(boost::asio::io_context& io, std::filesystem::path path, Handler handler,
                  ControlServerOptions options = {});
    ~ControlServer();

    void start();
    // Closes the socket and removes its file; open connections finish.
    void stop();

    const std::filesystem::path& path() const { return path_; }

    const PeerPolicy& policy() const { return policy_; }

  private:
    class Session;
    void accept();
    void admit(boost::asio::local::stream_protocol::socket socket);
    // A warning at most every 10 s, with how many happened since the last one.
    void log_turned_away(const std::string& why);

    boost::asio::io_context& io_;
    std::filesystem::path path_;
    Handler handler_;
    ControlServerOptions options_;
    PeerPolicy policy_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    std::deque<std::weak_ptr<Session>> sessions_;  // in order of arrival
    std::chrono::steady_clock::time_point last_turned_away_log_{};
    std::size_t turned_away_unlogged_ = 0;
    bool stopped_ = false;
};

}  // namespace mb
