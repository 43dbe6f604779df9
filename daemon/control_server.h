// ControlServer: the daemon's control socket (a Unix stream socket, mode 0660)
// on the main thread's io_context. One request per connection, one JSON line
// each way (control_protocol.h).
//
// Who calls: App creates it after the store is open and stops it at shutdown;
// every handler runs on the io_context's thread. The handler answers through
// the `reply` callback it is given, at most once, from any thread: the reply
// is posted back to the io_context. A connection whose request does not
// arrive within 10 s, or is longer than control::kMaxLine, is closed.
// Errors: the constructor throws std::runtime_error when the path is in use by
// a live daemon or cannot be bound; a stale socket file is replaced.
#pragma once

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it under C++20

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "daemon/control_protocol.h"

namespace mb {

class ControlServer {
  public:
    using Reply = std::function<void(const control::Response&)>;
    using Handler = std::function<void(const control::Request&, Reply reply)>;

    ControlServer(boost::asio::io_context& io, std::filesystem::path path, Handler handler);
    ~ControlServer();

    void start();
    // Closes the socket and removes its file; open connections finish.
    void stop();

    const std::filesystem::path& path() const { return path_; }

  private:
    class Session;
    void accept();

    boost::asio::io_context& io_;
    std::filesystem::path path_;
    Handler handler_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    std::shared_ptr<int> sessions_;  // use_count - 1 = open connections
    bool stopped_ = false;
};

}  // namespace mb
