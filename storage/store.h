// Store: the SQLite database of meterbridge, seen from its single writer.
//
// Who calls: open() on the main thread at start-up (creates the file, applies
// migrations, sets WAL); afterwards only the writer thread calls apply() and
// prune(). Not thread-safe by design: one writing connection (DESIGN.md §7).
// Errors throw sql::SqliteError; transient() ones mean "retry later, nothing
// was written" (the transaction was rolled back).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "storage/cadence.h"
#include "storage/envelope.h"
#include "storage/sqlite.h"

namespace mb {

struct StoreOptions {
    bool synchronous_full = true;
    // Payloads of accepted messages older than this are cleared (the message
    // row stays for lineage); zero keeps no accepted payload at all.
    std::chrono::milliseconds raw_retention{std::chrono::hours(24 * 30)};
    std::size_t max_stored_payload = 64 * 1024;  // rejected payloads are capped to this
    // How long a commit waits for an operator's write lock before it counts as busy.
    std::chrono::milliseconds busy_timeout{5000};
    // SQLite's page cache of the writing connection. 4 MiB ingests as fast as
    // 8 or 16 MiB here (BENCHMARKS.md) and is most of what the daemon's memory
    // depends on besides the batches in flight.
    std::size_t cache_bytes = 4 * 1024 * 1024;
    // Readings of one apply() whose buffer is kept for the next call; a larger
    // batch's buffer is released after it (the daemon: 2 × batch_max_rows).
    std::size_t kept_rows_capacity = 20000;
    // Series (source, meter, quantity) whose id and unit are kept in memory,
    // about 300 bytes each: once this many are held, the cache is emptied before
    // the next message and refills from the series table (an indexed lookup per
    // series). Meter ids come from the wire; this keeps invented ones from
    // growing the daemon without end, and is twice the 10,000 meters of the
    // benchmarks, whose lookups all hit.
    std::size_t series_cache_entries = 32768;
};

// What one apply() did, per source and in total.
struct ApplyStats {
    std::uint64_t messages = 0;
    std::uint64_t readings = 0;    // new rows
    std::uint64_t duplicates = 0;  // same key, same value
    std::uint64_t revisions = 0;   // same key, new value
    std::uint64_t rejected = 0;
    std::uint64_t states = 0;

    ApplyStats& operator+=(const ApplyStats& o) {
        messages += o.messages;
        readings += o.readings;
        duplicates += o.duplicates;
        revisions += o.revisions;
        rejected += o.rejected;
        states += o.states;
        return *this;
    }
};

// What one apply() stored, by source, for the daemon's counters: only filled
// once the transaction committed.
struct ApplyDetail {
    std::vector<std::pair<std::string, ApplyStats>> per_source;
    // The latest receipt time (UTC ms) of a message by source; absent: none.
    std::vector<std::pair<std::string, std::int64_t>> last_received;
    struct Rejects {
        std::string source;
        std::string code;  // the stored reason's code (reason_code()), a bounded set
        std::uint64_t count = 0;
        std::string example;  // the first such message's whole reason
        std::string topic;    // …and its topic
    };
    std::vector<Rejects> rejects;  // by (source, code), in order of first occurrence
};

// The code a stored rejection reason starts with ("missing_field" of
// "missing_field: electricReadings[3]"): the text before the first ':'.
std::string_view reason_code(std::string_view reason);

class Store {
  public:
    static Store open(const std::filesystem::path& path, StoreOptions options);

    // Writes every envelope in one transaction. Each series a batch touches has
    // its freshness (series_stats: first/last reading, last received, count,
    // learned cadence and arrival interval) updated once, in that
    // transaction; older readings, duplicates and revisions never move it
    // backwards. Readings are written in key
    // order (appends), but for equal keys in arrival order so the newest
    // value wins. A message whose readings conflict with a stored series
    // (other unit or kind) or carry a non-finite value, or whose readings or
    // state events break the reading-time rule (check_times, model.h), is
    // stored as rejected. Record-only envelopes are the daemon's own facts,
    // stamped by its clock: not checked.
    // `detail`, when given, is replaced by this batch's breakdown.
    ApplyStats apply(std::span<const Envelope> batch, ApplyDetail* detail = nullptr);

    const StoreOptions& options() const { return options_; }

    // Clears accepted payloads older than the retention. Bounded work per call.
    // Returns how many payloads were cleared.
    std::uint64_t prune(std::int64_t now_ms, std::size_t max_messages = 20000);

    // Copies the write-ahead log back into the database (a passive checkpoint)
    // once it holds kCheckpointPages pages. SQLite's automatic checkpoint would
    // run inside the commit that crosses the threshold, so whoever waits on that
    // commit (a connector, before it acknowledges) would wait for the
    // checkpoint and its fsyncs too; the writer calls this after it has
    // reported the commit instead. Whoever writes through db() calls it after
    // committing. Throws sql::SqliteError.
    void checkpoint();
    static constexpr int kCheckpointPages = 1000;  // SQLite's default wal_autocheckpoint
    // Pages in the write-ahead log after the last commit.
    int wal_pages() const { return *wal_pages_; }

    sql::Db& db() { return db_; }
    // Readings the reused sort buffer holds room for (at most kept_rows_capacity between calls).
    std::size_t rows_capacity() const { return rows_.capacity(); }
    // Series in the cache (at most series_cache_entries between messages).
    std::size_t series_cached() const { return series_cache_.size(); }

  private:
    struct SeriesInfo {
        std::int64_t id;
        std::string unit;
        Kind kind;
    };
    struct Row {
        std::int64_t ts_start, series_id, ts_end;
        double value;
        std::int64_t received_at, message_id;
        std::uint32_t source_index;
    };
    struct SeriesKey {
        std::string source, meter, quantity;
    };
    // A SeriesKey made of the reading's own strings: looked up without copying them.
    struct SeriesKeyView {
        std::string_view source, meter, quantity;
    };
    struct SeriesKeyHash {
        using is_transparent = void;
        std::size_t operator()(const SeriesKeyView& k) const;
        std::size_t operator()(const SeriesKey& k) const {
            return (*this)(SeriesKeyView{k.source, k.meter, k.quantity});
        }
    };
    struct SeriesKeyEq {
        using is_transparent = void;
        static SeriesKeyView view(const SeriesKey& k) { return {k.source, k.meter, k.quantity}; }
        static SeriesKeyView view(const SeriesKeyView& k) { return k; }
        template <class A, class B>
        bool operator()(const A& a, const B& b) const {
            const SeriesKeyView x = view(a), y = view(b);
            return x.source == y.source && x.meter == y.meter && x.quantity == y.quantity;
        }
    };
    using SeriesCache = std::unordered_map<SeriesKey, SeriesInfo, SeriesKeyHash, SeriesKeyEq>;
    // A series_stats row, as stored or as this batch moves it.
    struct Freshness {
        std::int64_t first_ts = 0, last_ts = 0, last_received = 0, readings = 0;
        IntervalRing steps, arrivals;
        bool stored = false;  // the row exists (else: a series new to series_stats)
    };
    // What one batch saw of one series, folded into its Freshness once at the end.
    struct BatchSeries {
        Freshness* fresh = nullptr;
        std::int64_t prev_ts = 0;  // the latest reading time seen so far in this batch
        std::int64_t new_rows = 0;
        std::array<std::int64_t, 8> received{};  // distinct receive times, in this batch
        std::size_t n_received = 0;
        std::int64_t min_ts = 0, max_ts = 0;
    };
    Freshness& freshness(std::int64_t series_id);
    void save_freshness(std::span<const std::pair<std::int64_t, BatchSeries>> touched);

    Store(sql::Db db, StoreOptions options);
    void prepare();
    // nullopt: the reading cannot join its series; `why` says so.
    const SeriesInfo* lookup_series(const std::string& source, const Reading& r, std::string& why);
    std::int64_t create_series(const std::string& source, const Reading& r);
    std::int64_t insert_message(const RawMessage& m, const std::string* reason);
    void write_state(const std::string& source, const StateEvent& e, std::int64_t message_id,
                     TimeMs received_at, ApplyStats& st);
    void write_device(const std::string& source, const DeviceUpdate& d);
    void write_command(const std::string& source, const CommandRecord& c);
    void write_job_records(const std::string& source, const Envelope& env);

    sql::Db db_;
    StoreOptions options_;
    // Pages in the write-ahead log after the last commit (set by SQLite's WAL hook;
    // on the heap so that its address survives moving the Store).
    std::unique_ptr<int> wal_pages_ = std::make_unique<int>(0);
    SeriesCache series_cache_;
    // The entry of the last lookup (a day's readings share one series); nodes are stable.
    const SeriesCache::value_type* last_series_ = nullptr;
    std::vector<Row> rows_;                 // reused across apply() calls
    std::vector<const SeriesInfo*> infos_;  // per reading of one message, reused
    // series_stats rows by series id, loaded on first touch; emptied with the
    // series cache (same bound) and after a failed transaction.
    std::unordered_map<std::int64_t, Freshness> freshness_;
    std::vector<std::pair<std::int64_t, BatchSeries>> touched_;    // reused across apply() calls
    std::unordered_map<std::int64_t, std::size_t> touched_index_;  // series id → touched_ index

    sql::Stmt insert_message_, find_series_, insert_series_, insert_reading_, find_reading_,
        update_reading_, insert_revision_, upsert_state_, find_state_, upsert_stats_, prune_,
        max_message_id_, first_young_, get_maint_, set_maint_, upsert_device_, insert_command_,
        answer_command_, close_command_, upsert_consent_, insert_run_, finish_run_,
        upsert_progress_, upsert_uri_, find_freshness_, insert_freshness_, update_freshness_;
};

}  // namespace mb
