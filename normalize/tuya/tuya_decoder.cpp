#include "normalize/tuya/tuya_decoder.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <limits>

#include "normalize/detail_text.h"

namespace mb {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr std::string_view kPrefix = "gateway_id/";
// Bounds what a response echoes back; UUIDs are 36 bytes.
constexpr std::size_t kMaxIdSize = 256;
constexpr std::size_t kMaxGatewaySize = 1024;
constexpr std::int64_t kMsThreshold = 100000000000;  // 1e11: below, seconds

// Unix time in seconds, or ms when >= 1e11 (year 5138 in seconds) → ms; nullopt
// when not positive or after 9999.
std::optional<TimeMs> unix_to_ms(std::int64_t v) {
    if (v <= 0) return std::nullopt;
    const std::int64_t ms = v < kMsThreshold ? v * 1000 : v;
    if (ms > tuya_max_time_ms) return std::nullopt;
    return ms;
}

// Reads the fields of one message, recording the first problem.
class Reader {
  public:
    TuyaError error;
    bool failed = false;

    bool fail(TuyaCode code, std::string detail) {
        if (!failed) {
            error.code = code;
            error.detail = std::move(detail);
            failed = true;
        }
        return false;
    }

    // The object at the top of `payload`.
    bool parse(simdjson::dom::parser& parser, std::string_view payload, object& out) {
        if (payload.empty()) {
            error.malformed = true;
            return fail(TuyaCode::params_empty, "empty message");
        }
        element root;
        if (auto e = parser.parse(payload.data(), payload.size()).get(root)) {
            error.malformed = true;
            return fail(TuyaCode::params_type_incorrect,
                        json_malformed_detail(payload, fmt::format("not valid JSON: {}",
                                                                   simdjson::error_message(e))));
        }
        if (root.type() != element_type::OBJECT)
            return fail(
                TuyaCode::params_type_incorrect,
                fmt::format("message must be a JSON object, not {}", json_type_name(root.type())));
        out = root.get_object().value_unsafe();
        return true;
    }

    // The field `key` of `o`: false (1100) when absent, (1102) when null.
    bool field(object o, std::string_view key, std::string_view path, element& out) {
        if (o.at_key(key).get(out))
            return fail(TuyaCode::params_empty, fmt::format("{} is missing", path));
        if (out.type() == element_type::NULL_VALUE)
            return fail(TuyaCode::params_null, fmt::format("{} is null", path));
        return true;
    }

    bool wrong(std::string_view path, std::string_view expected, element v) {
        return fail(TuyaCode::params_type_incorrect,
                    fmt::format("{} must be {}, not {}", path, expected, json_type_name(v.type())));
    }

    // A required string: non-empty (1100) when `required_non_empty`, at most
    // `max` bytes (1101).
    bool string(object o, std::string_view key, std::string_view path, std::string& out,
                bool non_empty = true, std::size_t max = kMaxIdSize) {
        element v;
        if (!field(o, key, path, v)) return false;
        std::string_view s;
        if (v.get_string().get(s)) return wrong(path, "a string", v);
        if (non_empty && s.empty())
            return fail(TuyaCode::params_empty, fmt::format("{} is empty", path));
        if (s.size() > max)
            return fail(TuyaCode::params_range_invalid,
                        fmt::format("{} is longer than {} bytes", path, max));
        out.assign(s);
        return true;
    }

    // An optional string: absent → nullopt; null → 1102; not a string → 1103.
    bool optional_string(object o, std::string_view key, std::string_view path,
                         std::optional<std::string>& out) {
        element v;
        if (o.at_key(key).get(v)) return true;
        if (v.type() == element_type::NULL_VALUE)
            return fail(TuyaCode::params_null, fmt::format("{} is null", path));
        std::string_view s;
        if (v.get_string().get(s)) return wrong(path, "a string", v);
        if (s.size() > kMaxGatewaySize)
            return fail(TuyaCode::params_range_invalid,
                        fmt::format("{} is longer than {} bytes", path, kMaxGatewaySize));
        out.emplace(s);
        return true;
    }

    bool integer(element v, std::string_view path, std::int64_t& out, bool& too_large) {
        too_large = false;
        switch (v.type()) {
            case element_type::INT64:
                out = v.get_int64().value_unsafe();
                return true;
            case element_type::UINT64:
                too_large = true;
                return true;
            default:
                return wrong(path, "an integer", v);
        }
    }

    bool time(object o, TimeMs& out) {
        element v;
        if (!field(o, "t", "t", v)) return false;
        std::int64_t raw = 0;
        bool too_large = false;
        if (!integer(v, "t", raw, too_large)) return false;
        const auto ms = too_large ? std::nullopt : unix_to_ms(raw);
        if (!ms)
            return fail(TuyaCode::request_time_invalid,
                        fmt::format("t {} is not a Unix time between 1970 and 9999",
                                    printable(simdjson::minify(v))));
        out = *ms;
        return true;
    }

    bool param(object o, object& out) {
        element v;
        if (!field(o, "param", "param", v)) return false;
        if (v.get_object().get(out)) return wrong("param", "an object", v);
        return true;
    }

    // Best effort, before validation: what an error response needs.
    void peek_ids(object o, bool cid_in_param) {
        std::string_view s;
        if (!o["request_id"].get_string().get(s) && !s.empty() && s.size() <= kMaxIdSize)
            error.request_id.assign(s);
        element c;
        const auto found =
            cid_in_param ? o.at_pointer("/param/cid").get(c) : o.at_key("cid").get(c);
        if (!found && !c.get_string().get(s) && !s.empty() && s.size() <= kMaxIdSize)
            error.cid.assign(s);
    }

    // A DP value checked against the table.
    bool dp_value(const TuyaDp& dp, element v, TuyaDpValue& out) {
        constexpr std::string_view p = "param.value";
        out.type = dp.type;
        switch (dp.type) {
            case TuyaDpType::value: {
                std::int64_t x = 0;
                bool too_large = false;
                if (!integer(v, p, x, too_large)) return false;
                if (too_large || x < dp.min || x > dp.max)
                    return fail(TuyaCode::params_range_invalid,
                                fmt::format("{} {} of DP {} {} is outside {}..{}", p,
                                            printable(simdjson::minify(v)), dp.id, dp.code, dp.min,
                                            dp.max));
                out.integer = x;
                return true;
            }
            case TuyaDpType::boolean: {
                bool b = false;
                if (v.get_bool().get(b)) return wrong(p, "a boolean", v);
                out.boolean = b;
                return true;
            }
            case TuyaDpType::enumeration: {
                std::string_view s;
                if (v.get_string().get(s)) return wrong(p, "a string", v);
                if (std::find(dp.enum_values.begin(), dp.enum_values.end(), s) ==
                    dp.enum_values.end())
                    return fail(TuyaCode::params_range_invalid,
                                fmt::format("{} '{}' is not a value of DP {} {}", p, printable(s),
                                            dp.id, dp.code));
                out.text.assign(s);
                return true;
            }
            case TuyaDpType::timestamp: {
                std::string_view s;
                if (v.get_string().get(s)) return wrong(p, "a string", v);
                const bool digits = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
                    return c >= '0' && c <= '9';
                });
                if (!digits)
                    return fail(TuyaCode::params_type_incorrect,
                                fmt::format("{} '{}' of DP {} {} is not a Unix timestamp", p,
                                            printable(s), dp.id, dp.code));
                const auto raw = tuya_parse_digits(s);
                const auto ms = raw ? unix_to_ms(*raw) : std::nullopt;
                if (!ms)
                    return fail(TuyaCode::params_range_invalid,
                                fmt::format("{} '{}' of DP {} {} is not between 1970 and 9999", p,
                                            printable(s), dp.id, dp.code));
                out.integer = *ms;
                return true;
            }
        }
        return false;
    }
};

template <class V>
TuyaResult<V> failed(Reader& in) {
    TuyaResult<V> r;
    r.error = std::move(in.error);
    return r;
}

}  // namespace

std::string_view tuya_message(int code) {
    switch (code) {
        case 0:
            return "success";
        case 400:
            return "tedge error: uplink specific error message";
        case 500:
            return "system error, please contact the admin";
        case 1001:
            return "request time is invalid";
        case 1100:
            return "params is empty";
        case 1101:
            return "params range invalid";
        case 1102:
            return "params is null";
        case 1103:
            return "params type is incorrect";
        case 2001:
            return "device is offline";
        case 2002:
            return "command or value not support";
        case 2003:
            return "device not exist";
        default:
            return "";
    }
}

TuyaError tuya_error(TuyaCode code, std::string detail, std::string request_id, std::string cid) {
    return TuyaError{code, std::move(detail), std::move(request_id), std::move(cid), false};
}

Reject tuya_reject(const TuyaError& e) {
    RejectCode rc = RejectCode::upstream_error;
    switch (e.code) {
        case TuyaCode::params_empty:
            rc = RejectCode::missing_field;
            break;
        case TuyaCode::params_range_invalid:
        case TuyaCode::request_time_invalid:
            rc = RejectCode::out_of_range;
            break;
        case TuyaCode::params_null:
        case TuyaCode::params_type_incorrect:
            rc = RejectCode::wrong_type;
            break;
        case TuyaCode::not_supported:
            rc = RejectCode::invalid_value;
            break;
        case TuyaCode::device_not_exist:
            rc = RejectCode::unknown_device;
            break;
        default:
            break;
    }
    if (e.malformed) rc = RejectCode::malformed;
    return Reject{rc, fmt::format("{} {}: {}", static_cast<int>(e.code), e.msg(), e.detail)};
}

// --- topics ------------------------------------------------------------------

std::string tuya_gateway_problem(std::string_view gateway) {
    if (gateway.empty()) return "gateway id is empty";
    if (gateway.size() > kMaxGatewaySize)
        return fmt::format("gateway id is longer than {} bytes", kMaxGatewaySize);
    for (const char c : gateway)
        if (c == '/' || c == '+' || c == '#' || c == '\0')
            return "gateway id contains '/', '+', '#' or NUL";
    return {};
}

std::string_view tuya_kind_name(TuyaUplink kind) {
    switch (kind) {
        case TuyaUplink::devices_sync:
            return "devices/sync";
        case TuyaUplink::properties_report:
            return "properties/report";
        case TuyaUplink::devices_status:
            return "devices/status";
        case TuyaUplink::commands_response:
            return "commands/response";
    }
    return "";
}

namespace {
std::string_view downlink_name(TuyaDownlink kind) {
    switch (kind) {
        case TuyaDownlink::devices_sync_response:
            return "devices/sync/response";
        case TuyaDownlink::properties_report_response:
            return "properties/report/response";
        case TuyaDownlink::commands:
            return "commands";
    }
    return "";
}
}  // namespace

std::string tuya_topic(std::string_view gateway, TuyaUplink kind) {
    if (!tuya_gateway_problem(gateway).empty()) return {};
    return fmt::format("{}{}/{}", kPrefix, gateway, tuya_kind_name(kind));
}

std::string tuya_topic(std::string_view gateway, TuyaDownlink kind) {
    if (!tuya_gateway_problem(gateway).empty()) return {};
    return fmt::format("{}{}/{}", kPrefix, gateway, downlink_name(kind));
}

TuyaTopicResult tuya_parse_topic(std::string_view topic, std::span<const std::string> gateways) {
    TuyaTopicResult r;
    const auto bad = [&](std::string detail) {
        r.reject = Reject{RejectCode::bad_topic, std::move(detail)};
        return r;
    };
    if (!topic.starts_with(kPrefix))
        return bad(fmt::format("topic '{}' does not start with '{}'", printable(topic), kPrefix));
    const std::string_view rest = topic.substr(kPrefix.size());
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos)
        return bad(fmt::format("topic '{}' has no kind after the gateway id", printable(topic)));
    const std::string_view gw = rest.substr(0, slash);
    const std::string_view kind = rest.substr(slash + 1);
    if (gw.empty()) return bad(fmt::format("topic '{}' has an empty gateway id", printable(topic)));
    std::optional<TuyaUplink> k;
    for (const auto c : {TuyaUplink::devices_sync, TuyaUplink::properties_report,
                         TuyaUplink::devices_status, TuyaUplink::commands_response})
        if (kind == tuya_kind_name(c)) k = c;
    if (!k) {
        for (const auto c : {TuyaDownlink::devices_sync_response,
                             TuyaDownlink::properties_report_response, TuyaDownlink::commands})
            if (kind == downlink_name(c))
                return bad(fmt::format("topic '{}' is a downlink (platform → device) topic",
                                       printable(topic)));
        return bad(fmt::format("topic '{}' is not a Tuya uplink topic", printable(topic)));
    }
    if (std::find(gateways.begin(), gateways.end(), gw) == gateways.end())
        return bad(fmt::format("gateway '{}' is not configured", printable(gw)));
    r.topic = TuyaTopic{std::string(gw), *k};
    return r;
}

// --- uplinks ---------------------------------------------------------------------

TuyaResult<TuyaDeviceSync> TuyaParser::device_sync(std::string_view payload) {
    Reader in;
    object o;
    if (!in.parse(parser_, payload, o)) return failed<TuyaDeviceSync>(in);
    in.peek_ids(o, true);
    TuyaDeviceSync m;
    object p;
    const bool ok =
        in.time(o, m.t) && in.string(o, "request_id", "request_id", m.request_id) &&
        in.param(o, p) && in.string(p, "cid", "param.cid", m.cid) &&
        in.string(p, "product_id", "param.product_id", m.product_id) &&
        in.optional_string(p, "vendor_code", "param.vendor_code", m.vendor_code) &&
        in.optional_string(p, "comm_type", "param.comm_type", m.comm_type) &&
        in.optional_string(p, "device_ip", "param.device_ip", m.device_ip) &&
        in.optional_string(p, "mac_address", "param.mac_address", m.mac_address) &&
        in.optional_string(p, "device_name", "param.device_name", m.device_name) &&
        in.optional_string(p, "device_desc", "param.device_desc", m.device_desc) &&
        in.optional_string(p, "install_location", "param.install_location", m.install_location) &&
        in.optional_string(p, "device_server_id", "param.device_server_id", m.device_server_id) &&
        in.optional_string(p, "product_sub_type", "param.product_sub_type", m.product_sub_type);
    if (!ok) return failed<TuyaDeviceSync>(in);
    TuyaResult<TuyaDeviceSync> r;
    r.value = std::move(m);
    return r;
}

TuyaResult<TuyaPropertyReport> TuyaParser::property_report(std::string_view payload) {
    Reader in;
    object o;
    if (!in.parse(parser_, payload, o)) return failed<TuyaPropertyReport>(in);
    in.peek_ids(o, true);
    TuyaPropertyReport m;
    object p;
    std::string id;
    if (!(in.time(o, m.t) && in.string(o, "request_id", "request_id", m.request_id) &&
          in.param(o, p) && in.string(p, "cid", "param.cid", m.cid) &&
          in.string(p, "id", "param.id", id)))
        return failed<TuyaPropertyReport>(in);
    const auto n = tuya_parse_digits(id);
    const TuyaDp* dp = n && *n <= 1000 ? tuya_find_dp(static_cast<int>(*n)) : nullptr;
    if (!dp) {
        in.fail(TuyaCode::not_supported,
                fmt::format("param.id '{}' is not a DP of the water meter (1..18)", printable(id)));
        return failed<TuyaPropertyReport>(in);
    }
    m.dp = dp->id;
    element v;
    if (!in.field(p, "value", "param.value", v) || !in.dp_value(*dp, v, m.value))
        return failed<TuyaPropertyReport>(in);
    TuyaResult<TuyaPropertyReport> r;
    r.value = std::move(m);
    return r;
}

TuyaResult<TuyaDevicesStatus> TuyaParser::devices_status(std::string_view payload) {
    Reader in;
    object o;
    if (!in.parse(parser_, payload, o)) return failed<TuyaDevicesStatus>(in);
    in.peek_ids(o, false);
    in.error.cid.clear();  // the message is about many devices
    TuyaDevicesStatus m;
    element pv;
    if (!(in.time(o, m.t) && in.string(o, "request_id", "request_id", m.request_id) &&
          in.field(o, "param", "param", pv)))
        return failed<TuyaDevicesStatus>(in);
    simdjson::dom::array arr;
    if (pv.get_array().get(arr)) {
        in.wrong("param", "an array", pv);
        return failed<TuyaDevicesStatus>(in);
    }
    if (arr.size() == 0) {
        in.fail(TuyaCode::params_empty, "param is an empty array");
        return failed<TuyaDevicesStatus>(in);
    }
    std::size_t i = 0;
    for (element el : arr) {
        const std::string path = fmt::format("param[{}]", i++);
        object e;
        if (el.get_object().get(e)) {
            in.wrong(path, "an object", el);
            return failed<TuyaDevicesStatus>(in);
        }
        TuyaDeviceStatus d;
        element s;
        if (!in.string(e, "cid", path + ".cid", d.cid) ||
            !in.field(e, "status", path + ".status", s))
            return failed<TuyaDevicesStatus>(in);
        if (s.get_bool().get(d.online)) {
            in.wrong(path + ".status", "a boolean", s);
            return failed<TuyaDevicesStatus>(in);
        }
        m.devices.push_back(std::move(d));
    }
    TuyaResult<TuyaDevicesStatus> r;
    r.value = std::move(m);
    return r;
}

TuyaResult<TuyaCommandResponse> TuyaParser::command_response(std::string_view payload) {
    Reader in;
    object o;
    if (!in.parse(parser_, payload, o)) return failed<TuyaCommandResponse>(in);
    in.peek_ids(o, false);
    TuyaCommandResponse m;
    object p;
    element c;
    if (!(in.time(o, m.t) && in.string(o, "cid", "cid", m.cid) &&
          in.string(o, "request_id", "request_id", m.request_id) && in.param(o, p) &&
          in.string(p, "msg", "param.msg", m.msg, false, kMaxGatewaySize) &&
          in.field(p, "code", "param.code", c)))
        return failed<TuyaCommandResponse>(in);
    std::int64_t code = 0;
    bool too_large = false;
    if (!in.integer(c, "param.code", code, too_large)) return failed<TuyaCommandResponse>(in);
    if (too_large || code < std::numeric_limits<int>::min() ||
        code > std::numeric_limits<int>::max()) {
        in.fail(TuyaCode::params_range_invalid, "param.code does not fit in 32 bits");
        return failed<TuyaCommandResponse>(in);
    }
    m.code = static_cast<int>(code);
    TuyaResult<TuyaCommandResponse> r;
    r.value = std::move(m);
    return r;
}

// --- downlinks ----------------------------------------------------------------------

std::string tuya_response(std::int64_t t_s, std::string_view request_id, std::string_view cid,
                          TuyaCode code) {
    std::string out = fmt::format("{{\"t\":{},\"request_id\":", t_s);
    append_json_string(out, request_id);
    out += ",\"param\":{\"cid\":";
    append_json_string(out, cid);
    out += ",\"msg\":";
    append_json_string(out, tuya_message(static_cast<int>(code)));
    out += fmt::format(",\"code\":{}}}}}", static_cast<int>(code));
    return out;
}

std::string tuya_success(std::int64_t t_s, std::string_view request_id, std::string_view cid) {
    return tuya_response(t_s, request_id, cid, TuyaCode::success);
}

std::string tuya_error_response(std::int64_t t_s, const TuyaError& e) {
    return tuya_response(t_s, e.request_id, e.cid, e.code);
}

TuyaResult<TuyaDpValue> tuya_command_value(std::string_view dp_name, std::string_view text) {
    TuyaResult<TuyaDpValue> r;
    const auto err = [&](TuyaCode c, std::string d) {
        r.error = tuya_error(c, std::move(d));
        return r;
    };
    const TuyaDp* dp = tuya_find_dp(dp_name);
    if (!dp)
        return err(TuyaCode::not_supported, fmt::format("unknown DP '{}'", printable(dp_name)));
    if (!dp->writable)
        return err(TuyaCode::not_supported, fmt::format("DP {} {} is read-only", dp->id, dp->code));
    TuyaDpValue v;
    v.type = dp->type;
    switch (dp->type) {
        case TuyaDpType::boolean:
            if (text != "true" && text != "false")
                return err(
                    TuyaCode::params_type_incorrect,
                    fmt::format("{} takes true or false, not '{}'", dp->code, printable(text)));
            v.boolean = text == "true";
            break;
        case TuyaDpType::enumeration:
            if (std::find(dp->enum_values.begin(), dp->enum_values.end(), text) ==
                dp->enum_values.end())
                return err(TuyaCode::params_range_invalid,
                           fmt::format("{} takes one of {}, not '{}'", dp->code,
                                       fmt::join(dp->enum_values, ", "), printable(text)));
            v.text.assign(text);
            break;
        case TuyaDpType::value: {
            const bool negative = !text.empty() && text.front() == '-';
            const std::string_view digits = negative ? text.substr(1) : text;
            const bool all_digits =
                !digits.empty() && std::all_of(digits.begin(), digits.end(),
                                               [](char c) { return c >= '0' && c <= '9'; });
            if (!all_digits)
                return err(TuyaCode::params_type_incorrect,
                           fmt::format("{} takes an integer, not '{}'", dp->code, printable(text)));
            const auto n = tuya_parse_digits(digits);
            if (negative || !n || *n < dp->min || *n > dp->max)
                return err(TuyaCode::params_range_invalid,
                           fmt::format("{} {} is outside {}..{}", dp->code, printable(text),
                                       dp->min, dp->max));
            v.integer = *n;
            break;
        }
        case TuyaDpType::timestamp:
            return err(TuyaCode::not_supported,
                       fmt::format("DP {} {} is read-only", dp->id, dp->code));
    }
    r.value = std::move(v);
    return r;
}

std::string tuya_command(std::int64_t t_s, std::string_view cid, std::string_view request_id,
                         int dp, const TuyaDpValue& value) {
    std::string out = fmt::format("{{\"t\":{},\"cid\":", t_s);
    append_json_string(out, cid);
    out += ",\"request_id\":";
    append_json_string(out, request_id);
    out += fmt::format(",\"param\":{{\"id\":\"{}\",\"value\":", dp);
    switch (value.type) {
        case TuyaDpType::boolean:
            out += value.boolean ? "true" : "false";
            break;
        case TuyaDpType::enumeration:
            append_json_string(out, value.text);
            break;
        default:
            out += fmt::format("{}", value.integer);
    }
    out += "}}";
    return out;
}

// --- misc ------------------------------------------------------------------------------

std::string tuya_gateway_password(std::string_view client_id, std::string_view username) {
    const std::string input = std::string(client_id) + std::string(username);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(input.data(), input.size(), md, &len, EVP_md5(), nullptr) != 1) return {};
    std::string out;
    for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", md[i]);
    return out;
}

bool tuya_is_stale(TimeMs last_seen_ms, TimeMs now_ms, TimeMs period_ms) {
    if (now_ms <= last_seen_ms) return false;
    // The difference in unsigned arithmetic: exact for any now > last, no overflow.
    const auto age = static_cast<std::uint64_t>(now_ms) - static_cast<std::uint64_t>(last_seen_ms);
    return age > static_cast<std::uint64_t>(std::max<TimeMs>(period_ms, 0));
}

}  // namespace mb
