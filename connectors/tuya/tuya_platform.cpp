#include "connectors/tuya/tuya_platform.h"

#include <date/tz.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <random>
#include <stdexcept>

#include "normalize/detail_text.h"

namespace mb {

namespace {

constexpr std::size_t kClosedKept = 1024;  // late answers to timed-out commands still recorded
constexpr TimeMs kStaleCheckMs = 1000;
constexpr TimeMs kNoteIntervalMs = 60 * 1000;
constexpr std::size_t kStaleExamples = 5;  // cids named in a stale line

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
        // A row that was never synced (older versions recorded status entries) holds
        // nothing a report or a status could use.
        if (!k.synced) continue;
        Device d;
        d.gateway = k.gateway;
        d.online = k.online;
        d.last_seen = k.last_seen;
        d.first_seen = k.first_seen;
        d.stale = k.last_seen > 0 && tuya_is_stale(k.last_seen, now, options_.stale_after.count());
        if (!k.protocol_state.empty()) {
            if (auto p = tuya_pairing_from_string(k.protocol_state))
                d.pairing = *p;
            else
                spdlog::warn("{}: device {} on {}: unreadable pairing state '{}' ignored", source_,
                             k.device, k.gateway, printable(k.protocol_state));
        }
        auto [it, inserted] = devices_.try_emplace(k.device, d);
        if (!inserted) {
            // Synced on two gateways by an older version: the registration seen first
            // keeps it; the other gateway's next sync moves it once it is stale.
            Device& kept = it->second;
            const bool replace = d.first_seen < kept.first_seen;
            spdlog::warn(
                "{}: device {} is synced on gateways {} and {}; {} keeps it (seen first), {} "
                "gets 2003 until it syncs the device again",
                source_, printable(k.device), kept.gateway, d.gateway,
                replace ? d.gateway : kept.gateway, replace ? kept.gateway : d.gateway);
            if (!replace) continue;
            --synced_per_gateway_[kept.gateway];
            kept = d;
        }
        ++synced_per_gateway_[d.gateway];
    }
    for (const auto& [gw, n] : synced_per_gateway_)
        if (n > options_.max_devices)
            spdlog::warn(
                "{}: gateway {} has {} synced devices, more than max_devices ({}): it can sync "
                "no new device until it has fewer",
                source_, gw, n, options_.max_devices);
    std::random_device rd;
    id_prefix_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

int TuyaPlatform::utc_offset_minutes(TimeMs t) const {
    if (!zone_) return 0;
    const auto info = zone_->get_info(date::sys_seconds{std::chrono::seconds{t / 1000}});
    return static_cast<int>(info.offset.count() / 60);
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

TuyaPlatform::Device* TuyaPlatform::owned(const std::string& gateway, std::string_view cid) {
    auto it = devices_.find(cid);
    return it != devices_.end() && it->second.gateway == gateway ? &it->second : nullptr;
}

DeviceUpdate& TuyaPlatform::touch(Envelope& env, const std::string& cid, Device& d, TimeMs at) {
    if (d.stale) {
        d.stale = false;
        env.result.states.push_back(StateEvent{cid, "stale", "false", at});
    }
    d.last_seen = std::max(d.last_seen, at);
    DeviceUpdate u;
    u.gateway = d.gateway;
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

void TuyaPlatform::refuse_sync(Envelope& env, MqttOutbox& out, const std::string& gateway,
                               const TuyaDeviceSync& s, RejectCode code, std::string detail) {
    const auto e = tuya_error(TuyaCode::uplink_error, std::move(detail), s.request_id, s.cid);
    env.result = DecodeResult{};
    env.result.reject = Reject{code, tuya_reject(e).detail};
    answer(out, gateway, TuyaDownlink::devices_sync_response,
           tuya_error_response(env.raw.received_at / 1000, e));
    if (refusals_.example.empty()) refusals_.example = printable(s.cid);
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
    auto it = devices_.find(s.cid);
    const bool elsewhere = it != devices_.end() && it->second.gateway != topic.gateway;
    if (elsewhere && !tuya_is_stale(it->second.last_seen, now, options_.stale_after.count())) {
        ++refusals_.claimed;
        refuse_sync(
            env, out, topic.gateway, s, RejectCode::unauthorized,
            fmt::format("cid \"{}\" is synced on gateway {}, which mentioned it {} s ago; "
                        "it can move to gateway {} once {} has not mentioned it for "
                        "stale_after ({} s)",
                        printable(s.cid), it->second.gateway, (now - it->second.last_seen) / 1000,
                        topic.gateway, it->second.gateway, options_.stale_after.count() / 1000));
        return;
    }
    if (it == devices_.end() || elsewhere) {
        if (const std::size_t n = synced_per_gateway_[topic.gateway]; n >= options_.max_devices) {
            ++refusals_.over_limit;
            refuse_sync(env, out, topic.gateway, s, RejectCode::out_of_range,
                        fmt::format("gateway {} has {} synced devices, max_devices is {}: cid "
                                    "\"{}\" is not registered",
                                    topic.gateway, n, options_.max_devices, printable(s.cid)));
            return;
        }
        ++synced_per_gateway_[topic.gateway];
    }
    if (elsewhere) {
        // The device was moved: its old registration is released, nothing of it
        // (pairing halves, online) carries over to the new one.
        Device& d = it->second;
        DeviceUpdate released;
        released.gateway = d.gateway;
        released.device = s.cid;
        released.seen = d.last_seen;
        released.released = true;
        env.devices.push_back(std::move(released));
        --synced_per_gateway_[d.gateway];
        spdlog::info("{}: device {} moved from gateway {} to {} (not mentioned on {} for {} s)",
                     source_, printable(s.cid), d.gateway, topic.gateway, d.gateway,
                     (now - d.last_seen) / 1000);
        env.result.states.push_back(StateEvent{s.cid, "gateway", topic.gateway, now});
        d = Device{};
        d.gateway = topic.gateway;
        d.first_seen = now;
    } else if (it == devices_.end()) {
        it = devices_.emplace(s.cid, Device{}).first;
        it->second.gateway = topic.gateway;
        it->second.first_seen = now;
        spdlog::info("{}: device {} synced on gateway {} (product {})", source_, printable(s.cid),
                     topic.gateway, printable(s.product_id));
    }
    DeviceUpdate& u = touch(env, s.cid, it->second, now);
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
        if (Device* d = e.cid.empty() ? nullptr : owned(topic.gateway, e.cid))
            touch(env, e.cid, *d, now);
        if (e.answerable())
            answer(out, topic.gateway, TuyaDownlink::properties_report_response,
                   tuya_error_response(now / 1000, e));
        return;
    }
    const TuyaPropertyReport& p = *r.value;
    Device* d = owned(topic.gateway, p.cid);
    if (!d) {
        auto other = devices_.find(p.cid);
        const auto e = tuya_error(
            TuyaCode::device_not_exist,
            other != devices_.end()
                ? fmt::format("cid \"{}\" is synced on gateway {}, not on {}", printable(p.cid),
                              other->second.gateway, topic.gateway)
                : fmt::format("cid \"{}\" has not been synced on gateway {} (devices/sync first)",
                              printable(p.cid), topic.gateway),
            p.request_id, p.cid);
        reject(env, e);
        answer(out, topic.gateway, TuyaDownlink::properties_report_response,
               tuya_error_response(now / 1000, e));
        return;
    }
    TuyaCanonicalOptions opts;
    opts.volume_scale = options_.volume_scale;
    opts.utc_offset_minutes = utc_offset_minutes(p.t);
    opts.pair_window_ms = options_.pair_window.count();
    TuyaCanonical c = dp_report_to_canonical(p, d->pairing, opts);
    DecodeResult result;
    result.readings = std::move(c.readings);
    result.states = std::move(c.states);
    // The store would refuse these times (check_times): the gateway is told why, and
    // the pairing stays as it was.
    const auto bad = check_times(result, now);
    const auto bad_t = implausible_time(p.t, p.t, now);
    if (bad || bad_t) {
        const auto e =
            tuya_error(bad_t ? TuyaCode::request_time_invalid : TuyaCode::params_range_invalid,
                       bad ? bad->detail : "t " + *bad_t, p.request_id, p.cid);
        reject(env, e);
        touch(env, p.cid, *d, now);
        answer(out, topic.gateway, TuyaDownlink::properties_report_response,
               tuya_error_response(now / 1000, e));
        return;
    }
    env.result = std::move(result);
    DeviceUpdate& u = touch(env, p.cid, *d, now);
    if (c.pairing != d->pairing) {
        d->pairing = c.pairing;
        u.protocol_state = tuya_pairing_to_string(d->pairing);
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
    const TuyaDevicesStatus& st = *r.value;
    if (auto why = implausible_time(st.t, st.t, now)) {
        env.result = DecodeResult::rejected(RejectCode::out_of_range, "devices/status: t " + *why);
        return;
    }
    std::size_t applied = 0;
    const TuyaDeviceStatus* ignored = nullptr;
    for (const TuyaDeviceStatus& s : st.devices) {
        Device* d = owned(topic.gateway, s.cid);
        if (!d) {
            if (!ignored) ignored = &s;
            continue;
        }
        ++applied;
        if (d->online != s.online)
            env.result.states.push_back(
                StateEvent{s.cid, "online", s.online ? "true" : "false", st.t});
        d->online = s.online;
        DeviceUpdate& u = touch(env, s.cid, *d, now);
        u.online = s.online;
    }
    if (!ignored) return;
    if (applied == 0) {
        env.result = DecodeResult::rejected(
            RejectCode::unknown_device,
            fmt::format("devices/status: none of the {} cid(s) is synced on gateway {} (the "
                        "first: \"{}\"); devices/sync first",
                        st.devices.size(), topic.gateway, printable(ignored->cid)));
        return;
    }
    refusals_.status_entries += st.devices.size() - applied;
    if (refusals_.example.empty()) refusals_.example = printable(ignored->cid);
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
    if (Device* d = owned(topic.gateway, c.cid)) touch(env, c.cid, *d, now);
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
    if (!owned(c.gateway, c.device)) {
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
    Envelope env = record_only_envelope(source_, now);
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
        Envelope env = record_only_envelope(source_, now);
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

    log_refusals(now);
    if (now - last_stale_check_ >= kStaleCheckMs) {
        last_stale_check_ = now;
        check_stale(now, staged);
    }
    count_devices(now);
}

void TuyaPlatform::count_devices(TimeMs now) {
    if (last_count_ != 0 && now - last_count_ < 1000) return;
    last_count_ = now;
    std::uint64_t online = 0, offline = 0, stale = 0;
    for (const auto& [cid, d] : devices_) {
        if (d.stale)
            ++stale;
        else if (d.online.value_or(false))
            ++online;
        else
            ++offline;
    }
    std::vector<HealthSample> samples;
    for (const auto& [state, n] : {std::pair{"online", online}, std::pair{"offline", offline},
                                   std::pair{"stale", stale}})
        samples.push_back({"tuya_devices", {{"state", state}}, static_cast<double>(n)});
    std::lock_guard lk(samples_mu_);
    samples_ = std::move(samples);
}

std::vector<HealthSample> TuyaPlatform::samples() const {
    std::lock_guard lk(samples_mu_);
    return samples_;
}

void TuyaPlatform::check_stale(TimeMs now, Batch& staged) {
    Envelope env = record_only_envelope(source_, now);
    std::map<std::string_view, std::size_t> per_gateway;
    std::vector<std::string> examples;
    for (auto& [cid, d] : devices_) {
        if (d.stale || d.last_seen == 0 ||
            !tuya_is_stale(d.last_seen, now, options_.stale_after.count()))
            continue;
        d.stale = true;
        env.result.states.push_back(StateEvent{cid, "stale", "true", now});
        ++per_gateway[d.gateway];
        if (examples.size() < kStaleExamples) examples.push_back(printable(cid));
    }
    if (env.result.states.empty()) return;
    // One line however many went stale at once: the registry may hold thousands.
    std::string counts;
    for (const auto& [gw, n] : per_gateway)
        counts += fmt::format("{}{} on {}", counts.empty() ? "" : ", ", n, gw);
    const std::size_t total = env.result.states.size();
    spdlog::warn("{}: {} device(s) stale, nothing heard for more than {} s: {} ({}{})", source_,
                 total, options_.stale_after.count() / 1000, counts, fmt::join(examples, ", "),
                 total > examples.size() ? ", ..." : "");
    staged.push_back(std::move(env));
}

void TuyaPlatform::log_refusals(TimeMs now, bool now_anyway) {
    const Refusals& r = refusals_;
    if (r.status_entries == 0 && r.claimed == 0 && r.over_limit == 0) return;
    if (!now_anyway && last_note_ != 0 && now - last_note_ < kNoteIntervalMs) return;
    std::string what;
    const auto add = [&](std::string_view label, std::uint64_t n) {
        if (n > 0) what += fmt::format("{}{}: {}", what.empty() ? "" : ", ", label, n);
    };
    add("status entries ignored (cid not synced on that gateway)", r.status_entries);
    add("syncs refused (cid synced on another gateway)", r.claimed);
    add("syncs refused (max_devices reached)", r.over_limit);
    spdlog::warn("{}: {} (e.g. cid \"{}\"; each refused sync is in rejected_v)", source_, what,
                 r.example);
    refusals_ = Refusals{};
    last_note_ = now;
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
        Envelope env = record_only_envelope(source_, now);
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
    log_refusals(now, true);
}

}  // namespace mb
