// Logging set-up. Everything logs through spdlog's default logger to stderr.
// Under systemd (JOURNAL_STREAM set) each line starts with its syslog
// priority, "<6>", which journald turns into the entry's priority; otherwise
// lines carry a timestamp (ISO 8601 UTC, "2026-01-02T03:04:05.678Z") and
// level for a human at a terminal. Either way the
// message is escaped by display_escape() (normalize/detail_text.h): one message is one
// line, whatever text from outside it quotes.
// Call setup_logging() once on the main thread before other threads start;
// set_log_level() is safe at any time (SIGHUP).
#pragma once

#include <string_view>

namespace mb {

enum class LogFormat { automatic, journal, text };

void setup_logging(LogFormat format = LogFormat::automatic);
// Returns false for an unknown level name.
bool set_log_level(std::string_view level);

}  // namespace mb
