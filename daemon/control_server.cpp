#include "daemon/control_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <system_error>

namespace mb {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

constexpr long kMaxConnections = 32;
constexpr auto kRequestTimeout = std::chrono::seconds(10);

// A socket file nobody listens on is left over from a crash: it may go.
void remove_stale(asio::io_context& io, const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::symlink_status(path, ec))) return;
    if (!std::filesystem::is_socket(std::filesystem::symlink_status(path, ec)))
        throw std::runtime_error(
            fmt::format("{} exists and is not a socket; not replacing it", path.string()));
    local::socket probe(io);
    boost::system::error_code bec;
    probe.connect(local::endpoint(path.string()), bec);
    if (!bec)
        throw std::runtime_error(
            fmt::format("{} is in use: another meterbridge is running with this control socket",
                        path.string()));
    std::filesystem::remove(path, ec);
}

}  // namespace

class ControlServer::Session : public std::enable_shared_from_this<Session> {
  public:
    Session(asio::io_context& io, local::socket socket, Handler& handler,
            std::shared_ptr<int> token)
        : io_(io),
          socket_(std::move(socket)),
          handler_(handler),
          token_(std::move(token)),
          timer_(io),
          buf_(control::kMaxLine + 1) {}

    void start() {
        auto self = shared_from_this();
        timer_.expires_after(kRequestTimeout);
        timer_.async_wait([self](const boost::system::error_code& ec) {
            if (!ec && !self->got_request_) self->socket_.close();
        });
        asio::async_read_until(
            socket_, buf_, '\n',
            [self](const boost::system::error_code& ec, std::size_t n) { self->on_line(ec, n); });
    }

  private:
    void on_line(const boost::system::error_code& ec, std::size_t n) {
        got_request_ = true;
        timer_.cancel();
        if (ec) {
            if (ec == asio::error::not_found)  // no newline within the size limit
                send(control::error_response(
                    fmt::format("request longer than {} bytes", control::kMaxLine)));
            return;
        }
        std::string line(asio::buffers_begin(buf_.data()),
                         asio::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(n - 1));
        auto parsed = control::parse_request(line);
        if (!parsed.request) {
            send(control::error_response("bad request: " + parsed.error));
            return;
        }
        auto self = shared_from_this();
        handler_(*parsed.request, [self](const control::Response& r) {
            asio::post(self->io_, [self, text = control::render(r)] { self->send_text(text); });
        });
    }

    void send(const control::Response& r) { send_text(control::render(r)); }

    void send_text(std::string text) {
        if (replied_) return;
        replied_ = true;
        out_ = std::move(text) + "\n";
        auto self = shared_from_this();
        asio::async_write(socket_, asio::buffer(out_),
                          [self](const boost::system::error_code&, std::size_t) {
                              boost::system::error_code ignored;
                              self->socket_.shutdown(local::socket::shutdown_both, ignored);
                          });
    }

    asio::io_context& io_;
    local::socket socket_;
    Handler& handler_;
    std::shared_ptr<int> token_;
    asio::steady_timer timer_;
    asio::streambuf buf_;
    std::string out_;
    bool got_request_ = false;
    bool replied_ = false;
};

ControlServer::ControlServer(asio::io_context& io, std::filesystem::path path, Handler handler)
    : io_(io),
      path_(std::move(path)),
      handler_(std::move(handler)),
      acceptor_(io),
      sessions_(std::make_shared<int>(0)) {
    remove_stale(io, path_);
    boost::system::error_code ec;
    acceptor_.open(local(), ec);
    if (!ec) acceptor_.bind(local::endpoint(path_.string()), ec);
    // Connecting needs write permission: the group may, others may not.
    if (!ec && ::chmod(path_.c_str(), 0660) != 0)
        ec = boost::system::error_code(errno, boost::system::system_category());
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        std::error_code ignored;
        if (acceptor_.is_open()) std::filesystem::remove(path_, ignored);
        throw std::runtime_error(
            fmt::format("cannot listen on {}: {}", path_.string(), ec.message()));
    }
}

ControlServer::~ControlServer() {
    stop();
}

void ControlServer::start() {
    accept();
}

void ControlServer::stop() {
    if (stopped_) return;
    stopped_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
}

void ControlServer::accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, local::socket socket) {
        if (ec) {
            if (ec != asio::error::operation_aborted && !stopped_) {
                spdlog::warn("control socket: accept failed: {}", ec.message());
                accept();
            }
            return;
        }
        if (sessions_.use_count() - 1 >= kMaxConnections) {
            spdlog::warn("control socket: {} connections open; refusing another", kMaxConnections);
        } else {
            std::make_shared<Session>(io_, std::move(socket), handler_, sessions_)->start();
        }
        accept();
    });
}

}  // namespace mb
