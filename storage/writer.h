// Writer: the single thread that owns the Store, fed by a bounded queue.
//
// Who calls: connector threads call submit(); the daemon's main thread calls
// start(), stop(), and reads stats()/progress() for the watchdog.
// Ownership: the Writer owns its thread and borrows the Store, which must
// outlive it. It also owns a checkpointer: a thread with a second connection
// to the same file that copies the write-ahead log back into the database
// while the writer goes on (Store::checkpoint explains why not in the commit).
//
// Delivery: submit() blocks while the queue holds more than its capacity in
// rows — that is how back-pressure reaches the broker (a blocked connector
// stops reading). The returned future resolves once the batch is committed
// (or definitively failed); acknowledge-after-commit transports wait on it
// before acknowledging. Batches submitted together are committed in one
// transaction (group commit). Transient SQLite errors (busy, full, I/O) do
// not fail a batch: the writer logs, backs off and retries the same
// transaction, so ingestion pauses and resumes. Other errors isolate the
// message that causes them (stored as rejected with the error); a batch fails
// only when a message cannot be stored even so, when a connector's own record
// (record_only) cannot be stored, or when a retry still fails at shutdown.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "storage/envelope.h"
#include "storage/reject_log.h"
#include "storage/store.h"

namespace mb {

struct WriterOptions {
    std::size_t queue_capacity_rows = 20000;
    std::size_t batch_max_rows = 10000;
    // How long to linger for more work when no submitter is waiting on the commit.
    std::chrono::milliseconds batch_max_delay{50};
    std::chrono::milliseconds prune_interval{std::chrono::minutes(1)};
    // At stop(), how long to keep retrying a transiently failing commit.
    std::chrono::milliseconds stop_retry_limit{std::chrono::seconds(10)};
};

struct CommitOutcome {
    bool committed = false;
    std::string error;  // set when !committed
};

// How long commits took: a histogram with fixed bounds (cumulative counts are
// the reader's business).
struct CommitTimes {
    // Upper bounds in seconds; one more bucket (+Inf) after the last.
    static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    2.5};
    std::array<std::uint64_t, kBounds.size() + 1> buckets{};  // not cumulative
    std::uint64_t count = 0;
    double sum_seconds = 0;
    void add(double seconds);
};

struct WriterStats {
    ApplyStats stored;  // totals since start
    // The same, by source, and the rejected by (source, reason code): exactly
    // what was committed, so that they agree with the database's rows.
    std::map<std::string, ApplyStats> per_source;
    std::map<std::pair<std::string, std::string>, std::uint64_t> rejects;
    std::map<std::string, std::int64_t> last_received_ms;  // by source, UTC
    CommitTimes commits;  // each successful Store::apply
    std::uint64_t transactions = 0;
    std::uint64_t retries = 0;
    std::size_t queued_rows = 0;
    // Rows of the largest transaction committed so far: at most batch_max_rows
    // unless a single submitted batch was larger (submitters keep theirs within
    // batch_max_rows(); one message larger than that still commits alone).
    std::size_t largest_transaction_rows = 0;
    bool paused = false;  // retrying after a transient error
};

class Writer {
  public:
    using Clock = std::function<std::int64_t()>;  // UTC ms, for retention

    Writer(Store& store, WriterOptions options, Clock clock = {});
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    ~Writer();

    void start();
    // Commits everything submitted so far, then joins. Idempotent. Later
    // submit() calls fail at once.
    void stop();

    // `wait`: the submitter will block on the result, so commit as soon as
    // the queue is empty instead of lingering for more rows.
    std::future<CommitOutcome> submit(Batch batch, bool wait = true);

    WriterStats stats() const;
    // The most rows one transaction should hold; submitters size their batches by it.
    std::size_t batch_max_rows() const { return options_.batch_max_rows; }
    // Bytes of a rejected payload the store keeps: a submitter need not hold more.
    std::size_t max_stored_payload() const { return store_.options().max_stored_payload; }
    // Increments every time the writer thread goes round its loop, busy or
    // idle (it wakes at least once a second). A value that stops moving means
    // the writer is stuck: the watchdog stops pinging.
    std::uint64_t progress() const { return progress_.load(std::memory_order_relaxed); }

  private:
    struct Pending {
        Batch batch;
        std::size_t rows;
        bool wait;
        std::promise<CommitOutcome> done;
    };

    void run();
    void commit_group(std::deque<Pending>& group);
    // After a commit: has the write-ahead log copied back into the database
    // (by the checkpointer thread, or here when it lags far behind). Logs a
    // failure: the next one retries.
    void checkpoint();
    void checkpoint_loop(sql::Db db);

    Store& store_;
    WriterOptions options_;
    Clock clock_;

    mutable std::mutex mu_;
    std::condition_variable not_empty_;
    std::condition_variable not_full_;
    std::deque<Pending> queue_;
    std::size_t queued_rows_ = 0;
    bool stopping_ = false;
    bool accepting_ = true;
    WriterStats stats_;
    RejectLog reject_log_;  // the writer thread's

    std::atomic<std::uint64_t> progress_{0};
    std::thread thread_;

    // The checkpointer: its own connection and thread, so that copying the
    // write-ahead log back (reads, writes, fsyncs) overlaps the next batches
    // instead of delaying them.
    std::mutex ckpt_mu_;
    std::condition_variable ckpt_cv_;
    bool ckpt_wanted_ = false;
    bool ckpt_stop_ = false;
    std::thread checkpointer_;
};

}  // namespace mb
