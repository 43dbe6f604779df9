#include "connectors/enedis/enedis_connector.h"

#include <fmt/format.h>
#include <gloox/tag.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>

#include "connectors/registry.h"
#include "normalize/config/secret.h"
#include "storage/clock.h"
#include "storage/query.h"
#include "storage/writer.h"

namespace mb {

namespace {

ConnectorState connector_state(XmppState s) {
    // By XmppState: connecting, connected, reconnecting, stopped.
    constexpr std::array<ConnectorState, 4> kStates = {
        ConnectorState::starting, ConnectorState::running, ConnectorState::reconnecting,
        ConnectorState::stopped};
    return kStates.at(static_cast<std::size_t>(s));
}

std::string bare(std::string_view jid) {
    return std::string(jid.substr(0, jid.find('/')));
}

XmppSessionConfig session_config(const ConnectorConfig& c, const EnedisOptions& o,
                                 std::string password) {
    XmppSessionConfig s;
    s.name = c.name;
    s.jid = o.jid;
    s.password = std::move(password);
    s.server = o.server;
    s.port = o.server.empty() && o.port == 5222 ? 0 : o.port;
    s.ca_file = o.ca_file;
    s.allow_plaintext = !o.tls;
    s.tls_insecure = o.tls_insecure;
    s.ping_interval = o.ping_interval;
    return s;
}

}  // namespace

std::optional<UpstreamError> upstream_error_of(const XmppStanzaError& error) {
    std::optional<UpstreamError> found;
    for (const XmppErrorExtension& x : error.extensions)
        if (auto u = parse_upstream_error(x.name, x.xmlns, x.xml)) found = std::move(u);
    return found;
}

EnedisConnector::EnedisConnector(Writer& writer, const ConnectorConfig& config,
                                 const EnedisOptions& options, std::vector<JobConfig> jobs,
                                 EnedisState state, std::string password)
    : writer_(writer),
      config_(config),
      options_(options),
      jobs_(config.name, options, jobs, std::move(state), now_ms()) {
    for (const auto& j : jobs) job_names_.push_back(j.name);
    XmppHandlers handlers;
    const std::string proxy = bare(options_.proxy);
    // Built whole, not assigned member by member: GCC 12 at -O3 reports a
    // false -Wrestrict for a short literal assigned to an existing string.
    handlers.message = XmppMessageHandler{
        .name = "x",
        .xmlns = std::string(kAuthorizeNamespace),
        .what = "consent",
        .handle =
            [this, proxy](XmppMessage m) {
                if (bare(m.from) != proxy) {
                    spdlog::warn(
                        "{}: consent message from {} ignored: only the proxy {} sends them",
                        config_.name, m.from, proxy);
                    return;
                }
                push(Consent{std::move(m.xml)});
            },
    };
    handlers.state = [this](XmppState s, const std::string& detail) {
        spdlog::info("{}: XMPP {}{}{}", config_.name, to_string(s), detail.empty() ? "" : ": ",
                     detail);
        if (s == XmppState::connected) push(RunJob{});  // wake: calls may go out now
    };
    session_ = std::make_unique<XmppSession>(session_config(config_, options_, std::move(password)),
                                             std::move(handlers));
}

EnedisConnector::~EnedisConnector() {
    stop();
}

void EnedisConnector::start() {
    if (thread_.joinable()) return;
    session_->start();
    thread_ = std::thread([this] { run(); });
}

void EnedisConnector::stop() {
    {
        std::lock_guard lk(mu_);
        if (stop_ && !thread_.joinable()) return;
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

Health EnedisConnector::health() const {
    const XmppHealth x = session_->health();
    Health h;
    h.state = connector_state(x.state);
    h.detail = x.state == XmppState::connected ? "connected as " + x.jid : x.last_error;
    h.reconnects = x.reconnects;
    const Health counted = health_.get();  // the messages; the state is the session's
    h.messages = counted.messages;
    h.rejected = counted.rejected;
    for (const auto& [key, n] : calls_.get())
        h.samples.push_back(
            {"enedis_calls_total", {{"command", key.first}, {"outcome", key.second}}, static_cast<double>(n)});
    return h;
}

bool EnedisConnector::run_job(const std::string& job) {
    if (std::find(job_names_.begin(), job_names_.end(), job) == job_names_.end()) return false;
    push(RunJob{job});
    return true;
}

void EnedisConnector::push(Event e) {
    {
        std::lock_guard lk(mu_);
        events_.push_back(std::move(e));
    }
    cv_.notify_all();
}

void EnedisConnector::commit(Batch& staged) {
    if (staged.empty()) return;
    std::size_t messages = 0, rejected = 0;
    for (const auto& e : staged)
        if (!e.record_only) {
            ++messages;
            if (e.result.reject) ++rejected;
        }
    const auto outcome = writer_.submit(std::move(staged), true).get();
    staged = Batch{};
    if (!outcome.committed)
        spdlog::error("{}: commit failed ({}); the days concerned are fetched again later",
                      config_.name, outcome.error);
    health_.count(messages, rejected);
}

void EnedisConnector::send(const EnedisCall& call) {
    std::vector<AdhocField> fields;
    for (const auto& f : call.fields)
        fields.push_back(AdhocField{f.var, f.values, f.multi ? "text-multi" : "text-single"});
    spdlog::info("{}: job {}: {}", config_.name, call.job,
                 call.data ? quoalise_request_topic(*call.data) : call.node);
    session_->request(options_.proxy, adhoc_execute(call.node, fields), options_.request_timeout,
                      [this, key = call.key, command = call.node](XmppResponse r) {
                          push(Answer{key, command, std::move(r)});
                      });
}

void EnedisConnector::handle(Event& e, TimeMs now, Batch& staged) {
    if (auto* a = std::get_if<Answer>(&e)) {
        using S = XmppResponse::Status;
        const XmppResponse& r = a->response;
        const char* outcome = r.status == S::result    ? "ok"
                              : r.status == S::timeout ? "timeout"
                              : r.status == S::error   ? "error"
                                                       : "disconnected";
        calls_.update([&](auto& calls) { calls[{a->command, outcome}]++; });
        if (r.status == S::result) {
            jobs_.on_result(a->key, r.xml, now, staged);
            return;
        }
        EnedisFailure f;
        f.kind = r.status == S::timeout        ? EnedisFailure::Kind::timeout
                 : r.status == S::disconnected ? EnedisFailure::Kind::disconnected
                                               : EnedisFailure::Kind::error;
        f.condition = r.error.condition;
        f.text = r.status == S::error ? r.error.text : r.detail;
        if (const auto upstream = upstream_error_of(r.error)) {
            f.issuer = upstream->issuer.value_or("");
            f.code = upstream->code.value_or("");
        }
        if (f.kind == EnedisFailure::Kind::error)
            spdlog::warn("{}: the proxy answered an error: {}{}{}", config_.name,
                         f.text.empty() ? f.condition : f.text,
                         f.issuer.empty() ? "" : " (upstream " + f.issuer,
                         f.issuer.empty() ? "" : (f.code.empty() ? ")" : " code " + f.code + ")"));
        jobs_.on_failure(a->key, f, now, staged);
    } else if (auto* c = std::get_if<Consent>(&e)) {
        spdlog::info("{}: consent received", config_.name);
        jobs_.on_consent(c->xml, now, staged);
    } else if (auto* j = std::get_if<RunJob>(&e)) {
        if (!j->job.empty()) jobs_.run_now(j->job, now);
    }
}

void EnedisConnector::run() {
    Batch staged;
    for (;;) {
        std::deque<Event> events;
        {
            std::unique_lock lk(mu_);
            const TimeMs now = now_ms();
            const TimeMs wake = jobs_.next_wakeup(now);
            // On the clock now_ms() reads: once it returns, now_ms() >= wake, so a call
            // due at the rate-limit boundary leaves then, not a timer slack later.
            cv_.wait_until(lk,
                           std::chrono::system_clock::time_point(std::chrono::milliseconds(wake)),
                           [&] { return stop_ || !events_.empty(); });
            events.swap(events_);
            if (stop_) break;
        }
        const TimeMs now = now_ms();
        for (auto& e : events) handle(e, now, staged);
        // A call goes out only once what came before it is committed.
        commit(staged);
        if (session_->health().state != XmppState::connected) continue;
        if (auto call = jobs_.next(now, staged)) {
            commit(staged);
            send(*call);
        }
    }
    // What is in flight fails as disconnected; record it, and what else arrived.
    session_->stop();
    std::deque<Event> events;
    {
        std::lock_guard lk(mu_);
        events.swap(events_);
    }
    for (auto& e : events) handle(e, now_ms(), staged);
    commit(staged);
}

}  // namespace mb
