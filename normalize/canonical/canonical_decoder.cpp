#include "normalize/canonical/canonical_decoder.h"

#include "normalize/detail_text.h"

#include <fmt/format.h>

#include <cmath>
#include <optional>

#include "normalize/quantity.h"
#include "normalize/time_format.h"

namespace mb {

namespace {

using simdjson::ondemand::json_type;
using simdjson::ondemand::value;

constexpr std::size_t kMaxObjects = 100000;

struct Fields {
    std::optional<std::string> meter, quantity, unit, kind, key, text_value;
    std::optional<double> value;
    std::optional<TimeMs> ts_start, ts_end, ts;
};

// Reads a timestamp: ISO-8601 text or integer milliseconds. Sets `err` on failure.
std::optional<TimeMs> read_time(value v, std::string_view field, std::string& err) {
    json_type t;
    if (v.type().get(t)) {
        err = fmt::format("malformed: {} is not valid JSON", field);
        return std::nullopt;
    }
    if (t == json_type::string) {
        std::string_view s;
        if (v.get_string().get(s)) {
            err = fmt::format("malformed: {} is not a valid string", field);
            return std::nullopt;
        }
        auto ms = parse_iso8601(s);
        if (!ms)
            err = fmt::format("invalid_value: {} '{}' is not an ISO-8601 UTC timestamp", field, s);
        return ms;
    }
    if (t == json_type::number) {
        std::int64_t i;
        if (v.get_int64().get(i)) {
            err = fmt::format("wrong_type: {} must be an integer of milliseconds or ISO-8601 text",
                              field);
            return std::nullopt;
        }
        return i;
    }
    err = fmt::format("wrong_type: {} must be ISO-8601 text or integer milliseconds", field);
    return std::nullopt;
}

std::optional<std::string> read_string(value v, std::string_view field, std::string& err) {
    std::string_view s;
    if (v.get_string().get(s)) {
        err = fmt::format("wrong_type: {} must be a string", field);
        return std::nullopt;
    }
    return std::string(s);
}

// Fills `f` from one object; returns an error text ("code: detail") or "".
std::string read_object(simdjson::ondemand::object obj, Fields& f, std::size_t index) {
    std::string err;
    for (auto maybe_field : obj) {
        simdjson::ondemand::field field;
        std::string_view k;
        if (std::move(maybe_field).get(field) || field.unescaped_key().get(k))
            return "malformed: not valid JSON";
        value v = field.value();
        const std::string name = fmt::format("[{}].{}", index, k);
        if (k == "meter")
            f.meter = read_string(v, name, err);
        else if (k == "quantity")
            f.quantity = read_string(v, name, err);
        else if (k == "unit")
            f.unit = read_string(v, name, err);
        else if (k == "kind")
            f.kind = read_string(v, name, err);
        else if (k == "key")
            f.key = read_string(v, name, err);
        else if (k == "ts_start")
            f.ts_start = read_time(v, name, err);
        else if (k == "ts_end")
            f.ts_end = read_time(v, name, err);
        else if (k == "ts")
            f.ts = read_time(v, name, err);
        else if (k == "value") {
            json_type t;
            if (v.type().get(t)) return fmt::format("malformed: {} is not valid JSON", name);
            if (t == json_type::number) {
                double d;
                if (v.get_double().get(d))
                    return fmt::format("invalid_value: {} is not a representable number", name);
                f.value = d;
            } else if (t == json_type::string) {
                f.text_value = read_string(v, name, err);
            } else {
                return fmt::format("wrong_type: {} must be a number (reading) or a string (state)",
                                   name);
            }
        } else {
            return fmt::format("unknown_field: {}", name);
        }
        if (!err.empty()) return err;
    }
    return {};
}

DecodeResult reject_text(const std::string& text) {
    // "code: detail" → RejectCode + detail
    static constexpr RejectCode kCodes[] = {
        RejectCode::malformed,     RejectCode::missing_field, RejectCode::wrong_type,
        RejectCode::unknown_field, RejectCode::invalid_value, RejectCode::out_of_range,
        RejectCode::oversized,
    };
    for (RejectCode c : kCodes) {
        const auto prefix = std::string(to_string(c)) + ": ";
        if (text.starts_with(prefix)) return DecodeResult::rejected(c, text.substr(prefix.size()));
    }
    return DecodeResult::rejected(RejectCode::malformed, text);
}

std::string to_reading_or_state(Fields& f, std::size_t index, DecodeResult& out) {
    if (!f.meter || f.meter->empty()) return fmt::format("missing_field: [{}].meter", index);
    if (f.key) {
        if (f.quantity || f.unit || f.kind || f.ts_start || f.ts_end)
            return fmt::format("invalid_value: [{}] mixes state (key) and reading fields", index);
        if (!f.text_value)
            return fmt::format("missing_field: [{}].value (a string for a state)", index);
        if (!f.ts) return fmt::format("missing_field: [{}].ts", index);
        out.states.push_back(
            StateEvent{std::move(*f.meter), std::move(*f.key), std::move(*f.text_value), *f.ts});
        return {};
    }
    if (f.ts) return fmt::format("unknown_field: [{}].ts (readings use ts_start/ts_end)", index);
    if (!f.quantity) return fmt::format("missing_field: [{}].quantity", index);
    if (!quantity::is_valid_name(*f.quantity))
        return fmt::format("invalid_value: [{}].quantity '{}' is not a canonical quantity", index,
                           *f.quantity);
    if (f.text_value) return fmt::format("wrong_type: [{}].value must be a number", index);
    if (!f.value) return fmt::format("missing_field: [{}].value", index);
    if (!std::isfinite(*f.value))
        return fmt::format("invalid_value: [{}].value is not finite", index);
    if (!f.ts_start) return fmt::format("missing_field: [{}].ts_start", index);

    Reading r;
    r.meter = std::move(*f.meter);
    r.value = *f.value;
    r.ts_start = *f.ts_start;
    const auto info = quantity::find(*f.quantity);
    if (info) {
        if (f.unit && *f.unit != info->unit)
            return fmt::format("invalid_value: [{}].unit '{}' is not the unit of {} ({})", index,
                               *f.unit, *f.quantity, info->unit);
        if (f.kind && *f.kind != to_string(info->kind))
            return fmt::format("invalid_value: [{}].kind '{}' is not the kind of {} ({})", index,
                               *f.kind, *f.quantity, to_string(info->kind));
        r.unit = info->unit;
        r.kind = info->kind;
    } else {
        r.unit = f.unit.value_or("");
        auto k = parse_kind(f.kind.value_or("instant"));
        if (!k)
            return fmt::format(
                "invalid_value: [{}].kind '{}' is not interval, instant or cumulative", index,
                *f.kind);
        r.kind = *k;
    }
    r.quantity = std::move(*f.quantity);
    if (r.kind == Kind::interval) {
        if (!f.ts_end)
            return fmt::format("missing_field: [{}].ts_end (interval readings need it)", index);
        if (*f.ts_end <= r.ts_start)
            return fmt::format("invalid_value: [{}].ts_end is not after ts_start", index);
        r.ts_end = *f.ts_end;
    } else {
        if (f.ts_end && *f.ts_end != r.ts_start)
            return fmt::format("invalid_value: [{}].ts_end must equal ts_start for {} readings",
                               index, to_string(r.kind));
        r.ts_end = r.ts_start;
    }
    out.readings.push_back(std::move(r));
    return {};
}

}  // namespace

DecodeResult CanonicalDecoder::decode(const RawMessage& message) {
    const std::string& p = message.payload;
    buffer_.assign(p);
    buffer_.resize(p.size() + simdjson::SIMDJSON_PADDING);
    // Where the parse stopped does not say that the payload is no JSON
    // document at all, or one with bytes after it: the whole payload does.
    const auto malformed = [&p](std::string detail) {
        return DecodeResult::rejected(RejectCode::malformed,
                                      json_malformed_detail(p, std::move(detail)));
    };
    simdjson::ondemand::document doc;
    if (auto e = parser_.iterate(buffer_.data(), p.size(), buffer_.size()).get(doc))
        return malformed(not_valid_json(e));

    DecodeResult out;
    json_type t;
    if (auto e = doc.type().get(t)) return malformed(not_valid_json(e));
    std::string err;
    std::size_t index = 0;
    auto one = [&](simdjson::ondemand::object obj) {
        Fields f;
        err = read_object(obj, f, index);
        if (err.empty()) err = to_reading_or_state(f, index, out);
        ++index;
    };
    if (t == json_type::object) {
        simdjson::ondemand::object obj;
        if (doc.get_object().get(obj)) return malformed("not valid JSON");
        one(obj);
    } else if (t == json_type::array) {
        simdjson::ondemand::array arr;
        if (doc.get_array().get(arr)) return malformed("not valid JSON");
        for (auto el : arr) {
            simdjson::ondemand::object obj;
            if (el.get_object().get(obj)) {
                err = fmt::format("wrong_type: [{}] must be an object", index);
                break;
            }
            one(obj);
            if (!err.empty()) break;
            if (index > kMaxObjects) {
                err = fmt::format("oversized: more than {} objects in one message", kMaxObjects);
                break;
            }
        }
        if (err.empty() && index == 0) err = "invalid_value: empty array";
    } else {
        // A scalar: tell broken JSON ("nope") from a valid value of the wrong type ("42").
        bool valid = false;
        switch (t) {
            case json_type::number: {
                double d;
                valid = !doc.get_double().get(d);
                break;
            }
            case json_type::string: {
                std::string_view sv;
                valid = !doc.get_string().get(sv);
                break;
            }
            case json_type::boolean: {
                bool b;
                valid = !doc.get_bool().get(b);
                break;
            }
            case json_type::null: {
                bool n = false;
                valid = !doc.is_null().get(n) && n;
                break;
            }
            default:
                break;
        }
        if (!valid) return malformed("not valid JSON");
        return DecodeResult::rejected(RejectCode::wrong_type,
                                      "message must be a JSON object or array");
    }
    // current_location() fails only once the whole input was consumed.
    const char* rest = nullptr;
    if (err.empty() && !doc.current_location().get(rest))
        return malformed("trailing bytes after the JSON document");
    if (!err.empty()) {
        DecodeResult r = reject_text(err);
        if (r.reject->code == RejectCode::malformed) return malformed(std::move(r.reject->detail));
        return r;
    }
    return out;
}

}  // namespace mb
