// Logging set-up. Everything logs through spdlog's default logger to stderr.
// Under systemd (JOURNAL_STREAM set) each line starts with its syslog
// priority, "<6>", which journald turns into the entry's priority; otherwise
// lines carry a timestamp (ISO 8601 UTC, "2026-01-02T03:04:05.678Z") and
// level for a human at a terminal. Either way the
// message is escaped by display_escape() (normalize/detail_text.h): one message is one
// line, whatever text from outside it quotes.
// Call setup_logging() once on the main thread before other threads start;
// set_log_level() is safe at any time (SIGHUP).
// report() is for the verbs that answer the person who ran them rather than
// log (check-config, and every verb's configuration errors): any thread, no
// errors.
#pragma once

#include <string_view>

namespace mb {

enum class LogFormat { automatic, journal, text };

void setup_logging(LogFormat format = LogFormat::automatic);
// Returns false for an unknown level name.
bool set_log_level(std::string_view level);

// The values are the syslog priorities journald reads (sd-daemon(3)).
enum class Severity { critical = 2, error = 3, warning = 4, info = 6 };
// One line on stderr, as it is at a terminal or into a pipe. Under systemd
// (JOURNAL_STREAM set: an ExecStart, ExecStartPre or a timer's service) it is
// escaped and prefixed with its priority as a log line, so that
// `journalctl -p err` shows why a unit did not start.
void report(Severity severity, std::string_view line);

}  // namespace mb
