#include "normalize/voltaware/voltaware_decoder.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>

#include "normalize/detail_text.h"
#include "normalize/number.h"
#include "normalize/quantity.h"
#include "normalize/time_format.h"

namespace mb {

namespace {

using simdjson::ondemand::json_type;
using simdjson::ondemand::value;

constexpr std::string_view kDeviceId = "deviceId";
constexpr std::string_view kFrequency = "dataFrequencyMins";
constexpr std::string_view kDate = "date";
constexpr std::string_view kReadings = "electricReadings";
constexpr std::string_view kTimestamp = "timestampUtcEpochSecs";
constexpr std::string_view kConsumption = "consumptionKwh";

constexpr std::int64_t kDaySeconds = 86400;
// A day at the finest frequency (15 minutes). Elements beyond are only counted:
// the message is rejected for its count anyway, and the scratch stays fixed.
constexpr std::size_t kMaxReadings = 96;
// Far more significant digits than any float serializer writes (17 for a double).
constexpr std::size_t kMaxDigits = 100;
// Epoch seconds that format_iso_ms can show (years 1970..9999).
constexpr std::int64_t kMaxShownSeconds = 253402300800;

// Where a problem is: a top-level field, a reading, or a field of a reading.
// Rendered only on the error path.
struct Path {
    std::optional<std::size_t> index;  // set: inside electricReadings[index]
    std::string_view field;

    std::string str() const {
        if (!index) return std::string(field);
        if (field.empty()) return fmt::format("{}[{}]", kReadings, *index);
        return fmt::format("{}[{}].{}", kReadings, *index, field);
    }
};

// A field name for a reject detail; an empty name shows as "".
std::string key_text(std::string_view key) {
    return key.empty() ? std::string("\"\"") : printable(key);
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::string_view trim_right(std::string_view s) {
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

std::string describe_time(std::int64_t ts_s) {
    if (ts_s < 0 || ts_s >= kMaxShownSeconds) return fmt::format("{}", ts_s);
    return fmt::format("{} ({})", ts_s, format_iso_ms(ts_s * 1000));
}

// One element of electricReadings, before the checks that need the whole
// message (count, date, frequency).
struct Pending {
    std::int64_t ts_s;
    double wh;
};

// What a message holds once its fields are read.
struct Message {
    std::string_view device;  // in the parser's string buffer, valid until the next parse
    std::int64_t frequency = 0;
    std::int64_t day_s = 0;                     // midnight UTC of `date`, epoch seconds
    std::size_t count = 0;                      // elements of electricReadings
    std::array<Pending, kMaxReadings> pending;  // the first min(count, 96), written before read
};

// Reads the parts of one message. Each read_* returns false after setting
// `reject` to the first problem found. The error paths are out of line
// (cold) so that the per-reading path stays small.
class Reader {
  public:
    Reject reject;

    bool fail(RejectCode code, std::string detail) {
        reject = Reject{code, std::move(detail)};
        return false;
    }

    [[gnu::cold]] [[gnu::noinline]] bool malformed(std::string detail) {
        return fail(RejectCode::malformed, std::move(detail));
    }

    [[gnu::cold]] [[gnu::noinline]] bool malformed_at(const Path& p, simdjson::error_code e) {
        return malformed(
            fmt::format("not valid JSON at {}: {}", p.str(), simdjson::error_message(e)));
    }

    [[gnu::cold]] [[gnu::noinline]] bool twice(const Path& p) {
        return fail(RejectCode::invalid_value, fmt::format("{} appears twice", p.str()));
    }

    // Marks a field as read; false (a reject) when it already was.
    bool first(bool& seen, const Path& p) {
        if (seen) return twice(p);
        seen = true;
        return true;
    }

    // `v` is not of the `expected` type: a wrong_type reason naming what it is,
    // or malformed when it is not even valid JSON (a broken literal or number).
    [[gnu::cold]] [[gnu::noinline]] bool wrong_type(const Path& p, std::string_view expected,
                                                    value v) {
        json_type t;
        if (auto e = v.type().get(t)) return malformed_at(p, e);
        std::string what;
        switch (t) {
            case json_type::string: {
                std::string_view s;
                if (auto e = v.get_string().get(s)) return malformed_at(p, e);
                what = "a string";
                break;
            }
            case json_type::number: {
                const std::string_view text = trim_right(v.raw_json_token());
                DecimalNumber n;
                if (!read_json_number(text, n)) return not_a_number(p, text);
                what = printable(text);
                break;
            }
            case json_type::boolean: {
                bool b = false;
                if (v.get_bool().get(b))
                    return malformed(fmt::format("not valid JSON at {}", p.str()));
                what = b ? "true" : "false";
                break;
            }
            case json_type::null: {
                bool is_null = false;
                if (v.is_null().get(is_null) || !is_null)
                    return malformed(fmt::format("not valid JSON at {}", p.str()));
                what = "null";
                break;
            }
            case json_type::object:
                what = "an object";
                break;
            case json_type::array:
                what = "an array";
                break;
        }
        return fail(RejectCode::wrong_type,
                    fmt::format("{} must be {}, not {}", p.str(), expected, what));
    }

    [[gnu::cold]] [[gnu::noinline]] bool not_a_number(const Path& p, std::string_view text) {
        return malformed(
            fmt::format("not valid JSON at {}: '{}' is not a number", p.str(), printable(text)));
    }

    [[gnu::cold]] [[gnu::noinline]] bool not_an_integer(const Path& p, std::string_view text) {
        return fail(RejectCode::wrong_type,
                    fmt::format("{} must be an integer, not {}", p.str(), printable(text)));
    }

    bool read_number(value v, const Path& p, std::string_view expected, DecimalNumber& out) {
        // The token's first byte tells a number ('-' or a digit), as type() would.
        const std::string_view token = v.raw_json_token();
        if (token.empty() || (token.front() != '-' && !is_digit(token.front())))
            return wrong_type(p, expected, v);
        const std::string_view text = trim_right(token);
        if (!read_json_number(text, out)) return not_a_number(p, text);
        return true;
    }

    // An integer: `out` unset when it does not fit in 64 bits.
    bool read_integer(value v, const Path& p, DecimalNumber& n, std::optional<std::int64_t>& out) {
        if (!read_number(v, p, "an integer", n)) return false;
        if (!n.is_integer()) return not_an_integer(p, n.text);
        out = to_int64(n);
        return true;
    }

    bool read_string(value v, const Path& p, std::string_view expected, std::string_view& out) {
        const std::string_view token = v.raw_json_token();
        if (token.empty() || token.front() != '"') return wrong_type(p, expected, v);
        if (auto e = v.get_string().get(out)) return malformed_at(p, e);
        return true;
    }

    bool read_reading(value el, std::size_t index, Pending& out) {
        const std::string_view token = el.raw_json_token();
        if (token.empty() || token.front() != '{')
            return wrong_type(Path{index, {}}, "an object", el);
        simdjson::ondemand::object obj;
        if (auto e = el.get_object().get(obj)) return malformed_at(Path{index, {}}, e);
        bool has_ts = false, has_kwh = false;
        for (auto maybe_field : obj) {
            simdjson::ondemand::field field;
            if (auto e = std::move(maybe_field).get(field)) return malformed_at(Path{index, {}}, e);
            // Raw comparison first (no unescaping: this runs twice per reading);
            // the unescaped key only for the rest ("timestamp\u0055tc…" or unknown).
            std::string_view key;
            if (field.key().unsafe_is_equal(kTimestamp))
                key = kTimestamp;
            else if (field.key().unsafe_is_equal(kConsumption))
                key = kConsumption;
            else if (auto e = field.unescaped_key().get(key))
                return malformed_at(Path{index, {}}, e);
            if (key == kTimestamp) {
                if (!first(has_ts, Path{index, kTimestamp}) ||
                    !read_timestamp(field.value(), index, out.ts_s))
                    return false;
            } else if (key == kConsumption) {
                if (!first(has_kwh, Path{index, kConsumption}) ||
                    !read_consumption(field.value(), index, out.wh))
                    return false;
            } else {
                return fail(RejectCode::unknown_field,
                            fmt::format("{}[{}].{}", kReadings, index, key_text(key)));
            }
        }
        if (!has_ts) return fail(RejectCode::missing_field, Path{index, kTimestamp}.str());
        if (!has_kwh) return fail(RejectCode::missing_field, Path{index, kConsumption}.str());
        return true;
    }

    // The top-level fields, in any order; readings beyond kMaxReadings are only counted.
    bool read_message(simdjson::ondemand::object obj, Message& m) {
        bool has_device = false, has_frequency = false, has_date = false, has_readings = false;
        for (auto maybe_field : obj) {
            simdjson::ondemand::field field;
            std::string_view key;
            if (auto e = std::move(maybe_field).get(field)) return not_json(e);
            if (auto e = field.unescaped_key().get(key)) return not_json(e);
            const Path p{std::nullopt, key};
            if (key == kDeviceId) {
                if (!first(has_device, p) || !read_device(field.value(), m.device)) return false;
            } else if (key == kFrequency) {
                if (!first(has_frequency, p) || !read_frequency(field.value(), m.frequency))
                    return false;
            } else if (key == kDate) {
                if (!first(has_date, p) || !read_date(field.value(), m.day_s)) return false;
            } else if (key == kReadings) {
                if (!first(has_readings, p) || !read_readings(field.value(), m)) return false;
            } else {
                return fail(RejectCode::unknown_field, key_text(key));
            }
        }
        for (const auto& [present, name] : {std::pair{has_device, kDeviceId},
                                            {has_frequency, kFrequency},
                                            {has_date, kDate},
                                            {has_readings, kReadings}})
            if (!present) return fail(RejectCode::missing_field, std::string(name));
        return true;
    }

    // The checks that need the whole message: the count for the frequency, then
    // each timestamp (inside the date, aligned, not repeated) in array order.
    // Fills owner[slot] with the element holding interval `slot` of the day.
    bool check_day(const Message& m, std::array<std::int16_t, kMaxReadings>& owner) {
        const std::int64_t step_s = m.frequency * 60;
        const auto expected = static_cast<std::size_t>(kDaySeconds / step_s);
        if (m.count != expected)
            return fail(RejectCode::invalid_value,
                        fmt::format("{} readings for {}-minute intervals, {} expected", m.count,
                                    m.frequency, expected));
        owner.fill(-1);
        for (std::size_t i = 0; i < m.count; ++i) {
            const std::int64_t ts = m.pending[i].ts_s;
            const Path p{i, kTimestamp};
            if (ts < m.day_s || ts >= m.day_s + kDaySeconds)
                return fail(RejectCode::out_of_range,
                            fmt::format("{} {} is outside date {}", p.str(), describe_time(ts),
                                        format_iso_ms(m.day_s * 1000).substr(0, 10)));
            if ((ts - m.day_s) % step_s != 0)
                return fail(RejectCode::invalid_value,
                            fmt::format("{} {} is not aligned to {}-minute intervals", p.str(),
                                        describe_time(ts), m.frequency));
            const auto slot = static_cast<std::size_t>((ts - m.day_s) / step_s);
            if (owner[slot] >= 0)
                return fail(RejectCode::duplicate_timestamp,
                            fmt::format("{} {} repeats {}[{}]", p.str(), describe_time(ts),
                                        kReadings, owner[slot]));
            owner[slot] = static_cast<std::int16_t>(i);
        }
        return true;
    }

    [[gnu::cold]] [[gnu::noinline]] bool not_json(simdjson::error_code e) {
        return malformed(fmt::format("not valid JSON: {}", simdjson::error_message(e)));
    }

  private:
    bool read_device(value v, std::string_view& out) {
        if (!read_string(v, Path{std::nullopt, kDeviceId}, "a string", out)) return false;
        if (out.empty()) return fail(RejectCode::invalid_value, "deviceId is empty");
        return true;
    }

    bool read_frequency(value v, std::int64_t& out) {
        DecimalNumber n;
        std::optional<std::int64_t> f;
        if (!read_integer(v, Path{std::nullopt, kFrequency}, n, f)) return false;
        if (!f || (*f != 15 && *f != 30 && *f != 60))
            return fail(RejectCode::invalid_value,
                        fmt::format("dataFrequencyMins {} not in {{15,30,60}}", printable(n.text)));
        out = *f;
        return true;
    }

    bool read_date(value v, std::int64_t& day_s) {
        std::string_view text;
        if (!read_string(v, Path{std::nullopt, kDate}, "an ISO date string (YYYY-MM-DD)", text))
            return false;
        // Only the date form: parse_iso8601 would also take a full timestamp.
        const auto ms = text.size() == 10 ? parse_iso8601(text) : std::nullopt;
        if (!ms)
            return fail(RejectCode::invalid_value,
                        fmt::format("date '{}' is not an ISO date (YYYY-MM-DD)", printable(text)));
        if (*ms < 0)
            return fail(RejectCode::out_of_range,
                        fmt::format("date '{}' is before 1970-01-01", text));
        day_s = *ms / 1000;
        return true;
    }

    bool read_readings(value v, Message& m) {
        const Path p{std::nullopt, kReadings};
        const std::string_view token = v.raw_json_token();
        if (token.empty() || token.front() != '[') return wrong_type(p, "an array", v);
        simdjson::ondemand::array arr;
        if (auto e = v.get_array().get(arr)) return malformed_at(p, e);
        for (auto maybe_el : arr) {
            value el;
            if (auto e = std::move(maybe_el).get(el)) return malformed_at(Path{m.count, {}}, e);
            if (m.count < kMaxReadings && !read_reading(el, m.count, m.pending[m.count]))
                return false;
            ++m.count;
        }
        return true;
    }

    bool read_timestamp(value v, std::size_t index, std::int64_t& out) {
        const Path p{index, kTimestamp};
        DecimalNumber n;
        std::optional<std::int64_t> ts;
        if (!read_integer(v, p, n, ts)) return false;
        if (!ts)
            return fail(RejectCode::out_of_range,
                        fmt::format("{} {} does not fit in 64 bits", p.str(), printable(n.text)));
        out = *ts;
        return true;
    }

    bool read_consumption(value v, std::size_t index, double& out) {
        const Path p{index, kConsumption};
        DecimalNumber n;
        if (!read_number(v, p, "a number", n)) return false;
        if (n.significant > kMaxDigits && significant_digits(n) > kMaxDigits)
            return fail(RejectCode::invalid_value,
                        fmt::format("{} {} has more than {} significant digits", p.str(),
                                    printable(n.text), kMaxDigits));
        const double wh = scaled_magnitude(n, 3);
        if (n.negative && wh != 0)
            return fail(RejectCode::out_of_range,
                        fmt::format("{} {} is negative", p.str(), printable(n.text)));
        if (!std::isfinite(wh))
            return fail(RejectCode::out_of_range,
                        fmt::format("{} {} is too large", p.str(), printable(n.text)));
        out = wh;  // the magnitude: "-0" gives +0
        return true;
    }
};

}  // namespace

DecodeResult VoltawareDecoder::decode(const RawMessage& message) {
    const std::string& payload = message.payload;
    buffer_.assign(payload);
    buffer_.resize(payload.size() + simdjson::SIMDJSON_PADDING);
    Reader in;
    const auto rejected = [&in, &payload] {
        // Where the reader stopped does not say that the payload is no JSON
        // document at all, or one with bytes after it: the whole payload does.
        if (in.reject.code == RejectCode::malformed)
            in.reject.detail = json_malformed_detail(payload, std::move(in.reject.detail));
        return DecodeResult::rejected(in.reject.code, std::move(in.reject.detail));
    };
    const auto not_json = [&](simdjson::error_code e) {
        in.not_json(e);
        return rejected();
    };

    simdjson::ondemand::document doc;
    if (auto e = parser_.iterate(buffer_.data(), payload.size(), buffer_.size()).get(doc)) {
        if (e == simdjson::EMPTY) {
            in.malformed("empty message");
            return rejected();
        }
        return not_json(e);
    }
    json_type top;
    if (auto e = doc.type().get(top)) return not_json(e);
    if (top != json_type::object) {
        // On-demand does not validate what it skips: ask the DOM parser whether
        // this is broken JSON or valid JSON of the wrong shape.
        if (!validator_) validator_ = std::make_unique<simdjson::dom::parser>();
        simdjson::dom::element el;
        if (auto e = validator_->parse(buffer_.data(), payload.size(), false).get(el))
            return not_json(e);
        in.fail(RejectCode::wrong_type,
                fmt::format("message must be a JSON object, not {}", json_type_name(el.type())));
        return rejected();
    }
    simdjson::ondemand::object obj;
    if (auto e = doc.get_object().get(obj)) return not_json(e);

    Message m;
    std::array<std::int16_t, kMaxReadings> owner;
    if (!in.read_message(obj, m)) return rejected();
    // current_location() fails only once the whole input was consumed.
    const char* rest = nullptr;
    if (!doc.current_location().get(rest)) {
        in.malformed("trailing bytes after the JSON document");
        return rejected();
    }
    if (!in.check_day(m, owner)) return rejected();

    static const std::string_view unit = quantity::find(quantity::energy_consumption)->unit;
    DecodeResult out;
    // Copies of one prototype, built in place: no temporary Reading per slot.
    const Reading proto{std::string(m.device),
                        std::string(quantity::energy_consumption),
                        std::string(unit),
                        Kind::interval,
                        0,
                        0,
                        0};
    out.readings.reserve(m.count);
    const TimeMs step_ms = m.frequency * 60000;
    for (std::size_t slot = 0; slot < m.count; ++slot) {
        const Pending& p = m.pending[static_cast<std::size_t>(owner[slot])];
        Reading& r = out.readings.emplace_back(proto);
        r.ts_start = p.ts_s * 1000;
        r.ts_end = r.ts_start + step_ms;
        r.value = p.wh;
    }
    return out;
}

}  // namespace mb
