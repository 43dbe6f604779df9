#include "storage/writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "storage/clock.h"

namespace mb {

void CommitTimes::add(double seconds) {
    std::size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    buckets[i]++;
    count++;
    sum_seconds += seconds;
}

Writer::Writer(Store& store, WriterOptions options, Clock clock)
    : store_(store), options_(options), clock_(clock ? std::move(clock) : Clock(now_ms)) {}

Writer::~Writer() {
    stop();
}

void Writer::start() {
    if (thread_.joinable()) return;
    // The checkpointer first: the writer thread looks at it.
    const char* file = sqlite3_db_filename(store_.db().get(), "main");
    if (file && *file) {  // else a temporary database: the writer checkpoints itself
        try {
            auto db = sql::Db::open(file, sql::Db::Mode::read_write_create);
            db.exec("PRAGMA cache_size = -64");  // it copies pages, it does not look them up
            checkpointer_ =
                std::thread([this, d = std::move(db)]() mutable { checkpoint_loop(std::move(d)); });
        } catch (const std::exception& e) {
            spdlog::warn("storage: no checkpointer connection ({}); the writer checkpoints itself",
                         e.what());
        }
    }
    thread_ = std::thread([this] { run(); });
}

void Writer::stop() {
    {
        std::lock_guard lk(mu_);
        accepting_ = false;
        stopping_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
    if (thread_.joinable()) thread_.join();
    {
        std::lock_guard lk(ckpt_mu_);
        ckpt_stop_ = true;
    }
    ckpt_cv_.notify_all();
    if (checkpointer_.joinable()) checkpointer_.join();
    // Never started, or something slipped past: fail what is left so nobody waits forever.
    std::lock_guard lk(mu_);
    for (auto& p : queue_) p.done.set_value(CommitOutcome{false, "writer stopped"});
    queue_.clear();
    queued_rows_ = 0;
}

std::future<CommitOutcome> Writer::submit(Batch batch, bool wait) {
    std::size_t rows = 0;
    for (const auto& e : batch) rows += e.rows();
    std::promise<CommitOutcome> done;
    auto fut = done.get_future();
    std::unique_lock lk(mu_);
    // Admit an oversized batch into an empty queue, else it could never enter.
    not_full_.wait(lk, [&] {
        return !accepting_ || queued_rows_ == 0 ||
               queued_rows_ + rows <= options_.queue_capacity_rows;
    });
    if (!accepting_) {
        done.set_value(CommitOutcome{false, "writer stopped"});
        return fut;
    }
    queued_rows_ += rows;
    queue_.push_back(Pending{std::move(batch), rows, wait, std::move(done)});
    lk.unlock();
    not_empty_.notify_one();
    return fut;
}

WriterStats Writer::stats() const {
    std::lock_guard lk(mu_);
    WriterStats s = stats_;
    s.queued_rows = queued_rows_;
    return s;
}

void Writer::run() {
    using namespace std::chrono;
    auto last_prune = steady_clock::now();
    std::deque<Pending> group;
    for (;;) {
        progress_.fetch_add(1, std::memory_order_relaxed);
        reject_log_.flush();
        std::unique_lock lk(mu_);
        not_empty_.wait_for(lk, seconds(1), [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) {
            if (stopping_) {
                reject_log_.flush(true);
                return;
            }
            lk.unlock();
            if (steady_clock::now() - last_prune >= options_.prune_interval) {
                last_prune = steady_clock::now();
                try {
                    if (const auto n = store_.prune(clock_()); n > 0)
                        spdlog::debug("storage: cleared {} payloads past retention", n);
                } catch (const std::exception& e) {
                    spdlog::warn("storage: payload retention pass failed: {}", e.what());
                }
                checkpoint();
            }
            continue;
        }

        // Gather a group: as much as fits in one transaction; linger for more
        // only while nobody blocks on the outcome.
        std::size_t rows = 0;
        bool someone_waits = false;
        const auto deadline = steady_clock::now() + options_.batch_max_delay;
        for (;;) {
            while (!queue_.empty() &&
                   (group.empty() || rows + queue_.front().rows <= options_.batch_max_rows)) {
                rows += queue_.front().rows;
                someone_waits = someone_waits || queue_.front().wait;
                queued_rows_ -= queue_.front().rows;
                group.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            not_full_.notify_all();
            if (rows >= options_.batch_max_rows || !queue_.empty() || someone_waits || stopping_)
                break;
            if (!not_empty_.wait_until(lk, deadline, [&] { return stopping_ || !queue_.empty(); }))
                break;
        }
        lk.unlock();
        commit_group(group);
        group.clear();
        // After the submitters were told: they acknowledge and read on meanwhile.
        checkpoint();
    }
}

void Writer::checkpoint() {
    const int pages = store_.wal_pages();
    if (pages < Store::kCheckpointPages) return;
    // Past this the checkpointer is not keeping up (or the log never restarts because
    // it never catches up): checkpoint here, between commits, so the log stays bounded.
    constexpr int kLagPages = 4 * Store::kCheckpointPages;
    if (checkpointer_.joinable() && pages < kLagPages) {
        {
            std::lock_guard lk(ckpt_mu_);
            ckpt_wanted_ = true;
        }
        ckpt_cv_.notify_one();
        return;
    }
    try {
        store_.checkpoint();
    } catch (const std::exception& e) {
        spdlog::warn("storage: checkpoint failed: {}", e.what());
    }
}

void Writer::checkpoint_loop(sql::Db db) {
    for (;;) {
        {
            std::unique_lock lk(ckpt_mu_);
            ckpt_cv_.wait(lk, [&] { return ckpt_wanted_ || ckpt_stop_; });
            if (ckpt_stop_) return;
            ckpt_wanted_ = false;
        }
        // Passive: never waits for the writer or readers; what it cannot copy yet, the
        // next one does.
        const int rc = sqlite3_wal_checkpoint_v2(db.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                                 nullptr, nullptr);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            spdlog::warn("storage: checkpoint failed: {}", sqlite3_errmsg(db.get()));
    }
}

void Writer::commit_group(std::deque<Pending>& group) {
    using namespace std::chrono;
    std::size_t group_rows = 0;
    for (const auto& p : group) group_rows += p.rows;
    // One submitter's batch is committed as it is; several are merged.
    Batch merged_batches;
    if (group.size() > 1) {
        std::size_t messages = 0;
        for (const auto& p : group) messages += p.batch.size();
        merged_batches.reserve(messages);
        for (auto& p : group)
            for (auto& e : p.batch) merged_batches.push_back(std::move(e));
    }
    Batch& merged = group.size() > 1 ? merged_batches : group.front().batch;

    ApplyDetail detail;
    // Stores `batch` in one transaction and counts what it committed.
    auto apply = [&](std::span<const Envelope> batch, std::size_t rows) {
        const auto t0 = steady_clock::now();
        const ApplyStats st = store_.apply(batch, &detail);
        const double seconds = duration<double>(steady_clock::now() - t0).count();
        for (const auto& r : detail.rejects) reject_log_.add(r);
        std::lock_guard lk(mu_);
        stats_.transactions++;
        stats_.stored += st;
        stats_.largest_transaction_rows = std::max(stats_.largest_transaction_rows, rows);
        stats_.commits.add(seconds);
        for (const auto& [source, s] : detail.per_source) stats_.per_source[source] += s;
        for (const auto& r : detail.rejects) stats_.rejects[{r.source, r.code}] += r.count;
        for (const auto& [source, t] : detail.last_received) {
            auto& last = stats_.last_received_ms[source];
            last = std::max(last, t);
        }
    };
    auto finish = [&](const CommitOutcome& outcome) {
        for (auto& p : group) p.done.set_value(outcome);
    };

    auto backoff = milliseconds(100);
    std::uint64_t attempts = 0;
    steady_clock::time_point stop_seen{};
    for (;;) {
        try {
            apply(merged, group_rows);
            if (attempts > 0) {
                spdlog::info("storage: commit succeeded after {} retries; ingestion resumed",
                             attempts);
                std::lock_guard lk(mu_);
                stats_.paused = false;
            }
            finish(CommitOutcome{true, {}});
            return;
        } catch (const sql::SqliteError& e) {
            if (!e.transient()) {
                spdlog::error("storage: commit failed: {}; isolating the offending message",
                              e.what());
                break;
            }
            bool stopping;
            {
                std::lock_guard lk(mu_);
                stats_.retries++;
                stats_.paused = true;
                stopping = stopping_;
            }
            if (attempts == 0 || attempts % 20 == 0)
                spdlog::warn(
                    "storage: commit of {} messages failed ({}); ingestion paused, retrying",
                    merged.size(), e.what());
            ++attempts;
            if (stopping) {
                if (stop_seen == steady_clock::time_point{}) stop_seen = steady_clock::now();
                if (steady_clock::now() - stop_seen > options_.stop_retry_limit) {
                    spdlog::error(
                        "storage: giving up on {} uncommitted messages at shutdown; "
                        "they were not acknowledged and will be redelivered",
                        merged.size());
                    finish(CommitOutcome{false, e.what()});
                    return;
                }
            }
            progress_.fetch_add(1, std::memory_order_relaxed);  // a deliberate pause, not a hang
            std::this_thread::sleep_for(backoff);
            backoff = std::min<milliseconds>(backoff * 2, seconds(5));
        } catch (const std::exception& e) {
            spdlog::error("storage: commit failed: {}; isolating the offending message", e.what());
            break;
        }
    }

    // A non-transient failure: commit message by message so one bad message
    // cannot block the others; a message that cannot be stored as it is gets
    // stored as rejected with the storage error as its reason. Each submitter
    // learns whether its own batch was stored whole (merging kept their order).
    std::vector<std::string> errors(group.size());
    std::size_t owner = 0, owner_end = group.front().batch.size();
    std::string last_error;
    for (std::size_t i = 0; i < merged.size(); ++i) {
        while (i >= owner_end) owner_end += group[++owner].batch.size();
        Envelope& env = merged[i];
        try {
            apply(std::span<const Envelope>(&env, 1), env.rows());
            continue;
        } catch (const std::exception& e) {
            last_error = e.what();
        }
        if (env.record_only) {
            // A connector's own record (a command about to be sent, a device gone stale)
            // is not a received message: there is nothing to store as rejected. The batch
            // is not committed then, so that what depends on the record (the command's
            // publication) does not leave.
            spdlog::error("storage: cannot store a record of {}: {}", env.raw.source, last_error);
            errors[owner] = last_error;
            continue;
        }
        Envelope as_rejected;
        as_rejected.raw = env.raw;
        as_rejected.result =
            DecodeResult::rejected(RejectCode::invalid_value, "storage error: " + last_error);
        try {
            apply(std::span<const Envelope>(&as_rejected, 1), as_rejected.rows());
        } catch (const std::exception& e) {
            spdlog::error("storage: cannot store message from {} ({}): {}", env.raw.source,
                          env.raw.topic, e.what());
            errors[owner] = e.what();
        }
    }
    for (std::size_t g = 0; g < group.size(); ++g)
        group[g].done.set_value(errors[g].empty() ? CommitOutcome{true, {}}
                                                  : CommitOutcome{false, errors[g]});
}

}  // namespace mb
