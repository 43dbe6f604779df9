#include "daemon/logging.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace mb {

namespace {

// "<prio>message\n" — sd-daemon(3) prefixes, read by journald on stderr streams.
class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        int prio = 6;
        switch (msg.level) {
            case spdlog::level::trace:
            case spdlog::level::debug:
                prio = 7;
                break;
            case spdlog::level::info:
                prio = 6;
                break;
            case spdlog::level::warn:
                prio = 4;
                break;
            case spdlog::level::err:
                prio = 3;
                break;
            case spdlog::level::critical:
                prio = 2;
                break;
            default:
                break;
        }
        std::fprintf(stderr, "<%d>%.*s\n", prio, static_cast<int>(msg.payload.size()),
                     msg.payload.data());
    }
    void flush_() override { std::fflush(stderr); }
};

}  // namespace

void setup_logging(LogFormat format) {
    if (format == LogFormat::automatic)
        format = std::getenv("JOURNAL_STREAM") ? LogFormat::journal : LogFormat::text;
    std::shared_ptr<spdlog::logger> logger;
    if (format == LogFormat::journal) {
        logger = std::make_shared<spdlog::logger>("meterbridge", std::make_shared<JournalSink>());
    } else {
        logger = std::make_shared<spdlog::logger>(
            "meterbridge", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    }
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(std::move(logger));
}

bool set_log_level(std::string_view level) {
    const auto l = spdlog::level::from_str(std::string(level));
    if (l == spdlog::level::off && level != "off") return false;
    spdlog::set_level(l);
    return true;
}

}  // namespace mb
