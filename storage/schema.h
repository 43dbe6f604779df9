// Database schema and its migrations.
//
// The schema version is PRAGMA user_version. Each migration moves the database
// from version N-1 to N; the pending ones are applied together in one
// transaction at start-up, before the writer starts (main thread). A database
// written by a newer meterbridge (version above latest) is refused rather than
// guessed at. The contract views
// (DESIGN.md §3) are dropped and recreated by every migration that touches
// what they read, so they always match the tables.
#pragma once

#include <span>
#include <string_view>

#include "storage/sqlite.h"

namespace mb::schema {

struct Migration {
    int version;
    std::string_view description;
    std::string_view sql;
};

std::span<const Migration> migrations();
int latest_version();
int current_version(sql::Db& db);

// Applies every migration above the database's version, up to `target`
// (default: all). A database that has a schema already (version above 0) is
// first copied to PATH.pre-v<target> (storage/backup.h). Throws SqliteError, or std::runtime_error for a newer database.
void migrate(sql::Db& db, int target = -1);

}  // namespace mb::schema
