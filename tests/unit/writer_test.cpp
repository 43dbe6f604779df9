#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "storage/writer.h"
#include "tests/support/temp_dir.h"

namespace mb {
namespace {

using namespace std::chrono_literals;

constexpr TimeMs kT0 = 1646092800000;  // 2022-03-01T00:00:00Z

// A reading `offset` ms after kT0, received at kT0 (the store refuses implausible times).
Envelope reading_message(const std::string& meter, TimeMs offset, double v = 1) {
    Envelope e;
    e.raw = RawMessage{"src", "topic", "{}", {}, kT0};
    e.result.readings.push_back(Reading{meter, "water.volume.index", "m3", Kind::cumulative,
                                        kT0 + offset, kT0 + offset, v});
    return e;
}

class WriterTest : public ::testing::Test {
  protected:
    Store open(StoreOptions o = {}) { return Store::open(dir / "w.db", o); }
    test::TempDir dir;
};

TEST_F(WriterTest, ConcurrentSubmittersAllCommittedExactlyOnce) {
    auto store = open();
    WriterOptions o;
    o.batch_max_rows = 500;
    Writer w(store, o);
    w.start();
    constexpr int kThreads = 4, kBatches = 50, kPerBatch = 20;
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int b = 0; b < kBatches; ++b) {
                Batch batch;
                for (int i = 0; i < kPerBatch; ++i)
                    batch.push_back(
                        reading_message(fmt::format("m{}", t), (b * kPerBatch + i) * 1000));
                if (!w.submit(std::move(batch)).get().committed) failures++;
            }
        });
    for (auto& t : threads) t.join();
    w.stop();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(store.db().scalar_int("SELECT count(*) FROM readings"),
              kThreads * kBatches * kPerBatch);
    const auto s = w.stats();
    EXPECT_EQ(s.stored.readings, static_cast<std::uint64_t>(kThreads * kBatches * kPerBatch));
    EXPECT_LE(s.transactions, static_cast<std::uint64_t>(kThreads * kBatches));
}

TEST_F(WriterTest, FullQueueBlocksTheSubmitterUntilTheWriterCatchesUp) {
    auto store = open();
    WriterOptions o;
    o.queue_capacity_rows = 10;
    Writer w(store, o);  // not started yet: nothing drains
    auto first = w.submit(Batch{reading_message("a", 1), reading_message("a", 2),
                                reading_message("a", 3)});  // 6 rows
    std::atomic<bool> second_returned{false};
    std::future<CommitOutcome> second;
    std::thread t([&] {
        second = w.submit(
            Batch{reading_message("b", 1), reading_message("b", 2), reading_message("b", 3)});
        second_returned = true;
    });
    std::this_thread::sleep_for(300ms);
    EXPECT_FALSE(second_returned.load()) << "a submit over capacity must block (back-pressure)";
    w.start();
    t.join();
    EXPECT_TRUE(first.get().committed);
    EXPECT_TRUE(second.get().committed);
    w.stop();
    EXPECT_EQ(store.db().scalar_int("SELECT count(*) FROM readings"), 6);
}

TEST_F(WriterTest, OversizedBatchIsAdmittedIntoAnEmptyQueue) {
    auto store = open();
    WriterOptions o;
    o.queue_capacity_rows = 2;
    Writer w(store, o);
    w.start();
    Batch big;
    for (int i = 0; i < 50; ++i) big.push_back(reading_message("m", i));
    EXPECT_TRUE(w.submit(std::move(big)).get().committed);
}

TEST_F(WriterTest, StopCommitsEverythingQueuedEvenWhileLingering) {
    auto store = open();
    WriterOptions o;
    o.batch_max_delay = 10s;  // nobody waits: the writer would linger
    Writer w(store, o);
    w.start();
    std::vector<std::future<CommitOutcome>> futures;
    for (int i = 0; i < 100; ++i)
        futures.push_back(w.submit(Batch{reading_message("m", i)}, /*wait=*/false));
    const auto t0 = std::chrono::steady_clock::now();
    w.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
    for (auto& f : futures) EXPECT_TRUE(f.get().committed);
    EXPECT_EQ(store.db().scalar_int("SELECT count(*) FROM readings"), 100);
    EXPECT_FALSE(w.submit(Batch{reading_message("late", 1)}).get().committed);
}

TEST_F(WriterTest, LockedDatabasePausesIngestionAndResumesWithoutLoss) {
    StoreOptions so;
    so.busy_timeout = 20ms;
    auto store = open(so);
    Writer w(store, WriterOptions{});
    w.start();
    auto other = sql::Db::open(dir / "w.db", sql::Db::Mode::read_write_create);
    other.exec("BEGIN IMMEDIATE");  // an operator holding the write lock
    auto f = w.submit(Batch{reading_message("m", 1), reading_message("m", 2)});
    EXPECT_EQ(f.wait_for(400ms), std::future_status::timeout);
    EXPECT_GT(w.stats().retries, 0u);
    EXPECT_TRUE(w.stats().paused);
    other.exec("COMMIT");
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    EXPECT_TRUE(f.get().committed);
    EXPECT_FALSE(w.stats().paused);
    w.stop();
    EXPECT_EQ(store.db().scalar_int("SELECT count(*) FROM readings"), 2);
}

TEST_F(WriterTest, APoisonMessageIsIsolatedAndStoredAsRejected) {
    auto store = open();
    store.db().exec(
        "CREATE TRIGGER boom BEFORE INSERT ON readings WHEN NEW.value = 666 "
        "BEGIN SELECT RAISE(ABORT, 'boom'); END");
    Writer w(store, WriterOptions{});
    w.start();
    auto f = w.submit(
        Batch{reading_message("m", 1), reading_message("m", 2, 666), reading_message("m", 3)});
    EXPECT_TRUE(f.get().committed);
    w.stop();
    EXPECT_EQ(store.db().scalar_int("SELECT count(*) FROM readings"), 2);
    sql::Stmt q(store.db(), "SELECT reason FROM rejected_v");
    ASSERT_TRUE(q.step());
    EXPECT_NE(std::string(q.column_text(0)).find("storage error"), std::string::npos);
    EXPECT_NE(std::string(q.column_text(0)).find("boom"), std::string::npos);
}

// A connector's own record (a command it is about to send) is no received
// message that could be stored as rejected: if it cannot be stored, the
// batch is not committed, so that what depends on it (the command's
// publication) does not leave. The messages beside it are still stored.
TEST_F(WriterTest, ARecordThatCannotBeStoredFailsTheCommit) {
    auto store = open();
    store.db().exec(
        "CREATE TRIGGER boom BEFORE INSERT ON commands BEGIN SELECT RAISE(ABORT, 'boom'); END");
    Writer w(store, WriterOptions{});
    w.start();
    Envelope record;
    record.record_only = true;
    record.raw = RawMessage{"src", "gw/commands", "", {}, 1};
    CommandRecord c;
    c.request_id = "r-1";
    c.gateway = "gw";
    c.device = "d";
    c.code = "valve_state";
    c.value = "closed";
    record.commands.push_back(c);
    const auto outcome = w.submit(Batch{reading_message("m", 1), record}).get();
    EXPECT_FALSE(outcome.committed);
    EXPECT_NE(outcome.error.find("boom"), std::string::npos) << outcome.error;
    w.stop();
    EXPECT_EQ(store.db().scalar_int("SELECT count(*) FROM readings"), 1);
    EXPECT_EQ(store.db().scalar_int("SELECT count(*) FROM commands"), 0);
}

// Checkpoints are left to the writer (after each commit, mostly on its
// checkpointer thread): the write-ahead log must still be copied back and
// restarted, so that it stays far smaller than what went through it.
TEST_F(WriterTest, TheWriteAheadLogStaysBoundedUnderSustainedWrites) {
    auto store = open();
    Writer w(store, WriterOptions{});
    w.start();
    constexpr int kBatches = 40, kPerBatch = 20;
    const std::string payload(40 * 1024, 'x');  // 32 MB in all, kept (raw_retention)
    for (int b = 0; b < kBatches; ++b) {
        Batch batch;
        for (int i = 0; i < kPerBatch; ++i) {
            Envelope e = reading_message("m", b * kPerBatch + i);
            e.raw.payload = payload;
            batch.push_back(std::move(e));
        }
        ASSERT_TRUE(w.submit(std::move(batch)).get().committed);
    }
    w.stop();
    EXPECT_EQ(store.db().scalar_int("SELECT count(*) FROM messages"), kBatches * kPerBatch);
    const auto wal = std::filesystem::file_size(dir / "w.db-wal");
    EXPECT_LT(wal, 24u << 20) << "the log was not checkpointed";
}

TEST_F(WriterTest, ProgressMovesWhileIdle) {
    auto store = open();
    Writer w(store, WriterOptions{});
    w.start();
    const auto p0 = w.progress();
    std::this_thread::sleep_for(1500ms);
    EXPECT_GT(w.progress(), p0);
}

}  // namespace
}  // namespace mb
