#include "daemon/control/control_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <system_error>

namespace mb {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

std::string peer_refusal(const PeerCredentials& peer, const PeerPolicy& policy) {
    if (peer.uid == 0 || peer.uid == policy.uid) return {};
    for (const gid_t g : policy.gids) {
        if (peer.gid == g) return {};
        if (std::find(peer.groups.begin(), peer.groups.end(), g) != peer.groups.end()) return {};
    }
    std::string groups;
    for (const gid_t g : policy.gids) groups += fmt::format("{}{}", groups.empty() ? "" : ", ", g);
    return fmt::format(
        "uid {} (pid {}) may not use the control socket: only root, the daemon's user (uid {}) "
        "and members of its group (gid {}) may",
        peer.uid, peer.pid, policy.uid, groups);
}

namespace {

// nullopt when the kernel cannot tell (then the peer is refused).
std::optional<PeerCredentials> credentials_of(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return std::nullopt;
    PeerCredentials peer;
    peer.pid = cred.pid;
    peer.uid = cred.uid;
    peer.gid = cred.gid;
    std::vector<gid_t> groups(64);
    for (int attempt = 0; attempt < 4; ++attempt) {
        socklen_t glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) == 0) {
            groups.resize(glen / sizeof(gid_t));
            peer.groups = std::move(groups);
            return peer;
        }
        if (errno != ERANGE) break;  // no supplementary groups known: primary gid only
        groups.resize(glen / sizeof(gid_t) + 1);
    }
    return peer;
}

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
    Session(asio::io_context& io, local::socket socket, Handler& handler)
        : io_(io),
          socket_(std::move(socket)),
          handler_(handler),
          timer_(io),
          buf_(control::kMaxLine + 1) {}

    void start(std::chrono::milliseconds request_timeout) {
        auto self = shared_from_this();
        timer_.expires_after(request_timeout);
        timer_.async_wait([self](const boost::system::error_code& ec) {
            if (!ec && !self->got_request_) self->close();
        });
        asio::async_read_until(
            socket_, buf_, '\n',
            [self](const boost::system::error_code& ec, std::size_t n) { self->on_line(ec, n); });
    }

    // Answers without reading a request (refused, busy), then disconnects.
    void turn_away(const control::Response& r) {
        got_request_ = true;
        send(r);
    }

    bool waiting_for_request() const { return !got_request_ && socket_.is_open(); }
    bool open() const { return socket_.is_open(); }

    void close() {
        boost::system::error_code ignored;
        socket_.close(ignored);
        timer_.cancel();
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
    asio::steady_timer timer_;
    asio::streambuf buf_;
    std::string out_;
    bool got_request_ = false;
    bool replied_ = false;
};

ControlServer::ControlServer(asio::io_context& io, std::filesystem::path path, Handler handler,
                             ControlServerOptions options)
    : io_(io),
      path_(std::move(path)),
      handler_(std::move(handler)),
      options_(options),
      acceptor_(io) {
    remove_stale(io, path_);
    boost::system::error_code ec;
    acceptor_.open(local(), ec);
    if (!ec) acceptor_.bind(local::endpoint(path_.string()), ec);
    // Connecting needs write permission: the group may, others may not.
    if (!ec && ::chmod(path_.c_str(), 0660) != 0)
        ec = boost::system::error_code(errno, boost::system::system_category());
    struct stat st {};
    if (!ec && ::stat(path_.c_str(), &st) != 0)
        ec = boost::system::error_code(errno, boost::system::system_category());
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        std::error_code ignored;
        if (acceptor_.is_open()) std::filesystem::remove(path_, ignored);
        throw std::runtime_error(
            fmt::format("cannot listen on {}: {}", path_.string(), ec.message()));
    }
    // The file's group is the daemon's, or its directory's when that is set-group-id.
    policy_.uid = ::geteuid();
    policy_.gids = {::getegid()};
    if (st.st_gid != ::getegid()) policy_.gids.push_back(st.st_gid);
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
        admit(std::move(socket));
        accept();
    });
}

void ControlServer::admit(local::socket socket) {
    const auto peer = credentials_of(socket.native_handle());
    auto session = std::make_shared<Session>(io_, std::move(socket), handler_);
    const std::string refusal =
        peer ? peer_refusal(*peer, policy_) : "the peer's credentials cannot be read";
    if (!refusal.empty()) {
        log_turned_away("refused: " + refusal);
        control::Response r = control::error_response(refusal);
        r.status = "refused";
        session->turn_away(r);
        return;
    }
    // Closed ones (timed out, evicted) no longer take a place, even before their handlers ran.
    std::erase_if(sessions_, [](const std::weak_ptr<Session>& w) {
        const auto s = w.lock();
        return !s || !s->open();
    });
    if (sessions_.size() >= options_.max_connections) {
        // Make room by closing the connection that has been silent the longest.
        const auto idle = std::find_if(sessions_.begin(), sessions_.end(), [](const auto& w) {
            const auto s = w.lock();
            return s && s->waiting_for_request();
        });
        if (idle == sessions_.end()) {
            const std::string why = fmt::format(
                "{} requests are in progress, the most the control socket serves at once; try "
                "again when one is answered",
                sessions_.size());
            log_turned_away("busy: " + why);
            control::Response r = control::error_response(why);
            r.status = "busy";
            session->turn_away(r);
            return;
        }
        if (auto s = idle->lock()) s->close();
        sessions_.erase(idle);
    }
    sessions_.push_back(session);
    session->start(options_.request_timeout);
}

void ControlServer::log_turned_away(const std::string& why) {
    const auto now = std::chrono::steady_clock::now();
    ++turned_away_unlogged_;
    if (now - last_turned_away_log_ < std::chrono::seconds(10)) return;
    spdlog::warn("control socket: {}{}", why,
                 turned_away_unlogged_ > 1
                     ? fmt::format(" (and {} more turned away since the previous such message)",
                                   turned_away_unlogged_ - 1)
                     : "");
    last_turned_away_log_ = now;
    turned_away_unlogged_ = 0;
}

}  // namespace mb
