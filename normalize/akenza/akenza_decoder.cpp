#include "normalize/akenza/akenza_decoder.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "normalize/akenza/csv.h"
#include "normalize/detail_text.h"
#include "normalize/number.h"
#include "normalize/quantity.h"
#include "normalize/time_format.h"
#include "normalize/topic.h"

namespace mb {

namespace {

using simdjson::ondemand::json_type;
using Slot = AkenzaDecoder::Slot;
using Plan = AkenzaDecoder::Plan;

// 9999-12-31T23:59:59.999Z: anything later is a broken clock or a unit mix-up.
constexpr TimeMs kMaxTimeMs = 253402300799999;
// Far beyond any device payload; keeps the recursive walk's stack bounded.
constexpr std::size_t kMaxDepth = 128;
constexpr std::size_t kMaxShown = 80;
// Integers up to 2^53 are exact in a double.
constexpr double kMaxExactInteger = 9007199254740992.0;

// Values echoed in details are shortened and kept on one line: a pasted blob
// must not flood the table.
std::string shorten(std::string_view s) {
    return printable(s, kMaxShown);
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

void replace_all(std::string& s, std::string_view what, std::string_view with) {
    if (what.empty()) return;
    std::size_t pos = 0;
    while ((pos = s.find(what, pos)) != std::string::npos) {
        s.replace(pos, what.size(), with);
        pos += with.size();
    }
}

// One level of a topic we publish to or accept: MQTT forbids wildcards and NUL
// in published topics.
bool is_plain_level(std::string_view level) {
    return !level.empty() && level.find_first_of(std::string_view("/+#\0", 4)) == level.npos;
}

std::vector<std::string> pointer_tokens(std::string_view pointer) {
    std::vector<std::string> tokens;
    if (pointer.empty()) return tokens;
    for (std::string_view raw : split_at(pointer.substr(1), '/')) {
        std::string t(raw);
        replace_all(t, "~1", "/");  // RFC 6901 §4: ~1 first, then ~0
        replace_all(t, "~0", "~");
        tokens.push_back(std::move(t));
    }
    return tokens;
}

std::string show_pointer(std::string_view pointer) {
    if (pointer.empty()) return "the whole payload (pointer \"\")";
    return shorten(pointer);
}

// `literal` has passed is_json_number or is_decimal.
void set_number(Slot& slot, std::string_view literal) {
    slot.type = Slot::Type::number;
    slot.text.assign(literal);
    std::string_view lit = literal;
    if (lit.front() == '+') lit.remove_prefix(1);
    const char* end = lit.data() + lit.size();
    double d = 0;
    const auto [p, ec] = std::from_chars(lit.data(), end, d);
    slot.representable = ec == std::errc{} && p == end && std::isfinite(d);
    slot.number = slot.representable ? d : 0;
    slot.integral = false;
    if (lit.find_first_of(".eE") == lit.npos) {
        std::int64_t i = 0;
        const auto [ip, iec] = std::from_chars(lit.data(), end, i);
        if (iec == std::errc{} && ip == end) {
            slot.integral = true;
            slot.integer = i;
        }
    } else if (slot.representable && std::trunc(d) == d && std::fabs(d) <= kMaxExactInteger) {
        slot.integral = true;  // 1.6e12 is an integer too
        slot.integer = static_cast<std::int64_t>(d);
    }
}

// A text value (text/plain payload, CSV cell): empty is absent, a number is a
// number, anything else is a string. Text payloads and CSV cells are written by
// hand or by small firmware: a leading '+', "5." and ".5" are numbers there.
void set_text(Slot& slot, std::string_view raw) {
    const std::string_view v = trim_blanks(raw);
    if (v.empty()) {
        slot = Slot{};
        return;
    }
    if (is_decimal(v)) {
        set_number(slot, v);
        return;
    }
    slot.type = Slot::Type::string;
    slot.text.assign(v);
}

std::string_view type_name(Slot::Type t) {
    switch (t) {
        case Slot::Type::absent:
            return "nothing";
        case Slot::Type::null:
            return "null";
        case Slot::Type::number:
            return "a number";
        case Slot::Type::string:
            return "a string";
        case Slot::Type::boolean:
            return "a boolean";
        case Slot::Type::object:
            return "an object";
        case Slot::Type::array:
            return "an array";
    }
    return "something else";
}

std::string_view format_name(AkenzaTimeFormat f) {
    switch (f) {
        case AkenzaTimeFormat::iso8601:
            return "iso8601";
        case AkenzaTimeFormat::unix_s:
            return "unix_s";
        case AkenzaTimeFormat::unix_ms:
            return "unix_ms";
    }
    return "?";
}

// Time depends only on the length of `given` (which its sender knows), never
// on where it differs from the secret.
bool constant_time_equal(std::string_view given, std::string_view secret) {
    if (secret.empty()) return false;
    unsigned diff = given.size() == secret.size() ? 0U : 1U;
    for (std::size_t i = 0; i < given.size(); ++i)
        diff |= static_cast<unsigned>(static_cast<unsigned char>(given[i]) ^
                                      static_cast<unsigned char>(secret[i % secret.size()]));
    return diff == 0;
}

struct Uplink {
    bool device = false;
    std::string_view secret;
    std::string_view device_id;
    std::string data_topic;
};

constexpr std::string_view kTopicShape = "expected /up/<secret>/id/<deviceId>[/<sub-topic>...]";

// Parses an uplink topic; returns a bad_topic detail or "". Details never
// echo the secret level.
std::string parse_uplink(std::string_view topic, Uplink& out) {
    if (!topic.starts_with("/up/"))
        return fmt::format("not an akenza uplink topic ({}; note the leading '/')", kTopicShape);
    const auto levels = topic_levels(topic);  // "", "up", secret, "id", deviceId, sub...
    if (levels.size() < 5) return fmt::format("too few levels ({})", kTopicShape);
    for (std::string_view level : levels)
        if (level.find_first_of(std::string_view("+#\0", 3)) != level.npos)
            return "a published topic cannot contain '+', '#' or NUL";
    if (levels[2].empty()) return fmt::format("empty secret level ({})", kTopicShape);
    if (levels[3] != "id")
        return fmt::format("the level after the secret must be 'id' ({})", kTopicShape);
    if (levels[4].empty()) return fmt::format("empty device id ({})", kTopicShape);
    out.device = levels[2] == akenza_device_level;
    out.secret = levels[2];
    out.device_id = levels[4];
    out.data_topic.clear();
    for (std::size_t i = 5; i < levels.size(); ++i) {
        if (levels[i].empty()) return fmt::format("empty sub-topic level {}", i - 4);
        if (!out.data_topic.empty()) out.data_topic += '_';
        out.data_topic += levels[i];
    }
    if (out.data_topic.empty()) out.data_topic = akenza_default_data_topic;
    return {};
}

enum class Content : std::uint8_t { json, text, csv, xml, octet, unknown };

// MIME types are case-insensitive and may carry parameters
// ("application/json; charset=utf-8"). Only UTF-8 text is decoded.
Content classify(std::string_view content_type, std::string& charset_problem) {
    if (trim_blanks(content_type).empty())
        return Content::json;  // MQTT 3.1.1, or v5 without the property
    const auto parts = split_at(content_type, ';');
    const std::string essence = lower(trim_blanks(parts[0]));
    for (std::size_t i = 1; i < parts.size(); ++i) {
        const std::string_view param = trim_blanks(parts[i]);
        const std::size_t eq = param.find('=');
        if (eq == param.npos || lower(trim_blanks(param.substr(0, eq))) != "charset") continue;
        std::string_view v = trim_blanks(param.substr(eq + 1));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        const std::string cs = lower(v);
        if (cs != "utf-8" && cs != "utf8" && cs != "us-ascii")
            charset_problem = fmt::format("charset '{}' is not decoded (only UTF-8)", shorten(v));
    }
    if (essence == "application/json") return Content::json;
    if (essence == "text/plain") return Content::text;
    if (essence == "text/csv") return Content::csv;
    if (essence == "application/xml") return Content::xml;
    if (essence == "application/octet-stream") return Content::octet;
    return Content::unknown;
}

constexpr std::string_view kSupportedTypes = "application/json, text/plain, text/csv";

// Walks a whole JSON document with simdjson on-demand: validates every value
// (on-demand alone would skip over unread ones) and captures the values the
// plan's pointers name, in one pass however many pointers there are.
class JsonWalker {
  public:
    JsonWalker(const Plan& plan, std::vector<Slot>& slots,
               std::vector<std::vector<std::size_t>>& scratch)
        : plan_(plan), slots_(slots), scratch_(scratch) {}

    bool document(simdjson::ondemand::document& doc, const char* base, std::size_t size) {
        if (scratch_.size() < kMaxDepth + 2) scratch_.resize(kMaxDepth + 2);
        candidates(0).clear();
        for (std::size_t p = 0; p < plan_.tokens.size(); ++p) candidates(0).push_back(p);
        json_type t;
        if (doc.type().get(t)) return fail(RejectCode::malformed, "not valid JSON");
        if (t == json_type::object || t == json_type::array) {
            bool ok = false;
            if (t == json_type::object) {
                simdjson::ondemand::object obj;
                if (doc.get_object().get(obj)) return fail(RejectCode::malformed, "not valid JSON");
                ok = object(obj, 0);
            } else {
                simdjson::ondemand::array arr;
                if (doc.get_array().get(arr)) return fail(RejectCode::malformed, "not valid JSON");
                ok = array(arr, 0);
            }
            if (!ok) return false;
            // current_location() fails only once the whole input was consumed.
            const char* rest = nullptr;
            if (!doc.current_location().get(rest))
                return fail(RejectCode::malformed, "not valid JSON: trailing content");
            return true;
        }
        std::string_view raw;
        if (doc.raw_json_token().get(raw)) return fail(RejectCode::malformed, "not valid JSON");
        // A scalar document is one token: nothing but blanks may follow it.
        const auto token_end = static_cast<std::size_t>(raw.data() - base) + raw.size();
        const std::string_view rest =
            token_end < size ? std::string_view(base + token_end, size - token_end) : "";
        if (!trim_blanks(rest).empty())
            return fail(RejectCode::malformed, "not valid JSON: trailing content");
        if (t == json_type::string) {
            std::string_view s;
            if (doc.get_string().get(s)) return fail(RejectCode::malformed, "not valid JSON");
            return string(s, 0);
        }
        return scalar(t, trim_blanks(raw), 0);
    }

    RejectCode code = RejectCode::malformed;
    std::string detail;

  private:
    bool fail(RejectCode c, std::string d) {
        code = c;
        detail = std::move(d);
        return false;
    }

    // Sized once for the deepest walk: no resize (and no dangling reference) later.
    std::vector<std::size_t>& candidates(std::size_t depth) { return scratch_[depth]; }

    // The slots whose pointer ends at this node (candidates at `depth` match
    // every token before it).
    template <typename Fill>
    bool capture(std::size_t depth, Fill&& fill) {
        for (std::size_t p : candidates(depth)) {
            if (plan_.tokens[p].size() != depth) continue;
            Slot& slot = slots_[p];
            if (slot.type != Slot::Type::absent)
                return fail(RejectCode::invalid_value,
                            fmt::format("{} appears more than once in the payload (duplicate key)",
                                        show_pointer(plan_.pointers[p])));
            fill(slot);
        }
        return true;
    }

    void narrow(std::size_t depth, std::string_view token) {
        auto& next = candidates(depth + 1);
        next.clear();
        for (std::size_t p : candidates(depth)) {
            const auto& tokens = plan_.tokens[p];
            if (tokens.size() > depth && tokens[depth] == token) next.push_back(p);
        }
    }

    bool value(simdjson::ondemand::value v, std::size_t depth) {
        json_type t;
        if (v.type().get(t)) return fail(RejectCode::malformed, "not valid JSON");
        switch (t) {
            case json_type::object: {
                simdjson::ondemand::object obj;
                if (v.get_object().get(obj)) return fail(RejectCode::malformed, "not valid JSON");
                return object(obj, depth);
            }
            case json_type::array: {
                simdjson::ondemand::array arr;
                if (v.get_array().get(arr)) return fail(RejectCode::malformed, "not valid JSON");
                return array(arr, depth);
            }
            case json_type::string: {
                std::string_view s;
                if (v.get_string().get(s)) return fail(RejectCode::malformed, "not valid JSON");
                return string(s, depth);
            }
            default:
                return scalar(t, trim_blanks(v.raw_json_token()), depth);
        }
    }

    bool object(simdjson::ondemand::object obj, std::size_t depth) {
        if (depth >= kMaxDepth)
            return fail(RejectCode::out_of_range,
                        fmt::format("JSON nested deeper than {} levels", kMaxDepth));
        if (!capture(depth, [](Slot& s) { s.type = Slot::Type::object; })) return false;
        for (auto maybe_field : obj) {
            simdjson::ondemand::field field;
            std::string_view key;
            if (std::move(maybe_field).get(field) || field.unescaped_key().get(key))
                return fail(RejectCode::malformed, "not valid JSON");
            narrow(depth, key);
            if (!value(field.value(), depth + 1)) return false;
        }
        return true;
    }

    bool array(simdjson::ondemand::array arr, std::size_t depth) {
        if (depth >= kMaxDepth)
            return fail(RejectCode::out_of_range,
                        fmt::format("JSON nested deeper than {} levels", kMaxDepth));
        if (!capture(depth, [](Slot& s) { s.type = Slot::Type::array; })) return false;
        std::size_t index = 0;
        std::array<char, 24> buf{};
        for (auto maybe_element : arr) {
            simdjson::ondemand::value element;
            if (std::move(maybe_element).get(element))
                return fail(RejectCode::malformed, "not valid JSON");
            const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), index);
            (void)ec;  // 24 chars hold any size_t
            narrow(depth, std::string_view(buf.data(), static_cast<std::size_t>(end - buf.data())));
            if (!value(element, depth + 1)) return false;
            ++index;
        }
        return true;
    }

    bool string(std::string_view s, std::size_t depth) {
        return capture(depth, [&](Slot& slot) {
            slot.type = Slot::Type::string;
            slot.text.assign(s);
        });
    }

    // Numbers, booleans and null, validated from their raw token (on-demand
    // checks nothing it is not asked to convert).
    bool scalar(json_type t, std::string_view raw, std::size_t depth) {
        switch (t) {
            case json_type::number:
                if (!is_json_number(raw))
                    return fail(RejectCode::malformed, "not valid JSON: bad number");
                return capture(depth, [&](Slot& s) { set_number(s, raw); });
            case json_type::boolean:
                if (raw != "true" && raw != "false")
                    return fail(RejectCode::malformed, "not valid JSON");
                return capture(depth, [&](Slot& s) {
                    s.type = Slot::Type::boolean;
                    s.boolean = raw == "true";
                });
            case json_type::null:
                if (raw != "null") return fail(RejectCode::malformed, "not valid JSON");
                return capture(depth, [](Slot& s) { s.type = Slot::Type::null; });
            default:
                return fail(RejectCode::malformed, "not valid JSON");
        }
    }

    const Plan& plan_;
    std::vector<Slot>& slots_;
    std::vector<std::vector<std::size_t>>& scratch_;
};

// A CSV column named by a pointer of one token: a header name, or a
// zero-based index ("/0") when the payload has no header line.
std::optional<std::size_t> csv_column(const std::vector<std::string>& tokens,
                                      const std::vector<std::string>* header) {
    if (tokens.size() != 1) return std::nullopt;
    const std::string& t = tokens[0];
    if (header != nullptr) {
        for (std::size_t c = 0; c < header->size(); ++c)
            if (trim_blanks((*header)[c]) == t) return c;
        return std::nullopt;
    }
    if (t.empty() || (t.size() > 1 && t[0] == '0')) return std::nullopt;  // RFC 6901 indexes
    std::size_t index = 0;
    const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), index);
    if (ec != std::errc{} || p != t.data() + t.size()) return std::nullopt;
    return index;
}

}  // namespace

std::string akenza_pointer_problem(std::string_view pointer) {
    if (pointer.empty()) return {};
    if (pointer.front() != '/')
        return "a JSON pointer is \"\" or starts with '/' (e.g. \"/temperature\", "
               "\"/data/0/value\")";
    for (std::size_t i = 0; i < pointer.size(); ++i) {
        if (pointer[i] != '~') continue;
        if (i + 1 >= pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1'))
            return "'~' must be followed by '0' (for '~') or '1' (for '/') in a JSON pointer";
    }
    if (!simdjson::validate_utf8(pointer)) return "a JSON pointer must be valid UTF-8";
    return {};
}

std::string akenza_mapping_problem(const AkenzaMapping& m) {
    if (m.data_topic.empty()) return "data_topic must not be empty";
    if (m.data_topic.find_first_of(std::string_view("/+#\0", 4)) != std::string::npos)
        return "data_topic cannot contain '/', '+', '#' or NUL (sub-topic levels are joined "
               "with '_': alerts/critical is \"alerts_critical\")";
    if (auto p = akenza_pointer_problem(m.pointer); !p.empty()) return "pointer: " + p;
    if (m.timestamp)
        if (auto p = akenza_pointer_problem(*m.timestamp); !p.empty()) return "timestamp: " + p;
    if (m.quantity.empty() == m.state_key.empty())
        return "needs exactly one of quantity (a reading) or state_key (a state event)";
    if (!m.state_key.empty()) {
        for (char c : m.state_key) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
            if (!ok) return "state_key may only contain letters, digits, '_', '.' and '-'";
        }
        return {};
    }
    if (!quantity::is_valid_name(m.quantity))
        return fmt::format("quantity '{}' is neither a canonical quantity nor register.<id>",
                           shorten(m.quantity));
    if (auto info = quantity::find(m.quantity)) {
        if (m.unit != info->unit)
            return fmt::format("the unit of {} is {}", m.quantity, info->unit);
        if (m.kind != info->kind)
            return fmt::format("the kind of {} is {}", m.quantity, to_string(info->kind));
    }
    if (!std::isfinite(m.scale) || m.scale == 0) return "scale must be finite and not zero";
    if (m.kind == Kind::interval && (m.duration_ms <= 0 || m.duration_ms > kMaxTimeMs))
        return "an interval reading needs a positive duration";
    return {};
}

std::string akenza_secret_problem(std::string_view secret) {
    if (secret.empty()) return "the uplink secret is empty";
    if (secret.size() < akenza_min_secret_size)  // also rules out "device"
        return fmt::format("the uplink secret is shorter than {} bytes", akenza_min_secret_size);
    if (secret.find_first_of(std::string_view("/+#\0", 4)) != secret.npos)
        return "the uplink secret contains '/', '+', '#' or NUL, which cannot appear in one MQTT "
               "topic level";
    if (is_blank(secret.front()) || is_blank(secret.back()))
        return "the uplink secret begins or ends with a blank (a stray space or newline in the "
               "file?)";
    if (!simdjson::validate_utf8(secret))
        return "the uplink secret is not valid UTF-8 (MQTT topics are UTF-8)";
    return {};
}

std::string akenza_downlink_topic(std::string_view secret, std::string_view device_id,
                                  std::string_view topic) {
    if (!is_plain_level(secret) || !is_plain_level(device_id) || topic.empty()) return {};
    for (std::string_view level : topic_levels(topic))
        if (!is_plain_level(level)) return {};
    std::string out = fmt::format("/down/{}/id/{}/{}", secret, device_id, topic);
    if (out.size() > 65535 || !simdjson::validate_utf8(out)) return {};
    return out;
}

std::string akenza_redact_topic(std::string_view topic, std::string_view secret) {
    std::string out(topic);
    replace_all(out, secret, akenza_mask);
    std::size_t start = std::string::npos;
    for (std::string_view prefix : {"/up/", "/down/", "up/", "down/"}) {
        if (out.starts_with(prefix)) {
            start = prefix.size();
            break;
        }
    }
    if (start == std::string::npos) return out;
    const std::size_t end = std::min(out.find('/', start), out.size());
    const std::string_view level = std::string_view(out).substr(start, end - start);
    if (!level.empty() && level != akenza_device_level && level != akenza_mask)
        out.replace(start, end - start, akenza_mask);
    return out;
}

void akenza_redact_text(std::string& text, std::string_view secret) {
    replace_all(text, secret, akenza_mask);
    const auto starts_level = [&](std::size_t at) {
        if (at == 0) return true;
        const char c = text[at - 1];
        return c == '/' || c == '\'' || c == '"' || c == '`' || c == '(' || is_blank(c);
    };
    const auto ends_level = [](char c) { return c == '/' || c == '\'' || c == '"' || c == '`'; };
    for (std::string_view word : {"up/", "down/"}) {
        for (std::size_t at = text.find(word); at != std::string::npos;
             at = text.find(word, at + 1)) {
            if (!starts_level(at)) continue;
            const std::size_t start = at + word.size();
            std::size_t end = start;
            while (end < text.size() && !ends_level(text[end])) ++end;
            const std::string_view level = std::string_view(text).substr(start, end - start);
            if (level.empty() || level == akenza_device_level || level == akenza_mask ||
                level == "+" || level == "#")
                continue;
            text.replace(start, end - start, akenza_mask);
        }
    }
}

AkenzaDecoder::AkenzaDecoder(AkenzaOptions options) : options_(std::move(options)) {
    if (!options_.secret.empty())
        if (auto p = akenza_secret_problem(options_.secret); !p.empty())
            throw std::invalid_argument(p);
    if (options_.secret.empty() && !options_.accept_device_credentials)
        throw std::invalid_argument(
            "no uplink secret and device credentials not accepted: every uplink would be "
            "rejected");
    if (options_.mappings.empty()) throw std::invalid_argument("no mappings");
    const char delim = options_.csv_delimiter;
    if (delim == '"' || delim == '\r' || delim == '\n' || delim == ' ' || delim == '\0')
        throw std::invalid_argument("csv_delimiter cannot be '\"', a space, a line end or NUL");
    const auto slot_of = [](Plan& plan, const std::string& pointer) {
        for (std::size_t i = 0; i < plan.pointers.size(); ++i)
            if (plan.pointers[i] == pointer) return i;
        plan.pointers.push_back(pointer);
        plan.tokens.push_back(pointer_tokens(pointer));
        return plan.pointers.size() - 1;
    };
    for (std::size_t i = 0; i < options_.mappings.size(); ++i) {
        const AkenzaMapping& m = options_.mappings[i];
        if (auto p = akenza_mapping_problem(m); !p.empty())
            throw std::invalid_argument(fmt::format("mappings[{}]: {}", i, p));
        Plan& plan = plans_[m.data_topic];
        for (const auto& t : plan.targets) {
            const AkenzaMapping& other = options_.mappings[t.mapping];
            if ((!m.quantity.empty() && other.quantity == m.quantity) ||
                (!m.state_key.empty() && other.state_key == m.state_key))
                throw std::invalid_argument(fmt::format(
                    "mappings[{}]: mappings[{}] already maps {} for data topic '{}'", i, t.mapping,
                    m.quantity.empty() ? m.state_key : m.quantity, m.data_topic));
        }
        Plan::Target target{i, slot_of(plan, m.pointer), std::nullopt};
        if (m.timestamp) target.timestamp_slot = slot_of(plan, *m.timestamp);
        plan.targets.push_back(target);
    }
}

DecodeResult AkenzaDecoder::reject(RejectCode code, std::string detail) const {
    // A detail may echo a data topic or payload text that carries the secret.
    replace_all(detail, options_.secret, akenza_mask);
    return DecodeResult::rejected(code, std::move(detail));
}

void AkenzaDecoder::redact(RawMessage& message) const {
    message.topic = akenza_redact_topic(message.topic, options_.secret);
    std::string& p = message.payload;
    replace_all(p, options_.secret, akenza_mask);
    // A payload cut short may end with the first bytes of the secret.
    if (!message.received_size || *message.received_size <= p.size()) return;
    const std::string_view secret = options_.secret;
    for (std::size_t n = std::min(p.size(), secret.empty() ? 0 : secret.size() - 1); n > 0; --n) {
        if (std::string_view(p).substr(p.size() - n) == secret.substr(0, n)) {
            p.replace(p.size() - n, n, akenza_mask);
            break;
        }
    }
}

void AkenzaDecoder::redact_text(std::string& text) const {
    akenza_redact_text(text, options_.secret);
}

DecodeResult AkenzaDecoder::decode(const RawMessage& message) {
    Uplink up;
    if (std::string problem = parse_uplink(message.topic, up); !problem.empty())
        return reject(RejectCode::bad_topic, std::move(problem));
    if (up.device) {
        if (!options_.accept_device_credentials)
            return reject(RejectCode::unauthorized,
                          "device-credential uplinks (/up/device/id/...) are not accepted "
                          "(accept_device_credentials = false)");
    } else if (options_.secret.empty()) {
        return reject(RejectCode::unauthorized,
                      "no uplink secret is configured (secret_file): only /up/device/id/... "
                      "uplinks are accepted");
    } else if (!constant_time_equal(up.secret, options_.secret)) {
        return reject(RejectCode::unauthorized,
                      "the uplink secret in the topic does not match secret_file");
    }
    const auto plan = plans_.find(up.data_topic);
    if (plan == plans_.end())
        return reject(RejectCode::invalid_value,
                      fmt::format("no mapping for data topic '{}'", shorten(up.data_topic)));

    std::string charset_problem;
    const Content content = classify(message.content_type, charset_problem);
    if (!charset_problem.empty())
        return reject(RejectCode::unsupported_content_type, std::move(charset_problem));
    const std::string meter(up.device_id);
    switch (content) {
        case Content::json:
            return decode_json(message, plan->second, meter);
        case Content::text:
            return decode_text(message, plan->second, meter);
        case Content::csv:
            return decode_csv(message, plan->second, meter);
        case Content::xml:
        case Content::octet:
            return reject(RejectCode::unsupported_content_type,
                          fmt::format("'{}' payloads are not decoded (supported: {})",
                                      shorten(trim_blanks(message.content_type)), kSupportedTypes));
        case Content::unknown:
            break;
    }
    return reject(RejectCode::unsupported_content_type,
                  fmt::format("unknown content type '{}' (supported: {})",
                              shorten(trim_blanks(message.content_type)), kSupportedTypes));
}

namespace {

std::string mapped_pointers(const Plan& plan, const AkenzaOptions& options) {
    std::string out;
    for (const auto& t : plan.targets) {
        if (!out.empty()) out += ", ";
        out += show_pointer(options.mappings[t.mapping].pointer);
    }
    return out;
}

}  // namespace

DecodeResult AkenzaDecoder::decode_json(const RawMessage& m, const Plan& plan,
                                        const std::string& meter) {
    const std::string& p = m.payload;
    buffer_.assign(p);
    buffer_.resize(p.size() + simdjson::SIMDJSON_PADDING);
    slots_.assign(plan.pointers.size(), Slot{});
    simdjson::ondemand::document doc;
    if (auto e = parser_.iterate(buffer_.data(), p.size(), buffer_.size()).get(doc))
        return reject(RejectCode::malformed, not_valid_json(e));
    JsonWalker walker(plan, slots_, scratch_);
    if (!walker.document(doc, buffer_.data(), p.size()))
        return reject(walker.code, std::move(walker.detail));
    DecodeResult out;
    if (auto r = emit(plan, slots_, meter, m.received_at, "", out)) return std::move(*r);
    if (out.readings.empty() && out.states.empty())
        return reject(RejectCode::missing_field,
                      fmt::format("none of the mapped fields is in the payload ({})",
                                  mapped_pointers(plan, options_)));
    return out;
}

DecodeResult AkenzaDecoder::decode_text(const RawMessage& m, const Plan& plan,
                                        const std::string& meter) {
    if (!simdjson::validate_utf8(m.payload))
        return reject(RejectCode::malformed, "text/plain payload is not valid UTF-8");
    slots_.assign(plan.pointers.size(), Slot{});
    for (std::size_t i = 0; i < plan.pointers.size(); ++i)
        if (plan.pointers[i].empty()) set_text(slots_[i], m.payload);
    DecodeResult out;
    if (auto r = emit(plan, slots_, meter, m.received_at, "text/plain: ", out))
        return std::move(*r);
    if (out.readings.empty() && out.states.empty())
        return reject(RejectCode::missing_field,
                      trim_blanks(m.payload).empty()
                          ? std::string("text/plain payload is empty")
                          : fmt::format("a text/plain payload is one value at the pointer \"\", "
                                        "and no mapping of this data topic has it ({})",
                                        mapped_pointers(plan, options_)));
    return out;
}

DecodeResult AkenzaDecoder::decode_csv(const RawMessage& m, const Plan& plan,
                                       const std::string& meter) {
    if (!simdjson::validate_utf8(m.payload))
        return reject(RejectCode::malformed, "text/csv payload is not valid UTF-8");
    std::vector<akenza::CsvRow> rows;
    if (std::string problem = akenza::parse_csv(m.payload, options_.csv_delimiter, rows);
        !problem.empty())
        return reject(RejectCode::malformed, std::move(problem));
    const std::vector<std::string>* header = nullptr;
    std::size_t first = 0;
    if (options_.csv_header) {
        if (rows.empty()) return reject(RejectCode::missing_field, "text/csv: no header line");
        header = &rows[0].cells;
        first = 1;
        for (std::size_t a = 0; a < header->size(); ++a) {
            const std::string_view name = trim_blanks((*header)[a]);
            if (name.empty()) continue;
            for (std::size_t b = a + 1; b < header->size(); ++b)
                if (trim_blanks((*header)[b]) == name)
                    return reject(
                        RejectCode::invalid_value,
                        fmt::format("text/csv header: column '{}' appears twice", shorten(name)));
        }
    }
    if (rows.size() <= first) return reject(RejectCode::missing_field, "text/csv: no data line");
    std::vector<std::optional<std::size_t>> columns;
    for (const auto& tokens : plan.tokens) columns.push_back(csv_column(tokens, header));

    DecodeResult out;
    for (std::size_t r = first; r < rows.size(); ++r) {
        const akenza::CsvRow& row = rows[r];
        if (header != nullptr && row.cells.size() != header->size())
            return reject(RejectCode::invalid_value,
                          fmt::format("text/csv line {} has {} cells, the header has {}", row.line,
                                      row.cells.size(), header->size()));
        slots_.assign(plan.pointers.size(), Slot{});
        for (std::size_t i = 0; i < columns.size(); ++i)
            if (columns[i] && *columns[i] < row.cells.size())
                set_text(slots_[i], row.cells[*columns[i]]);
        const std::string where = fmt::format("text/csv line {}: ", row.line);
        if (auto res = emit(plan, slots_, meter, m.received_at, where, out)) return std::move(*res);
    }
    if (out.readings.empty() && out.states.empty())
        return reject(RejectCode::missing_field,
                      fmt::format("none of the mapped columns has a value ({})",
                                  mapped_pointers(plan, options_)));

    // Two lines for one quantity at one time would be one dedup key twice.
    std::vector<const Reading*> sorted;
    for (const auto& rd : out.readings) sorted.push_back(&rd);
    std::sort(sorted.begin(), sorted.end(), [](const Reading* a, const Reading* b) {
        return std::tie(a->quantity, a->ts_start, a->ts_end) <
               std::tie(b->quantity, b->ts_start, b->ts_end);
    });
    for (std::size_t i = 1; i < sorted.size(); ++i) {
        const Reading& a = *sorted[i - 1];
        const Reading& b = *sorted[i];
        if (a.quantity == b.quantity && a.ts_start == b.ts_start && a.ts_end == b.ts_end)
            return reject(RejectCode::duplicate_timestamp,
                          fmt::format("text/csv: two lines give {} at {} (map a timestamp "
                                      "column to send several lines)",
                                      a.quantity, format_iso_ms(a.ts_start)));
    }
    std::vector<const StateEvent*> states;
    for (const auto& s : out.states) states.push_back(&s);
    std::sort(states.begin(), states.end(), [](const StateEvent* a, const StateEvent* b) {
        return std::tie(a->key, a->ts) < std::tie(b->key, b->ts);
    });
    for (std::size_t i = 1; i < states.size(); ++i)
        if (states[i - 1]->key == states[i]->key && states[i - 1]->ts == states[i]->ts)
            return reject(RejectCode::duplicate_timestamp,
                          fmt::format("text/csv: two lines give state {} at {}", states[i]->key,
                                      format_iso_ms(states[i]->ts)));
    return out;
}

std::optional<DecodeResult> AkenzaDecoder::emit(const Plan& plan, const std::vector<Slot>& slots,
                                                const std::string& meter, TimeMs received_at,
                                                std::string_view where, DecodeResult& out) const {
    for (const auto& target : plan.targets) {
        const AkenzaMapping& m = options_.mappings[target.mapping];
        const Slot& v = slots[target.value_slot];
        const std::string name = fmt::format("{}{}", where, show_pointer(m.pointer));
        if (v.type == Slot::Type::absent || v.type == Slot::Type::null) {
            if (m.required)
                return reject(RejectCode::missing_field,
                              fmt::format("{} (required{})", name,
                                          v.type == Slot::Type::null ? ", and it is null" : ""));
            continue;
        }

        std::string state_value;
        double value = 0;
        if (!m.state_key.empty()) {
            switch (v.type) {
                case Slot::Type::boolean:
                    state_value = v.boolean ? "true" : "false";
                    break;
                case Slot::Type::string:
                case Slot::Type::number:
                    state_value = v.text;
                    break;
                default:
                    return reject(RejectCode::wrong_type,
                                  fmt::format("{} must be a boolean, string or number (state "
                                              "{}), got {}",
                                              name, m.state_key, type_name(v.type)));
            }
        } else {
            if (v.type != Slot::Type::number)
                return reject(
                    RejectCode::wrong_type,
                    fmt::format(
                        "{} must be a number, got {}{}", name, type_name(v.type),
                        v.type == Slot::Type::boolean ? " (map booleans with state_key)" : ""));
            if (!v.representable)
                return reject(
                    RejectCode::invalid_value,
                    fmt::format("{} {} is not a representable number", name, shorten(v.text)));
            value = v.number * m.scale;
            if (!std::isfinite(value))
                return reject(
                    RejectCode::invalid_value,
                    fmt::format("{} {} × scale {} is not finite", name, shorten(v.text), m.scale));
        }

        TimeMs ts = received_at;
        if (target.timestamp_slot) {
            const Slot& t = slots[*target.timestamp_slot];
            const std::string tname = fmt::format("{}{}", where, show_pointer(*m.timestamp));
            const std::string_view format = format_name(m.timestamp_format);
            if (t.type == Slot::Type::absent || t.type == Slot::Type::null)
                return reject(
                    RejectCode::missing_field,
                    fmt::format("{} (the timestamp of {})", tname, show_pointer(m.pointer)));
            if (m.timestamp_format == AkenzaTimeFormat::iso8601) {
                if (t.type != Slot::Type::string)
                    return reject(RejectCode::wrong_type,
                                  fmt::format("{} must be ISO-8601 text (timestamp_format = "
                                              "\"iso8601\"), got {}",
                                              tname, type_name(t.type)));
                const auto parsed = parse_iso8601(t.text);
                if (!parsed)
                    return reject(RejectCode::invalid_value,
                                  fmt::format("{} '{}' is not an ISO-8601 timestamp with a zone",
                                              tname, shorten(t.text)));
                ts = *parsed;
            } else {
                if (t.type != Slot::Type::number)
                    return reject(RejectCode::wrong_type,
                                  fmt::format("{} must be a number (timestamp_format = \"{}\"), "
                                              "got {}",
                                              tname, format, type_name(t.type)));
                const bool seconds = m.timestamp_format == AkenzaTimeFormat::unix_s;
                const double limit = static_cast<double>(seconds ? kMaxTimeMs / 1000 : kMaxTimeMs);
                if (!seconds && !t.integral)
                    return reject(RejectCode::wrong_type,
                                  fmt::format("{} must be an integer number of milliseconds "
                                              "(timestamp_format = \"unix_ms\"), got {}",
                                              tname, shorten(t.text)));
                if (!t.representable || t.number < 0 || t.number > limit)
                    return reject(RejectCode::out_of_range,
                                  fmt::format("{} {} is outside 1970-01-01 .. 9999-12-31 "
                                              "(timestamp_format = \"{}\")",
                                              tname, shorten(t.text), format));
                if (t.integral)
                    ts = seconds ? t.integer * 1000 : t.integer;
                else
                    ts = static_cast<TimeMs>(std::llround(t.number * 1000.0));
            }
            if (ts < 0 || ts > kMaxTimeMs)
                return reject(RejectCode::out_of_range,
                              fmt::format("{} {} is outside 1970-01-01 .. 9999-12-31", tname,
                                          shorten(t.text)));
        }

        if (!m.state_key.empty()) {
            out.states.push_back(StateEvent{meter, m.state_key, std::move(state_value), ts});
            continue;
        }
        Reading r{meter, m.quantity, m.unit, m.kind, ts, ts, value};
        if (m.kind == Kind::interval) {
            if (m.stamp == AkenzaStamp::end)
                r.ts_start = ts - m.duration_ms;
            else
                r.ts_end = ts + m.duration_ms;
            if (r.ts_start < 0 || r.ts_end > kMaxTimeMs)
                return reject(RejectCode::out_of_range,
                              fmt::format("{}: the interval [{} ms, {} ms) is outside 1970-01-01 "
                                          ".. 9999-12-31",
                                          name, r.ts_start, r.ts_end));
        }
        out.readings.push_back(std::move(r));
    }
    return std::nullopt;
}

}  // namespace mb
