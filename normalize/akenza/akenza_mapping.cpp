#include "normalize/akenza/akenza_mapping.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <utility>

#include "normalize/quantity.h"
#include "normalize/topic.h"

namespace mb {

namespace {

using akenza::shorten;

Reject rejected(RejectCode code, std::string detail) {
    return Reject{code, std::move(detail)};
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
    if (m.kind == Kind::interval && (m.duration_ms <= 0 || m.duration_ms > akenza::kMaxTimeMs))
        return "an interval reading needs a positive duration";
    return {};
}

namespace akenza {

std::string show_pointer(std::string_view pointer) {
    if (pointer.empty()) return "the whole payload (pointer \"\")";
    return shorten(pointer);
}

std::size_t Plan::slot_of(const std::string& pointer) {
    for (std::size_t i = 0; i < pointers.size(); ++i)
        if (pointers[i] == pointer) return i;
    // RFC 6901 §4: "~1" is '/', "~0" is '~', read left to right so that "~01"
    // is "~1".
    std::vector<std::string> unescaped;
    if (!pointer.empty()) {
        for (std::string_view raw : split_at(std::string_view(pointer).substr(1), '/')) {
            std::string& t = unescaped.emplace_back();
            for (std::size_t c = 0; c < raw.size(); ++c) {
                if (raw[c] == '~' && c + 1 < raw.size() && (raw[c + 1] == '0' || raw[c + 1] == '1'))
                    t += raw[++c] == '1' ? '/' : '~';
                else
                    t += raw[c];
            }
        }
    }
    pointers.push_back(pointer);
    tokens.push_back(std::move(unescaped));
    return pointers.size() - 1;
}

std::string Plan::mapped_pointers(const std::vector<AkenzaMapping>& mappings) const {
    std::string out;
    for (const auto& t : targets) {
        if (!out.empty()) out += ", ";
        out += show_pointer(mappings[t.mapping].pointer);
    }
    return out;
}

std::optional<Reject> Plan::emit(const std::vector<AkenzaMapping>& mappings,
                                 const std::vector<Slot>& slots, const std::string& meter,
                                 TimeMs received_at, std::string_view where,
                                 DecodeResult& out) const {
    for (const auto& target : targets) {
        const AkenzaMapping& m = mappings[target.mapping];
        const Slot& v = slots[target.value_slot];
        const std::string name = fmt::format("{}{}", where, show_pointer(m.pointer));
        if (v.type == Slot::Type::absent || v.type == Slot::Type::null) {
            if (m.required)
                return rejected(RejectCode::missing_field,
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
                    return rejected(RejectCode::wrong_type,
                                    fmt::format("{} must be a boolean, string or number (state "
                                                "{}), got {}",
                                                name, m.state_key, type_name(v.type)));
            }
        } else {
            if (v.type != Slot::Type::number)
                return rejected(
                    RejectCode::wrong_type,
                    fmt::format(
                        "{} must be a number, got {}{}", name, type_name(v.type),
                        v.type == Slot::Type::boolean ? " (map booleans with state_key)" : ""));
            if (!v.representable)
                return rejected(
                    RejectCode::invalid_value,
                    fmt::format("{} {} is not a representable number", name, shorten(v.text)));
            value = v.number * m.scale;
            if (!std::isfinite(value))
                return rejected(
                    RejectCode::invalid_value,
                    fmt::format("{} {} × scale {} is not finite", name, shorten(v.text), m.scale));
        }

        TimeMs ts = received_at;
        if (target.timestamp_slot) {
            const Slot& t = slots[*target.timestamp_slot];
            const std::string tname = fmt::format("{}{}", where, show_pointer(*m.timestamp));
            if (t.type == Slot::Type::absent || t.type == Slot::Type::null)
                return rejected(
                    RejectCode::missing_field,
                    fmt::format("{} (the timestamp of {})", tname, show_pointer(m.pointer)));
            if (auto r = read_timestamp(t, m.timestamp_format, tname, ts)) return r;
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
                return rejected(RejectCode::out_of_range,
                                fmt::format("{}: the interval [{} ms, {} ms) is outside 1970-01-01 "
                                            ".. 9999-12-31",
                                            name, r.ts_start, r.ts_end));
        }
        out.readings.push_back(std::move(r));
    }
    return std::nullopt;
}

}  // namespace akenza

}  // namespace mb
