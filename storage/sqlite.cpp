#include "storage/sqlite.h"

#include <fmt/format.h>

namespace mb::sql {

bool SqliteError::transient() const {
    switch (primary_code()) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
        case SQLITE_FULL:
        case SQLITE_IOERR:
        case SQLITE_CANTOPEN:
        case SQLITE_PROTOCOL:
            return true;
        default:
            return false;
    }
}

Db Db::open(const std::filesystem::path& path, Mode mode) {
    sqlite3* raw = nullptr;
    const int flags = (mode == Mode::read_only ? SQLITE_OPEN_READONLY
                                               : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                      SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    Db db;
    db.db_.reset(raw);
    if (rc != SQLITE_OK) {
        const std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
        throw SqliteError(rc, fmt::format("cannot open database {}: {}", path.string(), msg));
    }
    sqlite3_extended_result_codes(raw, 1);
    return db;
}

void Db::raise(int rc, std::string_view context) const {
    throw SqliteError(
        rc, fmt::format("{}: {}", context, db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc)));
}

void Db::exec(const char* sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw SqliteError(rc, fmt::format("sqlite: {} (in: {:.80})", msg, sql));
    }
}

std::optional<std::int64_t> Db::scalar_int(const char* sql) {
    Stmt s(*this, sql);
    if (!s.step() || s.column_is_null(0)) return std::nullopt;
    return s.column_int(0);
}

Stmt::Stmt(const Db& db, std::string_view sql) : db_(db.get()) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    stmt_.reset(raw);
    if (rc != SQLITE_OK) db.raise(rc, fmt::format("prepare '{:.60}'", sql));
}

void Stmt::check(int rc, std::string_view what) const {
    if (rc != SQLITE_OK)
        throw SqliteError(rc, fmt::format("sqlite {}: {}", what, sqlite3_errmsg(db_)));
}

Stmt& Stmt::bind(int index, std::int64_t v) {
    check(sqlite3_bind_int64(stmt_.get(), index, v), "bind");
    return *this;
}
Stmt& Stmt::bind(int index, double v) {
    check(sqlite3_bind_double(stmt_.get(), index, v), "bind");
    return *this;
}
Stmt& Stmt::bind(int index, std::string_view v) {
    check(
        sqlite3_bind_text64(stmt_.get(), index, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
        "bind");
    return *this;
}
Stmt& Stmt::bind_blob(int index, std::string_view v) {
    check(sqlite3_bind_blob64(stmt_.get(), index, v.data(), v.size(), SQLITE_TRANSIENT), "bind");
    return *this;
}
Stmt& Stmt::bind_null(int index) {
    check(sqlite3_bind_null(stmt_.get(), index), "bind");
    return *this;
}

bool Stmt::step() {
    const int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    const std::string msg = sqlite3_errmsg(db_);
    sqlite3_reset(stmt_.get());
    throw SqliteError(rc, fmt::format("sqlite step: {}", msg));
}

void Stmt::reset() {
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
}

std::string_view Stmt::column_text(int i) const {
    const auto* p = sqlite3_column_text(stmt_.get(), i);
    if (!p) return {};
    return {reinterpret_cast<const char*>(p),
            static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), i))};
}

Transaction::Transaction(Db& db) : db_(db) {
    db_.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
    if (!done_ && !sqlite3_get_autocommit(db_.get()))
        sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
    db_.exec("COMMIT");
    done_ = true;
}

}  // namespace mb::sql
