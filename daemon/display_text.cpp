#include "daemon/display_text.h"

#include <fmt/format.h>

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

}  // namespace

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
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7F) {
            out += s[i++];
            continue;
        }
        if (c < 0x80) {
            switch (c) {
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                case 0x1B:
                    out += "\\e";
                    break;
                default:
                    out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
            }
            ++i;
            continue;
        }
        const std::size_t n = sequence_length(s, i);
        if (n == 0) {
            out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
            ++i;
        } else if (n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {
            // U+0080..U+009F: C1 controls (0x9B is CSI to some terminals).
            out += fmt::format("\\u{:04x}",
                               static_cast<unsigned>(static_cast<unsigned char>(s[i + 1])));
            i += 2;
        } else {
            out.append(s, i, n);
            i += n;
        }
    }
    return out;
}

}  // namespace mb
