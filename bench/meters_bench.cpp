// meters / gaps / the view at a million readings (BENCHMARKS.md): builds a
// store through Store::apply (so series_stats is kept as the daemon keeps it)
// of `--meters` one-minute Å Insite-like series × `--per-meter` readings, plus
// one Voltaware-like 15-minute series over `--days` days with every tenth day
// missing, then times each question (median of `--reps`) against a baseline
// measured on the same file in the same run: a plain `SELECT count(*) FROM
// readings` (one scan of the table).
//
//   mb_bench_meters [--meters 100] [--per-meter 10000] [--days 100] [--reps 5] [--dir /tmp]
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <vector>

#include "bench/bench_common.h"
#include "storage/meters.h"
#include "storage/store.h"

namespace {

using mb::TimeMs;
constexpr TimeMs kT0 = 1646092800000;  // 2022-03-01T00:00:00Z
constexpr TimeMs kMin = 60'000;
constexpr TimeMs kDay = 1440 * kMin;

double median_ms(int reps, const std::function<void()>& fn) {
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
        const auto start = mb::bench::mono_ns();
        fn();
        t.push_back(static_cast<double>(mb::bench::mono_ns() - start) / 1e6);
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    const mb::bench::Args args(argc, argv);
    const auto meters = args.num("meters", 100), per_meter = args.num("per-meter", 10000),
               days = args.num("days", 100);
    const int reps = static_cast<int>(args.num("reps", 5));
    const std::filesystem::path path = std::filesystem::path(args.str("dir", "/tmp")) /
                                       fmt::format("mb-meters-bench-{}.db", ::getpid());
    std::filesystem::remove(path);

    const auto build_start = mb::bench::mono_ns();
    std::int64_t rows = 0;
    {
        mb::StoreOptions o;
        o.synchronous_full = false;
        auto store = mb::Store::open(path, o);
        // An hour of one meter per message, the meters interleaved as they arrive.
        std::vector<mb::Envelope> batch;
        for (std::int64_t hour = 0; hour * 60 < per_meter; ++hour) {
            for (std::int64_t m = 0; m < meters; ++m) {
                mb::Envelope e;
                const TimeMs start = kT0 + hour * 60 * kMin;
                e.raw = mb::RawMessage{
                    "ainsite", "meters/outbound/c/s/m", "{}", {}, start + 60 * kMin + 2000};
                for (std::int64_t i = 0; i < 60 && hour * 60 + i < per_meter; ++i)
                    e.result.readings.push_back(mb::Reading{
                        fmt::format("meter-{:03}", m), "electricity.energy.consumption.index", "Wh",
                        mb::Kind::cumulative, start + i * kMin, start + i * kMin,
                        static_cast<double>(hour * 60 + i)});
                rows += static_cast<std::int64_t>(e.result.readings.size());
                batch.push_back(std::move(e));
            }
            if (batch.size() >= 200) {
                store.apply(batch);
                batch.clear();
            }
        }
        for (std::int64_t d = 0; d < days; ++d) {
            if (d % 10 == 5) continue;  // a missing day
            mb::Envelope e;
            const TimeMs day = kT0 + d * kDay;
            e.raw =
                mb::RawMessage{"voltaware", "voltaware/readings", "{}", {}, day + kDay + 60'000};
            for (TimeMs t = day; t < day + kDay; t += 15 * kMin)
                e.result.readings.push_back(mb::Reading{"dev-v", "electricity.energy.consumption",
                                                        "Wh", mb::Kind::interval, t, t + 15 * kMin,
                                                        1.0});
            rows += static_cast<std::int64_t>(e.result.readings.size());
            batch.push_back(std::move(e));
        }
        store.apply(batch);
        store.db().exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    const double build_s = static_cast<double>(mb::bench::mono_ns() - build_start) / 1e9;

    auto db = mb::sql::Db::open(path, mb::sql::Db::Mode::read_only);
    const TimeMs now = kT0 + std::max(per_meter * kMin, days * kDay) + kDay;
    const std::map<std::string, mb::StaleRule> rules;
    std::int64_t sink = 0;
    auto scalar = [&](const std::string& q) {
        return [&db, &sink, q] { sink += db.scalar_int(q.c_str()).value_or(0); };
    };
    // One day (the fourth) of one meter.
    const std::string where =
        "source = 'ainsite' AND meter = 'meter-050' AND quantity = "
        "'electricity.energy.consumption.index' AND ";
    const std::string text_query =
        fmt::format("SELECT count(*) FROM readings_v WHERE {}ts_start >= '{}' AND ts_start < '{}'",
                    where, "2022-03-04T00:00:00.000Z", "2022-03-05T00:00:00.000Z");
    const std::string ms_query = fmt::format(
        "SELECT count(*) FROM readings_v WHERE {}ts_start_ms >= {} AND ts_start_ms < {}", where,
        kT0 + 3 * kDay, kT0 + 4 * kDay);

    struct Row {
        std::string what;
        double ms;
    };
    std::vector<Row> out;
    const double base = median_ms(reps, scalar("SELECT count(*) FROM readings"));
    out.push_back({"baseline: SELECT count(*) FROM readings", base});
    out.push_back({"meters (every meter, completeness over P7D)", median_ms(reps, [&] {
                       mb::MetersQuery q;
                       sink += static_cast<std::int64_t>(mb::list_meters(db, q, now, rules).size());
                   })});
    out.push_back(
        {"meters --window P120D (counts every reading in its window)", median_ms(reps, [&] {
             mb::MetersQuery q;
             q.window_ms = 120 * kDay;
             sink += static_cast<std::int64_t>(mb::list_meters(db, q, now, rules).size());
         })});
    out.push_back({"meters --stale", median_ms(reps, [&] {
                       mb::MetersQuery q;
                       q.stale_only = true;
                       sink += static_cast<std::int64_t>(mb::list_meters(db, q, now, rules).size());
                   })});
    out.push_back({"count_stale_meters (the daemon's meters_stale)", median_ms(reps, [&] {
                       sink +=
                           static_cast<std::int64_t>(mb::count_stale_meters(db, now, rules).size());
                   })});
    out.push_back({"gaps --source voltaware (15-min series, missing days)", median_ms(reps, [&] {
                       mb::GapsQuery q;
                       q.source = "voltaware";
                       sink += static_cast<std::int64_t>(mb::find_gaps(db, q).at(0).gaps.size());
                   })});
    out.push_back({"gaps --source ainsite (every reading of 100 meters)", median_ms(reps, [&] {
                       mb::GapsQuery q;
                       q.source = "ainsite";
                       sink += static_cast<std::int64_t>(mb::find_gaps(db, q).size());
                   })});
    out.push_back({"readings_v one meter, one day, on ISO text ts_start (before)",
                   median_ms(reps, scalar(text_query))});
    out.push_back({"readings_v one meter, one day, on ts_start_ms (after)",
                   median_ms(reps, scalar(ms_query))});
    const auto text_rows = db.scalar_int(text_query.c_str()).value_or(-1);
    const auto ms_rows = db.scalar_int(ms_query.c_str()).value_or(-2);
    if (text_rows != ms_rows || text_rows != 1440) {
        fmt::print(stderr, "the two day queries disagree: {} vs {} rows\n", text_rows, ms_rows);
        return 1;
    }

    fmt::print(
        "{} readings ({} meters × {} + a 15-minute series over {} days, every tenth day "
        "missing), built through Store::apply in {:.1f} s; median of {} runs\n\n",
        rows, meters, per_meter, days, build_s, reps);
    fmt::print("| question | ms | × baseline |\n|---|---:|---:|\n");
    for (const Row& r : out) fmt::print("| {} | {:.2f} | {:.3f} |\n", r.what, r.ms, r.ms / base);
    fmt::print("\n(checksum {})\n", sink);
    std::filesystem::remove(path);
    std::filesystem::remove(path.string() + "-wal");
    std::filesystem::remove(path.string() + "-shm");
    return 0;
}
