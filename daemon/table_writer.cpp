#include "daemon/table_writer.h"

#include <fmt/format.h>

#include <algorithm>

#include "normalize/detail_text.h"

namespace mb {

std::string format_number(double v) {
    return fmt::format("{}", v);
}

TableWriter::TableWriter(std::FILE* out, OutputFormat format, std::vector<std::string> columns)
    : out_(out), format_(format), columns_(std::move(columns)) {
    if (format_ == OutputFormat::csv) {
        std::string line;
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            if (i) line += ',';
            line += csv_escape(columns_[i]);
        }
        fmt::print(out_, "{}\n", line);
    } else if (format_ == OutputFormat::json) {
        fmt::print(out_, "[");
    }
}

std::string TableWriter::json_escape(std::string_view s) {
    return json_string(s);
}

std::string TableWriter::csv_escape(std::string_view s) {
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
    std::string o = "\"";
    for (char c : s) {
        if (c == '"') o += '"';
        o += c;
    }
    o += '"';
    return o;
}

void TableWriter::row(const std::vector<Cell>& cells) {
    switch (format_) {
        case OutputFormat::csv: {
            std::string line;
            for (std::size_t i = 0; i < cells.size(); ++i) {
                if (i) line += ',';
                if (!cells[i].null) line += csv_escape(cells[i].text);
            }
            fmt::print(out_, "{}\n", line);
            break;
        }
        case OutputFormat::json: {
            std::string obj = rows_ ? ",\n{" : "\n{";
            for (std::size_t i = 0; i < cells.size() && i < columns_.size(); ++i) {
                if (i) obj += ',';
                obj += json_escape(columns_[i]);
                obj += ':';
                obj += cells[i].null     ? "null"
                       : cells[i].number ? cells[i].text
                                         : json_escape(cells[i].text);
            }
            obj += "}";
            fmt::print(out_, "{}", obj);
            break;
        }
        case OutputFormat::table: {
            // A terminal would obey an escape sequence in a device id or a payload.
            std::vector<Cell> shown = cells;
            for (auto& c : shown)
                if (needs_display_escape(c.text)) c.text = display_escape(c.text);
            buffered_.push_back(std::move(shown));
            break;
        }
    }
    ++rows_;
}

void TableWriter::finish() {
    if (finished_) return;
    finished_ = true;
    if (format_ == OutputFormat::json) {
        std::fputs(rows_ ? "\n]\n" : "]\n", out_);
        return;
    }
    if (format_ != OutputFormat::table) return;
    std::vector<std::size_t> width(columns_.size());
    for (std::size_t i = 0; i < columns_.size(); ++i) width[i] = columns_[i].size();
    for (const auto& r : buffered_)
        for (std::size_t i = 0; i < r.size() && i < width.size(); ++i)
            width[i] = std::max(width[i], r[i].text.size());
    auto line = [&](const std::vector<Cell>& cells) {
        std::string s;
        for (std::size_t i = 0; i < cells.size() && i < width.size(); ++i) {
            if (i) s += "  ";
            const bool last = i + 1 == cells.size();
            if (cells[i].number)
                s += fmt::format("{:>{}}", cells[i].text, width[i]);
            else if (last)
                s += cells[i].text;
            else
                s += fmt::format("{:<{}}", cells[i].text, width[i]);
        }
        fmt::print(out_, "{}\n", s);
    };
    std::vector<Cell> header;
    for (const auto& c : columns_) header.push_back(Cell{c});
    line(header);
    std::vector<Cell> rule;
    for (std::size_t i = 0; i < columns_.size(); ++i)
        rule.push_back(Cell{std::string(width[i], '-')});
    line(rule);
    for (const auto& r : buffered_) line(r);
    fmt::print(out_, "({} row{})\n", rows_, rows_ == 1 ? "" : "s");
}

}  // namespace mb
