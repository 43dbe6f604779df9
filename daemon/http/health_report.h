// Whether the daemon is healthy, and why not: what /healthz answers and what
// `meterbridge status` exits with (0 healthy, 75 degraded).
//
// Healthy: every connector is running and the storage writer makes progress
// (its loop turns and no commit is being retried). Pure; the App gathers the
// inputs on its io_context thread.
#pragma once

#include <string>
#include <vector>

#include "connectors/connector.h"

namespace mb::http {

// One running connector as the daemon sees it at one moment.
struct ConnectorSnapshot {
    std::string name, type;
    Health health;
};

struct HealthInput {
    std::vector<ConnectorSnapshot> connectors;
    bool writer_stalled = false;  // no turn of its loop for a while
    bool writer_paused = false;   // retrying a commit after a transient error
};

struct HealthReport {
    bool healthy = true;
    std::vector<std::string> reasons;  // one line each, empty when healthy
};

HealthReport assess(const HealthInput& in);

// {"status":"ok"|"degraded","reasons":[…],"connectors":[{"name","type","state","detail",
// "reconnects"}]}
std::string render_json(const HealthReport& report, const HealthInput& in);

}  // namespace mb::http
