// mb_bench_enedis: Enedis end to end. A real prosody (tests/support/
// prosody_server.h: its own port, CA and users) and the fake DataConnect
// proxy (tests/support/xmpp_responder.h answering get_load_curve for any
// usage point and window with tests/support/quoalise_answers.h), then the
// real meterbridge binary configured with one enedis connector at the
// highest rate limit the configuration allows (5 requests/s, the upstream's)
// and one load-curve job backfilling --days days for --usage-points usage
// points. Measured: the wall time from the daemon's start until every
// expected reading is visible in its database (a read-only connection
// counting `readings`, polled), the calls, the steady call rate against the
// rate limit, the daemon's VmHWM and CPU time.
//
//   mb_bench_enedis --daemon PATH [--usage-points 100] [--days 365]
//                   [--rate-limit 5] [--synchronous full|normal]
//                   [--work-dir DIR] [--timeout SECONDS]
//                   [--extrapolate-usage-points 100] [--extrapolate-days 365]
//                   [--no-ceiling]
//
// The expected count is exact: for each usage point, the half-hours between
// the Paris midnights of the backfilled range (46 or 50 on DST days). The
// range ends at the day the daemon planned with, read from its first request
// (newest window first), so a run that crosses midnight still counts right.
//
// The rate limit bounds the calls (one call in flight at a time, at most
// rate_limit per second), so a year × 100 usage points (≈ 5,300 calls) takes
// ≈ 18 min: the harness runs a smaller size and this tool extrapolates the
// full one from the measured steady rate (labelled so in the output).
//
// Ceiling, in the same run (unless --no-ceiling): decode + store without
// XMPP and without the rate limit — mb::EnedisJobs (the connector's planner
// and answer handling) on a simulated clock, fed the same answers, its
// batches committed by mb::Writer into a fresh database with the daemon's
// defaults, two commits per call like the connector (the job run before the
// call goes out, then the answer). The time to generate the answers is not
// counted.
//
// Prints one JSON object. Exit status 1 when readings are missing after the
// timeout, the daemon dies, or anything else fails.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_common.h"
#include "bench/row_counter.h"
#include "connectors/enedis/enedis_jobs.h"
#include "connectors/enedis/fetch_plan.h"
#include "normalize/enedis/paris_day.h"
#include "storage/clock.h"
#include "storage/store.h"
#include "storage/writer.h"
#include "tests/support/process.h"
#include "tests/support/prosody_server.h"
#include "tests/support/xmpp_responder.h"
#include "tests/support/quoalise_answers.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using mb::bench::mono_ns;

constexpr std::int64_t kWindowDays = 7;  // the upstream's limit per load-curve call

using mb::now_ms;

// The <value> of the form field `var` in a request.
std::string field(const std::string& xml, const std::string& var) {
    auto at = xml.find("'" + var + "'");
    if (at == std::string::npos) at = xml.find("\"" + var + "\"");
    if (at == std::string::npos) return {};
    const auto v = xml.find("<value>", at);
    const auto e = xml.find("</value>", v);
    return v == std::string::npos || e == std::string::npos ? "" : xml.substr(v + 7, e - v - 7);
}

std::string usage_point(std::int64_t k) {
    return fmt::format("{:014}", 25'000'000'000'000 + k);
}

// Half-hours of `days` Paris days ending at the midnight that starts `end`.
std::int64_t half_hours(mb::Day end, std::int64_t days) {
    return (mb::paris_midnight(end) - mb::paris_midnight(end - date::days{days})) / 1'800'000;
}

std::int64_t calls_for(std::int64_t usage_points, std::int64_t days) {
    return usage_points * ((days + kWindowDays - 1) / kWindowDays);
}

// utime + stime of a process, in seconds; -1 when it is gone.
double cpu_seconds(pid_t pid) {
    const std::string stat = mb::test::read_file(fmt::format("/proc/{}/stat", pid));
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) return -1;
    // After "pid (comm)": state is field 3; utime and stime are fields 14 and 15.
    std::size_t pos = paren + 2;
    for (int f = 3; f < 14; ++f) pos = stat.find(' ', pos) + 1;
    char* end = nullptr;
    const double utime = std::strtod(stat.c_str() + pos, &end);
    const double stime = std::strtod(end, nullptr);
    return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::int64_t status_kib(pid_t pid, const std::string& key) {
    const std::string status = mb::test::read_file(fmt::format("/proc/{}/status", pid));
    const auto at = status.find("\n" + key + ":");
    if (at == std::string::npos) return -1;
    return std::strtoll(status.c_str() + at + key.size() + 2, nullptr, 10);
}

// The last `lines` lines of `text`.
std::string tail(const std::string& text, std::size_t lines) {
    std::size_t at = text.size();
    if (at > 0 && text[at - 1] == '\n') --at;
    for (std::size_t n = 0; n < lines; ++n) {
        const auto nl = at == 0 ? std::string::npos : text.rfind('\n', at - 1);
        if (nl == std::string::npos) return text;
        at = nl;
    }
    return text.substr(at + 1);
}

// What the fake proxy saw: the instant each request arrived and its answer was
// ready (CLOCK_MONOTONIC ns), and the day the daemon's first window ends at.
struct ProxyLog {
    std::mutex mu;
    std::vector<std::int64_t> arrived, answered;
    std::optional<mb::Day> first_end;
};

// ---- the ceiling: decode + store in-process, no XMPP, no rate limit -------------------

struct Ceiling {
    std::int64_t calls = 0, readings = 0;
    double seconds = 0, answer_seconds = 0;
};

Ceiling decode_store(const fs::path& db, const std::vector<std::string>& ups, std::int64_t days,
                     double rate_limit, bool synchronous_full) {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
    mb::StoreOptions so;
    so.synchronous_full = synchronous_full;
    mb::Store store = mb::Store::open(db, so);
    mb::Writer writer(store, mb::WriterOptions{});
    writer.start();

    mb::EnedisOptions options;
    options.jid = "bridge@meterbridge.test/meterbridge";
    options.proxy = "proxy@meterbridge.test/proxy";
    options.rate_limit = rate_limit;
    options.publish_minute = 0;
    auto job_options = std::make_shared<mb::EnedisJobOptions>();
    mb::EnedisFetchJob fetch;
    fetch.kind = mb::FetchKind::load_curve;
    fetch.usage_points = ups;
    fetch.directions = {"consumption"};
    fetch.backfill_days = days;
    job_options->fetch = fetch;  // schedule: once
    mb::JobConfig job;
    job.name = "curve";
    job.connector = "enedis";
    job.command = "get_load_curve";
    job.options = job_options;

    // The clock moves to the next instant the rate limit allows, one step per call: the
    // limit never holds a call back.
    mb::TimeMs now = now_ms();
    mb::EnedisJobs jobs("enedis", options, {job}, mb::EnedisState{}, now);
    auto commit = [&](mb::Batch& staged) {
        if (staged.empty()) return;
        const auto outcome = writer.submit(std::move(staged), true).get();
        staged = mb::Batch{};
        if (!outcome.committed) throw std::runtime_error("commit failed: " + outcome.error);
    };
    Ceiling c;
    std::int64_t answer_ns = 0;
    const std::int64_t t0 = mono_ns();
    for (;;) {
        mb::Batch staged;
        auto call = jobs.next(now, staged);
        if (!call) break;
        commit(staged);  // the job run, before the call goes out
        const std::int64_t a = mono_ns();
        const auto& req = *call->data;
        const std::string iq = fmt::format(
            "<iq type='result' from='{}' to='{}' id='{}' xml:lang='fr'>"
            "<command xmlns='http://jabber.org/protocol/commands' node='get_load_curve' "
            "sessionid='s-{}' status='completed'>{}</command></iq>",
            options.proxy, options.jid, call->key, call->key,
            mb::test::curve_quoalise(req.usage_point, mb::Day{req.start_date},
                                     mb::Day{req.end_date}, req.direction));
        answer_ns += mono_ns() - a;
        jobs.on_result(call->key, iq, now, staged);
        commit(staged);
        ++c.calls;
        now = jobs.next_wakeup(now);
    }
    c.seconds = static_cast<double>(mono_ns() - t0 - answer_ns) / 1e9;
    c.answer_seconds = static_cast<double>(answer_ns) / 1e9;
    writer.stop();
    c.readings = static_cast<std::int64_t>(writer.stats().stored.readings);
    return c;
}

// ---- the end-to-end run --------------------------------------------------------------

int run(const mb::bench::Args& args) {
    const std::string daemon_bin = args.str("daemon");
    if (daemon_bin.empty()) throw std::runtime_error("--daemon PATH (the meterbridge binary)");
    const std::int64_t n_ups = args.num("usage-points", 100);
    const std::int64_t days = args.num("days", 365);
    const double rate_limit = std::strtod(args.str("rate-limit", "5").c_str(), nullptr);
    const std::string synchronous = args.str("synchronous", "full");
    const std::int64_t full_ups = args.num("extrapolate-usage-points", 100);
    const std::int64_t full_days = args.num("extrapolate-days", 365);
    if (n_ups < 1 || days < 1) throw std::runtime_error("--usage-points and --days: at least 1");
    if (!(rate_limit > 0 && rate_limit <= 5))
        throw std::runtime_error("--rate-limit: above 0 and at most 5 (the daemon refuses more)");
    if (synchronous != "full" && synchronous != "normal")
        throw std::runtime_error("--synchronous full | normal");
    if (!mb::paris_zone()) throw std::runtime_error("the tz database has no Europe/Paris");
    if (::access("/usr/bin/prosody", X_OK) != 0)
        throw std::runtime_error("/usr/bin/prosody is not installed (scripts/setup.sh)");

    std::optional<mb::test::TempDir> temp;
    fs::path work;
    if (args.has("work-dir")) {
        work = fs::absolute(args.str("work-dir"));
        fs::create_directories(work);
    } else {
        temp.emplace();
        work = temp->path();
    }
    const fs::path db = work / "enedis.db";
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);

    std::vector<std::string> ups;
    for (std::int64_t k = 0; k < n_ups; ++k) ups.push_back(usage_point(k));
    const std::set<std::string> known(ups.begin(), ups.end());
    const std::int64_t expected_calls = calls_for(n_ups, days);
    const std::int64_t timeout_s = args.num(
        "timeout",
        120 + static_cast<std::int64_t>(3.0 * static_cast<double>(expected_calls) / rate_limit));

    // The server, the accounts, the fake proxy.
    fs::remove_all(work / "prosody");
    mb::test::ProsodyServer server(work / "prosody");
    server.add_user("bridge", "bridge-secret");
    server.add_user("proxy", "proxy-secret");
    mb::test::XmppResponderConfig pc;
    pc.jid = server.jid("proxy", "proxy");
    pc.password = "proxy-secret";
    pc.host = server.host();
    pc.port = server.port();
    pc.ca_file = server.ca_file().string();
    ProxyLog plog;  // outlives the proxy's thread
    mb::test::XmppResponder proxy(pc);
    if (!proxy.wait_connected(20s))
        throw std::runtime_error("the fake proxy did not connect to prosody:\n" +
                                 tail(server.log(), 20));
    proxy.on_command("get_load_curve", [&](const std::string& iq) {
        const std::int64_t arrived = mono_ns();
        const std::string up = field(iq, "usage_point_id");
        const std::string direction = field(iq, "direction");
        const auto from = mb::parse_day(field(iq, "start_date"));
        const auto to = mb::parse_day(field(iq, "end_date"));
        if (!from || !to || *from >= *to || !known.count(up) || direction != "consumption")
            return mb::test::XmppReply::error("Invalid request", "enedis-data-connect");
        auto reply = mb::test::XmppReply::result(mb::test::curve_quoalise(up, *from, *to));
        std::lock_guard lk(plog.mu);
        if (!plog.first_end) plog.first_end = *to;
        plog.arrived.push_back(arrived);
        plog.answered.push_back(mono_ns());
        return reply;
    });

    // The daemon's configuration: its defaults, but the rate limit and publication time.
    mb::test::write_file(work / "xmpp.pass", "bridge-secret\n");
    std::string points;
    for (const auto& u : ups) points += (points.empty() ? "\"" : ", \"") + u + "\"";
    const fs::path config = work / "enedis.toml";
    mb::test::write_file(
        config, fmt::format(R"([storage]
path = "{}"
synchronous = "{}"

[log]
level = "info"

[control]
socket = ""

[[connectors]]
name = "enedis"
type = "enedis"
jid = "{}"
password_file = "{}"
proxy = "{}"
server = "{}"
port = {}
ca_file = "{}"
rate_limit = {}
publish_time = "00:00"

[[jobs]]
name = "curve"
connector = "enedis"
command = "get_load_curve"
usage_points = [{}]
directions = ["consumption"]
backfill = "P{}D"
schedule = "once"
)",
                            db.string(), synchronous, server.jid("bridge", "meterbridge"),
                            (work / "xmpp.pass").string(), proxy.jid(), server.host(),
                            server.port(), server.ca_file().string(), rate_limit, points, days));

    const std::int64_t t0 = mono_ns();
    mb::test::Process daemon({daemon_bin, "run", "-c", config.string()}, work);
    auto fail = [&](const std::string& why) -> std::runtime_error {
        return std::runtime_error(why + "\n--- meterbridge's log (tail):\n" +
                                  tail(daemon.stderr_text(), 30) + "--- prosody's log (tail):\n" +
                                  tail(server.log(), 10));
    };

    // Poll the rows until all are there; the expected count is known from the first call.
    std::unique_ptr<mb::bench::RowCounter> counter;
    std::int64_t expected = -1, rows = -1, polls = 0, t_done = -1;
    const std::int64_t deadline = t0 + timeout_s * 1'000'000'000;
    for (;;) {
        if (auto code = daemon.wait(0ms))
            throw fail(
                fmt::format("meterbridge exited ({}) before every reading was stored", *code));
        if (expected < 0) {
            std::lock_guard lk(plog.mu);
            if (plog.first_end) expected = n_ups * half_hours(*plog.first_end, days);
        }
        if (!counter) {
            try {
                counter = std::make_unique<mb::bench::RowCounter>(db.string(), "readings");
            } catch (const std::exception&) {
                // Not created yet.
            }
        }
        const std::int64_t a = mono_ns();
        if (counter) {
            rows = counter->count();
            ++polls;
        }
        const std::int64_t b = mono_ns();
        if (expected >= 0 && rows >= expected) {
            t_done = b;
            break;
        }
        if (b > deadline) {
            std::size_t asked = 0;
            {
                std::lock_guard lk(plog.mu);
                asked = plog.arrived.size();
            }
            throw fail(fmt::format("timeout after {} s: {} of {} readings, {} of {} calls",
                                   timeout_s, rows, expected, asked, expected_calls));
        }
        // The pause is 10 × the last count's duration (≥ 5 ms): counting costs < 10 % of a core.
        std::this_thread::sleep_for(
            std::chrono::nanoseconds(std::max<std::int64_t>(5'000'000, 10 * (b - a))));
    }
    const std::int64_t hwm_kib = status_kib(daemon.pid(), "VmHWM");
    const double cpu = cpu_seconds(daemon.pid());
    daemon.signal(SIGTERM);
    const auto code = daemon.wait(30s);
    if (code != 0)
        throw fail(code ? fmt::format("meterbridge exited with {} on SIGTERM", *code)
                        : "meterbridge did not stop within 30 s of SIGTERM");
    // Nothing more than expected: the count is exact, not a lower bound.
    rows = counter->count();
    if (rows != expected)
        throw fail(fmt::format("{} readings stored, {} expected", rows, expected));

    std::vector<std::int64_t> arrived, answered;
    {
        std::lock_guard lk(plog.mu);
        arrived = plog.arrived;
        answered = plog.answered;
    }
    const auto calls = static_cast<std::int64_t>(arrived.size());
    if (calls < expected_calls)
        throw fail(fmt::format("{} calls seen by the proxy, {} expected", calls, expected_calls));
    const double seconds = static_cast<double>(t_done - t0) / 1e9;
    const double startup_s = static_cast<double>(arrived.front() - t0) / 1e9;
    const double tail_s = static_cast<double>(t_done - arrived.back()) / 1e9;
    // Steady rate: calls between the first and the last request (the rate limit's domain).
    const double span_s = static_cast<double>(arrived.back() - arrived.front()) / 1e9;
    const double calls_s = calls > 1 ? static_cast<double>(calls - 1) / span_s : 0;
    double proxy_ms = 0;
    for (std::size_t i = 0; i < arrived.size(); ++i)
        proxy_ms += static_cast<double>(answered[i] - arrived[i]) / 1e6;
    proxy_ms /= static_cast<double>(calls);
    // The gap between an answer and the next request: the daemon's receive, decode,
    // commits and its wait for the rate limit.
    std::vector<double> gaps;
    for (std::size_t i = 1; i < arrived.size(); ++i)
        gaps.push_back(static_cast<double>(arrived[i] - arrived[i - 1]) / 1e6);
    std::sort(gaps.begin(), gaps.end());
    auto pct = [&](double q) {
        return gaps.empty()
                   ? 0.0
                   : gaps[std::min(gaps.size() - 1,
                                   static_cast<std::size_t>(q * static_cast<double>(gaps.size())))];
    };
    const double gap_max = gaps.empty() ? 0 : gaps.back();
    // Time lost to gaps longer than the rate limit's (what keeps the rate under the limit).
    const double limit_gap_ms = 1000.0 / rate_limit;
    double excess_ms = 0;
    std::int64_t slow = 0;
    for (const double g : gaps) {
        excess_ms += std::max(0.0, g - limit_gap_ms);
        if (g > 1.5 * limit_gap_ms) ++slow;
    }

    const std::int64_t full_calls = calls_for(full_ups, full_days);
    const double full_s =
        calls_s > 0 ? startup_s + static_cast<double>(full_calls - 1) / calls_s + tail_s : 0;

    std::string ceiling_json;
    if (!args.has("no-ceiling")) {
        const Ceiling c =
            decode_store(work / "ceiling.db", ups, days, rate_limit, synchronous == "full");
        if (c.readings != expected || c.calls != expected_calls)
            throw std::runtime_error(
                fmt::format("decode+store ceiling: {} readings in {} calls, {} in {} expected",
                            c.readings, c.calls, expected, expected_calls));
        ceiling_json = fmt::format(
            ", \"ceiling_calls\": {}, \"ceiling_seconds\": {:.4f}, \"ceiling_calls_s\": {:.2f}, "
            "\"ceiling_readings_s\": {:.0f}, \"ceiling_answer_gen_seconds\": {:.4f}",
            c.calls, c.seconds, static_cast<double>(c.calls) / c.seconds,
            static_cast<double>(c.readings) / c.seconds, c.answer_seconds);
    }

    std::printf(
        "%s\n",
        fmt::format(
            "{{\"usage_points\": {}, \"days\": {}, \"rate_limit\": {}, \"synchronous\": \"{}\", "
            "\"calls\": {}, \"expected_calls\": {}, \"readings\": {}, \"seconds\": {:.3f}, "
            "\"startup_seconds\": {:.3f}, \"tail_seconds\": {:.3f}, \"readings_s\": {:.1f}, "
            "\"calls_s\": {:.4f}, \"calls_s_end_to_end\": {:.4f}, \"rate_ratio\": {:.4f}, "
            "\"gap_ms_p50\": {:.1f}, \"gap_ms_p90\": {:.1f}, \"gap_ms_p99\": {:.1f}, "
            "\"gap_ms_max\": {:.1f}, \"gaps_over_1_5x\": {}, \"gap_excess_seconds\": {:.3f}, "
            "\"proxy_answer_ms\": {:.3f}, "
            "\"hwm_kib\": {}, \"cpu_seconds\": {:.3f}, \"cpu_ms_per_call\": {:.3f}, "
            "\"polls\": {}, \"extrapolated_usage_points\": {}, \"extrapolated_days\": {}, "
            "\"extrapolated_calls\": {}, \"extrapolated_readings\": {}, "
            "\"extrapolated_seconds\": {:.1f}{}}}",
            n_ups, days, rate_limit, synchronous, calls, expected_calls, rows, seconds, startup_s,
            tail_s, static_cast<double>(rows) / seconds, calls_s,
            static_cast<double>(calls) / seconds, calls_s / rate_limit, pct(0.5), pct(0.9),
            pct(0.99), gap_max, slow, excess_ms / 1000, proxy_ms, hwm_kib, cpu,
            cpu * 1000 / static_cast<double>(calls), polls, full_ups, full_days, full_calls,
            full_ups * half_hours(*plog.first_end, full_days), full_s, ceiling_json)
            .c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // The fake proxy writes to prosody from its own thread: a server gone away must
    // not kill the tool with SIGPIPE (it blocks it there too).
    ::signal(SIGPIPE, SIG_IGN);
    try {
        return run(mb::bench::Args(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mb_bench_enedis: %s\n", e.what());
        return 1;
    }
}
