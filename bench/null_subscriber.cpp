// mb_bench_nullsub: the broker ceiling. A subscriber that does nothing but
// count the messages, at the QoS meterbridge subscribes with (1, also for
// QoS 2 publishers). Three clients, chosen with --client:
//   raw          (default) a minimal MQTT 3.1.1 client on a plain socket: reads
//                whatever the socket holds into one buffer, answers every
//                PUBLISH of the buffer with one send() of all the PUBACKs. It
//                costs the least CPU per message, so it measures the broker
//                (and the shared cores), not itself: the ceiling.
//   batched      libmosquitto driven like meterbridge drives it (threaded
//                mode, own poll loop, mosquitto_loop_read until the socket
//                is empty, then mosquitto_loop_write): meterbridge's MQTT path
//                minus decoding and storage.
//   libmosquitto libmosquitto's own network thread (mosquitto_loop_start), the
//                ack leaving before the callback: what a simple client does.
//
//   mb_bench_nullsub --port P --topics T1,T2 --count N [--qos 1]
//                    [--client raw|batched|libmosquitto] [--timeout S]
//
// Prints "ready" once the broker granted the subscriptions (the harness starts
// the load generator then), and at the end one JSON object with the
// CLOCK_MONOTONIC instants of the first and the last message.
#include <arpa/inet.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "bench/bench_common.h"

namespace {

using mb::bench::mono_ns;

struct Counts {
    std::uint64_t want = 0;
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;
    std::int64_t t_first = -1, t_last = -1;

    // true when the last wanted message arrived
    bool add(std::size_t payload_bytes) {
        const std::int64_t now = mono_ns();
        if (count == 0) t_first = now;
        count++;
        bytes += payload_bytes;
        if (count == want) {
            t_last = now;
            return true;
        }
        return false;
    }
};

void ready() {
    std::printf("ready\n");
    std::fflush(stdout);
}

// ---- raw MQTT 3.1.1 ---------------------------------------------------------------------------

void put_len(std::string& out, std::size_t n) {
    do {
        unsigned char b = static_cast<unsigned char>(n % 128);
        n /= 128;
        if (n > 0) b |= 0x80;
        out.push_back(static_cast<char>(b));
    } while (n > 0);
}

void put_str(std::string& out, std::string_view s) {
    out.push_back(static_cast<char>(s.size() >> 8));
    out.push_back(static_cast<char>(s.size() & 0xff));
    out += s;
}

void send_all(int fd, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
        const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("send: ") + std::strerror(errno));
        }
        off += static_cast<std::size_t>(n);
    }
}

bool run_raw(int port, const std::string& client_id, const std::vector<std::string>& topics,
             int qos, bool nodelay, Counts& c, std::chrono::seconds timeout) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
    if (nodelay) {
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }

    std::string pkt, body;
    body.clear();
    put_str(body, "MQTT");
    body.push_back(4);     // 3.1.1
    body.push_back(0x02);  // clean session
    body.push_back(0);
    body.push_back(60);  // keepalive 60 s
    put_str(body, client_id);
    pkt.push_back(0x10);
    put_len(pkt, body.size());
    pkt += body;
    body.clear();
    body.push_back(0);
    body.push_back(1);  // packet id 1
    for (const auto& t : topics) {
        put_str(body, t);
        body.push_back(static_cast<char>(qos));
    }
    pkt.push_back(static_cast<char>(0x82));
    put_len(pkt, body.size());
    pkt += body;
    send_all(fd, pkt);

    std::vector<unsigned char> buf(1 << 20);
    std::size_t have = 0;
    std::string out;
    bool subscribed = false, done = false;
    auto last_send = std::chrono::steady_clock::now();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done) {
        if (std::chrono::steady_clock::now() > deadline) break;
        if (std::chrono::steady_clock::now() - last_send > std::chrono::seconds(20)) {
            send_all(fd, std::string("\xc0\x00", 2));  // PINGREQ
            last_send = std::chrono::steady_clock::now();
        }
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 1000) <= 0) continue;
        const ssize_t n = ::recv(fd, buf.data() + have, buf.size() - have, 0);
        if (n <= 0) throw std::runtime_error("the broker closed the connection");
        have += static_cast<std::size_t>(n);
        std::size_t pos = 0;
        out.clear();
        for (;;) {
            // fixed header: type/flags, remaining length (1..4 bytes)
            if (have - pos < 2) break;
            std::size_t len = 0, mul = 1, i = pos + 1;
            bool complete = false;
            for (; i < have && i < pos + 5; ++i) {
                len += (buf[i] & 0x7f) * mul;
                mul *= 128;
                if (!(buf[i] & 0x80)) {
                    complete = true;
                    ++i;
                    break;
                }
            }
            if (!complete || have - i < len) break;
            const unsigned type = buf[pos] >> 4;
            const unsigned flags = buf[pos] & 0x0f;
            const unsigned char* v = buf.data() + i;
            if (type == 2) {  // CONNACK
                if (len < 2 || v[1] != 0) throw std::runtime_error("connection refused");
            } else if (type == 9) {  // SUBACK
                for (std::size_t k = 2; k < len; ++k)
                    if (v[k] & 0x80) throw std::runtime_error("subscription refused");
                subscribed = true;
                ready();
            } else if (type == 3) {  // PUBLISH
                const unsigned q = (flags >> 1) & 3;
                const std::size_t tlen = static_cast<std::size_t>(v[0] << 8 | v[1]);
                std::size_t hdr = 2 + tlen;
                if (q > 0) {
                    const char ack = static_cast<char>(q == 1 ? 0x40 : 0x50);  // PUBACK / PUBREC
                    out.push_back(ack);
                    out.push_back(2);
                    out.push_back(static_cast<char>(v[hdr]));
                    out.push_back(static_cast<char>(v[hdr + 1]));
                    hdr += 2;
                }
                if (c.add(len - hdr)) done = true;
            } else if (type == 6) {  // PUBREL -> PUBCOMP
                out.push_back(0x70);
                out.push_back(2);
                out.push_back(static_cast<char>(v[0]));
                out.push_back(static_cast<char>(v[1]));
            }
            pos = i + len;
        }
        if (pos > 0) {
            std::memmove(buf.data(), buf.data() + pos, have - pos);
            have -= pos;
        }
        if (have == buf.size()) buf.resize(buf.size() * 2);  // one packet larger than the buffer
        if (!out.empty()) {
            send_all(fd, out);
            last_send = std::chrono::steady_clock::now();
        }
    }
    if (!subscribed) throw std::runtime_error("not subscribed");
    send_all(fd, std::string("\xe0\x00", 2));  // DISCONNECT
    ::close(fd);
    return done;
}

// ---- libmosquitto -----------------------------------------------------------------------------

struct Sub {
    std::vector<std::string> topics;
    int qos = 1;
    Counts counts;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false, subscribed = false, failed = false;
};

void on_connect(mosquitto* m, void* self, int rc) {
    auto* s = static_cast<Sub*>(self);
    if (rc != 0) {
        std::lock_guard lk(s->mu);
        s->failed = true;
        s->cv.notify_all();
        return;
    }
    std::vector<char*> t;
    for (auto& x : s->topics) t.push_back(x.data());
    mosquitto_subscribe_multiple(m, nullptr, static_cast<int>(t.size()), t.data(), s->qos, 0,
                                 nullptr);
}

void on_subscribe(mosquitto*, void* self, int, int, const int*) {
    auto* s = static_cast<Sub*>(self);
    std::lock_guard lk(s->mu);
    s->subscribed = true;
    s->cv.notify_all();
}

void on_message(mosquitto*, void* self, const mosquitto_message* msg) {
    auto* s = static_cast<Sub*>(self);
    if (s->counts.add(static_cast<std::size_t>(msg->payloadlen))) {
        std::lock_guard lk(s->mu);
        s->done = true;
        s->cv.notify_all();
    }
}

bool run_libmosquitto(int port, const std::string& client_id, Sub& s, bool batched,
                      std::chrono::seconds timeout) {
    mosquitto_lib_init();
    mosquitto* m = mosquitto_new(client_id.c_str(), true, &s);
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_subscribe_callback_set(m, on_subscribe);
    mosquitto_message_callback_set(m, on_message);
    if (batched) mosquitto_threaded_set(m, true);
    if (int e = mosquitto_connect(m, "127.0.0.1", port, 60); e != MOSQ_ERR_SUCCESS)
        throw std::runtime_error(std::string("connect: ") + mosquitto_strerror(e));
    bool ok = false;
    if (!batched) {
        mosquitto_loop_start(m);
        {
            std::unique_lock lk(s.mu);
            if (!s.cv.wait_for(lk, std::chrono::seconds(10),
                               [&] { return s.subscribed || s.failed; }) ||
                s.failed)
                throw std::runtime_error("not subscribed");
        }
        ready();
        std::unique_lock lk(s.mu);
        ok = s.cv.wait_for(lk, timeout, [&] { return s.done; });
        lk.unlock();
        mosquitto_disconnect(m);
        mosquitto_loop_stop(m, false);
    } else {
        // meterbridge's loop (connectors/mqtt/mqtt_connector.cpp), with nothing to commit.
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        auto last_misc = std::chrono::steady_clock::now();
        bool announced = false;
        while (!s.done && !s.failed && std::chrono::steady_clock::now() < deadline) {
            if (s.subscribed && !announced) {
                ready();
                announced = true;
            }
            const int sock = mosquitto_socket(m);
            if (sock < 0) throw std::runtime_error("lost the connection");
            pollfd p{sock, static_cast<short>(POLLIN | (mosquitto_want_write(m) ? POLLOUT : 0)), 0};
            const int n = ::poll(&p, 1, 250);
            if (n > 0 && (p.revents & POLLOUT))
                if (mosquitto_loop_write(m, 1) != MOSQ_ERR_SUCCESS)
                    throw std::runtime_error("write failed");
            if (n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
                for (;;) {
                    if (mosquitto_loop_read(m, 1) != MOSQ_ERR_SUCCESS)
                        throw std::runtime_error("read failed");
                    pollfd more{mosquitto_socket(m), POLLIN, 0};
                    if (more.fd < 0 || ::poll(&more, 1, 0) <= 0) break;
                }
            }
            if (std::chrono::steady_clock::now() - last_misc > std::chrono::seconds(1)) {
                last_misc = std::chrono::steady_clock::now();
                mosquitto_loop_misc(m);
            }
        }
        ok = s.done;
        while (mosquitto_want_write(m) && mosquitto_loop_write(m, 1) == MOSQ_ERR_SUCCESS) {
        }
        mosquitto_disconnect(m);
        mosquitto_loop_write(m, 1);
    }
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
    return ok;
}

int run(const mb::bench::Args& args) {
    Sub s;
    const std::string topics = args.str("topics", "#");
    for (std::size_t a = 0;;) {
        const std::size_t b = topics.find(',', a);
        s.topics.push_back(topics.substr(a, b - a));
        if (b == std::string::npos) break;
        a = b + 1;
    }
    s.qos = static_cast<int>(args.num("qos", 1));
    s.counts.want = static_cast<std::uint64_t>(args.num("count", 1));
    const auto timeout = std::chrono::seconds(args.num("timeout", 600));
    const int port = static_cast<int>(args.num("port", 1883));
    const std::string client = args.str("client", "raw");
    const std::string client_id = args.str("client-id", "mb-bench-nullsub");

    bool ok;
    if (client == "raw")
        ok = run_raw(port, client_id, s.topics, s.qos, args.has("nodelay"), s.counts, timeout);
    else if (client == "batched" || client == "libmosquitto")
        ok = run_libmosquitto(port, client_id, s, client == "batched", timeout);
    else
        throw std::runtime_error("--client raw | batched | libmosquitto");
    const Counts& c = s.counts;
    std::printf(
        "{\"client\": \"%s\", \"count\": %llu, \"bytes\": %llu, \"t_first_ns\": %lld, "
        "\"t_last_ns\": %lld}\n",
        client.c_str(), static_cast<unsigned long long>(c.count),
        static_cast<unsigned long long>(c.bytes), static_cast<long long>(c.t_first),
        static_cast<long long>(c.t_last));
    if (!ok) {
        std::fprintf(stderr, "mb_bench_nullsub: timeout after %llu of %llu messages\n",
                     static_cast<unsigned long long>(c.count),
                     static_cast<unsigned long long>(c.want));
        return 2;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(mb::bench::Args(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mb_bench_nullsub: %s\n", e.what());
        return 1;
    }
}
