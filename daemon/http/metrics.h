// The /metrics exposition: a prometheus::Collectable that builds every
// `meterbridge_*` family, and the standard `process_*` ones, from snapshots
// taken at scrape time (DESIGN names). Nothing below the daemon knows of
// Prometheus: the writer keeps its own counters (WriterStats), connectors
// report theirs in Health (Health::samples), and this file maps them.
//
// Who calls: the HTTP route for /metrics, on the io_context thread: Collect()
// calls the snapshot function once. Pure apart from that call and the reads
// of /proc/self (process_families).
// Label cardinality: sources are the configured connectors; reasons are
// RejectCode names; results, outcomes and states are fixed sets; Enedis
// commands are three. No label carries a meter or device id.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "daemon/http/health_report.h"
#include "storage/writer.h"

namespace mb::http {

struct MetricsSnapshot {
    WriterStats writer;
    // Latest receipt per source (UTC ms): the writer's, over what the database
    // held at start.
    std::map<std::string, std::int64_t> last_received_ms;
    std::vector<ConnectorSnapshot> connectors;
    std::uint64_t database_bytes = 0;  // the file and its write-ahead log
    // Stale meters per source; a connector missing here exports 0.
    std::map<std::string, std::uint64_t> meters_stale;
};

class MetricsCollector : public prometheus::Collectable {
  public:
    explicit MetricsCollector(std::function<MetricsSnapshot()> snapshot)
        : snapshot_(std::move(snapshot)) {}
    std::vector<prometheus::MetricFamily> Collect() const override;

  private:
    std::function<MetricsSnapshot()> snapshot_;
};

// process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_start_time_seconds, process_open_fds,
// process_max_fds, as the reference clients define them, from /proc/self.
// A file that cannot be read leaves its metrics out.
std::vector<prometheus::MetricFamily> process_families();

// The text exposition format (0.0.4) of `families`.
std::string serialize(const std::vector<prometheus::MetricFamily>& families);

}  // namespace mb::http
