#include "tests/support/tuya_gateway.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <stdexcept>
#include <vector>

namespace mb::test {

using namespace std::chrono_literals;

TuyaGateway::TuyaGateway(std::uint16_t port, std::string gateway_id) : id_(std::move(gateway_id)) {
    mosquitto_lib_init();
    m_ = mosquitto_new(("sim-" + id_).c_str(), true, this);
    mosquitto_message_callback_set(m_, [](mosquitto*, void* self, const mosquitto_message* m) {
        static_cast<TuyaGateway*>(self)->on_message(m);
    });
    mosquitto_publish_callback_set(m_, [](mosquitto*, void* self, int) {
        auto* g = static_cast<TuyaGateway*>(self);
        std::lock_guard lk(g->mu_);
        g->acked_++;
        g->cv_.notify_all();
    });
    mosquitto_subscribe_callback_set(m_, [](mosquitto*, void* self, int, int, const int*) {
        auto* g = static_cast<TuyaGateway*>(self);
        std::lock_guard lk(g->mu_);
        g->subscribed_ = true;
        g->cv_.notify_all();
    });
    if (mosquitto_connect(m_, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS)
        throw std::runtime_error("gateway simulator: connect");
    const std::string base = "gateway_id/" + id_ + "/";
    std::vector<std::string> subs = {base + "devices/sync/response",
                                     base + "properties/report/response", base + "commands"};
    std::vector<char*> ptrs;
    for (auto& s : subs) ptrs.push_back(s.data());
    mosquitto_subscribe_multiple(m_, nullptr, static_cast<int>(ptrs.size()), ptrs.data(), 1, 0,
                                 nullptr);
    mosquitto_loop_start(m_);
    std::unique_lock lk(mu_);
    if (!cv_.wait_for(lk, 10s, [&] { return subscribed_; }))
        throw std::runtime_error("gateway simulator: no SUBACK");
}

TuyaGateway::~TuyaGateway() {
    mosquitto_disconnect(m_);
    mosquitto_loop_stop(m_, false);
    mosquitto_destroy(m_);
}

void TuyaGateway::publish(const std::string& kind, const std::string& payload) {
    int before = 0;
    {
        std::lock_guard lk(mu_);
        before = acked_;
    }
    const std::string topic = "gateway_id/" + id_ + "/" + kind;
    if (mosquitto_publish(m_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                          payload.data(), 1, false) != MOSQ_ERR_SUCCESS)
        throw std::runtime_error("gateway simulator: publish");
    std::unique_lock lk(mu_);
    if (!cv_.wait_for(lk, 10s, [&] { return acked_ > before; }))
        throw std::runtime_error("gateway simulator: no PUBACK");
}

std::optional<Received> TuyaGateway::next(const std::string& kind,
                                          std::chrono::milliseconds timeout) {
    const std::string topic = "gateway_id/" + id_ + "/" + kind;
    std::unique_lock lk(mu_);
    std::optional<Received> out;
    cv_.wait_for(lk, timeout, [&] {
        for (auto it = inbox_.begin(); it != inbox_.end(); ++it)
            if (it->topic == topic) {
                out = *it;
                inbox_.erase(it);
                return true;
            }
        return false;
    });
    return out;
}

void TuyaGateway::answer_commands(Answer how, int code, std::string msg) {
    std::lock_guard lk(mu_);
    answer_ = how;
    code_ = code;
    msg_ = std::move(msg);
}

std::vector<Received> TuyaGateway::commands() const {
    std::lock_guard lk(mu_);
    return commands_;
}

void TuyaGateway::on_message(const mosquitto_message* m) {
    Received r{m->topic, std::string(static_cast<const char*>(m->payload),
                                     static_cast<std::size_t>(m->payloadlen))};
    std::unique_lock lk(mu_);
    const bool is_command = r.topic == "gateway_id/" + id_ + "/commands";
    if (!is_command) {
        inbox_.push_back(std::move(r));
        cv_.notify_all();
        return;
    }
    commands_.push_back(r);
    cv_.notify_all();
    if (answer_ == Answer::never) return;
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    std::string_view cid, rid;
    if (p.parse(r.payload).get(doc) || doc["cid"].get_string().get(cid) ||
        doc["request_id"].get_string().get(rid))
        return;
    const std::string answer =
        fmt::format(R"({{"t":{},"cid":"{}","request_id":"{}","param":{{"msg":"{}","code":{}}}}})",
                    std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count(),
                    cid, rid, answer_ == Answer::success ? "success" : msg_,
                    answer_ == Answer::success ? 0 : code_);
    const std::string topic = "gateway_id/" + id_ + "/commands/response";
    lk.unlock();
    // From the network thread: queued, written by the loop.
    mosquitto_publish(m_, nullptr, topic.c_str(), static_cast<int>(answer.size()), answer.data(), 1,
                      false);
}

}  // namespace mb::test
