// Text from outside (vendor values, topics, device ids, server texts) made
// safe to show, in one place for every layer: reject details, log lines and
// terminal tables, JSON strings written by hand. Each public function is one
// way of writing; they share append_escaped() and differ only in its style.
//
// Who calls: the decoders (reject details), the daemon (logging, notify, the
// CLI's tables), the encoders that write JSON. Pure functions on caller-owned
// strings; any thread; no errors (every input has an escaped form).
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mb {

// How append_escaped writes the bytes it does not copy as they are.
struct EscapeStyle {
    enum class High : std::uint8_t {
        keep,  // bytes >= 0x80 as they are
        hex,   // each byte >= 0x80 as \xHH
        // valid UTF-8 as it is, each byte outside a valid sequence as \xHH, and
        // C1 controls (U+0080..U+009F, which some terminals obey) as \u0080..\u009f
        invalid_hex,
    };
    bool short_forms = false;   // \n \r \t instead of the numeric form
    bool esc = false;           // and \e for ESC
    bool control_as_u = false;  // other C0 controls (and DEL) as \u00XX, else \xXX
    bool del = true;            // DEL (0x7F) is a control
    High high = High::keep;
    std::string_view backslashed{};  // written as '\' and the character (JSON: "\"\\")
    std::string_view hexed{};        // written as \xHH
};

void append_escaped(std::string& out, std::string_view s, const EscapeStyle& style);

// For reject details: at most `max` bytes of `s` (cut on a UTF-8 boundary,
// then "..."), control characters escaped as \uXXXX. Input that is not valid
// UTF-8 (topics, CLI text; JSON strings are validated by the parser) has its
// non-ASCII bytes escaped as \xNN.
std::string printable(std::string_view s, std::size_t max = 64);

// printable(s, max) in double quotes.
std::string double_quoted(std::string_view s, std::size_t max = 64);

// `s` single-quoted, at most `max` bytes, bytes outside printable ASCII and
// the quote and backslash written as \xNN, so that the detail stays one line
// of valid ASCII whatever the input was; a longer `s` is followed by
// "… (N bytes)".
std::string quoted(std::string_view s, std::size_t max = 64);

// Text shown to a human (log lines, the CLI's table output) may hold device
// ids, file names, topics and server texts chosen by someone else. Written
// raw, a newline would start a journal entry of its own ("\n<0>…" at
// emergency priority) and an escape sequence would drive the terminal.
// display_escape() makes such text inert and one line; machine formats (CSV,
// JSON, the database) keep the exact bytes and do not use it.
// `s` with control characters and invalid UTF-8 written as escapes:
// \n \r \t \e, other C0 bytes and DEL as \xHH, C1 controls (U+0080..U+009F,
// which some terminals obey) as \u0080..\u009f, and each byte that is not part
// of a valid UTF-8 sequence as \xHH. Valid UTF-8 is kept as is, and so is a
// backslash: the result is for reading, not for decoding back.
std::string display_escape(std::string_view s);

// Whether display_escape(s) would change anything (the common case is no).
bool needs_display_escape(std::string_view s);

// `s` as a JSON string literal, quotes included (RFC 8259 §7: '"', '\\' and
// the C0 controls escaped; other bytes as they are).
void append_json_string(std::string& out, std::string_view s);
std::string json_string(std::string_view s);

// `s` as a URI component (a query parameter's value): RFC 3986's unreserved
// characters as they are, every other byte as %HH.
std::string percent_encode(std::string_view s);

// "not valid JSON", with what simdjson found when an operator can act on it
// (invalid UTF-8, nesting too deep, a number out of range).
std::string not_valid_json(simdjson::error_code e);

// What is wrong with a payload as a whole, which a parser's error code on it
// does not say: "not a JSON document" when it does not start with a JSON
// value ("not json", "<xml/>"), "trailing bytes after the JSON document (from
// byte N)" when a complete value is followed by more than blanks; "" for
// anything else (empty, truncated, broken inside: the parser's text is right).
// For the decoders' reject paths only: it parses the payload again.
std::string json_document_problem(std::string_view text);
// json_document_problem(payload) when there is one, else `detail`: the text of
// a malformed reject of a JSON payload.
std::string json_malformed_detail(std::string_view payload, std::string detail);

// "an array", "a number", "null", ... for "must be X, not Y" details.
std::string_view json_type_name(simdjson::dom::element_type t);
std::string_view json_type_name(simdjson::ondemand::json_type t);

}  // namespace mb
