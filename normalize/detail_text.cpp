#include "normalize/detail_text.h"

#include <fmt/format.h>

namespace mb {

std::string printable(std::string_view s, std::size_t max) {
    std::size_t n = s.size();
    const bool cut = n > max;
    if (cut) {
        n = max;
        while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    }
    const bool utf8 = simdjson::validate_utf8(s.data(), n);
    std::string out;
    out.reserve(n + 3);
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (!utf8 && c >= 0x80)
            out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
        else if (c < 0x20 || c == 0x7F)
            out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        else
            out += s[i];
    }
    if (cut) out += "...";
    return out;
}

std::string_view json_type_name(simdjson::dom::element_type t) {
    using simdjson::dom::element_type;
    switch (t) {
        case element_type::ARRAY:
            return "an array";
        case element_type::OBJECT:
            return "an object";
        case element_type::STRING:
            return "a string";
        case element_type::INT64:
        case element_type::UINT64:
        case element_type::DOUBLE:
            return "a number";
        case element_type::BOOL:
            return "a boolean";
        case element_type::NULL_VALUE:
            return "null";
    }
    return "unknown";
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

std::string_view json_type_name(simdjson::ondemand::json_type t) {
    using simdjson::ondemand::json_type;
    switch (t) {
        case json_type::array:
            return "an array";
        case json_type::object:
            return "an object";
        case json_type::number:
            return "a number";
        case json_type::string:
            return "a string";
        case json_type::boolean:
            return "a boolean";
        case json_type::null:
            return "null";
    }
    return "unknown";
}

}  // namespace mb
