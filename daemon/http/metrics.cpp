#include "daemon/http/metrics.h"

#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace mb::http {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
    MetricFamily f;
    f.name = std::move(name);
    f.help = std::move(help);
    f.type = type;
    return f;
}

void add(MetricFamily& f, std::vector<ClientMetric::Label> labels, double value) {
    ClientMetric m;
    m.label = std::move(labels);
    if (f.type == MetricType::Counter)
        m.counter.value = value;
    else if (f.type == MetricType::Gauge)
        m.gauge.value = value;
    else
        m.untyped.value = value;
    f.metric.push_back(std::move(m));
}

double d(std::uint64_t n) {
    return static_cast<double>(n);
}

// Families reported by connectors through Health::samples: known names only.
struct SampleFamily {
    const char* metric;
    const char* help;
    MetricType type;
};
constexpr SampleFamily kSampleFamilies[] = {
    {"enedis_calls_total", "Calls to the Enedis proxy by command and outcome.",
     MetricType::Counter},
    {"tuya_devices", "Tuya devices synced, by state (online, offline, stale).", MetricType::Gauge},
};

}  // namespace

std::vector<MetricFamily> MetricsCollector::Collect() const {
    const MetricsSnapshot s = snapshot_();
    const std::string p = "meterbridge_";

    // Every configured source, also before it sent anything, and every source stored.
    std::set<std::string> sources;
    for (const auto& c : s.connectors) sources.insert(c.name);
    for (const auto& [source, st] : s.writer.per_source) sources.insert(source);

    auto messages = family(p + "messages_total", "Messages stored, by outcome.", MetricType::Counter);
    auto readings = family(p + "readings_total",
                           "Readings of accepted messages: new rows, duplicates of a stored "
                           "value, revisions of one.",
                           MetricType::Counter);
    for (const auto& source : sources) {
        const auto it = s.writer.per_source.find(source);
        const ApplyStats st = it == s.writer.per_source.end() ? ApplyStats{} : it->second;
        add(messages, {{"source", source}, {"outcome", "accepted"}}, d(st.messages - st.rejected));
        add(messages, {{"source", source}, {"outcome", "rejected"}}, d(st.rejected));
        add(readings, {{"source", source}, {"result", "new"}}, d(st.readings));
        add(readings, {{"source", source}, {"result", "duplicate"}}, d(st.duplicates));
        add(readings, {{"source", source}, {"result", "revision"}}, d(st.revisions));
    }
    auto rejected = family(p + "rejected_total", "Messages stored as rejected, by reason code.",
                           MetricType::Counter);
    for (const auto& [key, n] : s.writer.rejects)
        add(rejected, {{"source", key.first}, {"reason", key.second}}, d(n));

    auto up = family(p + "connector_up", "1 while the connector is connected and running.",
                     MetricType::Gauge);
    auto reconnects = family(p + "connector_reconnects_total",
                             "Connections lost and connection attempts that failed.",
                             MetricType::Counter);
    auto stale = family(p + "meters_stale", "Meters of the source that stopped reporting.",
                        MetricType::Gauge);
    std::vector<MetricFamily> samples;
    for (const auto& sf : kSampleFamilies) samples.push_back(family(p + sf.metric, sf.help, sf.type));
    for (const auto& c : s.connectors) {
        add(up, {{"source", c.name}, {"type", c.type}},
            c.health.state == ConnectorState::running ? 1 : 0);
        add(reconnects, {{"source", c.name}}, d(c.health.reconnects));
        const auto st = s.meters_stale.find(c.name);
        add(stale, {{"source", c.name}}, st == s.meters_stale.end() ? 0 : d(st->second));
        for (const auto& sample : c.health.samples)
            for (auto& f : samples)
                if (f.name == p + sample.metric) {
                    std::vector<ClientMetric::Label> labels{{"source", c.name}};
                    for (const auto& [k, v] : sample.labels) labels.push_back({k, v});
                    add(f, std::move(labels), sample.value);
                }
    }

    auto last = family(p + "last_message_timestamp_seconds",
                       "When the source's latest message was received (Unix time).",
                       MetricType::Gauge);
    for (const auto& [source, ms] : s.last_received_ms)
        add(last, {{"source", source}}, static_cast<double>(ms) / 1000.0);

    auto queue = family(p + "queue_rows", "Rows waiting for the storage writer.", MetricType::Gauge);
    add(queue, {}, d(s.writer.queued_rows));

    auto commit = family(p + "commit_duration_seconds",
                         "Time of each storage transaction's commit.", MetricType::Histogram);
    {
        ClientMetric m;
        const auto& c = s.writer.commits;
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < CommitTimes::kBounds.size(); ++i) {
            cumulative += c.buckets[i];
            m.histogram.bucket.push_back({cumulative, CommitTimes::kBounds[i]});
        }
        m.histogram.bucket.push_back({c.count, std::numeric_limits<double>::infinity()});
        m.histogram.sample_count = c.count;
        m.histogram.sample_sum = c.sum_seconds;
        commit.metric.push_back(std::move(m));
    }

    auto db = family(p + "database_bytes", "Size of the database file and its write-ahead log.",
                     MetricType::Gauge);
    add(db, {}, d(s.database_bytes));

    std::vector<MetricFamily> out;
    for (auto* f : {&messages, &readings, &rejected, &up, &reconnects, &last, &queue, &commit})
        out.push_back(std::move(*f));
    for (auto& f : samples)
        if (!f.metric.empty()) out.push_back(std::move(f));
    out.push_back(std::move(stale));
    out.push_back(std::move(db));
    for (auto& f : process_families()) out.push_back(std::move(f));
    return out;
}

std::vector<MetricFamily> process_families() {
    std::vector<MetricFamily> out;
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));

    // /proc/self/stat: fields after the command name (which may hold spaces), see proc(5).
    std::ifstream stat("/proc/self/stat");
    std::string line;
    if (std::getline(stat, line)) {
        const auto close = line.rfind(')');
        std::istringstream rest(close == std::string::npos ? "" : line.substr(close + 2));
        std::vector<std::string> f;  // f[0] is field 3 (state)
        for (std::string w; rest >> w;) f.push_back(w);
        if (f.size() >= 22) {
            const double utime = std::stod(f[11]), stime = std::stod(f[12]);
            const double starttime = std::stod(f[19]);
            const double vsize = std::stod(f[20]), rss = std::stod(f[21]);
            auto cpu = family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                              MetricType::Counter);
            add(cpu, {}, (utime + stime) / tick);
            out.push_back(std::move(cpu));
            auto vm = family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                             MetricType::Gauge);
            add(vm, {}, vsize);
            out.push_back(std::move(vm));
            auto res = family("process_resident_memory_bytes", "Resident memory size in bytes.",
                              MetricType::Gauge);
            add(res, {}, rss * page);
            out.push_back(std::move(res));
            // Boot time from /proc/stat ("btime"), plus the start in ticks since boot.
            std::ifstream sys("/proc/stat");
            for (std::string l; std::getline(sys, l);)
                if (l.rfind("btime ", 0) == 0) {
                    auto start = family("process_start_time_seconds",
                                        "Start time of the process since unix epoch in seconds.",
                                        MetricType::Gauge);
                    add(start, {}, std::stod(l.substr(6)) + starttime / tick);
                    out.push_back(std::move(start));
                    break;
                }
        }
    }
    std::error_code ec;
    std::size_t fds = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++fds;
    if (!ec) {
        auto open = family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge);
        add(open, {}, d(fds));
        out.push_back(std::move(open));
    }
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
        auto max = family("process_max_fds", "Maximum number of open file descriptors.",
                          MetricType::Gauge);
        add(max, {}, lim.rlim_cur == RLIM_INFINITY ? -1 : d(lim.rlim_cur));
        out.push_back(std::move(max));
    }
    return out;
}

std::string serialize(const std::vector<MetricFamily>& families) {
    return prometheus::TextSerializer().Serialize(families);
}

}  // namespace mb::http
