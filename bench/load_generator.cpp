// mb_bench_load: publishes a scenario's vendor messages on libmosquitto as
// fast as the broker takes them, waits for every acknowledgement (QoS 1:
// PUBACK, QoS 2: PUBCOMP), then optionally waits until every reading is
// visible in a SQLite database (a read-only connection counting the rows of
// `readings`: the rows, not a log line or a counter, say when it is done).
//
//   mb_bench_load --port P --scenario ainsite|voltaware|mix --messages N
//                 [--meters M] [--base-day D] [--window W] [--client-id ID]
//                 [--topics daemon|other]
//                 [--db FILE [--table readings]] [--timeout SECONDS]
//   mb_bench_load --wait-only --db FILE --expect-rows R [--timeout SECONDS]
//
// Prints one JSON object: counts and CLOCK_MONOTONIC instants (ns) of the
// start of publishing, the last publish, the last acknowledgement and the
// moment the rows were all visible, so that other processes of the run (the
// null subscriber) can be timed against the same start.
#include <mosquitto.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_common.h"
#include "bench/row_counter.h"

namespace {

using mb::bench::mono_ns;
using mb::bench::RowCounter;

struct Publisher {
    std::mutex mu;
    std::condition_variable cv;
    std::uint64_t acked = 0;
    std::atomic<bool> failed{false};
    std::atomic<bool> connected{false};
};

void on_publish(mosquitto*, void* self, int) {
    auto* p = static_cast<Publisher*>(self);
    {
        std::lock_guard lk(p->mu);
        p->acked++;
    }
    p->cv.notify_all();
}

void on_connect(mosquitto*, void* self, int rc) {
    auto* p = static_cast<Publisher*>(self);
    if (rc != 0) p->failed = true;
    p->connected = true;
    p->cv.notify_all();
}

void on_disconnect(mosquitto*, void* self, int rc) {
    auto* p = static_cast<Publisher*>(self);
    if (rc != 0) {
        std::fprintf(stderr, "mb_bench_load: disconnected by the broker (%s)\n",
                     mosquitto_strerror(rc));
        p->failed = true;
    }
    p->cv.notify_all();
}

// Polls until `want` rows; the pause between polls is 10 × the last count's
// duration (≥ 5 ms), so counting costs under ~10 % of one core even on
// millions of rows. Returns the instant the full count was seen, or -1.
std::int64_t wait_rows(RowCounter& rc, std::int64_t want, std::int64_t deadline_ns,
                       std::int64_t& polls, std::int64_t& last) {
    for (;;) {
        const std::int64_t a = mono_ns();
        last = rc.count();
        const std::int64_t b = mono_ns();
        ++polls;
        if (last >= want) return b;
        if (b > deadline_ns) return -1;
        const std::int64_t pause = std::max<std::int64_t>(5'000'000, 10 * (b - a));
        std::this_thread::sleep_for(std::chrono::nanoseconds(pause));
    }
}

int run(const mb::bench::Args& args) {
    const std::string db = args.str("db");
    const std::string table = args.str("table", "readings");
    const std::int64_t timeout_ns = args.num("timeout", 600) * 1'000'000'000;

    if (args.has("wait-only")) {
        if (db.empty()) throw std::runtime_error("--wait-only needs --db");
        const std::int64_t want = args.num("expect-rows", 0);
        const std::int64_t t0 = mono_ns();
        std::unique_ptr<RowCounter> rc;
        while (!rc) {
            try {
                rc = std::make_unique<RowCounter>(db, table);
            } catch (const std::exception&) {
                if (mono_ns() - t0 > timeout_ns) throw;
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
        std::int64_t polls = 0, last = 0;
        const std::int64_t done = wait_rows(*rc, want, t0 + timeout_ns, polls, last);
        std::printf("{\"t0_ns\": %lld, \"t_done_ns\": %lld, \"rows\": %lld, \"polls\": %lld}\n",
                    static_cast<long long>(t0), static_cast<long long>(done),
                    static_cast<long long>(last), static_cast<long long>(polls));
        return done < 0 ? 2 : 0;
    }

    const std::string scenario = args.str("scenario", "ainsite");
    const std::int64_t n = args.num("messages", 10000);
    const std::int64_t meters = args.num("meters", 1000);
    const std::int64_t base_day = args.num("base-day", mb::bench::kDefaultBaseDay);
    const std::uint64_t window = static_cast<std::uint64_t>(args.num("window", 1000));
    const int port = static_cast<int>(args.num("port", 1883));
    const std::string client_id = args.str("client-id", "mb-bench-load");
    const std::string topic_set = args.str("topics", "daemon");
    if (topic_set != "daemon" && topic_set != "other")
        throw std::runtime_error("--topics daemon | other");
    const mb::bench::Topics& topics =
        topic_set == "daemon" ? mb::bench::kDaemonTopics : mb::bench::kOtherTopics;

    // Generated before the clock starts: the publisher's own cost stays out of the figures.
    std::vector<mb::bench::Message> msgs(static_cast<std::size_t>(n));
    std::int64_t readings = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        mb::bench::make_message(scenario, i, meters, base_day, topics,
                                msgs[static_cast<std::size_t>(i)]);
        readings += msgs[static_cast<std::size_t>(i)].readings;
    }

    std::unique_ptr<RowCounter> rc;
    std::int64_t initial_rows = 0;
    if (!db.empty()) {
        rc = std::make_unique<RowCounter>(db, table);
        initial_rows = std::max<std::int64_t>(0, rc->count());
    }

    mosquitto_lib_init();
    Publisher pub;
    mosquitto* m = mosquitto_new(client_id.c_str(), true, &pub);
    if (!m) throw std::runtime_error("mosquitto_new");
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_disconnect_callback_set(m, on_disconnect);
    mosquitto_publish_callback_set(m, on_publish);
    if (int e = mosquitto_connect(m, "127.0.0.1", port, 60); e != MOSQ_ERR_SUCCESS)
        throw std::runtime_error(std::string("connect: ") + mosquitto_strerror(e));
    mosquitto_loop_start(m);
    {
        std::unique_lock lk(pub.mu);
        pub.cv.wait_for(lk, std::chrono::seconds(10), [&] { return pub.connected.load(); });
    }
    if (!pub.connected || pub.failed) throw std::runtime_error("broker refused the connection");

    const std::int64_t t0 = mono_ns();
    for (std::int64_t i = 0; i < n; ++i) {
        {
            // Bounded outstanding: the library queues beyond its own in-flight window
            // (20, kept at the default: mosquitto disconnects QoS 2 publishers that exceed it).
            std::unique_lock lk(pub.mu);
            pub.cv.wait(lk, [&] {
                return pub.failed || static_cast<std::uint64_t>(i) - pub.acked < window;
            });
        }
        if (pub.failed) throw std::runtime_error("publisher failed");
        const auto& msg = msgs[static_cast<std::size_t>(i)];
        int e;
        while ((e = mosquitto_publish(m, nullptr, msg.topic.c_str(),
                                      static_cast<int>(msg.payload.size()), msg.payload.data(),
                                      msg.qos, false)) == MOSQ_ERR_NOMEM)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (e != MOSQ_ERR_SUCCESS)
            throw std::runtime_error(std::string("publish: ") + mosquitto_strerror(e));
    }
    const std::int64_t t_published = mono_ns();
    {
        std::unique_lock lk(pub.mu);
        if (!pub.cv.wait_for(lk, std::chrono::nanoseconds(timeout_ns), [&] {
                return pub.failed || pub.acked >= static_cast<std::uint64_t>(n);
            }))
            throw std::runtime_error("timeout waiting for acknowledgements");
    }
    if (pub.failed) throw std::runtime_error("publisher failed");
    const std::int64_t t_acked = mono_ns();
    msgs.clear();
    msgs.shrink_to_fit();

    std::int64_t t_done = -1, polls = 0, last = 0;
    if (rc) t_done = wait_rows(*rc, initial_rows + readings, t0 + timeout_ns, polls, last);

    mosquitto_disconnect(m);
    mosquitto_loop_stop(m, false);
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();

    std::printf(
        "{\"scenario\": \"%s\", \"messages\": %lld, \"readings\": %lld, \"t0_ns\": %lld, "
        "\"t_published_ns\": %lld, \"t_acked_ns\": %lld, \"t_done_ns\": %lld, "
        "\"rows\": %lld, \"initial_rows\": %lld, \"polls\": %lld}\n",
        scenario.c_str(), static_cast<long long>(n), static_cast<long long>(readings),
        static_cast<long long>(t0), static_cast<long long>(t_published),
        static_cast<long long>(t_acked), static_cast<long long>(t_done),
        static_cast<long long>(last - initial_rows), static_cast<long long>(initial_rows),
        static_cast<long long>(polls));
    if (rc && t_done < 0) {
        std::fprintf(stderr, "mb_bench_load: timeout: %lld of %lld rows visible\n",
                     static_cast<long long>(last - initial_rows), static_cast<long long>(readings));
        return 2;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(mb::bench::Args(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mb_bench_load: %s\n", e.what());
        return 1;
    }
}
