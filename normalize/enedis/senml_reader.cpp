#include "normalize/enedis/senml_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "normalize/detail_text.h"
#include "normalize/time_format.h"

namespace mb::quoalise {

namespace {

// No meter measures a petawatt(-hour): beyond this, a value is a unit or
// parsing accident, not a reading.
constexpr double kMaxValue = 1e15;
// RFC 8428 §4.5.3: times below 2^28 s are relative to the time of the message.
constexpr double kRelativeLimitMs = 268435456.0 * 1000;
// 10000-01-01T00:00:00Z: timestamps stay printable and inside the date library.
constexpr double kMaxTimeMs = 253402300800.0 * 1000;
constexpr std::string_view kPrmUrn = "urn:dev:prm:";

char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

Reject rejected(RejectCode code, std::string detail) {
    return Reject{code, std::move(detail)};
}

std::string at(std::size_t index) {
    return fmt::format("sensml record {}", index);
}

std::string where(std::size_t index, std::string_view field) {
    return fmt::format("sensml record {}: {}", index, field);
}

// The SenML fields read_fields knows: those it reads, then the value types
// it refuses.
enum class Field : std::uint8_t { n, t, u, v, bn, bt, bu, bv, vs, vb, vd, other };
constexpr std::size_t kReadFields = 8;  // n … bv

// The Field of `c` in `letters`, counted from `first`.
constexpr Field pick(char c, std::string_view letters, Field first) {
    for (std::size_t i = 0; i < letters.size(); ++i)
        if (letters[i] == c) return static_cast<Field>(static_cast<std::size_t>(first) + i);
    return Field::other;
}

// The Field of an attribute name, told from its first three characters, not
// its length: names are NUL-terminated in pugixml.
Field field_of(const char* name) {
    if (name[0] == '\0') return Field::other;
    if (name[1] == '\0') return pick(name[0], "ntuv", Field::n);
    if (name[2] != '\0') return Field::other;
    if (name[0] == 'b') return pick(name[1], "ntuv", Field::bn);
    if (name[0] == 'v') return pick(name[1], "sbd", Field::vs);
    return Field::other;
}

// The attribute named twice in `record` that sorts first, if any: the exact
// check, for when the quick one in read_fields cannot tell.
std::optional<std::string_view> repeated_attribute(const pugi::xml_node& record) {
    std::vector<std::string_view> names;
    for (pugi::xml_attribute a = record.first_attribute(); a; a = a.next_attribute())
        names.emplace_back(a.name());
    std::sort(names.begin(), names.end());
    const auto twice = std::adjacent_find(names.begin(), names.end());
    if (twice == names.end()) return std::nullopt;
    return *twice;
}

}  // namespace

// The attributes of one record that mean something here. `text` is not
// zeroed for every record: `seen` (a bit per Field) tells what is set.
struct SenmlReader::Fields {
    std::uint32_t seen = 0;
    std::array<const char*, kReadFields> text;  // pugixml's values
    std::string_view other_value;               // vs, vb or vd, when present

    std::optional<std::string_view> get(Field k) const {
        const auto i = static_cast<std::size_t>(k);
        if ((seen >> i & 1U) == 0) return std::nullopt;
        return std::string_view(text[i]);
    }
};

std::optional<Reject> SenmlReader::read_fields(const pugi::xml_node& record, std::size_t index,
                                               Fields& f) const {
    // Repeats are spotted without allocating: a bit per SenML field, a few
    // slots for other names. A repeat, or more other names than slots, goes
    // to the exact check, which also picks the name the reason quotes.
    std::array<const char*, 8> others;
    std::size_t other_count = 0;
    bool maybe_twice = false;
    for (pugi::xml_attribute a = record.first_attribute(); a; a = a.next_attribute()) {
        const char* const name = a.name();
        const Field field = field_of(name);
        if (field != Field::other) {
            const auto k = static_cast<std::size_t>(field);
            if (k < kReadFields)
                f.text[k] = a.value();
            else
                f.other_value = name;
            maybe_twice = maybe_twice || (f.seen >> k & 1U) != 0;
            f.seen |= 1U << k;
            continue;
        }
        const std::string_view other = name;
        if (!other.empty() && other.back() == '_')
            return rejected(RejectCode::unknown_field,
                            fmt::format("{}: must-understand field {} is not supported", at(index),
                                        double_quoted(other)));
        if (other_count == others.size()) {
            maybe_twice = true;
            continue;
        }
        for (std::size_t k = 0; k < other_count; ++k)
            maybe_twice = maybe_twice || std::strcmp(others[k], name) == 0;
        others[other_count++] = name;
    }
    // pugixml keeps repeated attributes, XML forbids them, and which of two
    // values counts would be a guess.
    if (maybe_twice) {
        if (const auto twice = repeated_attribute(record))
            return rejected(RejectCode::malformed, fmt::format("{}: attribute {} appears twice",
                                                               at(index), double_quoted(*twice)));
    }
    if (!f.other_value.empty())
        return rejected(RejectCode::wrong_type,
                        fmt::format("{}: {} holds a non-numeric value, {} needs a number (v)",
                                    at(index), f.other_value, to_string(req_.command)));
    return std::nullopt;
}

std::optional<Reject> SenmlReader::number(std::size_t index, std::string_view field,
                                          std::string_view text, int shift, double& out) {
    const Number n = parse_number(text, shift);
    switch (n.status) {
        case NumberStatus::ok:
            out = n.value;
            return std::nullopt;
        case NumberStatus::not_a_number:
            return rejected(
                RejectCode::malformed,
                fmt::format("{}: not a number {}", where(index, field), double_quoted(text)));
        case NumberStatus::not_finite:
            return rejected(RejectCode::out_of_range,
                            fmt::format("{}: {} is not a finite number", where(index, field),
                                        double_quoted(text)));
        case NumberStatus::too_large:
            break;
    }
    return rejected(
        RejectCode::out_of_range,
        fmt::format("{}: {} is out of range", where(index, field), double_quoted(text)));
}

std::optional<Reject> SenmlReader::unit(std::size_t index, std::string_view field,
                                        std::string_view text, const Unit*& out) {
    out = find_unit(text);
    if (!out)
        return rejected(RejectCode::invalid_value,
                        fmt::format("{}: unit {} is not one of {}", where(index, field),
                                    double_quoted(text), kUnitNames));
    return std::nullopt;
}

// A name, when there is one, is the usage point's URN: "urn:dev:prm:<PRM>"
// and a suffix that does not extend the number ("_production_load", or "n"
// appended to a bare base name). The URN scheme and NID are case-insensitive.
std::optional<Reject> SenmlReader::check_name(std::size_t index, std::string_view base,
                                              std::string_view suffix) {
    if (series_name_) {
        // The base name is usually the very bytes of record 0's bn: then only
        // the suffix needs comparing, so a long bn costs nothing per record.
        if (base.data() == series_base_.data() && base.size() == series_base_.size() &&
            suffix == series_suffix_)
            return std::nullopt;
        const std::string_view series = *series_name_;
        if (series.size() != base.size() + suffix.size() || !series.starts_with(base) ||
            !series.ends_with(suffix))
            return rejected(RejectCode::invalid_value,
                            fmt::format("{}: name {} differs from record 0's {}", at(index),
                                        double_quoted(std::string(base) + std::string(suffix)),
                                        double_quoted(series)));
        return std::nullopt;
    }
    std::string name = std::string(base) + std::string(suffix);
    if (!name.empty()) {
        const std::string_view s = name;
        const bool urn =
            s.size() >= kPrmUrn.size() && iequals(s.substr(0, kPrmUrn.size()), kPrmUrn);
        const std::string_view rest = urn ? s.substr(kPrmUrn.size()) : std::string_view{};
        const bool same =
            rest.starts_with(req_.usage_point) &&
            (rest.size() == req_.usage_point.size() || !is_digit(rest[req_.usage_point.size()]));
        if (!same)
            return rejected(
                RejectCode::invalid_value,
                fmt::format("{}: name {} is not that of usage point {} ({}{}…)", at(index),
                            double_quoted(name), req_.usage_point, kPrmUrn, req_.usage_point));
    }
    series_name_ = std::move(name);
    series_base_ = base;
    series_suffix_ = suffix;
    return std::nullopt;
}

std::optional<Reject> SenmlReader::read(const pugi::xml_node& record, std::size_t index) {
    Fields f;
    if (auto r = read_fields(record, index, f)) return r;

    if (const auto bn = f.get(Field::bn)) base_.name = *bn;
    if (const auto bt = f.get(Field::bt)) {
        if (auto r = number(index, "bt", *bt, 3, base_.time_ms)) return r;
    }
    if (const auto bu = f.get(Field::bu)) {
        const Unit* u = nullptr;
        if (auto r = unit(index, "bu", *bu, u)) return r;
        base_.unit = u;
    }
    if (const auto bv = f.get(Field::bv)) {
        double ignored = 0;  // rejected where it is written when it is no number at all
        if (auto r = number(index, "bv", *bv, 0, ignored)) return r;
        base_.value = *bv;
        base_.scaled = {parse_number(*bv, 0), parse_number(*bv, 3)};
    }

    if (auto r = check_name(index, base_.name, f.get(Field::n).value_or(std::string_view{})))
        return r;

    const auto t = f.get(Field::t);
    double offset_ms = 0;
    if (t) {
        if (auto r = number(index, "t", *t, 3, offset_ms)) return r;
    }
    const double time_ms = base_.time_ms + offset_ms;
    if (!std::isfinite(time_ms) || time_ms >= kMaxTimeMs)
        return rejected(RejectCode::out_of_range,
                        fmt::format("{}: time bt + t = {:.15g} s is after year 9999", at(index),
                                    time_ms / 1000));
    if (time_ms < kRelativeLimitMs)
        return rejected(RejectCode::out_of_range,
                        fmt::format("{}: time bt + t = {:.15g} s is below 2^28 s, a relative time "
                                    "(RFC 8428 §4.5.3)",
                                    at(index), time_ms / 1000));
    const TimeMs time = std::llround(time_ms);
    if (sampling_s_ && time % (*sampling_s_ * 1000) != 0)
        return rejected(RejectCode::invalid_value,
                        fmt::format("{}: time {} is not on the {} s sampling grid", at(index),
                                    format_iso_ms(time), *sampling_s_));

    const Unit* u = meta_unit_;
    if (const auto u_text = f.get(Field::u)) {
        if (auto r = unit(index, "u", *u_text, u)) return r;
    } else if (base_.unit) {
        u = base_.unit;
    }
    if (!u)
        return rejected(RejectCode::missing_field,
                        fmt::format("{}: no unit (u, bu) and none in meta", at(index)));
    if (u->energy != daily())
        return rejected(RejectCode::invalid_value,
                        fmt::format("{}: unit {} is not one of {}, which {} answers", at(index),
                                    double_quoted(u->name), expected_units(req_.command),
                                    to_string(req_.command)));

    const auto v_text = f.get(Field::v);
    if (!v_text && !base_.value)
        return rejected(RejectCode::missing_field, fmt::format("{}: no value (v)", at(index)));
    double value = 0;
    if (base_.value) {
        const Number& b = base_.scaled[u->shift == 0 ? 0 : 1];
        if (b.status != NumberStatus::ok)  // only too large: the text was checked
            return rejected(RejectCode::out_of_range,
                            fmt::format("{}: {} is out of range", where(index, "bv"),
                                        double_quoted(*base_.value)));
        value = b.value;
    }
    if (v_text) {
        double v = 0;
        if (auto r = number(index, "v", *v_text, u->shift, v)) return r;
        value += v;
    }
    if (!(std::fabs(value) <= kMaxValue))
        return rejected(RejectCode::out_of_range,
                        fmt::format("{}: value {:g} {} is beyond ±1e15", at(index), value,
                                    daily() ? "Wh" : "W"));
    value += 0.0;  // -0 is stored as 0

    const bool zero_offset = !t || offset_ms == 0;
    pending_.push_back(Pending{index, time, value, zero_offset});
    return std::nullopt;
}

}  // namespace mb::quoalise
