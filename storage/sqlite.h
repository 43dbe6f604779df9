// RAII wrappers for sqlite3 connections and prepared statements.
//
// A Db or Stmt is used by one thread at a time (the writer thread owns the
// writing connection; CLI verbs own read-only ones). Errors throw SqliteError
// carrying the primary result code so callers can tell transient failures
// (BUSY, LOCKED, FULL, IOERR) from bugs.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mb::sql {

class SqliteError : public std::runtime_error {
  public:
    SqliteError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
    int code() const { return code_; }
    int primary_code() const { return code_ & 0xff; }
    // Worth retrying later: the database is busy, locked, full or had an I/O error.
    bool transient() const;

  private:
    int code_;
};

class Db {
  public:
    enum class Mode { read_write_create, read_only };

    static Db open(const std::filesystem::path& path, Mode mode);
    Db() = default;
    Db(Db&&) noexcept = default;
    Db& operator=(Db&&) noexcept = default;

    sqlite3* get() const { return db_.get(); }
    void exec(const char* sql);
    // First column of the first row of a query, as integer (nullopt: no row / NULL).
    std::optional<std::int64_t> scalar_int(const char* sql);
    [[noreturn]] void raise(int rc, std::string_view context) const;

  private:
    struct Close {
        void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
    };
    std::unique_ptr<sqlite3, Close> db_;
};

// A value bound as a BLOB (text binds as TEXT).
struct Blob {
    std::string_view bytes;
};

class Stmt {
  public:
    Stmt() = default;
    Stmt(const Db& db, std::string_view sql);

    Stmt& bind(int index, std::int64_t v);
    Stmt& bind(int index, double v);
    Stmt& bind(int index, std::string_view v);  // text, copied
    Stmt& bind_blob(int index, std::string_view v);
    Stmt& bind_null(int index);

    // true: a row is available; false: done.
    bool step();
    void reset();  // also clears bindings

    // reset(), then `values` bound to ?1, ?2, ... in order (an empty optional
    // binds NULL), then step(): one execution of the statement.
    template <typename... V>
    bool run(const V&... values) {
        reset();
        int index = 0;
        (bind_value(++index, values), ...);
        return step();
    }
    // The columns of the current row, from column 0 on, into `out` in order
    // (NULL: an empty optional; into a plain value, 0 or "").
    template <typename... T>
    void read(T&... out) const {
        int index = 0;
        (read_value(index++, out), ...);
    }

    std::int64_t column_int(int i) const { return sqlite3_column_int64(stmt_.get(), i); }
    double column_double(int i) const { return sqlite3_column_double(stmt_.get(), i); }
    bool column_is_null(int i) const { return sqlite3_column_type(stmt_.get(), i) == SQLITE_NULL; }
    std::string_view column_text(int i) const;
    int column_count() const { return sqlite3_column_count(stmt_.get()); }
    std::string_view column_name(int i) const { return sqlite3_column_name(stmt_.get(), i); }
    int column_type(int i) const { return sqlite3_column_type(stmt_.get(), i); }
    sqlite3_stmt* get() const { return stmt_.get(); }

  private:
    void bind_value(int i, std::int64_t v) { bind(i, v); }
    void bind_value(int i, double v) { bind(i, v); }
    void bind_value(int i, std::string_view v) { bind(i, v); }
    void bind_value(int i, Blob v) { bind_blob(i, v.bytes); }
    void bind_value(int i, std::nullopt_t) { bind_null(i); }
    template <typename T>
    void bind_value(int i, const std::optional<T>& v) {
        if (v)
            bind_value(i, *v);
        else
            bind_null(i);
    }
    void read_value(int i, std::int64_t& v) const { v = column_int(i); }
    void read_value(int i, double& v) const { v = column_double(i); }
    void read_value(int i, std::string& v) const { v = column_text(i); }
    void read_value(int i, bool& v) const { v = column_int(i) != 0; }
    template <typename T>
    void read_value(int i, std::optional<T>& v) const {
        if (column_is_null(i)) {
            v.reset();
        } else {
            read_value(i, v.emplace());
        }
    }

    void check(int rc, std::string_view what) const;
    struct Finalize {
        void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
    };
    std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
    sqlite3* db_ = nullptr;
};

// Runs `BEGIN IMMEDIATE` and rolls back in the destructor unless commit() ran.
// After a failed statement SQLite may already have rolled back by itself
// (sqlite3_get_autocommit), which the destructor checks.
class Transaction {
  public:
    explicit Transaction(Db& db);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();
    void commit();

  private:
    Db& db_;
    bool done_ = false;
};

}  // namespace mb::sql
