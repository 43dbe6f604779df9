#include "daemon/control/control_protocol.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "daemon/table_writer.h"

namespace mb::control {

namespace {

std::string q(std::string_view s) {
    return TableWriter::json_escape(s);
}

// Reads an optional string member; false (and `error` set) on a wrong type.
bool get_string(simdjson::dom::object& o, std::string_view key, std::string& out,
                std::string& error, bool required) {
    simdjson::dom::element e;
    if (o[key].get(e) != simdjson::SUCCESS) {
        if (required) error = fmt::format("missing \"{}\"", key);
        return !required;
    }
    std::string_view v;
    if (e.get_string().get(v) != simdjson::SUCCESS) {
        error = fmt::format("\"{}\" must be a string", key);
        return false;
    }
    out = std::string(v);
    return true;
}

}  // namespace

ParsedRequest parse_request(std::string_view line) {
    ParsedRequest out;
    if (line.size() > kMaxLine) {
        out.error = fmt::format("request longer than {} bytes", kMaxLine);
        return out;
    }
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (auto err = parser.parse(line.data(), line.size()).get(root)) {
        out.error = fmt::format("not JSON: {}", simdjson::error_message(err));
        return out;
    }
    simdjson::dom::object o;
    if (root.get_object().get(o) != simdjson::SUCCESS) {
        out.error = "not a JSON object";
        return out;
    }
    std::string op;
    if (!get_string(o, "op", op, out.error, true)) return out;
    if (op == "status") {
        out.request = StatusRequest{};
        return out;
    }
    if (op == "run_job") {
        RunJobRequest j;
        if (!get_string(o, "job", j.job, out.error, true)) return out;
        out.request = std::move(j);
        return out;
    }
    if (op != "command") {
        out.error = fmt::format("unknown op \"{}\" (command, run_job, status)", op);
        return out;
    }
    CommandRequest c;
    if (!get_string(o, "connector", c.connector, out.error, true) ||
        !get_string(o, "gateway", c.command.gateway, out.error, true) ||
        !get_string(o, "device", c.command.device, out.error, true) ||
        !get_string(o, "dp", c.command.dp, out.error, true) ||
        !get_string(o, "value", c.command.value, out.error, true))
        return out;
    c.command.timeout = std::chrono::milliseconds(0);
    simdjson::dom::element t;
    if (o["timeout_ms"].get(t) == simdjson::SUCCESS) {
        std::int64_t ms = 0;
        if (t.get_int64().get(ms) != simdjson::SUCCESS || ms < 0 || ms > 3'600'000) {
            out.error = "\"timeout_ms\" must be an integer from 0 to 3600000";
            return out;
        }
        c.command.timeout = std::chrono::milliseconds(ms);
    }
    out.request = std::move(c);
    return out;
}

std::string render(const Request& r) {
    if (std::holds_alternative<StatusRequest>(r)) return "{\"op\":\"status\"}";
    if (const auto* j = std::get_if<RunJobRequest>(&r))
        return fmt::format("{{\"op\":\"run_job\",\"job\":{}}}", q(j->job));
    const auto& c = std::get<CommandRequest>(r);
    return fmt::format(
        "{{\"op\":\"command\",\"connector\":{},\"gateway\":{},\"device\":{},\"dp\":{},\"value\":{},"
        "\"timeout_ms\":{}}}",
        q(c.connector), q(c.command.gateway), q(c.command.device), q(c.command.dp),
        q(c.command.value), c.command.timeout.count());
}

std::string render(const DaemonStatus& d) {
    return fmt::format(
        "{{\"messages\":{},\"readings\":{},\"duplicates\":{},\"revisions\":{},"
        "\"rejected\":{},\"queued\":{},\"storage_paused\":{},\"connectors\":{},"
        "\"connectors_running\":{},\"reconnects\":{}}}",
        d.messages, d.readings, d.duplicates, d.revisions, d.rejected, d.queued, d.storage_paused,
        d.connectors, d.connectors_running, d.reconnects);
}

std::string render(const Response& r) {
    std::string out = fmt::format("{{\"status\":{}", q(r.status));
    if (r.code) out += fmt::format(",\"code\":{}", *r.code);
    if (!r.msg.empty()) out += ",\"msg\":" + q(r.msg);
    if (!r.request_id.empty()) out += ",\"request_id\":" + q(r.request_id);
    out += ",\"detail\":" + q(r.detail);
    if (!r.health.empty()) {
        out += ",\"health\":" + q(r.health) + ",\"reasons\":[";
        for (std::size_t i = 0; i < r.reasons.size(); ++i) out += (i ? "," : "") + q(r.reasons[i]);
        out += ']';
    }
    if (r.daemon) out += ",\"daemon\":" + render(*r.daemon);
    if (!r.connectors.empty()) {
        out += ",\"connectors\":[";
        for (std::size_t i = 0; i < r.connectors.size(); ++i) {
            const auto& c = r.connectors[i];
            if (i) out += ',';
            out += fmt::format(
                "{{\"name\":{},\"type\":{},\"state\":{},\"detail\":{},\"messages\":{},"
                "\"rejected\":{},\"reconnects\":{}}}",
                q(c.name), q(c.type), q(c.state), q(c.detail), c.messages, c.rejected,
                c.reconnects);
        }
        out += ']';
    }
    out += '}';
    return out;
}

std::optional<Response> parse_response(std::string_view line, std::string& error) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (auto err = parser.parse(line.data(), line.size()).get(root)) {
        error = fmt::format("the daemon's answer is not JSON: {}", simdjson::error_message(err));
        return std::nullopt;
    }
    simdjson::dom::object o;
    if (root.get_object().get(o) != simdjson::SUCCESS) {
        error = "the daemon's answer is not a JSON object";
        return std::nullopt;
    }
    Response r;
    if (!get_string(o, "status", r.status, error, true) ||
        !get_string(o, "msg", r.msg, error, false) ||
        !get_string(o, "request_id", r.request_id, error, false) ||
        !get_string(o, "detail", r.detail, error, false))
        return std::nullopt;
    if (!get_string(o, "health", r.health, error, false)) return std::nullopt;
    simdjson::dom::array reasons;
    if (o["reasons"].get_array().get(reasons) == simdjson::SUCCESS)
        for (simdjson::dom::element e : reasons) {
            std::string_view v;
            if (e.get_string().get(v) == simdjson::SUCCESS) r.reasons.emplace_back(v);
        }
    std::int64_t code = 0;
    if (o["code"].get_int64().get(code) == simdjson::SUCCESS) r.code = code;
    simdjson::dom::object d;
    if (o["daemon"].get_object().get(d) == simdjson::SUCCESS) {
        DaemonStatus s;
        const auto count = [&d](const char* key, std::uint64_t& to) {
            std::uint64_t n = 0;
            if (d[key].get_uint64().get(n) == simdjson::SUCCESS) to = n;
        };
        count("messages", s.messages);
        count("readings", s.readings);
        count("duplicates", s.duplicates);
        count("revisions", s.revisions);
        count("rejected", s.rejected);
        count("queued", s.queued);
        count("connectors", s.connectors);
        count("connectors_running", s.connectors_running);
        count("reconnects", s.reconnects);
        bool paused = false;
        if (d["storage_paused"].get_bool().get(paused) == simdjson::SUCCESS)
            s.storage_paused = paused;
        r.daemon = s;
    }
    simdjson::dom::array arr;
    if (o["connectors"].get_array().get(arr) == simdjson::SUCCESS) {
        for (simdjson::dom::element e : arr) {
            simdjson::dom::object c;
            if (e.get_object().get(c) != simdjson::SUCCESS) continue;
            ConnectorStatus s;
            std::string ignored;
            get_string(c, "name", s.name, ignored, false);
            get_string(c, "type", s.type, ignored, false);
            get_string(c, "state", s.state, ignored, false);
            get_string(c, "detail", s.detail, ignored, false);
            std::uint64_t n = 0;
            if (c["messages"].get_uint64().get(n) == simdjson::SUCCESS) s.messages = n;
            if (c["rejected"].get_uint64().get(n) == simdjson::SUCCESS) s.rejected = n;
            if (c["reconnects"].get_uint64().get(n) == simdjson::SUCCESS) s.reconnects = n;
            r.connectors.push_back(std::move(s));
        }
    }
    return r;
}

Response from_result(const DeviceCommandResult& r) {
    Response out;
    out.status = std::string(to_string(r.status));
    if (r.code >= 0) out.code = r.code;
    out.msg = r.msg;
    out.request_id = r.request_id;
    out.detail = r.detail;
    return out;
}

Response error_response(std::string detail) {
    Response out;
    out.status = "error";
    out.detail = std::move(detail);
    return out;
}

}  // namespace mb::control
