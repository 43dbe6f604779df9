// The text/csv payloads of akenza uplinks: RFC 4180 with some tolerance, for
// lines written by hand or by small firmware.
//
// Who calls: AkenzaDecoder, on its thread, once per text/csv uplink. Pure;
// the rows are the caller's (cleared and refilled); a payload that is not CSV
// is a returned "text/csv line N: ..." detail (the decoder rejects it
// malformed), never an exception.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mb::akenza {

struct CsvRow {
    std::size_t line = 0;  // where the row starts, from 1
    std::vector<std::string> cells;
};

// Splits `text` into rows of cells: "" escapes '"' inside quoted cells, quoted
// cells may span lines, blanks (space, tab; not `delim`) around cells are
// dropped, CRLF/LF/CR line ends, blank lines skipped, a UTF-8 byte order mark
// at the start ignored. Returns a malformed detail or "".
std::string parse_csv(std::string_view text, char delim, std::vector<CsvRow>& rows);

// The column a mapping's pointer names, from its unescaped tokens: one token,
// a header name, or a zero-based index ("/0") when the payload has no header
// line (header == nullptr); nullopt when it names none.
std::optional<std::size_t> csv_column(const std::vector<std::string>& tokens,
                                      const std::vector<std::string>* header);

}  // namespace mb::akenza
