#include "daemon/logging.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "normalize/detail_text.h"

namespace mb {

namespace {

// Messages quote device ids, file names and server texts: escaped here, in the
// one place every log line passes, a newline in them cannot start a line of
// its own (which journald would read with a priority prefix of its choosing)
// and an escape sequence cannot reach the terminal.
class EscapedPayload {
  public:
    explicit EscapedPayload(const spdlog::details::log_msg& msg) {
        const std::string_view raw(msg.payload.data(), msg.payload.size());
        if (needs_display_escape(raw)) {
            escaped_ = display_escape(raw);
            view_ = escaped_;
        } else {
            view_ = raw;
        }
    }
    std::string_view view() const { return view_; }

  private:
    std::string escaped_;
    std::string_view view_;
};

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
        const EscapedPayload text(msg);
        std::fprintf(stderr, "<%d>%.*s\n", prio, static_cast<int>(text.view().size()),
                     text.view().data());
    }
    void flush_() override { std::fflush(stderr); }
};

// The pattern's timestamp and level, then the escaped message.
class TextSink final : public spdlog::sinks::base_sink<std::mutex> {
  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        const EscapedPayload text(msg);
        spdlog::details::log_msg escaped = msg;
        escaped.payload = spdlog::string_view_t(text.view().data(), text.view().size());
        spdlog::memory_buf_t line;
        formatter_->format(escaped, line);
        std::fwrite(line.data(), 1, line.size(), stderr);
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
        logger = std::make_shared<spdlog::logger>("meterbridge", std::make_shared<TextSink>());
        // UTC, like every time the daemon stores or prints: ISO 8601 with its Z.
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
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

void report(Severity severity, std::string_view line) {
    std::string escaped;
    if (std::getenv("JOURNAL_STREAM")) {
        // Quoted values cannot start a line of their own, as in a log line.
        if (needs_display_escape(line)) line = escaped = display_escape(line);
        std::fprintf(stderr, "<%d>", static_cast<int>(severity));
    }
    std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
}

}  // namespace mb
