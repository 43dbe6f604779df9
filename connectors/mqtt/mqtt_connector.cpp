#include "connectors/mqtt/mqtt_connector.h"

#include <fmt/format.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <future>
#include <random>
#include <vector>

#include "connectors/wake_event.h"
#include "storage/clock.h"
#include "storage/writer.h"

namespace mb {

namespace {

using namespace std::chrono;

// What the loop reads before it commits (and acks), besides the writer's
// batch_max_rows: a burst larger than this is committed in several rounds.
// The byte budget bounds large payloads; the message count is a last resort.
constexpr std::size_t kMaxStagedMessages = 2000;
constexpr std::size_t kMaxStagedBytes = std::size_t{4} << 20;
constexpr auto kPollInterval = 250ms;
constexpr auto kMiscInterval = 1s;

// What a staged envelope keeps on the heap, roughly: the payload, the topic
// and the readings (the canonical model's strings included).
std::size_t approx_bytes(const Envelope& e) {
    std::size_t b = sizeof(Envelope) + e.raw.payload.size() + e.raw.topic.size() +
                    e.result.readings.capacity() * sizeof(Reading) +
                    e.result.states.capacity() * sizeof(StateEvent);
    for (const Reading& r : e.result.readings) b += r.meter.size() + r.quantity.size();
    for (const StateEvent& st : e.result.states) b += st.meter.size() + st.value.size();
    return b;
}

// Decoded text may quote what a secret hides in (a state's value, a device id).
void redact_result(const MqttProtocol& protocol, DecodeResult& result) {
    for (Reading& r : result.readings) {
        protocol.redact_text(r.meter);
        protocol.redact_text(r.quantity);
        protocol.redact_text(r.unit);
    }
    for (StateEvent& st : result.states) {
        protocol.redact_text(st.meter);
        protocol.redact_text(st.key);
        protocol.redact_text(st.value);
    }
    if (result.reject) protocol.redact_text(result.reject->detail);
}

}  // namespace

std::uint32_t maximum_packet_size(std::size_t max_payload) {
    // MQTT's own ceiling: the Remaining Length field holds at most 268,435,455.
    constexpr std::size_t kMqttMax = 268435455;
    constexpr std::size_t kOverhead = 5;  // fixed header: type byte and Remaining Length
    return static_cast<std::uint32_t>(
        std::min(kMqttMax, max_payload + kMaximumPacketHeadroom + kOverhead));
}

void MqttProtocol::submit_command(DeviceCommand, CommandDone done) {
    DeviceCommandResult r;
    r.status = DeviceCommandResult::Status::unavailable;
    r.detail = "this connector type does not take device commands";
    done(std::move(r));
}

MqttConnector::MqttConnector(Writer& writer, const ConnectorConfig& config,
                             const BrokerConfig& broker, std::unique_ptr<Decoder> decoder)
    : MqttConnector(writer, config, broker, std::make_unique<DecoderProtocol>(std::move(decoder))) {
}

MqttConnector::MqttConnector(Writer& writer, const ConnectorConfig& config,
                             const BrokerConfig& broker, std::unique_ptr<MqttProtocol> protocol)
    : writer_(writer),
      config_(config),
      broker_(broker),
      protocol_(std::move(protocol)),
      mosq_(make_mosquitto_client(config_.client_id, config_.clean_session, this, broker_,
                                  "connector " + config_.name)) {
    mosquitto* m = mosq_.get();
    // Our own loop decides when queued packets (acks) are written.
    mosquitto_threaded_set(m, true);
    mosquitto_connect_v5_callback_set(m, &MqttConnector::on_connect_cb);
    mosquitto_message_v5_callback_set(m, &MqttConnector::on_message_cb);
    mosquitto_subscribe_v5_callback_set(m, &MqttConnector::on_subscribe_cb);
    mosquitto_log_callback_set(m, &MqttConnector::on_log_cb);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0)
        throw std::runtime_error(
            fmt::format("connector {}: eventfd: {}", config_.name, std::strerror(errno)));
}

MqttConnector::~MqttConnector() {
    stop();
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

void MqttConnector::send_command(DeviceCommand command, CommandDone done) {
    if (!running_) {
        DeviceCommandResult r;
        r.status = DeviceCommandResult::Status::unavailable;
        r.detail = "connector " + config_.name + " is not running";
        done(std::move(r));
        return;
    }
    protocol_->submit_command(std::move(command), std::move(done));
    wake();
}

void MqttConnector::wake() {
    wake_event(wake_fd_);
}

void MqttConnector::drain_wake() {
    drain_wake_event(wake_fd_);
}

bool MqttConnector::Outbox::publish(const std::string& topic, std::string_view payload) {
    if (!connected()) return false;
    // Held until what was staged before it is committed (release_held).
    c_.held_.push_back(Publication{topic, std::string(payload)});
    return true;
}

void MqttConnector::release_held() {
    for (const Publication& p : held_) {
        const int rc = mosquitto_publish(mosq_.get(), nullptr, p.topic.c_str(),
                                         static_cast<int>(p.payload.size()), p.payload.data(),
                                         config_.qos, false);
        // Without a connection the library still queues a QoS 1/2 message and sends
        // it after the next CONNACK; it is committed, so that is right.
        if (rc == MOSQ_ERR_SUCCESS || (rc == MOSQ_ERR_NO_CONN && config_.qos > 0)) continue;
        std::string shown = p.topic;
        protocol_->redact_text(shown);
        spdlog::warn("{}: cannot publish on {}: {}", config_.name, shown, mosquitto_error_text(rc));
    }
    held_.clear();
}

void MqttConnector::tick() {
    drain_wake();
    protocol_->on_tick(now_ms(), staged_, outbox_);
}

void MqttConnector::start() {
    if (thread_.joinable()) return;
    running_ = true;
    if (broker_.tls_insecure)
        spdlog::warn(
            "{}: TLS certificate and host name verification are OFF for broker {} (tls_insecure)",
            config_.name, broker_.name);
    thread_ = std::thread([this] { run(); });
}

void MqttConnector::stop() {
    stop_requested_ = true;
    wake();
    if (thread_.joinable()) thread_.join();
    health_.set_state(ConnectorState::stopped, "stopped");
}

Health MqttConnector::health() const {
    Health h = health_.get();
    h.samples = protocol_->samples();
    return h;
}

milliseconds MqttConnector::next_backoff() {
    static thread_local std::mt19937 rng{std::random_device{}()};
    const auto base = std::min<std::int64_t>(60000, 1000LL << std::min(failures_, 6));
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    ++failures_;
    return milliseconds(static_cast<std::int64_t>(static_cast<double>(base) * jitter(rng)));
}

void MqttConnector::run() {
    while (!stop_requested_) {
        if (connect()) {
            session();
            if (stop_requested_) break;
        }
        // A lost session or a failed attempt: either way another attempt follows.
        health_.reconnected();
        const auto wait = next_backoff();
        // The state keeps the reason: a connector that can never come back says why.
        health_.set_state(
            ConnectorState::reconnecting,
            fmt::format("reconnecting to {}:{} in {} ms{}{}", broker_.host, broker_.port,
                        wait.count(), last_error_.empty() ? "" : " after: ", last_error_));
        spdlog::info("{}: reconnecting to {}:{} in {} ms", config_.name, broker_.host, broker_.port,
                     wait.count());
        const auto until = steady_clock::now() + wait;
        while (!stop_requested_ && steady_clock::now() < until) {
            pollfd p{wake_fd_, POLLIN, 0};
            ::poll(&p, 1, 50);
            tick();
            commit_staged();
        }
    }
    // Pending work of the protocol (commands) ends here; what it stages is committed.
    running_ = false;
    protocol_->on_stop(now_ms(), staged_);
    commit_staged();
}

bool MqttConnector::connect() {
    connected_ = false;
    session_lost_ = false;
    lib_error_.clear();
    int rc;
    if (broker_.protocol == 5) {
        // A v5 broker sends no packet above this: it drops it for this client (mosquitto
        // logs "Dropping too large outgoing PUBLISH"), so a payload far over max_payload
        // never reaches the library, which would read it whole into memory.
        mosquitto_property* props = nullptr;
        mosquitto_property_add_int32(&props, MQTT_PROP_MAXIMUM_PACKET_SIZE,
                                     maximum_packet_size(config_.max_payload));
        rc = mosquitto_connect_bind_v5(mosq_.get(), broker_.host.c_str(), broker_.port,
                                       static_cast<int>(broker_.keepalive.count()), nullptr, props);
        mosquitto_property_free_all(&props);
    } else {
        rc = mosquitto_connect(mosq_.get(), broker_.host.c_str(), broker_.port,
                               static_cast<int>(broker_.keepalive.count()));
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        spdlog::warn("{}: cannot connect to {}:{}: {}", config_.name, broker_.host, broker_.port,
                     failed(mosquitto_error_text(rc)));
        return false;
    }
    return true;
}

const std::string& MqttConnector::failed(const std::string& why) {
    // The library's own last error says more (a TLS verification failure, say).
    last_error_ = lib_error_.empty() ? why : fmt::format("{} ({})", why, lib_error_);
    lib_error_.clear();
    return last_error_;
}

bool MqttConnector::staging_full() const {
    // One message is always read, however large, else the loop could never move.
    if (staged_.empty()) return false;
    return staged_rows_ + last_message_rows_ > writer_.batch_max_rows() ||
           staged_bytes_ >= kMaxStagedBytes || staged_.size() >= kMaxStagedMessages;
}

bool MqttConnector::commit_staged() {
    if (staged_.empty()) {
        release_held();
        return true;
    }
    const std::size_t n = staged_.size();
    // Parts of at most batch_max_rows rows, so that no transaction holds more (a message
    // larger than a part goes alone). Usually there is one part: staging stops before the
    // budget unless a message was larger than the one before it.
    const std::size_t budget = writer_.batch_max_rows();
    std::size_t total_rows = 0;
    for (const Envelope& e : staged_) total_rows += e.rows();
    std::vector<std::future<CommitOutcome>> parts;
    if (total_rows <= budget) {
        parts.push_back(writer_.submit(std::move(staged_), true));
    } else {
        Batch part;
        std::size_t part_rows = 0;
        for (Envelope& e : staged_) {
            const std::size_t rows = e.rows();
            if (!part.empty() && part_rows + rows > budget) {
                parts.push_back(writer_.submit(std::move(part), true));
                part = Batch{};
                part_rows = 0;
            }
            part_rows += rows;
            part.push_back(std::move(e));
        }
        parts.push_back(writer_.submit(std::move(part), true));
    }
    staged_ = Batch{};
    staged_rows_ = 0;
    staged_bytes_ = 0;
    // Acks leave only when every part is committed: wait for all of them.
    std::string error;
    for (auto& f : parts) {
        const auto outcome = f.get();
        if (!outcome.committed && error.empty()) error = outcome.error;
    }
    if (!error.empty()) {
        spdlog::error(
            "{}: commit of {} messages failed ({}); not acknowledging them, the broker will "
            "redeliver",
            config_.name, n, error);
        // What was published since the last commit answers what is not stored: it never
        // leaves (the library never saw it).
        if (!held_.empty())
            spdlog::warn("{}: {} publication(s) dropped with the uncommitted messages",
                         config_.name, held_.size());
        held_.clear();
        protocol_->on_commit(false, error);
        return false;
    }
    release_held();
    protocol_->on_commit(true, {});
    return true;
}

void MqttConnector::session() {
    mosquitto* m = mosq_.get();
    last_misc_ = steady_clock::now();
    auto lost = [&](int rc, const char* where) {
        // Before CONNACK this is a failed connect (TLS verification happens here too).
        if (!connected_)
            spdlog::warn("{}: cannot connect to {}:{}: {}", config_.name, broker_.host,
                         broker_.port, failed(mosquitto_error_text(rc)));
        else if (!stop_requested_)
            spdlog::warn("{}: connection to {}:{} lost ({})", config_.name, broker_.host,
                         broker_.port,
                         failed(fmt::format("{}: {}", where, mosquitto_error_text(rc))));
        // Keep what was read: committing it loses nothing, the broker redelivers the
        // unacknowledged.
        commit_staged();
    };
    for (;;) {
        // Everything read so far is committed before any queued packet (ack) may leave.
        // A failed commit leaves the session unwritten. The next mosquitto_connect()
        // discards the library's queued packets (packet__cleanup_all) before it
        // closes the socket, so those acks never leave and the broker redelivers.
        if (!commit_staged()) return;
        if (session_lost_) return;
        const int sock = mosquitto_socket(m);
        if (sock < 0) return;
        if (stop_requested_) {
            // Flush the acks of what was committed, then leave the session in place at the broker.
            const auto deadline = steady_clock::now() + 5s;
            while (mosquitto_want_write(m) && steady_clock::now() < deadline) {
                pollfd p{sock, POLLOUT, 0};
                if (::poll(&p, 1, 100) > 0 && mosquitto_loop_write(m, 1) != MOSQ_ERR_SUCCESS)
                    return;
            }
            mosquitto_disconnect(m);
            mosquitto_loop_write(m, 1);
            return;
        }
        pollfd fds[2] = {
            {sock, static_cast<short>(POLLIN | (mosquitto_want_write(m) ? POLLOUT : 0)), 0},
            {wake_fd_, POLLIN, 0}};
        const int n = ::poll(fds, 2, static_cast<int>(kPollInterval.count()));
        if (n < 0 && errno != EINTR) {
            lost(MOSQ_ERR_ERRNO, "poll");
            return;
        }
        const pollfd& p = fds[0];
        if (n > 0 && (p.revents & POLLOUT)) {
            if (int rc = mosquitto_loop_write(m, 1); rc != MOSQ_ERR_SUCCESS) {
                lost(rc, "write");
                return;
            }
        }
        if (n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
            // Read what the socket holds, up to the staging budget; the callbacks stage
            // messages. errno cannot tell whether the socket is empty: in threaded mode
            // every queued ack also writes a byte to the library's internal socket pair,
            // which nobody drains without mosquitto_loop(), so that write fails with
            // EAGAIN once the pair is full. Ask the socket instead.
            for (;;) {
                if (int rc = mosquitto_loop_read(m, 1); rc != MOSQ_ERR_SUCCESS) {
                    lost(rc, "read");
                    return;
                }
                if (session_lost_ || staging_full()) break;
                const int s = mosquitto_socket(m);
                if (s < 0) break;
                pollfd more{s, POLLIN, 0};
                if (::poll(&more, 1, 0) <= 0) break;
            }
        }
        // Timers and queued commands; what they publish waits for the next commit.
        tick();
        if (steady_clock::now() - last_misc_ >= kMiscInterval) {
            last_misc_ = steady_clock::now();
            if (int rc = mosquitto_loop_misc(m); rc != MOSQ_ERR_SUCCESS) {
                lost(rc, "keepalive");
                return;
            }
        }
    }
}

void MqttConnector::on_connect(int rc, int flags) {
    if (rc != 0) {
        const std::string why =
            broker_.protocol == 5 ? mosquitto_reason_string(rc) : mosquitto_connack_string(rc);
        spdlog::error("{}: broker {}:{} refused the connection: {}", config_.name, broker_.host,
                      broker_.port, why);
        last_error_ = "refused: " + why;
        health_.set_state(ConnectorState::reconnecting, last_error_);
        session_lost_ = true;
        return;
    }
    connected_ = true;
    failures_ = 0;
    last_error_.clear();
    const bool session_present = (flags & 1) != 0;
    spdlog::info("{}: connected to {}:{} as {} (session {})", config_.name, broker_.host,
                 broker_.port, config_.client_id, session_present ? "resumed" : "new");
    health_.set_state(ConnectorState::running,
                      fmt::format("connected to {}:{}", broker_.host, broker_.port));
    if (session_present && !config_.clean_session) return;  // the broker kept our subscriptions
    std::vector<char*> topics;
    for (auto& t : config_.topics) topics.push_back(t.data());
    const int src =
        mosquitto_subscribe_multiple(mosq_.get(), nullptr, static_cast<int>(topics.size()),
                                     topics.data(), config_.qos, 0, nullptr);
    if (src != MOSQ_ERR_SUCCESS) {
        spdlog::error("{}: cannot subscribe: {}", config_.name, mosquitto_error_text(src));
        session_lost_ = true;
    }
}

void MqttConnector::on_message(const mosquitto_message* msg, const mosquitto_property* props) {
    Envelope env;
    env.raw.source = config_.name;
    env.raw.topic = msg->topic ? msg->topic : "";
    env.raw.received_at = now_ms();
    const auto len = static_cast<std::size_t>(std::max(msg->payloadlen, 0));
    const bool oversized = len > config_.max_payload;
    // An oversized payload is only stored, capped: copy no more than that.
    const std::size_t keep = oversized ? std::min(len, writer_.max_stored_payload()) : len;
    env.raw.payload.assign(static_cast<const char*>(msg->payload), keep);
    if (keep < len) env.raw.received_size = len;
    if (props) {
        char* ct = nullptr;
        if (mosquitto_property_read_string(props, MQTT_PROP_CONTENT_TYPE, &ct, false) && ct) {
            env.raw.content_type = ct;
            std::free(ct);
        }
    }
    if (oversized) {
        env.result = DecodeResult::rejected(
            RejectCode::oversized,
            fmt::format("{} bytes, the limit (max_payload) is {}", len, config_.max_payload));
        protocol_->redact(env.raw);
    } else {
        protocol_->on_message(env, outbox_);
        redact_result(*protocol_, env.result);
    }
    health_.count(1, env.result.reject ? 1 : 0);
    last_message_rows_ = env.rows();
    staged_rows_ += last_message_rows_;
    staged_bytes_ += approx_bytes(env);
    staged_.push_back(std::move(env));
}

void MqttConnector::on_connect_cb(mosquitto*, void* self, int rc, int flags,
                                  const mosquitto_property*) {
    static_cast<MqttConnector*>(self)->on_connect(rc, flags);
}

void MqttConnector::on_message_cb(mosquitto*, void* self, const mosquitto_message* msg,
                                  const mosquitto_property* props) {
    static_cast<MqttConnector*>(self)->on_message(msg, props);
}

void MqttConnector::on_subscribe_cb(mosquitto*, void* self, int, int qos_count, const int* granted,
                                    const mosquitto_property*) {
    auto* c = static_cast<MqttConnector*>(self);
    // Publications before this point are not delivered to a new session: say when it is live.
    spdlog::info("{}: subscribed to {} filter(s)", c->config_.name, qos_count);
    for (int i = 0; i < qos_count; ++i) {
        const auto idx = static_cast<std::size_t>(i);
        const std::string topic = idx < c->config_.topics.size() ? c->config_.topics[idx] : "?";
        if (granted[i] >= 0x80)
            spdlog::error("{}: the broker refused the subscription to {} (code {})",
                          c->config_.name, topic, granted[i]);
        else if (granted[i] < c->config_.qos)
            spdlog::warn("{}: subscription to {} granted at QoS {} instead of {}", c->config_.name,
                         topic, granted[i], c->config_.qos);
        else
            spdlog::debug("{}: subscribed to {} at QoS {}", c->config_.name, topic, granted[i]);
    }
}

void MqttConnector::on_log_cb(mosquitto*, void* self, int level, const char* text) {
    auto* c = static_cast<MqttConnector*>(self);
    const bool error = (level & MOSQ_LOG_ERR) != 0;
    const auto as =
        (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) ? spdlog::level::debug : spdlog::level::trace;
    if (!error && !spdlog::should_log(as)) return;  // every packet comes through here
    std::string line(text ? text : "");
    c->protocol_->redact_text(line);  // the library quotes topics, which may hold a secret
    if (error) c->lib_error_ = line;
    if (spdlog::should_log(as)) spdlog::log(as, "{}: libmosquitto: {}", c->config_.name, line);
}

}  // namespace mb
