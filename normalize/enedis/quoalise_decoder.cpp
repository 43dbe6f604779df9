#include "normalize/enedis/quoalise_decoder.h"

#include <fmt/format.h>
#include <pugixml.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "normalize/detail_text.h"
#include "normalize/enedis/paris_day.h"
#include "normalize/enedis/upstream_error.h"
#include "normalize/number.h"
#include "normalize/quantity.h"
#include "normalize/time_format.h"
#include "normalize/topic.h"

namespace mb {

namespace {

// Far above any answer (a year of daily values, a week of 10-minute load
// curve, are a few tens of KiB), low enough that pugixml's DOM stays small.
constexpr std::size_t kMaxPayload = std::size_t{16} << 20;
// No meter measures a petawatt(-hour): beyond this, a value is a unit or
// parsing accident, not a reading.
constexpr double kMaxValue = 1e15;
constexpr TimeMs kMsPerDay = 86400000;
// RFC 8428 §4.5.3: times below 2^28 s are relative to the time of the message.
constexpr double kRelativeLimitMs = 268435456.0 * 1000;
// 10000-01-01T00:00:00Z: timestamps stay printable and inside the date library.
constexpr double kMaxTimeMs = 253402300800.0 * 1000;
constexpr std::string_view kPrmUrn = "urn:dev:prm:";
constexpr std::string_view kUnitNames = "W, kW, Wh, kWh";

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

// --- Europe/Paris ---------------------------------------------------------------

TimeMs to_ms(date::sys_days d) {
    return static_cast<TimeMs>(d.time_since_epoch().count()) * kMsPerDay;
}

TimeMs utc_midnight(date::year_month_day d) {
    return to_ms(date::sys_days{d});
}

date::year_month_day next_day(date::year_month_day d) {
    return date::year_month_day{date::sys_days{d} + date::days{1}};
}

// --- numbers, durations, units ----------------------------------------------------

enum class NumberStatus : std::uint8_t { ok, not_a_number, not_finite, too_large };

struct Number {
    NumberStatus status = NumberStatus::not_a_number;
    double value = 0;
};

// An xs:double ("1600041600.0", "-1.5E3", ".5", "INF", "NaN") times 10^shift,
// computed from the decimal digits with the point shifted (number.h), so that
// 0.123 kWh is exactly 123 Wh. Underflow gives zero.
Number parse_number(std::string_view text, int shift) {
    DecimalNumber n;
    switch (read_xs_double(text, n)) {
        case XsDoubleForm::number:
            break;
        case XsDoubleForm::not_finite:
            return {NumberStatus::not_finite, 0};
        case XsDoubleForm::invalid:
            return {};
    }
    const double d = scaled_magnitude(n, shift);
    if (std::isinf(d)) return {NumberStatus::too_large, 0};
    return {NumberStatus::ok, n.negative ? -d : d};
}

// Seconds of a sampling interval: "1800", or an ISO-8601 duration made of
// weeks, days, hours, minutes and seconds ("PT30M", "PT1H", "P1D"). Years and
// months have no fixed length and are refused.
std::optional<std::int64_t> parse_interval_seconds(std::string_view text) {
    const std::string_view s = trim_blanks(text);
    if (s.empty()) return std::nullopt;
    constexpr std::size_t kMaxDigits = 9;
    if (is_digit(s.front())) {
        if (s.size() > kMaxDigits) return std::nullopt;
        std::int64_t v = 0;
        for (char c : s) {
            if (!is_digit(c)) return std::nullopt;
            v = v * 10 + (c - '0');
        }
        return v;
    }
    if (s.front() != 'P') return std::nullopt;
    constexpr std::string_view kDateUnits = "WD";
    constexpr std::string_view kTimeUnits = "HMS";
    constexpr std::array<std::int64_t, 2> kDateSeconds{604800, 86400};
    constexpr std::array<std::int64_t, 3> kTimeSeconds{3600, 60, 1};
    std::int64_t total = 0;
    bool in_time = false;
    bool any = false;
    bool time_component = false;
    std::size_t next_unit = 0;  // designators must come in order, each once
    std::size_t i = 1;
    while (i < s.size()) {
        if (s[i] == 'T') {
            if (in_time) return std::nullopt;
            in_time = true;
            next_unit = 0;
            ++i;
            continue;
        }
        const std::size_t start = i;
        std::int64_t v = 0;
        while (i < s.size() && is_digit(s[i]) && i - start < kMaxDigits)
            v = v * 10 + (s[i++] - '0');
        if (i == start || i == s.size()) return std::nullopt;
        const std::string_view units = in_time ? kTimeUnits : kDateUnits;
        const std::size_t u = units.find(s[i], next_unit);
        if (u == std::string_view::npos) return std::nullopt;
        total += v * (in_time ? kTimeSeconds[u] : kDateSeconds[u]);
        next_unit = u + 1;
        any = true;
        time_component = time_component || in_time;
        ++i;
    }
    if (!any || (in_time && !time_component)) return std::nullopt;
    return total;
}

struct Unit {
    std::string_view name;
    bool energy;
    int shift;  // decimal places to the canonical W or Wh
};

constexpr std::array<Unit, 4> kUnits{{
    {"W", false, 0},
    {"kW", false, 3},
    {"Wh", true, 0},
    {"kWh", true, 3},
}};

const Unit* find_unit(std::string_view name) {
    for (const Unit& u : kUnits)
        if (u.name == name) return &u;
    return nullptr;
}

// --- XML helpers ---------------------------------------------------------------------

// Elements are matched by local name: the proxy writes default namespaces, a
// client library may write prefixes.
std::string_view local_name(const pugi::xml_node& n) {
    // One pass over the name: this is asked of every record.
    const char* p = n.name();
    const char* local = p;
    for (; *p != '\0'; ++p)
        if (*p == ':') local = p + 1;
    return {local, static_cast<std::size_t>(p - local)};
}

bool is_element(const pugi::xml_node& n, std::string_view local) {
    return n.type() == pugi::node_element && local_name(n) == local;
}

pugi::xml_node child(const pugi::xml_node& parent, std::string_view local) {
    for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling())
        if (is_element(c, local)) return c;
    return {};
}

std::size_t count_children(const pugi::xml_node& parent, std::string_view local) {
    std::size_t n = 0;
    for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling())
        if (is_element(c, local)) ++n;
    return n;
}

std::optional<std::string_view> attr(const pugi::xml_node& n, const char* name) {
    const pugi::xml_attribute a = n.attribute(name);
    if (!a) return std::nullopt;
    return std::string_view(a.value());
}

// The first that is set: the nested meta form wins over the flat one.
std::optional<std::string_view> either(std::optional<std::string_view> a,
                                       std::optional<std::string_view> b) {
    return a ? a : b;
}

// What the tree holds that matters before the quoalise element is read.
struct Landmarks {
    pugi::xml_node quoalise;
    std::size_t quoalise_count = 0;
    pugi::xml_node upstream_error;
    pugi::xml_node error_note;
    // Of a quick walk: the sensml elements it did not enter (the first, and
    // how many).
    pugi::xml_node unwalked_sensml;
    std::size_t unwalked_count = 0;

    bool same_finds(const Landmarks& o) const {
        return quoalise == o.quoalise && quoalise_count == o.quoalise_count &&
               upstream_error == o.upstream_error && error_note == o.error_note;
    }
};

// Walks the tree without recursion (deeply nested input must not exhaust the
// stack). A quick walk does not enter sensml elements: their records are most
// of the tree and hold no landmarks, but a sensml may hold anything, so the
// caller has to vouch for what was skipped (Decoding::run).
Landmarks find_landmarks(const pugi::xml_node& root, bool quick) {
    Landmarks l;
    pugi::xml_node n = root.first_child();
    while (n) {
        const std::string_view local =
            n.type() == pugi::node_element ? local_name(n) : std::string_view{};
        if (local == "quoalise") {
            if (l.quoalise_count++ == 0) l.quoalise = n;
        } else if (local == "upstream-error" && !l.upstream_error) {
            l.upstream_error = n;
        } else if (local == "note" && !l.error_note && attr(n, "type") == "error") {
            l.error_note = n;
        }
        if (quick && local == "sensml") {
            if (l.unwalked_count++ == 0) l.unwalked_sensml = n;
        } else if (pugi::xml_node c = n.first_child()) {
            n = c;
            continue;
        }
        while (n != root && !n.next_sibling()) n = n.parent();
        if (n == root) break;
        n = n.next_sibling();
    }
    return l;
}

std::string text_of(const pugi::xml_node& n) {
    return std::string(trim_blanks(n.child_value()));
}

// --- decoding ----------------------------------------------------------------------

QuoaliseDecoding rejected(RejectCode code, std::string detail) {
    return QuoaliseDecoding{DecodeResult::rejected(code, std::move(detail)), std::nullopt};
}

std::string_view expected_quantity(QuoaliseCommand c) {
    return c == QuoaliseCommand::daily ? "energy" : "power";
}

std::string_view expected_units(QuoaliseCommand c) {
    return c == QuoaliseCommand::daily ? "Wh, kWh" : "W, kW";
}

// A record, read, before the checks that need the whole response.
struct Pending {
    std::size_t index;
    TimeMs time;
    double value;
    bool zero_offset;  // written at its base time (t absent or 0)
    TimeMs start = 0;
    TimeMs end = 0;
};

// SenML base fields in force (RFC 8428 §4.1): from their record on.
struct Base {
    std::string_view name;
    double time_ms = 0;
    const Unit* unit = nullptr;  // bu, looked up where it is written
    // bv, parsed once for each unit scale (W or Wh, and k…): its unit is
    // that of each record it is added to.
    std::optional<std::string_view> value;
    std::array<Number, 2> scaled;
};

// The SenML fields read_fields knows: those it reads, then the value types
// it refuses.
enum class Field : std::uint8_t { n, t, u, v, bn, bt, bu, bv, vs, vb, vd, other };
constexpr std::size_t kReadFields = 8;  // n … bv

// The Field of an attribute name, told from its first three characters, not
// its length: names are NUL-terminated in pugixml.
Field field_of(const char* name) {
    if (name[0] == '\0') return Field::other;
    if (name[1] == '\0') {
        switch (name[0]) {
            case 'n':
                return Field::n;
            case 't':
                return Field::t;
            case 'u':
                return Field::u;
            case 'v':
                return Field::v;
            default:
                return Field::other;
        }
    }
    if (name[2] != '\0') return Field::other;
    if (name[0] == 'b') {
        switch (name[1]) {
            case 'n':
                return Field::bn;
            case 't':
                return Field::bt;
            case 'u':
                return Field::bu;
            case 'v':
                return Field::bv;
            default:
                return Field::other;
        }
    }
    if (name[0] == 'v') {
        switch (name[1]) {
            case 's':
                return Field::vs;
            case 'b':
                return Field::vb;
            case 'd':
                return Field::vd;
            default:
                return Field::other;
        }
    }
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

// The attributes of one record that mean something here. `text` is not
// zeroed for every record: `seen` (a bit per Field) tells what is set.
struct RecordFields {
    std::uint32_t seen = 0;
    std::array<const char*, kReadFields> text;  // pugixml's values
    std::string_view other_value;               // vs, vb or vd, when present

    std::optional<std::string_view> get(Field k) const {
        const auto i = static_cast<std::size_t>(k);
        if ((seen >> i & 1U) == 0) return std::nullopt;
        return std::string_view(text[i]);
    }
};

class Decoding {
  public:
    Decoding(const QuoaliseRequest& req, StampConvention conv) : req_(req), conv_(conv) {}

    QuoaliseDecoding run(std::string_view xml);

  private:
    const QuoaliseRequest& req_;
    StampConvention conv_;
    std::optional<std::int64_t> sampling_s_;
    const Unit* meta_unit_ = nullptr;
    Base base_;
    std::optional<std::string> series_name_;        // bn + n of record 0
    std::string_view series_base_, series_suffix_;  // in the document
    std::vector<Pending> pending_;
    // The sensml whose children were all read and hold nothing: no landmark.
    pugi::xml_node plain_sensml_;

    bool daily() const { return req_.command == QuoaliseCommand::daily; }

    static std::string at(std::size_t index) { return fmt::format("sensml record {}", index); }
    static std::string where(std::size_t index, std::string_view field) {
        return fmt::format("sensml record {}: {}", index, field);
    }

    QuoaliseDecoding read_document(const pugi::xml_node& root, const Landmarks& marks);
    std::optional<QuoaliseDecoding> read_meta(const pugi::xml_node& meta);
    std::optional<QuoaliseDecoding> read_record(const pugi::xml_node& record, std::size_t index);
    std::optional<QuoaliseDecoding> read_fields(const pugi::xml_node& record, std::size_t index,
                                                RecordFields& f);
    std::optional<QuoaliseDecoding> number(std::size_t index, std::string_view field,
                                           std::string_view text, int shift, double& out);
    std::optional<QuoaliseDecoding> unit(std::size_t index, std::string_view field,
                                         std::string_view text, const Unit*& out);
    std::optional<QuoaliseDecoding> check_name(std::size_t index, std::string_view base,
                                               std::string_view suffix);
    QuoaliseDecoding finish();
    QuoaliseDecoding finish_load_curve();
    QuoaliseDecoding finish_daily();
    std::optional<QuoaliseDecoding> check_duplicates(bool by_day);
    QuoaliseDecoding emit(std::optional<StampConvention> stamping);
};

QuoaliseDecoding Decoding::run(std::string_view xml) {
    if (auto problem = quoalise_request_problem(req_))
        return rejected(RejectCode::bad_topic, fmt::format("request: {}", *problem));
    if (xml.size() > kMaxPayload)
        return rejected(RejectCode::oversized,
                        fmt::format("{} bytes, above the {} bytes limit", xml.size(), kMaxPayload));

    pugi::xml_document doc;
    // parse_doctype keeps the DOCTYPE as a node so that it can be refused;
    // pugixml never expands entities beyond the five predefined ones either way.
    const pugi::xml_parse_result parsed = doc.load_buffer(
        xml.data(), xml.size(), pugi::parse_default | pugi::parse_doctype, pugi::encoding_utf8);
    if (!parsed)
        return rejected(RejectCode::malformed, fmt::format("not well-formed XML at byte {}: {}",
                                                           parsed.offset, parsed.description()));
    pugi::xml_node root;
    for (pugi::xml_node n = doc.first_child(); n; n = n.next_sibling()) {
        if (n.type() == pugi::node_doctype)
            return rejected(RejectCode::invalid_value,
                            "DOCTYPE is not allowed (XMPP forbids DTDs; entities are never "
                            "expanded)");
        if (n.type() != pugi::node_element) continue;
        // pugixml accepts several top-level elements; XML does not.
        if (root)
            return rejected(RejectCode::malformed,
                            fmt::format("more than one root element (<{}> and <{}>)",
                                        printable(root.name()), printable(n.name())));
        root = n;
    }

    // A document is nearly all records, in one sensml: reading them should
    // not cost a second walk. So the landmarks are first those of a walk that
    // skips sensml elements, and the record loop checks that its sensml holds
    // nothing but records without content. When that does not vouch for every
    // skipped sensml (another one, content, a rejection before the end), the
    // full walk decides, and a document where it finds more is read again.
    const Landmarks quick = find_landmarks(doc, true);
    QuoaliseDecoding out = read_document(root, quick);
    if (quick.unwalked_count == 0 ||
        (quick.unwalked_count == 1 && quick.unwalked_sensml == plain_sensml_))
        return out;
    const Landmarks full = find_landmarks(doc, false);
    if (full.same_finds(quick)) return out;
    return Decoding(req_, conv_).read_document(root, full);
}

QuoaliseDecoding Decoding::read_document(const pugi::xml_node& root, const Landmarks& marks) {
    if (is_element(root, "iq") && attr(root, "type") == "error")
        return rejected(RejectCode::upstream_error,
                        upstream_error_detail(child(root, "error"), marks.upstream_error));
    if (!marks.quoalise) {
        if (marks.upstream_error)
            return rejected(
                RejectCode::upstream_error,
                upstream_error_detail(marks.upstream_error.parent(), marks.upstream_error));
        if (marks.error_note) {
            const std::string note = text_of(marks.error_note);
            return rejected(RejectCode::upstream_error,
                            note.empty() ? std::string("note: error")
                                         : fmt::format("note: {}", printable(note, 256)));
        }
        return rejected(RejectCode::missing_field, "no quoalise element");
    }
    if (marks.quoalise_count > 1)
        return rejected(
            RejectCode::invalid_value,
            fmt::format("{} quoalise elements; a response holds one", marks.quoalise_count));

    const std::size_t data_count = count_children(marks.quoalise, "data");
    if (data_count == 0) return rejected(RejectCode::missing_field, "quoalise: no data element");
    if (data_count > 1)
        return rejected(RejectCode::invalid_value,
                        fmt::format("quoalise: {} data elements; {} answers with one", data_count,
                                    to_string(req_.command)));
    const pugi::xml_node data = child(marks.quoalise, "data");
    const pugi::xml_node meta = child(data, "meta");
    if (!meta) return rejected(RejectCode::missing_field, "data: no meta element");
    if (auto r = read_meta(meta)) return std::move(*r);
    const pugi::xml_node sensml = child(data, "sensml");
    if (!sensml) return rejected(RejectCode::missing_field, "data: no sensml element");

    // One allocation rather than a dozen as the records come.
    std::size_t children = 0;
    for (pugi::xml_node c = sensml.first_child(); c; c = c.next_sibling()) ++children;
    pending_.reserve(children);
    std::size_t index = 0;
    bool plain = true;
    for (pugi::xml_node c = sensml.first_child(); c; c = c.next_sibling()) {
        if (c.first_child()) plain = false;
        if (c.type() != pugi::node_element) continue;  // comments, as in the document
        if (local_name(c) != "senml")
            return rejected(RejectCode::unknown_field,
                            fmt::format("sensml record {}: <{}> is not a senml element", index,
                                        printable(c.name())));
        if (auto r = read_record(c, index)) return std::move(*r);
        ++index;
    }
    if (plain) plain_sensml_ = sensml;
    return finish();
}

std::optional<QuoaliseDecoding> Decoding::read_meta(const pugi::xml_node& meta) {
    const pugi::xml_node identifier = child(child(meta, "device"), "identifier");
    const auto id = attr(identifier, "value");
    if (!id) return rejected(RejectCode::missing_field, "meta: no device identifier value");
    if (trim_blanks(*id) != req_.usage_point)
        return rejected(RejectCode::invalid_value,
                        fmt::format("meta: identifier {} is not the requested usage point {}",
                                    double_quoted(*id), req_.usage_point));

    const pugi::xml_node m = child(meta, "measurement");
    if (!m) return rejected(RejectCode::missing_field, "meta: no measurement element");
    const auto direction = either(attr(child(m, "business"), "direction"), attr(m, "direction"));
    const auto quantity = either(attr(child(m, "physical"), "quantity"), attr(m, "quantity"));
    const auto unit_text = either(attr(child(m, "physical"), "unit"), attr(m, "unit"));
    const auto aggregation = either(attr(child(m, "aggregate"), "type"), attr(m, "aggregation"));
    const auto sampling =
        either(attr(child(m, "sampling"), "interval"), attr(m, "sampling-interval"));

    // The direction is what tells consumption from production: without it a
    // response could be stored under the wrong quantity.
    if (!direction) return rejected(RejectCode::missing_field, "meta: no measurement direction");
    if (*direction != req_.direction)
        return rejected(RejectCode::invalid_value,
                        fmt::format("meta: direction {} is not the requested {}",
                                    double_quoted(*direction), req_.direction));
    if (quantity && *quantity != expected_quantity(req_.command))
        return rejected(
            RejectCode::invalid_value,
            fmt::format("meta: quantity {} is not {}, which {} answers", double_quoted(*quantity),
                        expected_quantity(req_.command), to_string(req_.command)));
    if (unit_text) {
        meta_unit_ = find_unit(*unit_text);
        if (!meta_unit_)
            return rejected(RejectCode::invalid_value,
                            fmt::format("meta: unit {} is not one of {}", double_quoted(*unit_text),
                                        kUnitNames));
        if (meta_unit_->energy != daily())
            return rejected(RejectCode::invalid_value,
                            fmt::format("meta: unit {} is not one of {}, which {} answers",
                                        double_quoted(*unit_text), expected_units(req_.command),
                                        to_string(req_.command)));
    }
    if (aggregation) {
        const bool fits =
            daily() ? *aggregation == "sum" : (*aggregation == "average" || *aggregation == "mean");
        if (!fits)
            return rejected(
                RejectCode::invalid_value,
                fmt::format("meta: aggregation {} is not {}, which {} answers",
                            double_quoted(*aggregation), daily() ? "sum" : "average (mean)",
                            to_string(req_.command)));
    }
    if (!sampling) {
        if (daily()) return std::nullopt;
        return rejected(RejectCode::missing_field, "meta: no sampling interval");
    }
    const auto seconds = parse_interval_seconds(*sampling);
    if (!seconds)
        return rejected(RejectCode::invalid_value,
                        fmt::format("meta: sampling interval {} is neither seconds nor an ISO-8601 "
                                    "duration",
                                    double_quoted(*sampling)));
    if (daily()) {
        if (*seconds != 86400)
            return rejected(
                RejectCode::invalid_value,
                fmt::format("meta: sampling interval {} is not one day, which get_daily "
                            "answers",
                            double_quoted(*sampling)));
        return std::nullopt;
    }
    // Dividing the hour keeps every interval inside one UTC offset period and
    // on the same grid before and after a DST switch.
    if (*seconds < 60 || *seconds > 3600 || 3600 % *seconds != 0)
        return rejected(RejectCode::invalid_value,
                        fmt::format("meta: sampling interval {} ({} s) is not a load-curve step "
                                    "(60 s to 1 h, dividing the hour)",
                                    double_quoted(*sampling), *seconds));
    sampling_s_ = *seconds;
    return std::nullopt;
}

std::optional<QuoaliseDecoding> Decoding::read_fields(const pugi::xml_node& record,
                                                      std::size_t index, RecordFields& f) {
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

std::optional<QuoaliseDecoding> Decoding::number(std::size_t index, std::string_view field,
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

std::optional<QuoaliseDecoding> Decoding::unit(std::size_t index, std::string_view field,
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
std::optional<QuoaliseDecoding> Decoding::check_name(std::size_t index, std::string_view base,
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

std::optional<QuoaliseDecoding> Decoding::read_record(const pugi::xml_node& record,
                                                      std::size_t index) {
    RecordFields f;
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

QuoaliseDecoding Decoding::finish() {
    return daily() ? finish_daily() : finish_load_curve();
}

QuoaliseDecoding Decoding::finish_load_curve() {
    const TimeMs step = *sampling_s_ * 1000;
    const TimeMs paris_start = paris_midnight(req_.start_date);
    const TimeMs paris_end = paris_midnight(req_.end_date);
    const TimeMs utc_start = utc_midnight(req_.start_date);
    const TimeMs utc_end = utc_midnight(req_.end_date);

    StampConvention stamping =
        conv_ == StampConvention::start ? StampConvention::start : StampConvention::end;
    if (conv_ == StampConvention::auto_detect && !pending_.empty()) {
        const auto by_time = [](const Pending& a, const Pending& b) { return a.time < b.time; };
        const Pending& first = *std::min_element(pending_.begin(), pending_.end(), by_time);
        const Pending& last = *std::max_element(pending_.begin(), pending_.end(), by_time);
        const bool starts = first.time == paris_start || first.time == utc_start;
        const bool ends = last.time == paris_end || last.time == utc_end;
        if (starts && (!ends || first.zero_offset)) stamping = StampConvention::start;
    }

    const TimeMs shift = stamping == StampConvention::start ? 0 : -step;
    const std::string_view how =
        stamping == StampConvention::start ? "start-stamped" : "end-stamped";
    const Pending* outside_paris = nullptr;
    const Pending* outside_utc = nullptr;
    for (Pending& p : pending_) {
        p.start = p.time + shift;
        p.end = p.start + step;
        const bool in_paris = p.start >= paris_start && p.end <= paris_end;
        const bool in_utc = p.start >= utc_start && p.end <= utc_end;
        if (!in_paris && !in_utc)
            return rejected(RejectCode::out_of_range,
                            fmt::format("sensml record {} ({}): interval [{}, {}) is outside the "
                                        "requested days [{}, {}) (Paris or UTC midnights)",
                                        p.index, how, format_iso_ms(p.start), format_iso_ms(p.end),
                                        format_day(req_.start_date), format_day(req_.end_date)));
        if (!in_paris && !outside_paris) outside_paris = &p;
        if (!in_utc && !outside_utc) outside_utc = &p;
    }
    if (outside_paris && outside_utc)
        return rejected(RejectCode::out_of_range,
                        fmt::format("sensml record {} ({}): interval [{}, {}) is outside the "
                                    "requested days [{}, {}) from Paris midnight, and record {} is "
                                    "outside them from UTC midnight: one response cannot mix both",
                                    outside_paris->index, how, format_iso_ms(outside_paris->start),
                                    format_iso_ms(outside_paris->end), format_day(req_.start_date),
                                    format_day(req_.end_date), outside_utc->index));
    if (auto r = check_duplicates(false)) return std::move(*r);
    return emit(stamping);
}

QuoaliseDecoding Decoding::finish_daily() {
    for (Pending& p : pending_) {
        const date::year_month_day day{paris_day(p.time)};
        if (date::sys_days{day} < date::sys_days{req_.start_date} ||
            date::sys_days{day} >= date::sys_days{req_.end_date})
            return rejected(
                RejectCode::out_of_range,
                fmt::format("sensml record {}: time {} is on {} (Europe/Paris), outside "
                            "the requested days [{}, {})",
                            p.index, format_iso_ms(p.time), format_day(day),
                            format_day(req_.start_date), format_day(req_.end_date)));
        p.start = paris_midnight(day);
        p.end = paris_midnight(next_day(day));
    }
    if (auto r = check_duplicates(true)) return std::move(*r);
    return emit(std::nullopt);
}

// After this, pending_ is in time order.
std::optional<QuoaliseDecoding> Decoding::check_duplicates(bool by_day) {
    const auto before = [](const Pending& a, const Pending& b) {
        return a.start != b.start ? a.start < b.start : a.index < b.index;
    };
    // Upstream answers come in time order: one pass to see it, no sort.
    if (!std::is_sorted(pending_.begin(), pending_.end(), before))
        std::sort(pending_.begin(), pending_.end(), before);
    for (std::size_t i = 1; i < pending_.size(); ++i) {
        const Pending& a = pending_[i - 1];
        const Pending& b = pending_[i];
        if (a.start != b.start) continue;
        if (by_day)
            return rejected(
                RejectCode::duplicate_timestamp,
                fmt::format("sensml record {}: day {} repeats record {}", b.index,
                            format_day(date::year_month_day{paris_day(b.start)}), a.index));
        return rejected(RejectCode::duplicate_timestamp,
                        fmt::format("sensml record {}: time {} repeats record {}", b.index,
                                    format_iso_ms(b.time), a.index));
    }
    return std::nullopt;
}

QuoaliseDecoding Decoding::emit(std::optional<StampConvention> stamping) {
    const bool production = req_.direction == "production";
    const std::string_view q =
        daily() ? (production ? quantity::energy_production : quantity::energy_consumption)
                : (production ? quantity::power_production : quantity::power_consumption);
    const Reading proto{req_.usage_point,
                        std::string(q),
                        std::string(quantity::find(q)->unit),
                        Kind::interval,
                        0,
                        0,
                        0};
    QuoaliseDecoding out;
    out.stamping = stamping;
    out.result.readings.reserve(pending_.size());
    for (const Pending& p : pending_) {
        Reading& r = out.result.readings.emplace_back(proto);
        r.ts_start = p.start;
        r.ts_end = p.end;
        r.value = p.value;
    }
    return out;
}

}  // namespace

std::string_view to_string(StampConvention c) {
    switch (c) {
        case StampConvention::start:
            return "start";
        case StampConvention::end:
            return "end";
        case StampConvention::auto_detect:
            return "auto";
    }
    return "auto";
}

std::optional<StampConvention> parse_stamp_convention(std::string_view s) {
    if (s == "start") return StampConvention::start;
    if (s == "end") return StampConvention::end;
    if (s == "auto") return StampConvention::auto_detect;
    return std::nullopt;
}

QuoaliseDecoding decode_quoalise_detailed(std::string_view xml, const QuoaliseRequest& req,
                                          StampConvention conv) {
    if (!paris_zone())
        return QuoaliseDecoding{
            DecodeResult::rejected(RejectCode::invalid_value,
                                   "the time zone Europe/Paris is not in the system tz database "
                                   "(install tzdata); French days cannot be computed"),
            std::nullopt};
    return Decoding(req, conv).run(xml);
}

DecodeResult decode_quoalise(std::string_view xml, const QuoaliseRequest& req,
                             StampConvention conv) {
    return decode_quoalise_detailed(xml, req, conv).result;
}

DecodeResult QuoaliseDecoder::decode(const RawMessage& message) {
    std::string why;
    const auto req = parse_quoalise_request_topic(message.topic, why);
    if (!req) return DecodeResult::rejected(RejectCode::bad_topic, std::move(why));
    return decode_quoalise(message.payload, *req, conv_);
}

}  // namespace mb
