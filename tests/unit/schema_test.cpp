#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "storage/schema.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace mb {
namespace {

// From every older version (0 = a new file), migrating reaches the latest
// version with every contract view present and existing rows intact.
TEST(Schema, MigratesFromEveryOlderVersion) {
    for (int from = 0; from < schema::latest_version(); ++from) {
        test::TempDir d;
        {
            auto db = sql::Db::open(d / "m.db", sql::Db::Mode::read_write_create);
            schema::migrate(db, from);
            ASSERT_EQ(schema::current_version(db), from);
            if (from >= 1) {
                db.exec(
                    "INSERT INTO series (id, source, meter, quantity, unit, kind) "
                    "VALUES (1, 's', 'm', 'water.volume.index', 'm3', 'cumulative')");
                db.exec(
                    "INSERT INTO messages (id, received_at, source, topic, payload_size) VALUES "
                    "(1, 0, 's', 't', 0)");
                db.exec("INSERT INTO readings VALUES (1000, 1, 1000, 4.5, 0, 1)");
            }
        }
        auto store = Store::open(d / "m.db", StoreOptions{});
        EXPECT_EQ(schema::current_version(store.db()), schema::latest_version()) << "from " << from;
        for (const char* view :
             {"readings_v", "states_v", "rejected_v", "revisions_v", "consents_v", "devices_v"})
            EXPECT_EQ(
                store.db().scalar_int(
                    (std::string(
                         "SELECT count(*) FROM sqlite_schema WHERE type = 'view' AND name = '") +
                     view + "'")
                        .c_str()),
                1)
                << view << " from " << from;
        if (from >= 1) {
            EXPECT_EQ(store.db().scalar_int("SELECT count(*) FROM readings_v WHERE value = 4.5"),
                      1);
        }
    }
}

// v4 rebuilds job_runs for a wider CHECK: the rows of v3 stay, the view
// comes back, and the new outcome is accepted.
TEST(Schema, JobRunsKeepTheirRowsAcrossTheV4Rebuild) {
    test::TempDir d;
    {
        auto db = sql::Db::open(d / "j.db", sql::Db::Mode::read_write_create);
        schema::migrate(db, 3);
        db.exec(
            "INSERT INTO job_runs (source, job, command, started_at, outcome, run_key, "
            "upstream_code) VALUES ('enedis', 'daily', 'get_daily', 1000, 'no_older_data', 'k1', "
            "'ADAM-ERR0123')");
        EXPECT_THROW(db.exec("INSERT INTO job_runs (source, job, command, started_at, outcome, "
                             "run_key) VALUES ('enedis', 'daily', 'get_daily', 2000, "
                             "'no_consent', 'k2')"),
                     std::exception);
    }
    auto store = Store::open(d / "j.db", StoreOptions{});
    auto& db = store.db();
    EXPECT_EQ(db.scalar_int("SELECT count(*) FROM job_runs_v WHERE outcome = 'no_older_data' AND "
                            "upstream_code = 'ADAM-ERR0123'"),
              1);
    db.exec(
        "INSERT INTO job_runs (source, job, command, started_at, outcome, run_key) VALUES "
        "('enedis', 'daily', 'get_daily', 2000, 'no_consent', 'k2')");
    EXPECT_THROW(db.exec("INSERT INTO job_runs (source, job, command, started_at, outcome, "
                         "run_key) VALUES ('enedis', 'daily', 'get_daily', 3000, 'maybe', 'k3')"),
                 std::exception);
    EXPECT_EQ(db.scalar_int("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = "
                            "'job_runs_by_job'"),
              1);
}

// v5: a v4 database gets readings_v's integer times and series_stats filled
// from the readings it has (counts, first/last, learned intervals), after a
// copy of the v4 file; the writer then carries on from there.
TEST(Schema, V5FillsSeriesStatsFromTheStoredReadings) {
    test::TempDir d;
    constexpr std::int64_t kT0 = 1646092800000, k15m = 900000;
    {
        auto db = sql::Db::open(d / "v4.db", sql::Db::Mode::read_write_create);
        schema::migrate(db, 4);
        db.exec(
            "INSERT INTO series (id, source, meter, quantity, unit, kind) VALUES "
            "(1, 'voltaware', 'm', 'electricity.energy.consumption', 'Wh', 'interval'), "
            "(2, 'ainsite', 'a', 'electricity.energy.consumption.index', 'Wh', 'cumulative')");
        sql::Stmt ins(db, "INSERT INTO readings VALUES (?1, ?2, ?3, 1.5, ?4, 1)");
        // Two Voltaware days (one message each), a missing quarter hour in the second.
        for (std::int64_t i = 0; i < 192; ++i) {
            if (i == 150) continue;
            const std::int64_t t = kT0 + i * k15m;
            ins.run(t, std::int64_t{1}, t + k15m, kT0 + (i < 96 ? 1 : 2) * 86400000 + 60000);
            ins.reset();
        }
        // Å Insite minutes, each received 2 s after.
        for (std::int64_t i = 0; i < 10; ++i) {
            const std::int64_t t = kT0 + i * 60000;
            ins.run(t, std::int64_t{2}, t, t + 2000);
            ins.reset();
        }
        db.exec("INSERT INTO messages (id, received_at, source, topic, payload_size) VALUES "
                "(1, 0, 's', 't', 0)");
    }
    auto store = Store::open(d / "v4.db", StoreOptions{});
    auto& db = store.db();
    EXPECT_TRUE(std::filesystem::exists(
        d / ("v4.db.pre-v" + std::to_string(schema::latest_version()))));
    sql::Stmt st(db,
                 "SELECT first_ts, last_ts, last_received, readings, cadence_ms, arrival_ms FROM "
                 "series_stats ORDER BY series_id");
    std::vector<std::vector<std::int64_t>> rows;
    while (st.step()) {
        rows.emplace_back();
        for (int i = 0; i < 6; ++i) rows.back().push_back(st.column_int(i));
    }
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0], (std::vector<std::int64_t>{kT0, kT0 + 191 * k15m, kT0 + 2 * 86400000 + 60000,
                                                   191, k15m, 86400000}));
    EXPECT_EQ(rows[1], (std::vector<std::int64_t>{kT0, kT0 + 9 * 60000, kT0 + 9 * 60000 + 2000, 10,
                                                   60000, 60000}));
    EXPECT_EQ(db.scalar_int("SELECT count(*) FROM readings_v WHERE meter = 'a' AND ts_start_ms = "
                            "ts_end_ms AND ts_start_ms >= 1646092800000"),
              10);
}

TEST(Schema, MigrationsAreNumberedInOrder) {
    int expected = 1;
    for (const auto& m : schema::migrations()) {
        EXPECT_EQ(m.version, expected++);
        EXPECT_FALSE(m.description.empty());
    }
}

TEST(Schema, ReopeningIsIdempotent) {
    test::TempDir d;
    { Store::open(d / "a.db", StoreOptions{}); }
    auto s = Store::open(d / "a.db", StoreOptions{});
    EXPECT_EQ(schema::current_version(s.db()), schema::latest_version());
}

TEST(Schema, RefusesADatabaseFromANewerVersion) {
    test::TempDir d;
    {
        auto db = sql::Db::open(d / "n.db", sql::Db::Mode::read_write_create);
        db.exec("PRAGMA user_version = 999");
    }
    try {
        Store::open(d / "n.db", StoreOptions{});
        FAIL() << "expected a refusal";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace mb
