// Consistent copies of the database through SQLite's online backup API: the
// copy a schema migration takes first, PATH.pre-v<N> (N: the version about to
// be reached), so that an operator can go back to the previous meterbridge.
//
// Who calls: schema::migrate() on the main thread at start-up, on the
// writer's connection, before the migration's transaction (nothing else
// writes then: the daemon holds PATH.lock). Errors: sql::SqliteError, or
// std::runtime_error naming the copy's path; the migration does not start.
#pragma once

#include <filesystem>

#include "storage/sqlite.h"

namespace mb {

// Copies the main database of `db` to `dest`, written as dest.tmp and renamed
// over it, so that `dest` is always a whole database.
void backup_database(sql::Db& db, const std::filesystem::path& dest);

// PATH.pre-v<target>, for the file `db` is open on; empty for an in-memory
// or temporary database (nothing to copy).
std::filesystem::path pre_migration_copy_path(sql::Db& db, int target);

}  // namespace mb
