#include "connectors/xmpp/xmpp_session.h"

#include <fmt/format.h>
#include <gloox/jid.h>
#include <gloox/tag.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <random>
#include <stdexcept>

#include "connectors/wake_event.h"
#include "connectors/xmpp/xmpp_client.h"
#include "connectors/xmpp/xmpp_connection.h"
#include "connectors/xmpp/xmpp_tls.h"

namespace mb {

using namespace std::chrono;
using Clock = steady_clock;

namespace {

constexpr std::string_view kPingNs = "urn:xmpp:ping";
constexpr std::string_view kStreamsErrorNs = "urn:ietf:params:xml:ns:xmpp-streams";

bool same_jid(const std::string& a, const std::string& b) {
    return gloox::JID(a).full() == gloox::JID(b).full();
}

constexpr std::array<std::string_view, 4> kStateNames = {"connecting", "connected", "reconnecting",
                                                         "stopped"};
constexpr std::array<std::string_view, 4> kStatusNames = {"result", "error", "timeout",
                                                          "disconnected"};

// The name of an enum value by its index ("?" past the table).
template <typename E, std::size_t N>
std::string_view name_of(E e, const std::array<std::string_view, N>& names) {
    const auto i = static_cast<std::size_t>(e);
    return i < N ? names[i] : "?";
}

}  // namespace

std::string_view to_string(XmppState s) {
    return name_of(s, kStateNames);
}

std::string_view to_string(XmppResponse::Status s) {
    return name_of(s, kStatusNames);
}

struct XmppSession::Queued {
    std::string to;
    IqType type = IqType::set;
    std::unique_ptr<gloox::Tag> payload;
    Clock::time_point deadline;
    milliseconds timeout{};
    XmppCallback done;
};

struct XmppSession::Pending {
    std::string to;
    Clock::time_point deadline;
    milliseconds timeout{};
    XmppCallback done;
};

// ---- XmppSession -------------------------------------------------------------

XmppSession::XmppSession(XmppSessionConfig config, XmppHandlers handlers)
    : config_(std::move(config)), handlers_(std::move(handlers)) {
    const gloox::JID jid(config_.jid);
    if (!jid || jid.username().empty() || jid.server().empty())
        throw std::invalid_argument(fmt::format(
            "{}: jid '{}' is not of the form user@domain[/resource]", config_.name, config_.jid));
    domain_ = jid.server();
    if (config_.allow_plaintext && !is_loopback(config_.server))
        throw std::invalid_argument(
            fmt::format("{}: plaintext XMPP is only allowed towards a loopback server, not '{}'",
                        config_.name, config_.server.empty() ? domain_ : config_.server));
    if (config_.ping_interval <= 0ms || config_.ping_timeout <= 0ms ||
        config_.connect_timeout <= 0ms || config_.backoff_initial <= 0ms)
        throw std::invalid_argument(config_.name + ": XMPP timers must be positive");
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0)
        throw std::runtime_error(
            fmt::format("{}: eventfd: {}", config_.name, std::strerror(errno)));
}

XmppSession::~XmppSession() {
    stop();
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

void XmppSession::start() {
    if (thread_.joinable()) return;
    stop_requested_ = false;
    failures_ = 0;
    {
        std::lock_guard lk(mu_);
        running_ = true;
    }
    health_.update([](XmppHealth& h) { h.state = XmppState::connecting; });
    if (config_.tls_insecure)
        spdlog::warn("{}: TLS certificate and host name verification are OFF (tls_insecure)",
                     config_.name);
    thread_ = std::thread([this] { run(); });
}

void XmppSession::stop() {
    stop_requested_ = true;
    wake();
    if (!thread_.joinable() || thread_.get_id() == std::this_thread::get_id()) return;
    thread_.join();
}

XmppHealth XmppSession::health() const {
    return health_.get();
}

void XmppSession::request(const std::string& to, std::unique_ptr<gloox::Tag> payload,
                          milliseconds timeout, XmppCallback done, IqType type) {
    auto q = std::make_unique<Queued>();
    q->to = to;
    q->type = type;
    q->payload = std::move(payload);
    q->timeout = timeout;
    q->deadline = Clock::now() + timeout;
    q->done = std::move(done);
    {
        std::lock_guard lk(mu_);
        if (running_ && !stop_requested_) {
            queue_.push_back(std::move(q));
            q = nullptr;
        }
    }
    if (!q) {
        wake();
        return;
    }
    XmppResponse r;
    r.status = XmppResponse::Status::disconnected;
    r.detail = "the XMPP session is not running";
    complete(q->done, std::move(r));
}

void XmppSession::wake() {
    wake_event(wake_fd_);
}

void XmppSession::drain_wake() {
    drain_wake_event(wake_fd_);
}

void XmppSession::set_state(XmppState s, std::string detail) {
    const bool changed = health_.update([&](XmppHealth& h) {
        const bool c = h.state != s;
        h.state = s;
        if (s == XmppState::connected) h.jid = detail;
        if (s != XmppState::connected) h.jid.clear();
        return c;
    });
    if (changed && handlers_.state) {
        try {
            handlers_.state(s, detail);
        } catch (const std::exception& e) {
            spdlog::error("{}: state handler threw: {}", config_.name, e.what());
        }
    }
}

void XmppSession::set_error(std::string error) {
    health_.update([&](XmppHealth& h) { h.last_error = std::move(error); });
}

void XmppSession::complete(XmppCallback& cb, XmppResponse r) {
    if (!cb) return;
    try {
        cb(std::move(r));
    } catch (const std::exception& e) {
        spdlog::error("{}: request callback threw: {}", config_.name, e.what());
    } catch (...) {
        spdlog::error("{}: request callback threw", config_.name);
    }
}

milliseconds XmppSession::next_backoff() {
    static thread_local std::mt19937 rng{std::random_device{}()};
    const std::int64_t initial = config_.backoff_initial.count();
    const std::int64_t cap = std::max(initial, config_.backoff_max.count());
    const std::int64_t base = std::min<std::int64_t>(cap, initial << std::min(failures_, 16));
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    ++failures_;
    return milliseconds(static_cast<std::int64_t>(static_cast<double>(base) * jitter(rng)));
}

void XmppSession::run() {
    // Belt and braces: our sends use MSG_NOSIGNAL; a stray SIGPIPE stays pending here.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);

    bool first = true;
    while (!stop_requested_) {
        set_state(first ? XmppState::connecting : XmppState::reconnecting, "");
        first = false;
        session();
        if (stop_requested_) break;
        wait_backoff();
    }
    {
        std::lock_guard lk(mu_);
        running_ = false;
    }
    fail_all_pending("the XMPP session stopped");
    fail_queued("the XMPP session stopped");
    set_state(XmppState::stopped, "stopped");
}

void XmppSession::wait_backoff() {
    const auto wait = next_backoff();
    const std::string why = health().last_error;
    spdlog::info("{}: reconnecting in {} ms ({})", config_.name, wait.count(), why);
    set_state(XmppState::reconnecting, why);
    const auto until = Clock::now() + wait;
    while (!stop_requested_) {
        flush_queue(false);
        const auto now = Clock::now();
        if (now >= until) break;
        pollfd p{wake_fd_, POLLIN, 0};
        ::poll(&p, 1, xmpp_poll_ms(until - now));
        drain_wake();
    }
}

void XmppSession::session() {
    std::string error;
    const int fd = xmpp_tcp_connect(xmpp_targets(config_.server, config_.port, domain_),
                                    Clock::now() + config_.connect_timeout, config_.connect_timeout,
                                    {stop_requested_, wake_fd_}, config_.name, error);
    if (fd < 0) {
        if (!stop_requested_) {
            spdlog::warn("{}: {}", config_.name, error);
            set_error(error);
        }
        return;
    }
    connected_ = false;
    lost_ = false;
    lost_reason_.clear();
    ping_id_.clear();

    const gloox::JID jid(config_.jid);
    client_ = std::make_unique<XmppClient>(static_cast<XmppClientEvents&>(*this), jid,
                                           config_.password, config_.input_limits, config_.name);
    client_->setTls(config_.allow_plaintext ? gloox::TLSOptional : gloox::TLSRequired);
    client_->setCompression(false);
    client_->disableRoster();  // consent comes from the proxy, not from contacts
    tls_ = new XmppTls(client_.get(), domain_, config_.ca_file);
    client_->setEncryptionImpl(tls_);  // the client owns it
    if (!tls_->init()) {
        const std::string why = "TLS: " + tls_->error();
        spdlog::warn("{}: {}", config_.name, why);
        set_error(why);
        client_.reset();
        tls_ = nullptr;
        ::close(fd);
        return;
    }
    const std::string host = config_.server.empty() ? domain_ : config_.server;
    auto* conn = new XmppConnection(client_.get(), client_->logInstance(), fd, host,
                                    config_.port ? config_.port : 5222);
    client_->setConnectionImpl(conn);  // the client owns it

    const auto login_deadline = Clock::now() + config_.connect_timeout;
    if (!client_->connect(false) && !lost_) {
        lost_ = true;
        lost_reason_ = "gloox refused to connect";
    }
    while (!lost_) {
        if (!client_->refused().empty()) {
            lost_reason_ = "the server sent " + client_->refused();
            // RFC 6120 4.9.3.18; then the stream ends as on a deliberate disconnect.
            auto* refusal = new gloox::Tag("stream:error");
            new gloox::Tag(refusal, "policy-violation", "xmlns", std::string(kStreamsErrorNs));
            client_->send(refusal);
            client_->disconnect();
            break;
        }
        if (!conn->write_error().empty() || !tls_->error().empty()) {
            lost_reason_ = conn->write_error().empty()
                               ? tls_->error()
                               : "cannot write to the server: " + conn->write_error();
            client_->disconnect();
            break;
        }
        if (stop_requested_) {
            lost_reason_ = "stopped";
            client_->disconnect();
            break;
        }
        const auto now = Clock::now();
        if (!connected_ && now >= login_deadline) {
            lost_reason_ = fmt::format("no session within {} ms (TLS, SASL, bind)",
                                       config_.connect_timeout.count());
            client_->disconnect();
            break;
        }
        flush_queue(connected_);
        expire_pending();
        if (connected_ && ping_id_.empty() && now >= next_ping_) {
            ping_id_ = client_->getID();
            auto* iq = new gloox::Tag("iq");
            iq->addAttribute("type", "get");
            iq->addAttribute("to", domain_);
            iq->addAttribute("id", ping_id_);
            new gloox::Tag(iq, "ping", "xmlns", std::string(kPingNs));
            ping_deadline_ = now + config_.ping_timeout;
            client_->send(iq);
        } else if (!ping_id_.empty() && now >= ping_deadline_) {
            lost_reason_ = fmt::format("the server did not answer an XMPP ping within {} ms",
                                       config_.ping_timeout.count());
            client_->disconnect();
            break;
        }
        if (lost_) break;

        auto wake_at =
            connected_ ? (ping_id_.empty() ? next_ping_ : ping_deadline_) : login_deadline;
        for (const auto& [id, p] : pending_) wake_at = std::min(wake_at, p->deadline);
        {
            std::lock_guard lk(mu_);
            for (const auto& q : queue_) wake_at = std::min(wake_at, q->deadline);
        }
        const int sock = conn->fd();
        pollfd p[2] = {{sock, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        const int n = ::poll(p, 2, xmpp_poll_ms(wake_at - Clock::now()));
        if (n < 0 && errno != EINTR) {
            lost_reason_ = fmt::format("poll: {}", std::strerror(errno));
            client_->disconnect();
            break;
        }
        if (p[1].revents) drain_wake();
        if (p[0].revents) client_->recv(0);
    }

    const bool was_connected = connected_;
    connected_ = false;
    const std::string reason = lost_reason_.empty() ? "connection lost" : lost_reason_;
    if (!stop_requested_) {
        set_error(reason);
        if (was_connected)
            spdlog::warn("{}: XMPP session lost: {}", config_.name, reason);
        else
            spdlog::warn("{}: XMPP connection failed: {}", config_.name, reason);
        // Before the callbacks: who learns of the loss from one sees it in health().
        set_state(XmppState::reconnecting, reason);
    }
    fail_all_pending("disconnected before the answer came: " + reason);
    client_.reset();  // closes the socket
    tls_ = nullptr;
    if (!stop_requested_) health_.update([](XmppHealth& h) { h.reconnects++; });
}

void XmppSession::flush_queue(bool connected) {
    std::deque<std::unique_ptr<Queued>> work;
    {
        std::lock_guard lk(mu_);
        work.swap(queue_);
    }
    std::deque<std::unique_ptr<Queued>> keep;
    const auto now = Clock::now();
    for (auto& q : work) {
        if (now >= q->deadline) {
            XmppResponse r;
            r.status = XmppResponse::Status::timeout;
            r.detail = fmt::format("not sent within {} ms: no XMPP session ({})",
                                   q->timeout.count(), health().last_error);
            complete(q->done, std::move(r));
        } else if (connected && !lost_) {
            const std::string id = client_->getID();
            auto* iq = new gloox::Tag("iq");
            iq->addAttribute("type", q->type == IqType::set ? "set" : "get");
            iq->addAttribute("to", q->to);
            iq->addAttribute("id", id);
            if (q->payload) iq->addChild(q->payload.release());
            auto p = std::make_unique<Pending>();
            p->to = q->to;
            p->deadline = q->deadline;
            p->timeout = q->timeout;
            p->done = std::move(q->done);
            pending_.emplace(id, std::move(p));
            client_->send(iq);  // deletes the tag; a failed send ends the session
        } else {
            keep.push_back(std::move(q));
        }
    }
    if (!keep.empty()) {
        std::lock_guard lk(mu_);
        for (auto& q : queue_) keep.push_back(std::move(q));
        queue_.swap(keep);
    }
}

void XmppSession::expire_pending() {
    const auto now = Clock::now();
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (now < it->second->deadline) {
            ++it;
            continue;
        }
        auto p = std::move(it->second);
        XmppResponse r;
        r.status = XmppResponse::Status::timeout;
        r.id = it->first;
        r.detail = fmt::format("no answer from {} within {} ms", p->to, p->timeout.count());
        it = pending_.erase(it);
        complete(p->done, std::move(r));
    }
}

void XmppSession::fail_all_pending(const std::string& detail) {
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [id, p] : pending) {
        XmppResponse r;
        r.status = XmppResponse::Status::disconnected;
        r.id = id;
        r.detail = detail;
        complete(p->done, std::move(r));
    }
}

void XmppSession::fail_queued(const std::string& detail) {
    std::deque<std::unique_ptr<Queued>> work;
    {
        std::lock_guard lk(mu_);
        work.swap(queue_);
    }
    for (auto& q : work) {
        XmppResponse r;
        r.status = XmppResponse::Status::disconnected;
        r.detail = detail;
        complete(q->done, std::move(r));
    }
}

// ---- gloox callbacks ---------------------------------------------------------

bool XmppSession::on_stanza(const gloox::Tag* tag) {
    const std::string& name = tag->name();
    if (name == "iq") {
        const std::string& type = tag->findAttribute("type");
        if (type != "result" && type != "error") return false;
        const std::string& id = tag->findAttribute("id");
        const std::string& from = tag->findAttribute("from");
        if (!ping_id_.empty() && id == ping_id_ &&
            (from.empty() || gloox::JID(from).full() == domain_)) {
            // Any answer, even an error, shows the server is alive.
            ping_id_.clear();
            next_ping_ = Clock::now() + config_.ping_interval;
            return true;
        }
        const auto it = pending_.find(id);
        if (it == pending_.end()) return false;
        if (!same_jid(from, it->second->to)) {
            spdlog::warn("{}: ignoring an answer to iq {} from {} (sent to {})", config_.name, id,
                         from, it->second->to);
            return true;
        }
        auto p = std::move(it->second);
        pending_.erase(it);
        XmppResponse r;
        r.id = id;
        r.xml = tag->xml();
        if (type == "result") {
            r.status = XmppResponse::Status::result;
            r.detail = "result from " + from;
        } else {
            r.status = XmppResponse::Status::error;
            r.error = parse_stanza_error(*tag);
            r.detail = fmt::format("error from {}: {}{}", from,
                                   r.error.condition.empty() ? "?" : r.error.condition,
                                   r.error.text.empty() ? "" : ": " + r.error.text);
            // The service's own condition, whatever it means: the connector reads it.
            for (const XmppErrorExtension& x : r.error.extensions) r.detail += " (" + x.xml + ")";
        }
        complete(p->done, std::move(r));
        return true;
    }
    if (name == "message") {
        if (tag->findAttribute("type") == "error") return false;
        const XmppMessageHandler& handler = handlers_.message;
        if (handler.xmlns.empty()) return false;
        const gloox::Tag* x = tag->findChild(handler.name, "xmlns", handler.xmlns);
        if (!x) return false;
        XmppMessage m;
        m.from = tag->findAttribute("from");
        m.xml = tag->xml();
        m.extension = x->xml();
        if (handler.handle) {
            try {
                handler.handle(std::move(m));
            } catch (const std::exception& e) {
                spdlog::error("{}: {} handler threw: {}", config_.name, handler.what, e.what());
            }
        } else {
            spdlog::warn("{}: {} message from {} and no handler", config_.name, handler.what,
                         m.from);
        }
        return true;
    }
    return false;
}

void XmppSession::on_connect() {
    connected_ = true;
    failures_ = 0;
    next_ping_ = Clock::now() + config_.ping_interval;
    const std::string bound = client_->jid().full();
    health_.update([](XmppHealth& h) { h.connects++; });
    spdlog::info("{}: XMPP session established as {}", config_.name, bound);
    set_state(XmppState::connected, bound);
}

void XmppSession::on_disconnect(int error) {
    lost_ = true;
    if (!lost_reason_.empty()) return;  // ours: stop, ping timeout, certificate refused
    const auto e = static_cast<gloox::ConnectionError>(error);
    if (e == gloox::ConnAuthenticationFailed) {
        lost_reason_ =
            "authentication failed: " +
            xmpp_auth_error_text(client_ ? client_->authError() : gloox::AuthErrorUndefined);
    } else if (e == gloox::ConnStreamError && client_) {
        const std::string& text = client_->streamErrorText();
        lost_reason_ = "stream error: " + xmpp_stream_error_text(client_->streamError()) +
                       (text.empty() ? "" : " (" + text + ")");
    } else if (e == gloox::ConnTlsFailed && tls_ && !tls_->error().empty()) {
        lost_reason_ = tls_->error();
    } else {
        lost_reason_ = xmpp_connection_error_text(e);
    }
}

bool XmppSession::on_tls(int status, const std::string& issuer, const std::string& subject,
                         const std::string& protocol) {
    if (config_.tls_insecure) {
        if (status != gloox::CertOk)
            spdlog::warn("{}: accepting an unverified certificate ({}) (tls_insecure)",
                         config_.name, subject);
        return true;
    }
    const std::string why = xmpp_tls_refusal(status, protocol, domain_, config_.ca_file);
    if (why.empty()) {
        spdlog::debug("{}: TLS {} with {}, certificate {} issued by {}", config_.name, protocol,
                      config_.server.empty() ? domain_ : config_.server, subject, issuer);
        return true;
    }
    lost_reason_ = fmt::format("TLS refused: {} (subject '{}', issuer '{}')", why, subject, issuer);
    return false;
}

}  // namespace mb
