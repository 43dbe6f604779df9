// Text shown to a human (log lines, the CLI's table output) may hold device
// ids, file names, topics and server texts chosen by someone else. Written
// raw, a newline would start a journal entry of its own ("\n<0>…" at
// emergency priority) and an escape sequence would drive the terminal.
// display_escape() makes such text inert and one line; machine formats (CSV,
// JSON, the database) keep the exact bytes and do not use it.
//
// Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

namespace mb {

// `s` with control characters and invalid UTF-8 written as escapes:
// \n \r \t \e, other C0 bytes and DEL as \xHH, C1 controls (U+0080..U+009F,
// which some terminals obey) as \u0080..\u009f, and each byte that is not part
// of a valid UTF-8 sequence as \xHH. Valid UTF-8 is kept as is, and so is a
// backslash: the result is for reading, not for decoding back.
std::string display_escape(std::string_view s);

// Whether display_escape(s) would change anything (the common case is no).
bool needs_display_escape(std::string_view s);

}  // namespace mb
