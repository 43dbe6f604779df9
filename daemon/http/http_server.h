// Server: the daemon's HTTP listener (Boost.Beast) on the App's io_context,
// serving fixed routes to GET and HEAD requests (http_types.h).
//
// Who calls: App, on the io_context's thread: route() for each path, then
// start(), stop() at shutdown. Handlers run on that thread, one at a time;
// they must return quickly (they build their answer from snapshots).
// Ownership: the Server owns its acceptor; each connection owns itself
// (shared_ptr) and lives until it closes, also past stop().
//
// Bounds, so that a client cannot hold the daemon: a request has no body and
// at most `max_header_bytes` of request line and headers (else 431 or 400,
// then closed); at most `max_connections` at once (a further one is closed
// at once); each read and each write has `deadline` (an idle keep-alive
// connection is closed after it). Methods other than GET and HEAD get 405,
// unknown paths 404; a handler that throws, 500.
// Errors: start() throws std::runtime_error when `listen` is not an address
// (parse_listen) or cannot be bound.
#pragma once

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it under C++20

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "daemon/http/http_types.h"

namespace mb::http {

struct ServerOptions {
    std::size_t max_header_bytes = 8 * 1024;
    std::size_t max_connections = 32;
    std::chrono::milliseconds deadline{10000};
};

class Server {
  public:
    Server(boost::asio::io_context& io, std::string listen, ServerOptions options = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Exact path match (the query is not part of it), before start().
    void route(std::string path, Handler handler);
    void start();
    // Stops accepting; open connections end after their current request.
    void stop();
    // The endpoint actually bound (port 0 in tests picks one).
    boost::asio::ip::tcp::endpoint local_endpoint() const;

    // What a connection's handler sees (shared with the connections).
    struct Shared {
        std::map<std::string, Handler> routes;
        ServerOptions options;
        std::size_t open = 0;  // connections
        bool stopped = false;
    };

  private:
    void accept();

    boost::asio::io_context& io_;
    std::string listen_;
    std::shared_ptr<Shared> shared_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_;  // after a failed accept (out of descriptors)
};

}  // namespace mb::http
