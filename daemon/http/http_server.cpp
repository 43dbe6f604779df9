#include "daemon/http/http_server.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "daemon/http/listen_address.h"

namespace mb::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(tcp::socket socket, std::shared_ptr<Server::Shared> shared)
        : stream_(std::move(socket)), shared_(std::move(shared)) {
        shared_->open++;
    }
    ~Connection() { shared_->open--; }

    void read() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(shared_->options.max_header_bytes));
        parser_->body_limit(0);
        stream_.expires_after(shared_->options.deadline);
        bhttp::async_read(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_read(ec);
                          });
    }

  private:
    void on_read(beast::error_code ec) {
        if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
            ec == boost::asio::error::operation_aborted || ec == boost::asio::error::eof ||
            ec == boost::asio::error::connection_reset) {
            close();
            return;
        }
        if (ec) {
            // The request is refused whole: its size is over the bounds or it is not HTTP.
            const bool too_large = ec == bhttp::error::header_limit;
            const bool body = ec == bhttp::error::body_limit;
            Response r;
            r.status = too_large ? 431U : body ? 413U : 400U;
            r.body = too_large ? "request header too large\n"
                     : body    ? "a request has no body here\n"
                               : "bad request\n";
            write(std::move(r), 11, false, false);
            return;
        }
        const auto& req = parser_->get();
        Request request;
        request.method = std::string(req.method_string());
        request.target = std::string(req.target());
        const bool head = req.method() == bhttp::verb::head;
        Response r;
        if (req.method() != bhttp::verb::get && !head) {
            r.status = 405;
            r.body = "only GET and HEAD\n";
        } else {
            const std::string path = request.target.substr(0, request.target.find('?'));
            const auto it = shared_->routes.find(path);
            if (it == shared_->routes.end() || shared_->stopped) {
                r.status = 404;
                r.body = "not found\n";
            } else {
                try {
                    r = it->second(request);
                } catch (const std::exception& e) {
                    spdlog::error("http: {} {}: {}", request.method, path, e.what());
                    r = Response{};
                    r.status = 500;
                    r.body = "internal error\n";
                }
            }
        }
        write(std::move(r), req.version(), req.keep_alive() && !shared_->stopped, head);
    }

    void write(Response r, unsigned version, bool keep_alive, bool head) {
        auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
            static_cast<bhttp::status>(r.status), version);
        res->set(bhttp::field::content_type, r.content_type);
        res->set(bhttp::field::cache_control, "no-store");
        if (r.status == 405) res->set(bhttp::field::allow, "GET, HEAD");
        for (const auto& [name, value] : r.headers) res->set(name, value);
        res->keep_alive(keep_alive);
        res->body() = std::move(r.body);
        res->prepare_payload();
        if (head) res->body().clear();  // Content-Length stays that of the GET
        stream_.expires_after(shared_->options.deadline);
        bhttp::async_write(stream_, *res,
                           [self = shared_from_this(), res, keep_alive](beast::error_code ec,
                                                                       std::size_t) {
                               if (ec || !keep_alive) {
                                   self->close();
                                   return;
                               }
                               self->read();
                           });
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
    }

    beast::tcp_stream stream_;
    std::shared_ptr<Server::Shared> shared_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::empty_body>> parser_;
};

}  // namespace

Server::Server(boost::asio::io_context& io, std::string listen, ServerOptions options)
    : io_(io),
      listen_(std::move(listen)),
      shared_(std::make_shared<Shared>()),
      acceptor_(io),
      retry_(io) {
    shared_->options = options;
}

Server::~Server() {
    stop();
}

void Server::route(std::string path, Handler handler) {
    shared_->routes[std::move(path)] = std::move(handler);
}

void Server::start() {
    std::string error;
    const auto address = parse_listen(listen_, error);
    if (!address) throw std::runtime_error(fmt::format("listen \"{}\": {}", listen_, error));
    const tcp::endpoint endpoint(boost::asio::ip::make_address(address->host), address->port);
    beast::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && endpoint.address().is_v6()) acceptor_.set_option(boost::asio::ip::v6_only(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    if (ec) {
        beast::error_code ignored;
        acceptor_.close(ignored);
        throw std::runtime_error(fmt::format("cannot listen on {}: {}", listen_, ec.message()));
    }
    if (!address->loopback)
        spdlog::warn(
            "http: listening on {}, which is not a loopback address: metrics and the status "
            "page are readable from the network",
            listen_);
    accept();
}

void Server::stop() {
    shared_->stopped = true;
    beast::error_code ignored;
    if (acceptor_.is_open()) acceptor_.close(ignored);
    retry_.cancel();
}

tcp::endpoint Server::local_endpoint() const {
    beast::error_code ec;
    return acceptor_.local_endpoint(ec);
}

void Server::accept() {
    acceptor_.async_accept([this, shared = shared_](beast::error_code ec, tcp::socket socket) {
        if (ec == boost::asio::error::operation_aborted || shared->stopped) return;
        if (ec) {
            // Out of descriptors, most likely: try again a little later rather than spin.
            spdlog::warn("http: accept failed: {}", ec.message());
            retry_.expires_after(std::chrono::milliseconds(100));
            retry_.async_wait([this, shared](beast::error_code e) {
                if (!e && !shared->stopped) accept();
            });
            return;
        }
        if (shared->open >= shared->options.max_connections) {
            beast::error_code ignored;
            socket.close(ignored);  // full: at once, without reading
        } else {
            std::make_shared<Connection>(std::move(socket), shared)->read();
        }
        accept();
    });
}

}  // namespace mb::http
