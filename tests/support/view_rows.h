// Reads the contract views of a daemon's database from a test, read-only (the
// daemon keeps writing): rows with their columns joined by '|'.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <string>
#include <vector>

#include "storage/query.h"

namespace mb::test {

// A database the daemon has not created or migrated yet reads as empty (no row).
inline std::vector<std::string> rows(const std::filesystem::path& db, const std::string& sql) {
    std::vector<std::string> out;
    if (!std::filesystem::exists(db)) return out;
    std::optional<sql::Db> opened;
    try {
        opened.emplace(open_read_only(db));
    } catch (const std::runtime_error& e) {
        if (std::string_view(e.what()).find("schema version 0") == std::string_view::npos) throw;
        return out;
    }
    auto& ro = *opened;
    sql::Stmt st(ro, sql);
    while (st.step()) {
        std::string r;
        for (int i = 0; i < st.column_count(); ++i) {
            if (i) r += '|';
            r += st.column_is_null(i) ? "NULL" : std::string(st.column_text(i));
        }
        out.push_back(std::move(r));
    }
    return out;
}

inline std::int64_t count(const std::filesystem::path& db, const std::string& sql) {
    auto r = rows(db, sql);
    return r.empty() ? -1 : std::stoll(r[0]);
}

// First column of the first row, or -1 when the database cannot be read now
// (missing, not migrated yet, busy): for polling while the daemon writes.
inline std::int64_t scalar(const std::filesystem::path& db, const std::string& sql) {
    if (!std::filesystem::exists(db)) return -1;
    try {
        auto ro = open_read_only(db);
        return ro.scalar_int(sql.c_str()).value_or(-1);
    } catch (const std::exception&) {
        return -1;
    }
}

}  // namespace mb::test
