// A migration first copies the database, with SQLite's online backup, to
// PATH.pre-v<N>: the copy is the database as it was, at its old version.
#include <gtest/gtest.h>

#include <filesystem>

#include "storage/schema.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace mb {
namespace {

TEST(PreMigrationCopy, AnOlderDatabaseIsCopiedAsItWasBeforeTheMigration) {
    const int old_version = schema::latest_version() - 1;
    test::TempDir d;
    {
        auto db = sql::Db::open(d / "m.db", sql::Db::Mode::read_write_create);
        db.exec("PRAGMA journal_mode = WAL");
        schema::migrate(db, old_version);
        db.exec(
            "INSERT INTO series (id, source, meter, quantity, unit, kind) "
            "VALUES (1, 's', 'm', 'water.volume.index', 'm3', 'cumulative')");
    }
    const auto copy =
        d / ("m.db.pre-v" + std::to_string(schema::latest_version()));
    ASSERT_FALSE(std::filesystem::exists(copy));
    {
        auto store = Store::open(d / "m.db", StoreOptions{});
        EXPECT_EQ(schema::current_version(store.db()), schema::latest_version());
    }
    ASSERT_TRUE(std::filesystem::exists(copy));
    EXPECT_FALSE(std::filesystem::exists(copy.string() + ".tmp"));
    auto old = sql::Db::open(copy, sql::Db::Mode::read_only);
    EXPECT_EQ(schema::current_version(old), old_version);
    EXPECT_EQ(old.scalar_int("SELECT count(*) FROM series WHERE meter = 'm'"), 1);
}

TEST(PreMigrationCopy, NoCopyOfANewDatabaseNorOfOneAlreadyUpToDate) {
    test::TempDir d;
    { auto store = Store::open(d / "m.db", StoreOptions{}); }  // created at the latest version
    { auto store = Store::open(d / "m.db", StoreOptions{}); }  // nothing to migrate
    for (const auto& entry : std::filesystem::directory_iterator(d.path()))
        EXPECT_EQ(entry.path().string().find(".pre-v"), std::string::npos) << entry.path();
}

}  // namespace
}  // namespace mb
