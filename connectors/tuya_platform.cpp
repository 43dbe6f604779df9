#include "connectors/tuya_platform.h"

#include <date/tz.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <random>
#include <stdexcept>

#include "normalize/detail_text.h"

namespace mb {

namespace {

constexpr std::size_t kClosedKept = 1024;  // late answers to timed-out commands still recorded
constexpr TimeMs kStaleCheckMs = 1000;

DeviceCommandResult outcome(DeviceCommandResult::Status status, int code, std::string msg,
                            std::string detail, std::string request_id = {}) {
    DeviceCommandResult r;
    r.status = status;
    r.code = code;
    r.msg = std::move(msg);
    r.detail = std::move(detail);
    r.request_id = std::move(request_id);
    return r;
}

DeviceCommandResult refused(TuyaCode code, std::string detail) {
    return outcome(DeviceCommandResult::Status::invalid, static_cast<int>(code),
                   std::string(tuya_message(static_cast<int>(code))), std::move(detail));
}

}  // namespace

TuyaPlatform::TuyaPlatform(std::string source, const TuyaOptions& options,
                           const std::vector<TuyaKnownDevice>& known, TimeMs now)
    : source_(std::move(source)), options_(options) {
    if (options_.time_zone != "UTC") zone_ = date::locate_zone(options_.time_zone);
    for (const auto& k : known) {
        Device d;
        d.synced = k.synced;
        d.online = k.online;
        d.last_seen = k.last_seen;
        d.stale = k.last_seen > 0 && tuya_is_stale(k.last_seen, now, options_.stale_after.count());
        if (!k.protocol_state.empty()) {
            if (auto p = tuya_pairing_from_string(k.protocol_state))
                d.pairing = *p;
            else
                spdlog::warn("{}: device {} on {}: unreadable pairing state '{}' ignored", source_,
                             k.device, k.gateway, printable(k.protocol_state));
        }
        devices_[{k.gateway, k.device}] = d;
    }
    std::random_device rd;
    id_prefix_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

int TuyaPlatform::utc_offset_minutes(TimeMs t) const {
    if (!zone_) return 0;
    const auto info = zone_->get_info(date::sys_seconds{std::chrono::seconds{t / 1000}});
    return static_cast<int>(info.offset.count() / 60);
}

Envelope TuyaPlatform::record(TimeMs now) const {
    Envelope env;
    env.record_only = true;
    env.raw.source = source_;
    env.raw.received_at = now;
    return env;
}

void TuyaPlatform::answer(MqttOutbox& out, const std::string& gateway, TuyaDownlink kind,
                          const std::string& payload) {
    const std::string topic = tuya_topic(gateway, kind);
    if (!out.publish(topic, payload))
        spdlog::warn(
            "{}: could not queue the answer on {}; the gateway will get it when the "
            "broker redelivers the request",
            source_, topic);
}

void TuyaPlatform::reject(Envelope& env, const TuyaError& e) {
    env.result = DecodeResult{};
    env.result.reject = tuya_reject(e);
}

DeviceUpdate& TuyaPlatform::touch(Envelope& env, const std::string& gateway, const std::string& cid,
                                  Device& d, TimeMs at) {
    if (d.stale) {
        d.stale = false;
        env.result.states.push_back(StateEvent{cid, "stale", "false", at});
    }
    d.last_seen = std::max(d.last_seen, at);
    DeviceUpdate u;
    u.gateway = gateway;
    u.device = cid;
    u.seen = at;
    u.stale_after_ms = options_.stale_after.count();
    env.devices.push_back(std::move(u));
    return env.devices.back();
}

void TuyaPlatform::on_message(Envelope& env, MqttOutbox& out) {
    auto t = tuya_parse_topic(env.raw.topic, options_.gateways);
    if (!t.topic) {
        env.result.reject = std::move(t.reject);
        return;
    }
    switch (t.topic->kind) {
        case TuyaUplink::devices_sync:
            sync(env, *t.topic, out);
            break;
        case TuyaUplink::properties_report:
            report(env, *t.topic, out);
            break;
        case TuyaUplink::devices_status:
            status(env, *t.topic);
            break;
        case TuyaUplink::commands_response:
            command_response(env, *t.topic);
            break;
    }
}

void TuyaPlatform::sync(Envelope& env, const TuyaTopic& topic, MqttOutbox& out) {
    const TimeMs now = env.raw.received_at;
    auto r = parser_.device_sync(env.raw.payload);
    if (!r.ok()) {
        reject(env, *r.error);
        if (r.error->answerable())
            answer(out, topic.gateway, TuyaDownlink::devices_sync_response,
                   tuya_error_response(now / 1000, *r.error));
        return;
    }
    const TuyaDeviceSync& s = *r.value;
    Device& d = devices_[{topic.gateway, s.cid}];
    const bool first = !d.synced;
    d.synced = true;
    DeviceUpdate& u = touch(env, topic.gateway, s.cid, d, now);
    u.synced = true;
    u.product_id = s.product_id;
    u.vendor_code = s.vendor_code;
    u.comm_type = s.comm_type;
    u.ip = s.device_ip;
    u.mac = s.mac_address;
    u.name = s.device_name;
    u.description = s.device_desc;
    u.location = s.install_location;
    u.server_id = s.device_server_id;
    u.sub_type = s.product_sub_type;
    if (first)
        spdlog::info("{}: device {} synced on gateway {} (product {})", source_, printable(s.cid),
                     topic.gateway, printable(s.product_id));
    answer(out, topic.gateway, TuyaDownlink::devices_sync_response,
           tuya_success(now / 1000, s.request_id, s.cid));
}

void TuyaPlatform::report(Envelope& env, const TuyaTopic& topic, MqttOutbox& out) {
    const TimeMs now = env.raw.received_at;
    auto r = parser_.property_report(env.raw.payload);
    if (!r.ok()) {
        const TuyaError& e = *r.error;
        reject(env, e);
        // A known device that sent a bad report is still alive.
        if (auto it = devices_.find({topic.gateway, e.cid});
            !e.cid.empty() && it != devices_.end() && it->second.synced)
            touch(env, topic.gateway, e.cid, it->second, now);
        if (e.answerable())
            answer(out, topic.gateway, TuyaDownlink::properties_report_response,
                   tuya_error_response(now / 1000, e));
        return;
    }
    const TuyaPropertyReport& p = *r.value;
    auto it = devices_.find({topic.gateway, p.cid});
    if (it == devices_.end() || !it->second.synced) {
        const auto e = tuya_error(
            TuyaCode::device_not_exist,
            fmt::format("cid \"{}\" has not been synced on gateway {} (devices/sync first)",
                        printable(p.cid), topic.gateway),
            p.request_id, p.cid);
        reject(env, e);
        answer(out, topic.gateway, TuyaDownlink::properties_report_response,
               tuya_error_response(now / 1000, e));
        return;
    }
    Device& d = it->second;
    TuyaCanonicalOptions opts;
    opts.volume_scale = options_.volume_scale;
    opts.utc_offset_minutes = utc_offset_minutes(p.t);
    opts.pair_window_ms = options_.pair_window.count();
    TuyaCanonical c = dp_report_to_canonical(p, d.pairing, opts);
    env.result.readings = std::move(c.readings);
    env.result.states = std::move(c.states);
    DeviceUpdate& u = touch(env, topic.gateway, p.cid, d, now);
    if (c.pairing != d.pairing) {
        d.pairing = c.pairing;
        u.protocol_state = tuya_pairing_to_string(d.pairing);
    }
    answer(out, topic.gateway, TuyaDownlink::properties_report_response,
           tuya_success(now / 1000, p.request_id, p.cid));
}

void TuyaPlatform::status(Envelope& env, const TuyaTopic& topic) {
    const TimeMs now = env.raw.received_at;
    auto r = parser_.devices_status(env.raw.payload);
    if (!r.ok()) {
        reject(env, *r.error);  // the document has no response topic for status
        return;
    }
    for (const TuyaDeviceStatus& s : r.value->devices) {
        Device& d = devices_[{topic.gateway, s.cid}];
        if (d.online != s.online)
            env.result.states.push_back(
                StateEvent{s.cid, "online", s.online ? "true" : "false", r.value->t});
        d.online = s.online;
        DeviceUpdate& u = touch(env, topic.gateway, s.cid, d, now);
        u.online = s.online;
    }
}

void TuyaPlatform::command_response(Envelope& env, const TuyaTopic& topic) {
    const TimeMs now = env.raw.received_at;
    auto r = parser_.command_response(env.raw.payload);
    if (!r.ok()) {
        reject(env, *r.error);
        return;
    }
    const TuyaCommandResponse& c = *r.value;
    CommandRecord rec;
    rec.step = CommandRecord::Step::answered;
    rec.request_id = c.request_id;
    rec.at = now;
    rec.result_code = c.code;
    rec.result_msg = c.msg;
    auto it = pending_.find(c.request_id);
    if (it == pending_.end()) {
        if (std::find(closed_.begin(), closed_.end(), c.request_id) != closed_.end()) {
            // Too late for the operator, but the device's word is kept.
            env.commands.push_back(std::move(rec));
            spdlog::warn("{}: answer to command {} arrived after its timeout (code {} {})", source_,
                         c.request_id, c.code, printable(c.msg));
            return;
        }
        env.result.reject =
            Reject{RejectCode::invalid_value,
                   fmt::format("commands/response: no command with request_id \"{}\" is pending",
                               printable(c.request_id))};
        return;
    }
    if (it->second.gateway != topic.gateway || it->second.cid != c.cid) {
        env.result.reject = Reject{
            RejectCode::invalid_value,
            fmt::format("commands/response: request_id \"{}\" was sent to device {} on gateway "
                        "{}, this answer names device \"{}\" on gateway {}",
                        printable(c.request_id), it->second.cid, it->second.gateway,
                        printable(c.cid), topic.gateway)};
        return;
    }
    if (auto d = devices_.find({topic.gateway, c.cid}); d != devices_.end())
        touch(env, topic.gateway, c.cid, d->second, now);
    env.commands.push_back(std::move(rec));
    Pending p = std::move(it->second);
    pending_.erase(it);
    using S = DeviceCommandResult::Status;
    std::string msg = c.msg.empty() ? std::string(tuya_message(c.code)) : c.msg;
    p.done(outcome(c.success() ? S::success : S::failed, c.code, msg,
                   c.success() ? "the device executed the command"
                               : fmt::format("the device answered {} {}", c.code, printable(msg)),
                   c.request_id));
}

void TuyaPlatform::submit_command(DeviceCommand command, CommandDone done) {
    {
        std::lock_guard lk(inbox_mu_);
        if (!stopped_) {
            inbox_.push_back(Submitted{std::move(command), std::move(done)});
            return;
        }
    }
    done(outcome(DeviceCommandResult::Status::unavailable, -1, {},
                 "the connector is stopping; nothing was sent"));
}

std::string TuyaPlatform::next_request_id(TimeMs now) {
    return fmt::format("mb-{:016x}-{:x}-{}", id_prefix_, now, ++counter_);
}

void TuyaPlatform::send(const Submitted& s, TimeMs now, Batch& staged, MqttOutbox& out) {
    const DeviceCommand& c = s.command;
    if (std::find(options_.gateways.begin(), options_.gateways.end(), c.gateway) ==
        options_.gateways.end()) {
        s.done(refused(TuyaCode::device_not_exist,
                       fmt::format("gateway {} is not one of this connector's gateways",
                                   printable(c.gateway))));
        return;
    }
    auto it = devices_.find({c.gateway, c.device});
    if (it == devices_.end() || !it->second.synced) {
        s.done(refused(TuyaCode::device_not_exist,
                       fmt::format("device {} has not been synced on gateway {}",
                                   printable(c.device), c.gateway)));
        return;
    }
    auto v = tuya_command_value(c.dp, c.value);
    if (!v.ok()) {
        s.done(refused(v.error->code, v.error->detail));
        return;
    }
    const TuyaDp* dp = tuya_find_dp(c.dp);
    if (!out.connected()) {
        s.done(outcome(DeviceCommandResult::Status::unavailable, -1, {},
                       "not connected to the broker; nothing was sent"));
        return;
    }
    const std::string request_id = next_request_id(now);
    if (!out.publish(tuya_topic(c.gateway, TuyaDownlink::commands),
                     tuya_command(now / 1000, c.device, request_id, dp->id, *v.value))) {
        s.done(outcome(DeviceCommandResult::Status::unavailable, -1, {},
                       "the MQTT library refused the publication; nothing was sent"));
        return;
    }
    const auto timeout = c.timeout.count() > 0 ? c.timeout : options_.command_timeout;
    Envelope env = record(now);
    CommandRecord rec;
    rec.step = CommandRecord::Step::sent;
    rec.request_id = request_id;
    rec.at = now;
    rec.gateway = c.gateway;
    rec.device = c.device;
    rec.code = std::string(dp->code);
    rec.value = c.value;
    rec.dp = dp->id;
    rec.deadline = now + timeout.count();
    env.raw.topic = tuya_topic(c.gateway, TuyaDownlink::commands);
    env.commands.push_back(std::move(rec));
    staged.push_back(std::move(env));
    spdlog::info("{}: command {} {}={} to device {} on {} (request_id {})", source_, dp->id,
                 dp->code, printable(c.value), printable(c.device), c.gateway, request_id);
    pending_[request_id] = Pending{c.gateway, c.device, now + timeout.count(), timeout, s.done};
    uncommitted_.push_back(request_id);
}

void TuyaPlatform::on_commit(bool committed, const std::string& error) {
    std::vector<std::string> ids;
    ids.swap(uncommitted_);
    if (committed) return;
    for (const std::string& id : ids) {
        auto it = pending_.find(id);
        if (it == pending_.end()) continue;  // already completed (the connector stopped)
        spdlog::warn("{}: command {} to device {} was not recorded ({}); it was not sent", source_,
                     id, it->second.cid, error);
        it->second.done(outcome(
            DeviceCommandResult::Status::unavailable, -1, {},
            fmt::format("the command could not be recorded ({}); nothing was sent", error)));
        pending_.erase(it);
    }
}

void TuyaPlatform::on_tick(TimeMs now, Batch& staged, MqttOutbox& out) {
    std::vector<Submitted> inbox;
    {
        std::lock_guard lk(inbox_mu_);
        inbox.swap(inbox_);
    }
    for (const auto& s : inbox) send(s, now, staged, out);

    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.deadline > now) {
            ++it;
            continue;
        }
        Envelope env = record(now);
        CommandRecord rec;
        rec.step = CommandRecord::Step::timed_out;
        rec.request_id = it->first;
        rec.at = now;
        rec.result_code = static_cast<int>(TuyaCode::device_offline);
        rec.result_msg = std::string(tuya_message(rec.result_code.value_or(0)));
        env.commands.push_back(rec);
        staged.push_back(std::move(env));
        const auto secs = std::chrono::duration<double>(it->second.timeout).count();
        spdlog::warn("{}: no answer to command {} from device {} within {} s", source_, it->first,
                     it->second.cid, secs);
        it->second.done(outcome(
            DeviceCommandResult::Status::timeout, rec.result_code.value_or(0), rec.result_msg,
            fmt::format("no answer from the device within {} s", secs), it->first));
        closed_.push_back(it->first);
        if (closed_.size() > kClosedKept) closed_.pop_front();
        it = pending_.erase(it);
    }

    if (now - last_stale_check_ < kStaleCheckMs) return;
    last_stale_check_ = now;
    Envelope env = record(now);
    for (auto& [key, d] : devices_) {
        if (d.stale || d.last_seen == 0 ||
            !tuya_is_stale(d.last_seen, now, options_.stale_after.count()))
            continue;
        d.stale = true;
        env.result.states.push_back(StateEvent{key.second, "stale", "true", now});
        spdlog::warn("{}: device {} on {} is stale: nothing heard for more than {} s", source_,
                     key.second, key.first, options_.stale_after.count() / 1000);
    }
    if (!env.result.states.empty()) staged.push_back(std::move(env));
}

void TuyaPlatform::on_stop(TimeMs now, Batch& staged) {
    std::vector<Submitted> inbox;
    {
        std::lock_guard lk(inbox_mu_);
        stopped_ = true;
        inbox.swap(inbox_);
    }
    for (const auto& s : inbox)
        s.done(outcome(DeviceCommandResult::Status::unavailable, -1, {},
                       "the connector is stopping; nothing was sent"));
    for (auto& [id, p] : pending_) {
        Envelope env = record(now);
        CommandRecord rec;
        rec.step = CommandRecord::Step::aborted;
        rec.request_id = id;
        rec.at = now;
        rec.result_msg = "the connector stopped before the device answered";
        env.commands.push_back(rec);
        staged.push_back(std::move(env));
        p.done(outcome(DeviceCommandResult::Status::unavailable, -1, {}, rec.result_msg, id));
    }
    pending_.clear();
}

}  // namespace mb
