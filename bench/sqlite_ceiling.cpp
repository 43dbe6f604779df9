// mb_bench_sqlite: the SQLite ceiling. The readings of a scenario written
// straight into a meterbridge database (Store::open: the same schema, WAL,
// synchronous mode and cache size; the same WITHOUT ROWID primary key, i.e.
// the same dedup key, and its secondary index), with one prepared
// INSERT OR IGNORE per row, rows sorted in key order, in transactions of
// --batch rows. No MQTT, no JSON, no decoding: the physical ceiling for "the
// same rows into the same schema".
//
//   mb_bench_sqlite --db FILE --scenario voltaware|ainsite|mix --messages N
//                   [--meters M] [--base-day D] [--batch 10000]
//                   [--synchronous normal|full] [--with-messages] [--cache-kib K]
//                   [--drop-series-index]
//
// --with-messages also writes what the daemon writes besides the readings:
// one `messages` row per message holding its payload (lineage, kept for
// raw_retention) and the source_stats upsert, in transactions grouped by
// message like Store::apply. It shows what lineage costs, not a ceiling.
//
// Prints one JSON object: rows, transactions, seconds, rows_per_s.
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "bench/bench_common.h"
#include "storage/store.h"

namespace {

using mb::bench::mono_ns;

struct Row {
    std::int64_t ts_start, series_id, ts_end;
    double value;
    std::int64_t message_id;
};

void check(sqlite3* db, int rc, const char* what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
}

struct Stmt {
    sqlite3_stmt* s = nullptr;
    Stmt(sqlite3* db, const char* sql) {
        check(db, sqlite3_prepare_v2(db, sql, -1, &s, nullptr), sql);
    }
    ~Stmt() { sqlite3_finalize(s); }
};

int run(const mb::bench::Args& args) {
    const std::filesystem::path path = args.str("db", "ceiling.db");
    const std::string scenario = args.str("scenario", "voltaware");
    const std::int64_t n = args.num("messages", 1000);
    const std::int64_t meters = args.num("meters", 1000);
    const std::int64_t base_day = args.num("base-day", mb::bench::kDefaultBaseDay);
    const std::size_t batch = static_cast<std::size_t>(args.num("batch", 10000));
    const bool full = args.str("synchronous", "normal") == "full";
    const bool with_messages = args.has("with-messages");
    // arrival (default): messages in the order they are published, each transaction's rows
    // sorted by key (what Store::apply does; the fastest: a transaction touches the secondary
    // index (series_id, ts_start) at few places). global: every row sorted by key first,
    // which scatters each transaction over every series (slower, kept for comparison).
    const bool global_order = args.str("order", "arrival") == "global";
    if (global_order && with_messages)
        throw std::runtime_error("--order global without messages only");

    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
    mb::StoreOptions opt;
    opt.synchronous_full = full;
    mb::Store store = mb::Store::open(path, opt);
    sqlite3* db = store.db().get();
    // --cache-kib: override Store's page cache (StoreOptions::cache_bytes, 4 MiB, the
    // daemon's default [storage] cache_size), to see what another size would cost.
    if (args.has("cache-kib")) {
        const std::string pragma =
            "PRAGMA cache_size = -" + std::to_string(args.num("cache-kib", 4096));
        check(db, sqlite3_exec(db, pragma.c_str(), nullptr, nullptr, nullptr), "cache_size");
    }
    // --drop-series-index: a schema experiment (not the ceiling): what the secondary index
    // readings_by_series (series_id, ts_start) costs per reading.
    if (args.has("drop-series-index"))
        check(db, sqlite3_exec(db, "DROP INDEX readings_by_series", nullptr, nullptr, nullptr),
              "drop index");

    // The rows, exactly as the decoders would produce them, generated before the clock.
    struct Msg {
        std::string source, topic, payload;
        std::size_t first_row, rows;
    };
    std::vector<Msg> msgs;
    std::vector<Row> rows;
    std::vector<std::tuple<std::string, std::string, std::string, std::string>>
        series;  // source, meter, quantity, unit
    std::vector<std::int64_t> series_of_meter(static_cast<std::size_t>(meters), 0);
    auto series_id = [&](std::int64_t meter, bool voltaware) {
        auto& id = series_of_meter[static_cast<std::size_t>(meter)];
        if (id == 0) {
            if (voltaware)
                series.emplace_back("voltaware", mb::bench::voltaware_device(meter),
                                    "electricity.energy.consumption", "Wh");
            else
                series.emplace_back("ainsite", mb::bench::ainsite_meter(meter), "register.12", "");
            id = static_cast<std::int64_t>(series.size());
        }
        return id;
    };
    mb::bench::Message m;
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t meter = i % meters;
        const bool volt =
            scenario == "voltaware" ||
            (scenario == "mix" && mb::bench::mix_kind(meter) == mb::bench::Kind::voltaware);
        const std::int64_t gi = i;  // mix_message() maps message i to the same generator index
        const std::size_t first = rows.size();
        if (volt) {
            const std::int64_t day = base_day + gi / meters;
            const std::int64_t sid = series_id(meter, true);
            for (int r = 0; r < mb::bench::kVoltawareReadings; ++r) {
                const std::int64_t ts = (day * 86400 + r * 900) * 1000;
                rows.push_back(Row{ts, sid, ts + 900'000,
                                   static_cast<double>(mb::bench::voltaware_wh(gi, r)), i + 1});
            }
        } else {
            const std::int64_t ts = (base_day * 86400 + (gi / meters) * 60) * 1000;
            const double v = static_cast<double>(100 + (gi % 900)) +
                             static_cast<double>((gi * 7) % 1000) / 1000.0;
            rows.push_back(Row{ts, series_id(meter, false), ts + 60'000, v, i + 1});
        }
        if (with_messages)
            mb::bench::make_message(scenario, i, meters, base_day, mb::bench::kDaemonTopics, m);
        msgs.push_back(Msg{volt ? "voltaware" : "ainsite", with_messages ? m.topic : "",
                           with_messages ? m.payload : "", first, rows.size() - first});
    }
    if (global_order)
        std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
            return std::tie(a.ts_start, a.series_id, a.ts_end) <
                   std::tie(b.ts_start, b.series_id, b.ts_end);
        });

    Stmt ins_series(db,
                    "INSERT INTO series (id, source, meter, quantity, unit, kind) VALUES "
                    "(?1, ?2, ?3, ?4, ?5, 'interval')");
    Stmt ins(db,
             "INSERT OR IGNORE INTO readings (ts_start, series_id, ts_end, value, received_at, "
             "message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    Stmt ins_msg(db,
                 "INSERT INTO messages (id, received_at, source, topic, content_type, reason, "
                 "payload, payload_size) VALUES (?1, ?2, ?3, ?4, NULL, NULL, ?5, ?6)");
    Stmt stats(db,
               "INSERT INTO source_stats (source, messages, readings, last_received_at) "
               "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (source) DO UPDATE SET "
               "messages = messages + excluded.messages, readings = readings + "
               "excluded.readings, last_received_at = excluded.last_received_at");
    const std::int64_t received_at = 1'700'000'000'000;
    std::uint64_t transactions = 0;
    auto begin = [&] {
        check(db, sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), "begin");
    };
    auto commit = [&] {
        check(db, sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), "commit");
        store.checkpoint();  // as the daemon's writer does after each commit
        ++transactions;
    };
    auto insert_row = [&](const Row& r) {
        sqlite3_reset(ins.s);
        sqlite3_bind_int64(ins.s, 1, r.ts_start);
        sqlite3_bind_int64(ins.s, 2, r.series_id);
        sqlite3_bind_int64(ins.s, 3, r.ts_end);
        sqlite3_bind_double(ins.s, 4, r.value);
        sqlite3_bind_int64(ins.s, 5, received_at);
        sqlite3_bind_int64(ins.s, 6, r.message_id);
        check(db, sqlite3_step(ins.s), "insert reading");
    };

    const std::int64_t t0 = mono_ns();
    begin();
    for (std::size_t k = 0; k < series.size(); ++k) {
        const auto& [src, meter, quantity, unit] = series[k];
        sqlite3_reset(ins_series.s);
        sqlite3_bind_int64(ins_series.s, 1, static_cast<std::int64_t>(k + 1));
        sqlite3_bind_text(ins_series.s, 2, src.c_str(), -1, SQLITE_STATIC);
        sqlite3_bind_text(ins_series.s, 3, meter.c_str(), -1, SQLITE_STATIC);
        sqlite3_bind_text(ins_series.s, 4, quantity.c_str(), -1, SQLITE_STATIC);
        sqlite3_bind_text(ins_series.s, 5, unit.c_str(), -1, SQLITE_STATIC);
        check(db, sqlite3_step(ins_series.s), "insert series");
    }
    if (global_order) {
        std::size_t in_tx = 0;
        for (const Row& r : rows) {
            insert_row(r);
            if (++in_tx == batch) {
                commit();
                begin();
                in_tx = 0;
            }
        }
        commit();
    } else {
        std::vector<Row> chunk;
        std::size_t mi = 0;
        while (mi < msgs.size()) {
            // Whole messages up to --batch rows (messages count as a row, like Envelope::rows()).
            std::size_t weight = 0;
            chunk.clear();
            std::int64_t volt_msgs = 0, volt_rows = 0, ain_msgs = 0, ain_rows = 0;
            while (mi < msgs.size() &&
                   (weight == 0 || weight + (with_messages ? 1 : 0) + msgs[mi].rows <= batch)) {
                const Msg& g = msgs[mi];
                if (with_messages) {
                    sqlite3_reset(ins_msg.s);
                    sqlite3_bind_int64(ins_msg.s, 1, static_cast<std::int64_t>(mi + 1));
                    sqlite3_bind_int64(ins_msg.s, 2, received_at);
                    sqlite3_bind_text(ins_msg.s, 3, g.source.c_str(), -1, SQLITE_STATIC);
                    sqlite3_bind_text(ins_msg.s, 4, g.topic.c_str(), -1, SQLITE_STATIC);
                    sqlite3_bind_blob(ins_msg.s, 5, g.payload.data(),
                                      static_cast<int>(g.payload.size()), SQLITE_STATIC);
                    sqlite3_bind_int64(ins_msg.s, 6, static_cast<std::int64_t>(g.payload.size()));
                    check(db, sqlite3_step(ins_msg.s), "insert message");
                }
                chunk.insert(chunk.end(), rows.begin() + static_cast<std::ptrdiff_t>(g.first_row),
                             rows.begin() + static_cast<std::ptrdiff_t>(g.first_row + g.rows));
                (g.source == "voltaware" ? volt_msgs : ain_msgs)++;
                (g.source == "voltaware" ? volt_rows : ain_rows) +=
                    static_cast<std::int64_t>(g.rows);
                weight += (with_messages ? 1 : 0) + g.rows;
                ++mi;
            }
            std::stable_sort(chunk.begin(), chunk.end(), [](const Row& a, const Row& b) {
                return std::tie(a.ts_start, a.series_id, a.ts_end) <
                       std::tie(b.ts_start, b.series_id, b.ts_end);
            });
            for (const Row& r : chunk) insert_row(r);
            for (auto [src, nm, nr] : {std::tuple{"voltaware", volt_msgs, volt_rows},
                                       std::tuple{"ainsite", ain_msgs, ain_rows}}) {
                if (nm == 0 || !with_messages) continue;
                sqlite3_reset(stats.s);
                sqlite3_bind_text(stats.s, 1, src, -1, SQLITE_STATIC);
                sqlite3_bind_int64(stats.s, 2, nm);
                sqlite3_bind_int64(stats.s, 3, nr);
                sqlite3_bind_int64(stats.s, 4, received_at);
                check(db, sqlite3_step(stats.s), "stats");
            }
            commit();
            if (mi < msgs.size()) begin();
        }
    }
    const std::int64_t t1 = mono_ns();

    sqlite3_stmt* cnt = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM readings", -1, &cnt, nullptr);
    sqlite3_step(cnt);
    const std::int64_t stored = sqlite3_column_int64(cnt, 0);
    sqlite3_finalize(cnt);
    if (stored != static_cast<std::int64_t>(rows.size()))
        throw std::runtime_error("stored " + std::to_string(stored) + " rows of " +
                                 std::to_string(rows.size()));
    const double secs = static_cast<double>(t1 - t0) / 1e9;
    std::printf(
        "{\"scenario\": \"%s\", \"rows\": %zu, \"messages\": %lld, \"transactions\": %llu, "
        "\"seconds\": %.6f, \"rows_per_s\": %.1f, \"with_messages\": %s, \"order\": \"%s\"}\n",
        scenario.c_str(), rows.size(), static_cast<long long>(n),
        static_cast<unsigned long long>(transactions), secs,
        static_cast<double>(rows.size()) / secs, with_messages ? "true" : "false",
        global_order ? "global" : "arrival");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(mb::bench::Args(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mb_bench_sqlite: %s\n", e.what());
        return 1;
    }
}
