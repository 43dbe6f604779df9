// The benchmarks' completion check: a read-only SQLite connection counting
// the rows of a table (the rows, not a log line or a counter, say when a run
// is done). Used by mb_bench_load and mb_bench_enedis.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace mb::bench {

class RowCounter {
  public:
    RowCounter(const std::string& path, const std::string& table) {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
            fail("cannot open " + path);
        sqlite3_busy_timeout(db_, 5000);
        const std::string sql = "SELECT count(*) FROM " + table;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK)
            fail("cannot prepare count on " + path);
    }
    ~RowCounter() {
        sqlite3_finalize(stmt_);
        sqlite3_close_v2(db_);
    }
    // -1: the table is not there yet (the database is still being created).
    std::int64_t count() {
        sqlite3_reset(stmt_);
        const int rc = sqlite3_step(stmt_);
        const std::int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(stmt_, 0) : -1;
        sqlite3_reset(stmt_);
        return n;
    }

  private:
    // The destructor does not run when the constructor throws: callers retry
    // until the database exists, so the handle is closed here.
    [[noreturn]] void fail(const std::string& what) {
        const std::string why = what + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory");
        sqlite3_close_v2(db_);
        db_ = nullptr;
        throw std::runtime_error(why);
    }

    sqlite3* db_ = nullptr;
    sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace mb::bench
