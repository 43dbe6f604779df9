#include "normalize/detail_text.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <iterator>
#include <utility>

namespace mb {

namespace {

bool continuation(unsigned char c) {
    return (c & 0xC0) == 0x80;
}

// Length of the valid UTF-8 sequence of two or more bytes at s[i], or 0 (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t sequence_length(std::string_view s, std::size_t i) {
    const auto at = [&](std::size_t k) -> unsigned char {
        return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0;
    };
    const unsigned char c = at(0);
    if (c >= 0xC2 && c <= 0xDF) return continuation(at(1)) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
        const unsigned char hi = c == 0xED ? 0x9F : 0xBF;
        return at(1) >= lo && at(1) <= hi && continuation(at(2)) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        const unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
        const unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
        return at(1) >= lo && at(1) <= hi && continuation(at(2)) && continuation(at(3)) ? 4 : 0;
    }
    return 0;
}

void append_hex(std::string& out, unsigned char c) {
    fmt::format_to(std::back_inserter(out), "\\x{:02x}", static_cast<unsigned>(c));
}

void append_u(std::string& out, unsigned char c) {
    fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
}

// The short form of a control character, or 0.
char short_form(unsigned char c, const EscapeStyle& style) {
    if (style.short_forms) {
        if (c == '\n') return 'n';
        if (c == '\r') return 'r';
        if (c == '\t') return 't';
    }
    if (style.esc && c == 0x1B) return 'e';
    return 0;
}

constexpr EscapeStyle kDisplay{
    .short_forms = true, .esc = true, .high = EscapeStyle::High::invalid_hex};

}  // namespace

void append_escaped(std::string& out, std::string_view s, const EscapeStyle& style) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            const std::size_t n =
                style.high == EscapeStyle::High::invalid_hex ? sequence_length(s, i) : 1;
            if (style.high == EscapeStyle::High::keep) {
                out += s[i];
            } else if (style.high == EscapeStyle::High::hex || n == 0) {
                append_hex(out, c);
            } else if (n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {
                // U+0080..U+009F: C1 controls (0x9B is CSI to some terminals).
                append_u(out, static_cast<unsigned char>(s[i + 1]));
                i += 2;
                continue;
            } else {
                out.append(s, i, n);
                i += n;
                continue;
            }
            ++i;
            continue;
        }
        if (style.hexed.find(s[i]) != std::string_view::npos) {
            append_hex(out, c);
        } else if (style.backslashed.find(s[i]) != std::string_view::npos) {
            out += '\\';
            out += s[i];
        } else if (c < 0x20 || (c == 0x7F && style.del)) {
            if (const char f = short_form(c, style)) {
                out += '\\';
                out += f;
            } else if (style.control_as_u) {
                append_u(out, c);
            } else {
                append_hex(out, c);
            }
        } else {
            out += s[i];
        }
        ++i;
    }
}

std::string printable(std::string_view s, std::size_t max) {
    std::size_t n = s.size();
    const bool cut = n > max;
    if (cut) {
        n = max;
        while (n > 0 && continuation(static_cast<unsigned char>(s[n]))) --n;
    }
    const bool utf8 = simdjson::validate_utf8(s.data(), n);
    std::string out;
    out.reserve(n + 3);
    append_escaped(out, s.substr(0, n),
                   EscapeStyle{.control_as_u = true,
                               .high = utf8 ? EscapeStyle::High::keep : EscapeStyle::High::hex});
    if (cut) out += "...";
    return out;
}

std::string double_quoted(std::string_view s, std::size_t max) {
    return fmt::format("\"{}\"", printable(s, max));
}

std::string quoted(std::string_view s, std::size_t max) {
    std::string out = "'";
    append_escaped(out, s.substr(0, max),
                   EscapeStyle{.high = EscapeStyle::High::hex, .hexed = "\\'"});
    out += '\'';
    if (s.size() > max) fmt::format_to(std::back_inserter(out), "… ({} bytes)", s.size());
    return out;
}

bool needs_display_escape(std::string_view s) {
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c >= 0x7F) return true;
    }
    return false;
}

std::string display_escape(std::string_view s) {
    if (!needs_display_escape(s)) return std::string(s);
    std::string out;
    out.reserve(s.size() + 16);
    append_escaped(out, s, kDisplay);
    return out;
}

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    append_escaped(
        out, s,
        EscapeStyle{
            .short_forms = true, .control_as_u = true, .del = false, .backslashed = "\"\\"});
    out += '"';
}

std::string json_string(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    append_json_string(out, s);
    return out;
}

std::string percent_encode(std::string_view s) {
    std::string out;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            out += ch;
        else
            out += fmt::format("%{:02X}", c);
    }
    return out;
}

std::string not_valid_json(simdjson::error_code e) {
    switch (e) {
        case simdjson::UTF8_ERROR:
            return "not valid JSON: the text is not valid UTF-8";
        case simdjson::DEPTH_ERROR:
            return "not valid JSON: nested deeper than the parser's limit";
        case simdjson::NUMBER_ERROR:
        case simdjson::NUMBER_OUT_OF_RANGE:
            return "not valid JSON: a number that cannot be read";
        case simdjson::CAPACITY:
            return "not valid JSON: too large for the parser";
        default:
            return "not valid JSON";
    }
}

namespace {

constexpr bool is_json_blank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// End of the value starting at `at` (an object, array or string: its closing
// bracket or quote balanced, strings skipped; a literal or number: the bytes
// up to a blank or a structural character), or npos when it never closes.
std::size_t value_end(std::string_view s, std::size_t at) {
    const char first = s[at];
    if (first != '{' && first != '[' && first != '"') {
        std::size_t i = at;
        while (i < s.size() && !is_json_blank(s[i]) &&
               std::string_view("{}[],:\"").find(s[i]) == std::string_view::npos)
            ++i;
        return i;
    }
    std::size_t depth = 0;
    bool in_string = false;
    for (std::size_t i = at; i < s.size(); ++i) {
        const char c = s[i];
        if (in_string) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_string = false;
            if (!in_string && depth == 0) return i + 1;  // a top-level string ended
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (depth == 0) return std::string_view::npos;
            if (--depth == 0) return i + 1;
        }
    }
    return std::string_view::npos;
}

}  // namespace

std::string json_document_problem(std::string_view text) {
    std::size_t start = 0;
    while (start < text.size() && is_json_blank(text[start])) ++start;
    if (start == text.size()) return {};
    const char first = text[start];
    const bool letter = (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z');
    const std::size_t end = value_end(text, start);
    if (end == std::string_view::npos) return {};
    const std::string_view value = text.substr(start, end - start);
    // Not a value's first byte, or a word that is not true, false or null.
    const bool starts_a_value =
        std::string_view("{[\"-0123456789").find(first) != std::string_view::npos ||
        (letter && (value == "true" || value == "false" || value == "null"));
    if (!starts_a_value) return "not a JSON document";
    std::size_t rest = end;
    while (rest < text.size() && is_json_blank(text[rest])) ++rest;
    if (rest == text.size()) return {};
    simdjson::dom::parser parser;
    simdjson::dom::element ignored;
    if (parser.parse(value.data(), value.size()).get(ignored) != simdjson::SUCCESS) return {};
    return fmt::format("trailing bytes after the JSON document (from byte {})", end);
}

std::string json_malformed_detail(std::string_view payload, std::string detail) {
    std::string whole = json_document_problem(payload);
    return whole.empty() ? detail : whole;
}

std::string_view json_type_name(simdjson::dom::element_type t) {
    using simdjson::dom::element_type;
    using simdjson::ondemand::json_type;
    constexpr std::array<std::pair<element_type, json_type>, 8> kKinds{{
        {element_type::ARRAY, json_type::array},
        {element_type::OBJECT, json_type::object},
        {element_type::STRING, json_type::string},
        {element_type::INT64, json_type::number},
        {element_type::UINT64, json_type::number},
        {element_type::DOUBLE, json_type::number},
        {element_type::BOOL, json_type::boolean},
        {element_type::NULL_VALUE, json_type::null},
    }};
    for (const auto& [element, kind] : kKinds)
        if (element == t) return json_type_name(kind);
    return "unknown";
}

std::string_view json_type_name(simdjson::ondemand::json_type t) {
    // Indexed by json_type, which starts at 1 (array).
    constexpr std::array<std::string_view, 7> kNames{
        "unknown", "an array", "an object", "a number", "a string", "a boolean", "null"};
    const auto i = static_cast<std::size_t>(t);
    return i < kNames.size() ? kNames[i] : kNames[0];
}

}  // namespace mb
