// A real headless Chromium (Debian's chromium-headless-shell) for tests of
// the status page: load a file:// or http:// URL, get the DOM as the browser built it,
// or a screenshot.
//
// Who calls: integration tests, on their own thread. Each call starts one
// browser process with its own profile directory and kills it after
// `timeout`. Errors (no browser, a non-zero exit, a timeout, no output)
// throw std::runtime_error with the browser's stderr.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

namespace mb::test {

// The browser binary: $MB_CHROMIUM, else /usr/bin/chromium-headless-shell.
std::filesystem::path chromium_binary();

// The serialized DOM of `html` (a local file) once loaded (--dump-dom).
std::string chromium_dump_dom(const std::filesystem::path& html,
                              std::chrono::milliseconds timeout = std::chrono::seconds(60));

// The same for any URL (the daemon's own listener: http://127.0.0.1:PORT/…).
std::string chromium_dump_url(const std::string& url,
                              std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Writes a PNG screenshot of `html` at 1280×2000 to `png`.
void chromium_screenshot(const std::filesystem::path& html, const std::filesystem::path& png,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace mb::test
