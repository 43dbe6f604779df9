#include <gtest/gtest.h>

#include <fmt/format.h>

#include <string>
#include <vector>

#include "normalize/time_format.h"
#include "storage/query.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace mb {
namespace {

constexpr TimeMs kT0 = 1646092800000;  // 2022-03-01T00:00:00Z
constexpr TimeMs k15m = 15 * 60 * 1000;

Reading energy(const std::string& meter, TimeMs start, double wh) {
    return Reading{
        meter, "electricity.energy.consumption", "Wh", Kind::interval, start, start + k15m, wh};
}

Envelope message(const std::string& source, std::vector<Reading> readings,
                 TimeMs received_at = kT0 + 1, std::string payload = "{}") {
    Envelope e;
    e.raw = RawMessage{source, "t/" + source, std::move(payload), {}, received_at};
    e.result.readings = std::move(readings);
    return e;
}

Envelope rejected(const std::string& source, RejectCode code, std::string detail,
                  std::string payload) {
    Envelope e;
    e.raw = RawMessage{source, "t/bad", std::move(payload), {}, kT0 + 5};
    e.result = DecodeResult::rejected(code, std::move(detail));
    return e;
}

class StoreTest : public ::testing::Test {
  protected:
    StoreTest() : store(Store::open(dir / "db" / "mb.db", StoreOptions{})) {}

    std::vector<std::vector<std::string>> rows(const std::string& q) {
        sql::Stmt st(store.db(), q);
        std::vector<std::vector<std::string>> out;
        while (st.step()) {
            std::vector<std::string> r;
            for (int i = 0; i < st.column_count(); ++i)
                r.push_back(st.column_is_null(i) ? "NULL" : std::string(st.column_text(i)));
            out.push_back(std::move(r));
        }
        return out;
    }
    std::int64_t count(const std::string& q) {
        return store.db().scalar_int(q.c_str()).value_or(-1);
    }

    test::TempDir dir;
    Store store;
};

TEST_F(StoreTest, StoresReadingsAndShowsThemInTheViewWithIsoTimestamps) {
    Batch b{message("voltaware", {energy("m1", kT0, 100), energy("m1", kT0 + k15m, 125.5)})};
    const auto st = store.apply(b);
    EXPECT_EQ(st.readings, 2u);
    EXPECT_EQ(st.messages, 1u);
    const auto r = rows("SELECT * FROM readings_v ORDER BY ts_start");
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0], (std::vector<std::string>{"voltaware", "m1", "electricity.energy.consumption",
                                              "Wh", "interval", "2022-03-01T00:00:00.000Z",
                                              "2022-03-01T00:15:00.000Z", "100.0",
                                              "2022-03-01T00:00:00.001Z", "1646092800000",
                                              "1646093700000"}));
    EXPECT_EQ(r[1][7], "125.5");
}

TEST_F(StoreTest, ViewsHaveTheContractColumns) {
    auto columns = [&](const std::string& view) {
        std::vector<std::string> c;
        for (auto& r : rows("SELECT name FROM pragma_table_info('" + view + "') ORDER BY cid"))
            c.push_back(r[0]);
        return c;
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(columns("readings_v"),
              (V{"source", "meter", "quantity", "unit", "kind", "ts_start", "ts_end", "value",
                 "received_at", "ts_start_ms", "ts_end_ms"}));
    EXPECT_EQ(columns("states_v"), (V{"source", "meter", "key", "value", "ts"}));
    EXPECT_EQ(columns("rejected_v"), (V{"received_at", "source", "topic", "reason", "payload"}));
    EXPECT_EQ(columns("revisions_v"), (V{"source", "meter", "quantity", "ts_start", "ts_end",
                                         "old_value", "new_value", "revised_at"}));
    EXPECT_EQ(columns("consents_v"),
              (V{"source", "usage_point", "state", "granted_at", "expires_at", "job"}));
    EXPECT_EQ(columns("devices_v"),
              (V{"source", "gateway", "device", "product_id", "online", "last_seen"}));
}

TEST_F(StoreTest, ViewTimestampsMatchTheCliFormatterIncludingBeforeEpochAndMillis) {
    // apply() refuses most of these times (check_times); the views format whatever a
    // table holds, so the rows go in directly.
    std::vector<TimeMs> times{0, -1, -1500, kT0 + 7, 4102444799999, 951782400000};
    store.db().exec(
        "INSERT INTO messages (received_at, source, topic, payload_size) VALUES (1, 'tuya', 't', "
        "0)");
    for (std::size_t i = 0; i < times.size(); ++i) {
        store.db().exec(fmt::format("INSERT INTO series (source, meter, quantity, unit, kind) "
                                    "VALUES ('tuya', 'm{}', 'water.volume.index', 'm3', "
                                    "'cumulative')",
                                    i)
                            .c_str());
        store.db().exec(fmt::format("INSERT INTO readings (ts_start, series_id, ts_end, value, "
                                    "received_at, message_id) VALUES ({0}, {1}, {0}, 1, 1, 1)",
                                    times[i], sqlite3_last_insert_rowid(store.db().get()))
                            .c_str());
    }
    for (std::size_t i = 0; i < times.size(); ++i) {
        auto r = rows("SELECT ts_start, ts_end FROM readings_v WHERE meter = 'm" +
                      std::to_string(i) + "'");
        ASSERT_EQ(r.size(), 1u);
        EXPECT_EQ(r[0][0], format_iso_ms(times[i]));
        EXPECT_EQ(r[0][1], format_iso_ms(times[i]));
    }
}

TEST_F(StoreTest, SameKeySameValueIsADuplicateNotStoredAgain) {
    store.apply(
        Batch{message("voltaware", {energy("m1", kT0, 100), energy("m1", kT0 + k15m, 200)})});
    const auto st = store.apply(Batch{
        message("voltaware", {energy("m1", kT0, 100), energy("m1", kT0 + k15m, 200)}, kT0 + 99)});
    EXPECT_EQ(st.readings, 0u);
    EXPECT_EQ(st.duplicates, 2u);
    EXPECT_EQ(count("SELECT count(*) FROM readings"), 2);
    EXPECT_EQ(count("SELECT count(*) FROM revisions"), 0);
    EXPECT_EQ(count("SELECT duplicates FROM source_stats WHERE source = 'voltaware'"), 2);
    EXPECT_EQ(count("SELECT messages FROM source_stats WHERE source = 'voltaware'"), 2);
    // The surviving row still points at the first message.
    EXPECT_EQ(count("SELECT min(message_id) = max(message_id) FROM readings"), 1);
}

TEST_F(StoreTest, DuplicateWithinOneBatchIsCountedOnce) {
    const auto st = store.apply(
        Batch{message("v", {energy("m1", kT0, 1)}), message("v", {energy("m1", kT0, 1)})});
    EXPECT_EQ(st.readings, 1u);
    EXPECT_EQ(st.duplicates, 1u);
}

TEST_F(StoreTest, SameKeyNewValueIsARevisionNewestWinsHistoryKept) {
    store.apply(Batch{message("enedis", {energy("prm", kT0, 100)}, kT0 + 10)});
    const auto first_id = count("SELECT message_id FROM readings");
    const auto st = store.apply(Batch{message("enedis", {energy("prm", kT0, 150)}, kT0 + 20)});
    EXPECT_EQ(st.revisions, 1u);
    EXPECT_EQ(rows("SELECT value FROM readings_v")[0][0], "150.0");
    const auto rev = rows("SELECT * FROM revisions_v");
    ASSERT_EQ(rev.size(), 1u);
    EXPECT_EQ(rev[0],
              (std::vector<std::string>{"enedis", "prm", "electricity.energy.consumption",
                                        "2022-03-01T00:00:00.000Z", "2022-03-01T00:15:00.000Z",
                                        "100.0", "150.0", "2022-03-01T00:00:00.020Z"}));
    const auto ids = rows("SELECT old_message_id, new_message_id FROM revisions")[0];
    EXPECT_EQ(std::stoll(ids[0]), first_id);
    EXPECT_EQ(std::stoll(ids[1]), count("SELECT message_id FROM readings"));
    EXPECT_NE(std::stoll(ids[1]), first_id);
}

TEST_F(StoreTest, InOneBatchTheLaterMessageWinsWhateverTheKeyOrder) {
    // Later timestamps first in the batch: sorting must keep arrival order per key.
    store.apply(Batch{message("e", {energy("p", kT0 + k15m, 1), energy("p", kT0, 10)}),
                      message("e", {energy("p", kT0, 20)})});
    EXPECT_EQ(rows("SELECT value FROM readings_v ORDER BY ts_start")[0][0], "20.0");
    EXPECT_EQ(count("SELECT count(*) FROM revisions"), 1);
}

TEST_F(StoreTest, DedupKeyIncludesSourceMeterQuantityAndBothEnds) {
    store.apply(Batch{message("a", {energy("m", kT0, 1)})});
    const auto st = store.apply(Batch{
        message("b", {energy("m", kT0, 1)}),  // other source
        message("a", {energy("n", kT0, 1)}),  // other meter
        message("a", {Reading{"m", "electricity.energy.production", "Wh", Kind::interval, kT0,
                              kT0 + k15m, 1}}),
        message("a", {Reading{"m", "electricity.energy.consumption", "Wh", Kind::interval, kT0,
                              kT0 + 2 * k15m, 1}}),
    });
    EXPECT_EQ(st.readings, 4u);
    EXPECT_EQ(st.duplicates, 0u);
}

TEST_F(StoreTest, RejectedMessagesKeepReasonAndCappedPayload) {
    StoreOptions o;
    o.max_stored_payload = 10;
    test::TempDir d2;
    auto s2 = Store::open(d2 / "x.db", o);
    const auto st = s2.apply(
        Batch{rejected("voltaware", RejectCode::missing_field, "date", "0123456789ABCDEF")});
    EXPECT_EQ(st.rejected, 1u);
    sql::Stmt q(s2.db(), "SELECT received_at, source, topic, reason, payload FROM rejected_v");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.column_text(0), "2022-03-01T00:00:00.005Z");
    EXPECT_EQ(q.column_text(1), "voltaware");
    EXPECT_EQ(q.column_text(2), "t/bad");
    EXPECT_EQ(q.column_text(3), "missing_field: date");
    EXPECT_EQ(q.column_text(4), "0123456789");
    EXPECT_EQ(s2.db().scalar_int("SELECT payload_size FROM messages"), 16);
    EXPECT_EQ(s2.db().scalar_int("SELECT rejected FROM source_stats"), 1);
}

// A connector that kept only the start of an oversized payload gives the size as received.
TEST_F(StoreTest, ACutPayloadKeepsItsSizeAsReceived) {
    Envelope e = rejected("feed", RejectCode::oversized, "too big", std::string(64, 'x'));
    e.raw.received_size = 100u << 20;
    store.apply(Batch{e});
    EXPECT_EQ(store.db().scalar_int("SELECT payload_size FROM messages"), 100 << 20);
    EXPECT_EQ(store.db().scalar_int("SELECT length(payload) FROM messages"), 64);
}

TEST_F(StoreTest, EveryReadingLinksToItsMessage) {
    store.apply(Batch{message("v", {energy("m", kT0, 1)}, kT0, "payload-1"),
                      message("v", {energy("m", kT0 + k15m, 2)}, kT0, "payload-2")});
    const auto r = rows(
        "SELECT r.value, m.payload, m.source FROM readings r JOIN messages m ON m.id = "
        "r.message_id "
        "ORDER BY r.ts_start");
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0][1], "payload-1");
    EXPECT_EQ(r[1][1], "payload-2");
    EXPECT_EQ(
        count("SELECT count(*) FROM readings WHERE message_id NOT IN (SELECT id FROM messages)"),
        0);
}

TEST_F(StoreTest, UnitOrKindConflictRejectsTheWholeMessage) {
    store.apply(
        Batch{message("g", {Reading{"m", "register.5", "kWh", Kind::instant, kT0, kT0, 1}})});
    const auto st = store.apply(Batch{
        message("g", {Reading{"m", "register.6", "", Kind::instant, kT0, kT0, 1},
                      Reading{"m", "register.5", "Wh", Kind::instant, kT0 + 1, kT0 + 1, 1}})});
    EXPECT_EQ(st.rejected, 1u);
    EXPECT_EQ(st.readings, 0u);
    EXPECT_EQ(count("SELECT count(*) FROM readings"), 1);
    const auto reason = rows("SELECT reason FROM rejected_v")[0][0];
    EXPECT_NE(reason.find("unit_conflict: register.5 of meter m is stored as instant kWh"),
              std::string::npos)
        << reason;
}

TEST_F(StoreTest, NonFiniteValueIsRejectedNotStored) {
    const auto st = store.apply(
        Batch{message("v", {energy("m", kT0, std::numeric_limits<double>::quiet_NaN())})});
    EXPECT_EQ(st.rejected, 1u);
    EXPECT_EQ(count("SELECT count(*) FROM readings"), 0);
}

// Whatever path a message took (a decoder, the Tuya platform, the spool, Enedis), the
// store refuses times no meter can have measured: readings and state events alike.
TEST_F(StoreTest, ImplausibleReadingAndStateTimesAreRejectedWhateverThePath) {
    const TimeMs received = kT0 + 1;
    Envelope t1 = message("tuya", {Reading{"cid", "water.volume.index", "m3", Kind::cumulative,
                                           1000, 1000, 5}});  // a report with t = 1 (seconds)
    Envelope s1971 = message("import", {});
    s1971.result.states = {StateEvent{"w7", "valve_state", "open", 31536000000}};  // 1971-01-01
    Envelope s9999 = message("import", {});
    s9999.result.states = {StateEvent{"w7", "valve_state", "open", 253402214400000}};  // 9999-12-31
    Envelope fine = message("import", {});
    fine.result.states = {StateEvent{"w7", "valve_state", "closed", received + 86400000}};
    // The daemon's own records are not received messages: stamped by its clock, kept.
    Envelope own;
    own.record_only = true;
    own.raw.source = "tuya";
    own.raw.received_at = received;
    own.result.states = {StateEvent{"cid", "stale", "true", received}};

    const auto st = store.apply(Batch{t1, s1971, s9999, fine, own});
    EXPECT_EQ(st.rejected, 3u);
    EXPECT_EQ(st.readings, 0u);
    EXPECT_EQ(st.states, 2u);
    EXPECT_EQ(count("SELECT count(*) FROM readings"), 0);
    EXPECT_EQ(rows("SELECT meter, key, value FROM states_v ORDER BY key"),
              (std::vector<std::vector<std::string>>{{"cid", "stale", "true"},
                                                     {"w7", "valve_state", "closed"}}));
    EXPECT_EQ(
        rows("SELECT source, reason FROM rejected_v ORDER BY rowid"),
        (std::vector<std::vector<std::string>>{
            {"tuya",
             "out_of_range: reading 0 (water.volume.index of meter cid) is at "
             "1970-01-01T00:00:01.000Z, before 1990: seconds read as milliseconds, or a meter "
             "clock never set?"},
            {"import",
             "out_of_range: state event 0 (valve_state of meter w7) is at "
             "1971-01-01T00:00:00.000Z, before 1990: seconds read as milliseconds, or a meter "
             "clock never set?"},
            {"import",
             "out_of_range: state event 0 (valve_state of meter w7) is at "
             "9999-12-31T00:00:00.000Z, more than a day after it was received "
             "(2022-03-01T00:00:00.001Z)"},
        }));
}

TEST_F(StoreTest, StateEventsDedupAndUpdate) {
    Envelope e = message("tuya", {});
    e.result.states = {StateEvent{"cid1", "valve_state", "open", kT0}};
    store.apply(Batch{e});
    auto st = store.apply(Batch{e});
    EXPECT_EQ(st.duplicates, 1u);
    e.result.states[0].value = "close";
    st = store.apply(Batch{e});
    EXPECT_EQ(st.states, 1u);
    const auto r = rows("SELECT * FROM states_v");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0], (std::vector<std::string>{"tuya", "cid1", "valve_state", "close",
                                              "2022-03-01T00:00:00.000Z"}));
}

TEST_F(StoreTest, RetentionClearsOldAcceptedPayloadsButKeepsRejectedAndLineage) {
    StoreOptions o;
    o.raw_retention = std::chrono::hours(1);
    test::TempDir d2;
    auto s = Store::open(d2 / "r.db", o);
    const TimeMs hour = 3600000;
    s.apply(Batch{message("v", {energy("m", kT0, 1)}, kT0, "old"),
                  rejected("v", RejectCode::malformed, "x", "old-bad")});
    s.apply(Batch{message("v", {energy("m", kT0 + k15m, 1)}, kT0 + 3 * hour, "new")});
    EXPECT_EQ(s.prune(kT0 + 3 * hour), 1u);
    EXPECT_EQ(s.db().scalar_int("SELECT count(*) FROM messages WHERE payload IS NULL"), 1);
    sql::Stmt q(s.db(),
                "SELECT CAST(payload AS TEXT) FROM messages WHERE payload IS NOT NULL ORDER BY id");
    std::vector<std::string> kept;
    while (q.step()) kept.emplace_back(q.column_text(0));
    EXPECT_EQ(kept, (std::vector<std::string>{"old-bad", "new"}));
    EXPECT_EQ(
        s.db().scalar_int("SELECT count(*) FROM readings r JOIN messages m ON m.id = r.message_id"),
        2);
    EXPECT_EQ(s.prune(kT0 + 3 * hour), 0u);  // resumes where it stopped
}

TEST_F(StoreTest, ZeroRetentionStoresNoAcceptedPayload) {
    StoreOptions o;
    o.raw_retention = std::chrono::milliseconds(0);
    test::TempDir d2;
    auto s = Store::open(d2 / "z.db", o);
    s.apply(Batch{message("v", {energy("m", kT0, 1)}, kT0, "secret-ish payload")});
    EXPECT_EQ(s.db().scalar_int("SELECT count(*) FROM messages WHERE payload IS NULL"), 1);
    EXPECT_EQ(s.db().scalar_int("SELECT payload_size FROM messages"), 18);
}

TEST_F(StoreTest, ReadOnlyQueryFiltersAndCannotWrite) {
    store.apply(Batch{
        message("v", {energy("m1", kT0, 1), energy("m1", kT0 + k15m, 2), energy("m2", kT0, 3)}),
        message("w", {Reading{"x", "water.volume.index", "m3", Kind::cumulative, kT0, kT0, 9}})});
    auto ro = open_read_only(dir / "db" / "mb.db");
    auto collect = [&](ReadingFilter f) {
        std::vector<std::string> out;
        for_each_reading(ro, f, [&](const ReadingRow& r) {
            out.push_back(r.meter + "@" + format_iso_ms(r.ts_start));
        });
        return out;
    };
    EXPECT_EQ(collect({}).size(), 4u);
    ReadingFilter f;
    f.meter = "m1";
    EXPECT_EQ(collect(f), (std::vector<std::string>{"m1@2022-03-01T00:00:00.000Z",
                                                    "m1@2022-03-01T00:15:00.000Z"}));
    f = {};
    f.from = kT0 + 1;
    EXPECT_EQ(collect(f), (std::vector<std::string>{"m1@2022-03-01T00:15:00.000Z"}));
    f = {};
    f.source = "w";
    f.quantity = "water.volume.index";
    EXPECT_EQ(collect(f).size(), 1u);
    f = {};
    f.to = kT0 + 1;
    f.limit = 2;
    EXPECT_EQ(collect(f).size(), 2u);
    EXPECT_THROW(ro.exec("DELETE FROM readings"), sql::SqliteError);
    EXPECT_EQ(count("SELECT count(*) FROM readings"), 4);
    const auto stats = source_stats(ro);
    ASSERT_EQ(stats.size(), 2u);
    EXPECT_EQ(stats[0].source, "v");
    EXPECT_EQ(stats[0].readings, 3);
}

TEST(StoreBuffers, TheSortBufferOfALargeBatchIsReleasedAfterIt) {
    test::TempDir d;
    StoreOptions o;
    o.kept_rows_capacity = 100;
    auto s = Store::open(d / "b.db", o);
    std::vector<Reading> day;
    for (int i = 0; i < 1000; ++i) day.push_back(energy("m", kT0 + i * k15m, i));
    EXPECT_EQ(s.apply(Batch{message("v", std::move(day), kT0 + 1000 * k15m)}).readings, 1000u);
    EXPECT_LE(s.rows_capacity(), 100u);
    // A batch within the limit keeps its buffer for the next one.
    std::vector<Reading> small;
    for (int i = 0; i < 60; ++i) small.push_back(energy("n", kT0 + i * k15m, i));
    EXPECT_EQ(s.apply(Batch{message("v", std::move(small))}).readings, 60u);
    EXPECT_GE(s.rows_capacity(), 60u);
    EXPECT_LE(s.rows_capacity(), 100u);
}

// Meter ids come from the wire: the series cache must not grow with them. Past
// its size it is emptied and refills from the series table, with the same results.
TEST(StoreSeriesCache, IsBoundedAndRefillsFromTheTable) {
    test::TempDir d;
    StoreOptions o;
    o.series_cache_entries = 4;
    auto s = Store::open(d / "c.db", o);
    for (int round = 0; round < 2; ++round)
        for (int i = 0; i < 10; ++i) {
            const auto st = s.apply(Batch{message("v", {energy(fmt::format("m{}", i), kT0, i)})});
            EXPECT_EQ(round == 0 ? st.readings : st.duplicates, 1u) << round << " " << i;
            EXPECT_LE(s.series_cached(), 4u);
        }
    // A batch of many new series, then one message of two: bounded between messages.
    Batch many;
    for (int i = 0; i < 100; ++i)
        many.push_back(message("w", {energy(fmt::format("n{}", i), kT0, 1)}));
    EXPECT_EQ(s.apply(many).readings, 100u);
    EXPECT_LE(s.series_cached(), 4u);
    EXPECT_EQ(s.db().scalar_int("SELECT count(*) FROM series"), 110);
    // What a refilled entry says about its series still holds: unit conflicts, revisions.
    const auto conflict =
        s.apply(Batch{message("v", {Reading{"m3", "electricity.energy.consumption", "kWh",
                                            Kind::interval, kT0 + k15m, kT0 + 2 * k15m, 1}})});
    EXPECT_EQ(conflict.rejected, 1u);
    EXPECT_EQ(s.apply(Batch{message("v", {energy("m7", kT0, 70)})}).revisions, 1u);
    EXPECT_EQ(s.db().scalar_int("SELECT count(*) FROM series"), 110);
}

TEST_F(StoreTest, InterleavedSeriesEachGetTheirOwnRows) {
    // Series alternate reading by reading and message by message: the remembered
    // last series must never stand in for another one.
    std::vector<Reading> a, b;
    for (int i = 0; i < 6; ++i) {
        a.push_back(energy(i % 2 ? "m1" : "m2", kT0 + i * k15m, i));
        a.push_back(Reading{"m1", "register.7", "", Kind::instant, kT0 + i, kT0 + i, 100.0 + i});
    }
    for (int i = 0; i < 3; ++i) b.push_back(energy("m1", kT0 + (10 + i) * k15m, 10 + i));
    store.apply(Batch{message("s1", a), message("s2", a), message("s1", b)});
    EXPECT_EQ(count("SELECT count(*) FROM readings"), 27);
    EXPECT_EQ(count("SELECT count(*) FROM series"), 6);
    // Every row sits in the series its value says.
    EXPECT_EQ(count("SELECT count(*) FROM readings_v WHERE quantity = 'register.7' AND "
                    "(meter <> 'm1' OR value < 100)"),
              0);
    EXPECT_EQ(count("SELECT count(*) FROM readings_v WHERE quantity <> 'register.7' AND "
                    "(value >= 100 OR (value < 10 AND meter <> "
                    "CASE CAST(value AS INTEGER) % 2 WHEN 1 THEN 'm1' ELSE 'm2' END))"),
              0);
    EXPECT_EQ(count("SELECT count(*) FROM readings_v WHERE value >= 10 AND value < 100"), 3);
    EXPECT_EQ(count("SELECT count(*) FROM readings_v WHERE value >= 10 AND value < 100 AND "
                    "(source <> 's1' OR meter <> 'm1')"),
              0);
}

TEST_F(StoreTest, SeriesCreatedInARolledBackBatchAreCreatedAgain) {
    // A trigger makes the batch fail after its new series were inserted.
    store.db().exec(
        "CREATE TEMP TRIGGER fail_on_666 BEFORE INSERT ON main.readings WHEN NEW.value = 666 "
        "BEGIN SELECT RAISE(ABORT, 'test failure'); END");
    EXPECT_THROW(store.apply(Batch{
                     message("v", {energy("fresh", kT0, 1), energy("fresh", kT0 + k15m, 666)})}),
                 sql::SqliteError);
    EXPECT_EQ(count("SELECT count(*) FROM series"), 0);
    const auto st = store.apply(Batch{message("v", {energy("fresh", kT0, 1)})});
    EXPECT_EQ(st.readings, 1u);
    EXPECT_EQ(count("SELECT count(*) FROM series"), 1);
    EXPECT_EQ(rows("SELECT meter, value FROM readings_v"),
              (std::vector<std::vector<std::string>>{{"fresh", "1.0"}}));
}

TEST(StoreOpen, MissingDatabaseIsAClearErrorForReaders) {
    test::TempDir d;
    try {
        open_read_only(d / "none.db");
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos);
    }
}

TEST(StoreOpen, PageCacheIsTheConfiguredSize) {
    test::TempDir d;
    StoreOptions o;
    o.cache_bytes = 2 * 1024 * 1024;
    auto s = Store::open(d / "c.db", o);
    EXPECT_EQ(s.db().scalar_int("PRAGMA cache_size"), -2048);
}

TEST(StoreOpen, UsesWal) {
    test::TempDir d;
    auto s = Store::open(d / "w.db", StoreOptions{});
    sql::Stmt q(s.db(), "PRAGMA journal_mode");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.column_text(0), "wal");
}

}  // namespace
}  // namespace mb

namespace mb {
namespace {

Envelope with_device(DeviceUpdate d, TimeMs at) {
    Envelope e = message("tuya", {}, at);
    e.devices.push_back(std::move(d));
    return e;
}

TEST_F(StoreTest, DeviceRegistryUpsertsKeepWhatAnUpdateDoesNotCarry) {
    DeviceUpdate sync;
    sync.gateway = "gw-1";
    sync.device = "cid-1";
    sync.seen = kT0;
    sync.synced = true;
    sync.product_id = "pid-1";
    sync.name = "kitchen";
    sync.ip = "192.0.2.7";
    sync.stale_after_ms = 180000;
    store.apply(std::vector<Envelope>{with_device(sync, kT0)});

    DeviceUpdate status;
    status.gateway = "gw-1";
    status.device = "cid-1";
    status.seen = kT0 + 60000;
    status.online = false;
    status.protocol_state = "- - - -";
    store.apply(std::vector<Envelope>{with_device(status, kT0 + 60000)});
    // An older uplink processed later must not move last_seen back.
    status.seen = kT0 + 1000;
    status.online = true;
    status.protocol_state.reset();
    store.apply(std::vector<Envelope>{with_device(status, kT0 + 1000)});

    EXPECT_EQ(rows("SELECT * FROM devices_v"),
              (std::vector<std::vector<std::string>>{
                  {"tuya", "gw-1", "cid-1", "pid-1", "1", "2022-03-01T00:01:00.000Z"}}));
    const auto devices = load_devices(store.db(), std::string("tuya"));
    ASSERT_EQ(devices.size(), 1u);
    EXPECT_EQ(devices[0].name, "kitchen");
    EXPECT_EQ(devices[0].ip, "192.0.2.7");
    EXPECT_EQ(devices[0].first_seen, kT0);
    EXPECT_EQ(devices[0].synced_at, kT0);
    EXPECT_EQ(devices[0].protocol_state, "- - - -");
    EXPECT_TRUE(devices[0].stale_at(kT0 + 60000 + 180001));
    EXPECT_FALSE(devices[0].stale_at(kT0 + 60000 + 180000));
    // Stale is computed at read time: these times are years ago.
    EXPECT_EQ(rows("SELECT stale, synced, name FROM device_registry_v"),
              (std::vector<std::vector<std::string>>{{"1", "1", "kitchen"}}));

    // A new sync replaces the descriptive fields: what it lacks is cleared.
    sync.seen = kT0 + 120000;
    sync.ip.reset();
    sync.product_id = "pid-2";
    store.apply(std::vector<Envelope>{with_device(sync, kT0 + 120000)});
    const auto again = load_devices(store.db());
    EXPECT_EQ(again.at(0).product_id, "pid-2");
    EXPECT_FALSE(again.at(0).ip.has_value());
    EXPECT_EQ(again.at(0).first_seen, kT0);
    EXPECT_EQ(again.at(0).online, true);

    // The device moved to another gateway: this registration is released, the row kept.
    DeviceUpdate released;
    released.gateway = sync.gateway;
    released.device = sync.device;
    released.seen = kT0 + 60000;
    released.released = true;
    store.apply(std::vector<Envelope>{with_device(released, kT0 + 300000)});
    const auto gone = load_devices(store.db());
    ASSERT_EQ(gone.size(), 1u);
    EXPECT_FALSE(gone[0].synced_at.has_value());
    EXPECT_EQ(gone[0].last_seen, kT0 + 120000);
    EXPECT_EQ(gone[0].product_id, "pid-2");
}

TEST_F(StoreTest, CommandRecordsFollowACommandsLife) {
    auto record = [](CommandRecord c) {
        Envelope e;
        e.record_only = true;
        e.raw.source = "tuya";
        e.raw.received_at = c.at;
        e.commands.push_back(std::move(c));
        return e;
    };
    CommandRecord sent;
    sent.step = CommandRecord::Step::sent;
    sent.request_id = "r1";
    sent.at = kT0;
    sent.gateway = "gw-1";
    sent.device = "cid-1";
    sent.code = "valve_state";
    sent.value = "closed";
    sent.dp = 9;
    sent.deadline = kT0 + 10000;
    CommandRecord second = sent;
    second.request_id = "r2";
    store.apply(std::vector<Envelope>{record(sent), record(second)});
    EXPECT_EQ(count("SELECT count(*) FROM messages"), 0);  // records are not messages
    EXPECT_EQ(count("SELECT messages FROM source_stats WHERE source = 'tuya'"), 0);

    CommandRecord answered;
    answered.step = CommandRecord::Step::answered;
    answered.request_id = "r1";
    answered.at = kT0 + 500;
    answered.result_code = 0;
    answered.result_msg = "success";
    CommandRecord timeout;
    timeout.step = CommandRecord::Step::timed_out;
    timeout.request_id = "r2";
    timeout.at = kT0 + 10000;
    timeout.result_code = 2001;
    timeout.result_msg = "device is offline";
    store.apply(std::vector<Envelope>{record(answered), record(timeout)});
    // A late answer keeps the timeout but records the device's word.
    CommandRecord late;
    late.step = CommandRecord::Step::answered;
    late.request_id = "r2";
    late.at = kT0 + 12000;
    late.result_code = 0;
    late.result_msg = "success";
    store.apply(std::vector<Envelope>{record(late)});

    EXPECT_EQ(rows("SELECT request_id, dp, value, outcome, result_code, answered_at FROM "
                   "commands_v ORDER BY request_id"),
              (std::vector<std::vector<std::string>>{
                  {"r1", "valve_state", "closed", "success", "0", "2022-03-01T00:00:00.500Z"},
                  {"r2", "valve_state", "closed", "timeout", "0", "2022-03-01T00:00:12.000Z"}}));
    std::vector<std::string> seen;
    for_each_command(store.db(), std::string("tuya"), 10,
                     [&](const CommandRow& c) { seen.push_back(c.request_id + ":" + c.outcome); });
    EXPECT_EQ(seen, (std::vector<std::string>{"r2:timeout", "r1:success"}));
}

TEST_F(StoreTest, RecordOnlyStatesHaveNoMessage) {
    Envelope e;
    e.record_only = true;
    e.raw.source = "tuya";
    e.raw.received_at = kT0;
    e.result.states.push_back(StateEvent{"cid-1", "stale", "true", kT0});
    const auto st = store.apply(std::vector<Envelope>{e});
    EXPECT_EQ(st.states, 1u);
    EXPECT_EQ(st.messages, 0u);
    EXPECT_EQ(rows("SELECT meter, key, value FROM states_v"),
              (std::vector<std::vector<std::string>>{{"cid-1", "stale", "true"}}));
    EXPECT_EQ(count("SELECT count(*) FROM messages"), 0);
}

}  // namespace
}  // namespace mb

namespace mb {
namespace {

TEST_F(StoreTest, JobRecordsConsentsProgressAndUris) {
    Envelope e;
    e.record_only = true;
    e.raw.source = "enedis";
    e.raw.received_at = kT0;
    JobRunRecord started;
    started.run_key = "r1";
    started.at = kT0;
    started.job = "daily";
    started.command = "get_daily";
    started.usage_point = "22516914714270";
    started.direction = "consumption";
    started.window_start = "2022-01-01";
    started.window_end = "2022-03-01";
    e.job_runs.push_back(started);
    e.consents.push_back(
        ConsentUpdate{"22516914714270", "granted", "consent", kT0, kT0, kT0 + 1000});
    e.progress.push_back(JobProgressUpdate{"daily", "22516914714270", "consumption",
                                           "2022-01-01/2022-03-01", std::nullopt, kT0});
    e.authorize_uris.push_back(
        AuthorizeUriRecord{"consent", "https://x/authorize?duration=P1Y", kT0});
    store.apply(std::vector<Envelope>{e});

    Envelope f = e;
    f.job_runs.clear();
    f.consents.clear();
    f.authorize_uris.clear();
    JobRunRecord finished;
    finished.step = JobRunRecord::Step::finished;
    finished.run_key = "r1";
    finished.at = kT0 + 2000;
    finished.outcome = "no_older_data";
    finished.error = "The requested period cannot be anterior to the meter's last activation date";
    finished.upstream_issuer = "enedis-data-connect";
    finished.upstream_code = "ADAM-ERR0123";
    f.job_runs.push_back(finished);
    f.progress[0].floor = "2022-02-01";
    // A revocation keeps when it was granted.
    f.consents.push_back(ConsentUpdate{"22516914714270", "revoked", "", kT0 + 3000, {}, {}});
    store.apply(std::vector<Envelope>{f});

    EXPECT_EQ(rows("SELECT job, window_start, window_end, outcome, records, upstream_code, "
                   "finished_at FROM job_runs_v"),
              (std::vector<std::vector<std::string>>{{"daily", "2022-01-01", "2022-03-01",
                                                      "no_older_data", "0", "ADAM-ERR0123",
                                                      "2022-03-01T00:00:02.000Z"}}));
    EXPECT_EQ(rows("SELECT usage_point, state, granted_at, expires_at, job FROM consents_v"),
              (std::vector<std::vector<std::string>>{{"22516914714270", "revoked",
                                                      "2022-03-01T00:00:00.000Z",
                                                      "2022-03-01T00:00:01.000Z", "consent"}}));
    EXPECT_EQ(rows("SELECT done, floor FROM job_progress"),
              (std::vector<std::vector<std::string>>{{"2022-01-01/2022-03-01", "2022-02-01"}}));
    EXPECT_EQ(
        rows("SELECT job, uri FROM authorize_uris"),
        (std::vector<std::vector<std::string>>{{"consent", "https://x/authorize?duration=P1Y"}}));
    EXPECT_EQ(count("SELECT count(*) FROM messages"), 0);

    // What the connector loads back at start-up, and what the CLI lists.
    const auto progress = load_job_progress(store.db(), "enedis");
    ASSERT_EQ(progress.size(), 1u);
    EXPECT_EQ(progress[0].floor, "2022-02-01");
    const auto consents = load_consents(store.db(), std::string("enedis"));
    ASSERT_EQ(consents.size(), 1u);
    EXPECT_EQ(consents[0].expires_at, kT0 + 1000);
    EXPECT_EQ(load_authorize_uris(store.db(), std::nullopt).at(0).job, "consent");
    EXPECT_EQ(last_job_runs(store.db(), "enedis"), (std::map<std::string, TimeMs>{{"daily", kT0}}));
    std::vector<std::string> runs;
    for_each_job_run(store.db(), std::string("daily"), 10, [&](const JobRunRow& r) {
        runs.push_back(r.outcome + " " + r.upstream_code + " " + std::to_string(*r.finished_at));
    });
    EXPECT_EQ(runs,
              std::vector<std::string>{"no_older_data ADAM-ERR0123 " + std::to_string(kT0 + 2000)});
}

}  // namespace
}  // namespace mb
