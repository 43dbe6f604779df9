#include "daemon/http/health_report.h"

#include <fmt/format.h>

#include "daemon/table_writer.h"

namespace mb::http {

HealthReport assess(const HealthInput& in) {
    HealthReport r;
    for (const auto& c : in.connectors)
        if (c.health.state != ConnectorState::running)
            r.reasons.push_back(fmt::format("connector {} is {}{}{}", c.name, to_string(c.health.state),
                                            c.health.detail.empty() ? "" : ": ", c.health.detail));
    if (in.writer_stalled) r.reasons.emplace_back("the storage writer makes no progress");
    if (in.writer_paused)
        r.reasons.emplace_back("storage paused: a commit failed and is being retried");
    r.healthy = r.reasons.empty();
    return r;
}

std::string render_json(const HealthReport& report, const HealthInput& in) {
    const auto q = [](std::string_view s) { return TableWriter::json_escape(s); };
    std::string out = fmt::format("{{\"status\":{},\"reasons\":[", q(report.healthy ? "ok" : "degraded"));
    for (std::size_t i = 0; i < report.reasons.size(); ++i)
        out += (i ? "," : "") + q(report.reasons[i]);
    out += "],\"connectors\":[";
    for (std::size_t i = 0; i < in.connectors.size(); ++i) {
        const auto& c = in.connectors[i];
        out += fmt::format("{}{{\"name\":{},\"type\":{},\"state\":{},\"detail\":{},\"reconnects\":{}}}",
                           i ? "," : "", q(c.name), q(c.type), q(to_string(c.health.state)),
                           q(c.health.detail), c.health.reconnects);
    }
    out += "]}\n";
    return out;
}

}  // namespace mb::http
