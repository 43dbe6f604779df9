#include "normalize/ainsite/ainsite_decoder.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "normalize/detail_text.h"
#include "normalize/quantity.h"
#include "normalize/time_format.h"
#include "normalize/topic.h"

namespace mb {

namespace {

using simdjson::ondemand::json_type;

// Every field of both schema versions, in the order the document lists them.
enum Field : std::size_t {
    kVersion,
    kDataTs,
    kSystemTs,
    kRegisterId,
    kMeterReading,
    kStartTs,
    kEndTs,
    kValue,
    kFieldCount,
};

constexpr std::array<std::string_view, kFieldCount> kFieldNames{
    "smarteo_payload_schema_version",
    "data_timestamp_utc",
    "system_timestamp_utc",
    "register_id",
    "meter_reading",
    "measurement_start_timestamp_utc",
    "measurement_end_timestamp_utc",
    "value",
};

constexpr std::array<Field, 5> kVersion1Fields{kVersion, kDataTs, kSystemTs, kRegisterId,
                                               kMeterReading};
constexpr std::array<Field, 5> kVersion2Fields{kVersion, kStartTs, kEndTs, kRegisterId, kValue};

std::string_view name_of(Field f) {
    return kFieldNames[f];
}

std::optional<Field> field_of(std::string_view key) {
    for (std::size_t i = 0; i < kFieldCount; ++i)
        if (kFieldNames[i] == key) return static_cast<Field>(i);
    return std::nullopt;
}

// One field as read: its JSON type and, for strings and numbers, its text
// (unescaped string, or the number's token as written).
struct RawField {
    bool present = false;
    json_type type = json_type::null;
    std::string_view text;
};

std::string_view trim_right(std::string_view s) {
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

bool is_one_of(Field f, const std::array<Field, 5>& fields) {
    for (Field g : fields)
        if (g == f) return true;
    return false;
}

// The document's timestamp form, exactly: "2023-01-01T12:34:56.789Z".
bool has_document_time_form(std::string_view s) {
    constexpr std::string_view pattern = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (s.size() != pattern.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (pattern[i] == 'd') {
            if (s[i] < '0' || s[i] > '9') return false;
        } else if (s[i] != pattern[i]) {
            return false;
        }
    }
    return true;
}

class Reader {
  public:
    explicit Reader(const std::array<RawField, kFieldCount>& fields) : fields_(fields) {}

    std::optional<Reject> check_type(Field f, json_type expected) const {
        const RawField& r = fields_[f];
        if (r.type == expected) return std::nullopt;
        return Reject{RejectCode::wrong_type,
                      fmt::format("{} must be {} (got {})", name_of(f), json_type_name(expected),
                                  json_type_name(r.type))};
    }

    // A non-negative integer up to `max`, written without fraction or exponent.
    std::optional<Reject> integer(Field f, std::int64_t max, std::int64_t& out) const {
        if (auto p = check_type(f, json_type::number)) {
            p->detail = fmt::format("{} must be an integer (got {})", name_of(f),
                                    json_type_name(fields_[f].type));
            return p;
        }
        const std::string_view t = fields_[f].text;
        const bool negative = !t.empty() && t[0] == '-';
        const std::string_view digits = negative ? t.substr(1) : t;
        const bool plain =
            !digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos;
        if (!plain) {
            // Is it a number at all? Then it is one with a fraction or an exponent.
            const auto n = ainsite::scale_decimal(t, 1.0, name_of(f));
            if (n.problem && n.problem->code == RejectCode::malformed) return *n.problem;
            return Reject{RejectCode::wrong_type,
                          fmt::format("{} must be an integer (got {})", name_of(f), quoted(t))};
        }
        if (digits.size() > 1 && digits[0] == '0')
            return Reject{
                RejectCode::malformed,
                fmt::format("{} {} is not a JSON number (leading zero)", name_of(f), quoted(t))};
        std::int64_t v = 0;
        bool overflow = false;
        for (char c : digits) {
            if (v > (max - (c - '0')) / 10) {
                overflow = true;
                break;
            }
            v = v * 10 + (c - '0');
        }
        if (negative && v != 0)
            return Reject{RejectCode::out_of_range,
                          fmt::format("{} {} is negative", name_of(f), quoted(t))};
        if (overflow)
            return Reject{RejectCode::out_of_range,
                          fmt::format("{} {} is larger than {}", name_of(f), quoted(t), max)};
        out = v;
        return std::nullopt;
    }

    std::optional<Reject> time(Field f, TimeMs& out) const {
        if (auto p = check_type(f, json_type::string)) return p;
        const std::string_view s = fields_[f].text;
        std::optional<TimeMs> ms;
        if (has_document_time_form(s)) ms = parse_iso8601(s);
        if (!ms)
            return Reject{RejectCode::invalid_value,
                          fmt::format("{} {} is not a UTC timestamp like "
                                      "2023-01-01T12:34:56.789Z",
                                      name_of(f), quoted(s))};
        if (*ms < 0)
            return Reject{RejectCode::out_of_range,
                          fmt::format("{} {} is before 1970", name_of(f), quoted(s))};
        out = *ms;
        return std::nullopt;
    }

    std::optional<Reject> number(Field f, const ainsite::RegisterMapping& m, double& out) const {
        if (auto p = check_type(f, json_type::number)) return p;
        const auto n = ainsite::scale_decimal(fields_[f].text, m.scale, name_of(f));
        if (n.problem) return *n.problem;
        out = n.value;
        return std::nullopt;
    }

  private:
    const std::array<RawField, kFieldCount>& fields_;
};

DecodeResult reject(Reject p) {
    return DecodeResult::rejected(p.code, std::move(p.detail));
}

// The meter id of a topic of the document's shape, else bad_topic.
std::optional<Reject> meter_from_topic(std::string_view topic, std::string_view& meter) {
    std::array<std::string_view, 5> levels;
    const std::size_t count = topic_levels(topic, levels);
    const auto bad = [&](std::string why) {
        return Reject{RejectCode::bad_topic,
                      fmt::format("{} is not meters/outbound/<customer-id>/<subscription-id>/"
                                  "<meter-id>: {}",
                                  quoted(topic, 200), why)};
    };
    if (count != levels.size())
        return bad(fmt::format("{} level{} instead of 5", count, count == 1 ? "" : "s"));
    if (levels[0] != "meters" || levels[1] != "outbound")
        return bad("it does not start with meters/outbound/");
    constexpr std::array<std::string_view, 5> names{"", "", "customer-id", "subscription-id",
                                                    "meter-id"};
    for (std::size_t i = 2; i < levels.size(); ++i) {
        if (levels[i].empty()) return bad(fmt::format("{} is empty", names[i]));
        if (levels[i].find_first_of("+#") != std::string_view::npos)
            return bad(fmt::format("{} contains a wildcard", names[i]));
    }
    meter = levels[4];
    return std::nullopt;
}

}  // namespace

AinsiteDecoder::AinsiteDecoder(ainsite::RegisterMap registers) : registers_(std::move(registers)) {}

DecodeResult AinsiteDecoder::decode(const RawMessage& message) {
    std::string_view meter;
    if (auto p = meter_from_topic(message.topic, meter)) return reject(std::move(*p));

    const std::string& p = message.payload;
    if (p.empty()) return DecodeResult::rejected(RejectCode::malformed, "empty payload");
    // Where the parse stopped does not say that the payload is no JSON
    // document at all, or one with bytes after it: the whole payload does.
    const auto malformed = [&p](std::string detail) {
        return DecodeResult::rejected(RejectCode::malformed,
                                      json_malformed_detail(p, std::move(detail)));
    };
    buffer_.assign(p);
    buffer_.resize(p.size() + simdjson::SIMDJSON_PADDING);
    simdjson::ondemand::document doc;
    json_type top;
    if (auto e = parser_.iterate(buffer_.data(), p.size(), buffer_.size()).get(doc))
        return malformed(not_valid_json(e));
    if (auto e = doc.type().get(top)) return malformed(not_valid_json(e));
    if (top != json_type::object) {
        // A broken scalar ("nope") is malformed; a valid one is the wrong type.
        bool valid = true;
        if (top == json_type::number) {
            double d;
            valid = !doc.get_double().get(d);
        } else if (top == json_type::boolean) {
            bool b;
            valid = !doc.get_bool().get(b);
        } else if (top == json_type::null) {
            bool n = false;
            valid = !doc.is_null().get(n) && n;
        } else if (top == json_type::string) {
            std::string_view sv;
            valid = !doc.get_string().get(sv);
        }
        if (!valid) return malformed("not valid JSON");
        return DecodeResult::rejected(
            RejectCode::wrong_type,
            fmt::format("payload must be a JSON object (got {})", json_type_name(top)));
    }
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) return malformed("not valid JSON");

    std::array<RawField, kFieldCount> fields{};
    // JSON errors anywhere outrank everything else: the whole object is read
    // before the first unknown or repeated field is reported.
    std::optional<Reject> field_problem;
    for (auto maybe_field : obj) {
        simdjson::ondemand::field field;
        std::string_view key;
        if (std::move(maybe_field).get(field) || field.unescaped_key().get(key))
            return malformed("not valid JSON");
        simdjson::ondemand::value v = field.value();
        json_type t;
        if (v.type().get(t)) return malformed("not valid JSON");
        const auto f = field_of(key);
        if (!f) {
            if (!field_problem) field_problem = Reject{RejectCode::unknown_field, quoted(key)};
            continue;
        }
        RawField& r = fields[*f];
        if (r.present && !field_problem)
            field_problem = Reject{RejectCode::invalid_value,
                                   fmt::format("{} appears more than once", name_of(*f))};
        r.present = true;
        r.type = t;
        if (t == json_type::string) {
            if (v.get_string().get(r.text)) return malformed("not valid JSON");
        } else if (t == json_type::number) {
            r.text = trim_right(v.raw_json_token());
        } else if (t == json_type::boolean) {
            bool b;
            if (v.get_bool().get(b)) return malformed("not valid JSON");
        } else if (t == json_type::null) {
            bool n = false;
            if (v.is_null().get(n) || !n) return malformed("not valid JSON");
        }
    }
    // current_location() fails only once the whole input was consumed.
    const char* rest = nullptr;
    if (!doc.current_location().get(rest))
        return malformed("trailing bytes after the JSON document");
    if (field_problem) return reject(std::move(*field_problem));

    const Reader reader(fields);
    if (!fields[kVersion].present)
        return DecodeResult::rejected(RejectCode::missing_field, std::string(name_of(kVersion)));
    std::int64_t version = 0;
    if (auto e = reader.integer(kVersion, 1'000'000'000, version)) {
        if (e->code == RejectCode::out_of_range) e->code = RejectCode::invalid_value;
        return reject(std::move(*e));
    }
    if (version != 1 && version != 2)
        return DecodeResult::rejected(
            RejectCode::invalid_value,
            fmt::format("{} {} is not a known version (1 or 2)", name_of(kVersion), version));
    const auto& wanted = version == 1 ? kVersion1Fields : kVersion2Fields;
    for (std::size_t i = 0; i < kFieldCount; ++i) {
        const auto f = static_cast<Field>(i);
        if (fields[f].present && !is_one_of(f, wanted))
            return DecodeResult::rejected(
                RejectCode::unknown_field,
                fmt::format("{} (not a field of schema version {})", name_of(f), version));
    }
    for (Field f : wanted)
        if (!fields[f].present)
            return DecodeResult::rejected(
                RejectCode::missing_field,
                fmt::format("{} (required by schema version {})", name_of(f), version));

    std::int64_t register_id = 0;
    if (auto e = reader.integer(kRegisterId, ainsite::kMaxRegisterId, register_id))
        return reject(std::move(*e));
    const auto id = static_cast<std::uint32_t>(register_id);
    const bool accumulated = id == ainsite::kAccumulatedEnergyRegister;
    if (version == 1 && !accumulated)
        return DecodeResult::rejected(
            RejectCode::invalid_value,
            fmt::format("register_id {} in schema version 1, which carries only register 2 "
                        "(accumulated energy)",
                        id));
    if (version == 2 && accumulated)
        return DecodeResult::rejected(
            RejectCode::invalid_value,
            "register_id 2 (accumulated energy) in schema version 2, which carries only the "
            "other registers: index or consumption is ambiguous");

    ainsite::RegisterMapping m;
    if (auto it = registers_.find(id); it != registers_.end())
        m = it->second;
    else if (accumulated)
        m = ainsite::accumulated_energy_mapping();
    else
        m = ainsite::unmapped_register(id);
    const Kind kind = version == 1 ? Kind::cumulative : Kind::interval;
    if (const auto info = quantity::find(m.quantity); info && info->kind != kind)
        return DecodeResult::rejected(
            RejectCode::invalid_value,
            fmt::format("register {} is configured as {} ({}), but schema version {} gives {} "
                        "readings",
                        id, m.quantity, to_string(info->kind), version, to_string(kind)));

    Reading r;
    r.meter = std::string(meter);
    r.kind = kind;
    if (version == 1) {
        TimeMs system_ts = 0;
        if (auto e = reader.time(kDataTs, r.ts_start)) return reject(std::move(*e));
        if (auto e = reader.time(kSystemTs, system_ts)) return reject(std::move(*e));
        r.ts_end = r.ts_start;
        if (auto e = reader.number(kMeterReading, m, r.value)) return reject(std::move(*e));
    } else {
        if (auto e = reader.time(kStartTs, r.ts_start)) return reject(std::move(*e));
        if (auto e = reader.time(kEndTs, r.ts_end)) return reject(std::move(*e));
        if (r.ts_end <= r.ts_start)
            return DecodeResult::rejected(
                RejectCode::invalid_value,
                fmt::format("{} {} is not after {} {}", name_of(kEndTs), format_iso_ms(r.ts_end),
                            name_of(kStartTs), format_iso_ms(r.ts_start)));
        if (auto e = reader.number(kValue, m, r.value)) return reject(std::move(*e));
    }
    r.quantity = std::move(m.quantity);
    r.unit = std::move(m.unit);

    DecodeResult out;
    out.readings.push_back(std::move(r));
    return out;
}

}  // namespace mb
