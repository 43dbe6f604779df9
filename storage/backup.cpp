#include "storage/backup.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace mb {

void backup_database(sql::Db& db, const std::filesystem::path& dest) {
    const auto tmp = std::filesystem::path(dest.string() + ".tmp");
    std::filesystem::remove(tmp);
    {
        auto out = sql::Db::open(tmp, sql::Db::Mode::read_write_create);
        const std::unique_ptr<sqlite3_backup, decltype(&sqlite3_backup_finish)> backup(
            sqlite3_backup_init(out.get(), "main", db.get(), "main"), &sqlite3_backup_finish);
        if (!backup)
            throw std::runtime_error(fmt::format("cannot copy the database to {}: {}",
                                                 tmp.string(), sqlite3_errmsg(out.get())));
        // All pages in one step: nothing else writes while we migrate.
        const int rc = sqlite3_backup_step(backup.get(), -1);
        if (rc != SQLITE_DONE)
            throw std::runtime_error(fmt::format("cannot copy the database to {}: {}",
                                                 tmp.string(), sqlite3_errstr(rc)));
    }
    std::filesystem::rename(tmp, dest);
}

std::filesystem::path pre_migration_copy_path(sql::Db& db, int target) {
    const char* file = sqlite3_db_filename(db.get(), "main");
    if (file == nullptr || *file == '\0') return {};
    return fmt::format("{}.pre-v{}", file, target);
}

}  // namespace mb
