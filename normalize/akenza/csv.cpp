#include "normalize/akenza/csv.h"

#include <fmt/format.h>

#include <charconv>

#include "normalize/topic.h"

namespace mb::akenza {

std::string parse_csv(std::string_view text, char delim, std::vector<CsvRow>& rows) {
    rows.clear();
    // Spreadsheets (Excel's "CSV UTF-8") start the file with a byte order mark.
    constexpr std::string_view bom = "\xEF\xBB\xBF";
    if (text.starts_with(bom)) text.remove_prefix(bom.size());
    std::size_t i = 0, line = 1;
    const auto is_pad = [&](char c) { return (c == ' ' || c == '\t') && c != delim; };
    while (i < text.size()) {
        CsvRow row;
        row.line = line;
        bool quoted_any = false;
        while (true) {  // one cell per iteration
            while (i < text.size() && is_pad(text[i])) ++i;
            std::string cell;
            if (i < text.size() && text[i] == '"') {
                quoted_any = true;
                const std::size_t open_line = line;
                ++i;
                while (true) {
                    if (i >= text.size())
                        return fmt::format("text/csv line {}: unterminated quoted cell", open_line);
                    const char c = text[i++];
                    if (c == '"') {
                        if (i < text.size() && text[i] == '"') {
                            cell += '"';
                            ++i;
                            continue;
                        }
                        break;
                    }
                    if (c == '\n' || (c == '\r' && (i >= text.size() || text[i] != '\n'))) ++line;
                    cell += c;
                }
                while (i < text.size() && is_pad(text[i])) ++i;
                if (i < text.size() && text[i] != delim && text[i] != '\r' && text[i] != '\n')
                    return fmt::format("text/csv line {}: unexpected text after a quoted cell",
                                       line);
            } else {
                const std::size_t start = i;
                while (i < text.size() && text[i] != delim && text[i] != '\r' && text[i] != '\n')
                    ++i;
                const std::string_view raw = text.substr(start, i - start);
                if (raw.find('"') != raw.npos)
                    return fmt::format("text/csv line {}: '\"' inside an unquoted cell", line);
                cell.assign(raw);
            }
            row.cells.push_back(std::move(cell));
            if (i < text.size() && text[i] == delim) {
                ++i;
                continue;
            }
            break;
        }
        if (i < text.size() && text[i] == '\r') ++i;
        if (i < text.size() && text[i] == '\n') ++i;
        ++line;
        const bool blank =
            !quoted_any && row.cells.size() == 1 && trim_blanks(row.cells[0]).empty();
        if (!blank) rows.push_back(std::move(row));
    }
    return {};
}

std::optional<std::size_t> csv_column(const std::vector<std::string>& tokens,
                                      const std::vector<std::string>* header) {
    if (tokens.size() != 1) return std::nullopt;
    const std::string& t = tokens[0];
    if (header != nullptr) {
        for (std::size_t c = 0; c < header->size(); ++c)
            if (trim_blanks((*header)[c]) == t) return c;
        return std::nullopt;
    }
    if (t.empty() || (t.size() > 1 && t[0] == '0')) return std::nullopt;  // RFC 6901 indexes
    std::size_t index = 0;
    const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), index);
    if (ec != std::errc{} || p != t.data() + t.size()) return std::nullopt;
    return index;
}

}  // namespace mb::akenza
