// TableWriter: prints rows of text cells as an aligned table, CSV (RFC 4180)
// or JSON (an array of objects) — the output formats of the CLI verbs.
// Used by one CLI verb on the main thread; writes to the given stream.
// Table output buffers all rows to align them; CSV and JSON stream. The table
// is for a terminal: control characters and invalid UTF-8 in cells are
// escaped (normalize/detail_text.h). CSV and JSON keep every byte as stored.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace mb {

enum class OutputFormat { table, csv, json };

struct Cell {
    std::string text;
    bool number = false;  // JSON: unquoted; table: right-aligned
    bool null = false;    // JSON null, empty in table and CSV
};

class TableWriter {
  public:
    TableWriter(std::FILE* out, OutputFormat format, std::vector<std::string> columns);
    void row(const std::vector<Cell>& cells);
    // Ends the output (closes the JSON array, prints the table).
    void finish();

    static std::string json_escape(std::string_view s);
    static std::string csv_escape(std::string_view s);

  private:
    std::FILE* out_;
    OutputFormat format_;
    std::vector<std::string> columns_;
    std::vector<std::vector<Cell>> buffered_;
    std::size_t rows_ = 0;
    bool finished_ = false;
};

// Shortest text that reads back as the same double.
std::string format_number(double v);

}  // namespace mb
