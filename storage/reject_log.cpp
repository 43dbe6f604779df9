#include "storage/reject_log.h"

#include <spdlog/spdlog.h>

namespace mb {

RejectLog::RejectLog(std::chrono::milliseconds interval, Clock clock)
    : interval_(interval), clock_(clock ? std::move(clock) : Clock(std::chrono::steady_clock::now)) {}

void RejectLog::add(const ApplyDetail::Rejects& r) {
    const auto now = clock_();
    const auto key = std::make_pair(r.source, r.code);
    const auto it = pending_.find(key);
    if (it == pending_.end()) {
        spdlog::info("{}: rejected {} message{} ({}), e.g. on topic {}: {}", r.source, r.count,
                     r.count == 1 ? "" : "s", r.code, r.topic, r.example);
        pending_.emplace(key, Pending{now, 0, {}, {}});
        return;
    }
    Pending& p = it->second;
    if (p.count == 0) {
        p.example = r.example;
        p.topic = r.topic;
    }
    p.count += r.count;
}

void RejectLog::flush(bool all) {
    const auto now = clock_();
    for (auto it = pending_.begin(); it != pending_.end();) {
        Pending& p = it->second;
        if (!all && now - p.since < interval_) {
            ++it;
            continue;
        }
        if (p.count == 0) {  // a quiet interval: the next rejection is news again
            it = pending_.erase(it);
            continue;
        }
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - p.since).count();
        spdlog::info("{}: rejected {} more message{} ({}) in the last {} s, e.g. on topic {}: {}",
                     it->first.first, p.count, p.count == 1 ? "" : "s", it->first.second, secs,
                     p.topic, p.example);
        p = Pending{now, 0, {}, {}};
        ++it;
    }
}

}  // namespace mb
