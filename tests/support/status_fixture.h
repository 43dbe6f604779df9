// A database with what the status page shows, written through the real
// Store::apply: two meters (one with a hostile id), a gap, a rejected
// message, Enedis job runs and a consent. Shared by the page's unit and
// integration tests.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "storage/query.h"
#include "storage/store.h"

namespace mb::test {

struct StatusFixture {
    static constexpr TimeMs kDay0 = 1646092800000;  // 2022-03-01T00:00:00Z
    static constexpr TimeMs k15m = 15 * 60 * 1000;
    static constexpr TimeMs kHour = 60 * 60 * 1000;
    static constexpr TimeMs kDay = 24 * kHour;
    // The page is rendered at this time; its P1D window is day 0.
    static constexpr TimeMs kNow = kDay0 + kDay;
    // m1 has nothing from 06:00 to 08:00 of day 0.
    static constexpr TimeMs kGapFrom = kDay0 + 6 * kHour, kGapTo = kDay0 + 8 * kHour;
    static inline const std::string kEnergy = "electricity.energy.consumption";
    static inline const std::string kIndex = "electricity.energy.consumption.index";
    static inline const std::string kHostile = "<script>alert(\"m\")</script>&'";

    static Envelope message(const std::string& source, const std::string& topic,
                            std::vector<Reading> readings, TimeMs received_at) {
        Envelope e;
        e.raw = RawMessage{source, topic, "{}", {}, received_at};
        e.result.readings = std::move(readings);
        return e;
    }

    static Envelope job_run(const std::string& key, const std::string& job, TimeMs at,
                            const std::string& outcome, std::int64_t records,
                            const std::string& error) {
        auto e = record_only_envelope("enedis", at);
        JobRunRecord s;
        s.run_key = key;
        s.at = at;
        s.job = job;
        s.command = job == "daily" ? "get_daily" : "get_load_curve";
        s.usage_point = "22516914714270";
        s.direction = "consumption";
        s.window_start = "2022-02-28";
        s.window_end = "2022-03-01";
        JobRunRecord f;
        f.step = JobRunRecord::Step::finished;
        f.run_key = key;
        f.at = at + 2000;
        f.outcome = outcome;
        f.records = records;
        f.error = error;
        e.job_runs = {s, f};
        return e;
    }

    // m1's stored readings that start in day 0 (the P1D window at kNow), as the CLI reads them.
    static std::vector<ReadingRow> stored_day(sql::Db& db) {
        std::vector<ReadingRow> out;
        for_each_reading(db,
                         {.source = "voltaware",
                          .meter = "m1",
                          .quantity = kEnergy,
                          .from = kDay0,
                          .to = kNow,
                          .limit = std::nullopt},
                         [&](const ReadingRow& r) { out.push_back(r); });
        return out;
    }

    // Writes everything; returns the batch's counts.
    static ApplyStats fill(Store& store) {
        Batch b;
        // The day before the window: not drawn.
        std::vector<Reading> before;
        for (int i = 0; i < 4; ++i)
            before.push_back({"m1", kEnergy, "Wh", Kind::interval, kDay0 - kDay + i * k15m,
                              kDay0 - kDay + (i + 1) * k15m, 50.0 + i});
        b.push_back(message("voltaware", "voltaware/readings", before, kDay0 - kDay / 2));
        std::vector<Reading> day;
        for (int i = 0; i < 96; ++i) {
            const TimeMs start = kDay0 + i * k15m;
            if (start >= kGapFrom && start < kGapTo) continue;
            // Values that are not short decimals too: they must come back exactly.
            day.push_back({"m1", kEnergy, "Wh", Kind::interval, start, start + k15m,
                           120.0 + 80.0 * std::sin(i / 9.0) + (i % 3) * 0.1});
        }
        b.push_back(message("voltaware", "voltaware/readings", day, kNow - 60000));
        std::vector<Reading> index;
        for (int h = 0; h < 24; ++h)
            index.push_back({kHostile, kIndex, "Wh", Kind::cumulative, kDay0 + h * kHour,
                             kDay0 + h * kHour, 1.5e6 + h * 512.25});
        b.push_back(message("ainsite", "ainsite/" + kHostile, index, kNow - 30000));
        Envelope bad;
        bad.raw = RawMessage{
            "voltaware", "voltaware/readings", "{\"consumptionKwh\": <b>oops", {}, kNow - 20000};
        bad.result = DecodeResult::rejected(RejectCode::malformed, "not valid JSON at <b>");
        b.push_back(bad);
        b.push_back(job_run("r1", "daily", kDay0, "ok", 30, ""));
        b.push_back(job_run("r2", "daily", kDay0 + kHour, "no_consent", 0,
                            "ADAM-DC-0008: no consent <for> this usage point"));
        b.push_back(job_run("r3", "curve", kDay0 + 2 * kHour, "ok", 48, ""));
        auto consent = record_only_envelope("enedis", kDay0);
        consent.consents.push_back(ConsentUpdate{"22516914714270", "granted", "consent", kDay0,
                                                 kDay0 - 10 * kDay, kDay0 + 355 * kDay});
        b.push_back(consent);
        return store.apply(b);
    }
};

}  // namespace mb::test
