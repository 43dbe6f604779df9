#include "tests/support/chromium.h"

#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace mb::test {

namespace {

RunResult run_chromium(const std::string& url, const std::string& mode,
                       std::chrono::milliseconds timeout) {
    const auto bin = chromium_binary();
    if (!std::filesystem::exists(bin))
        throw std::runtime_error(bin.string() +
                                 " not found: install chromium-headless-shell (scripts/setup.sh)");
    // Parallel tests must not share a profile (its lock would make one fail).
    const TempDir profile;
    const std::vector<std::string> args{bin.string(),
                                        "--headless",
                                        "--no-sandbox",  // root, as in CI
                                        "--disable-gpu",
                                        "--no-first-run",
                                        "--hide-scrollbars",
                                        "--user-data-dir=" + profile.path().string(),
                                        "--window-size=1280,2000",
                                        mode,
                                        url};
    auto r = run_binary(args, timeout, {"HOME=" + profile.path().string()});
    if (r.exit_code != 0)
        throw std::runtime_error("chromium exited with " + std::to_string(r.exit_code) + ": " +
                                 r.err);
    return r;
}

}  // namespace

std::filesystem::path chromium_binary() {
    if (const char* env = std::getenv("MB_CHROMIUM"); env && *env) return env;
    return "/usr/bin/chromium-headless-shell";
}

namespace {
std::string file_url(const std::filesystem::path& html) {
    return "file://" + std::filesystem::absolute(html).string();
}
}  // namespace

std::string chromium_dump_dom(const std::filesystem::path& html,
                              std::chrono::milliseconds timeout) {
    return chromium_dump_url(file_url(html), timeout);
}

std::string chromium_dump_url(const std::string& url, std::chrono::milliseconds timeout) {
    auto r = run_chromium(url, "--dump-dom", timeout);
    if (r.out.empty()) throw std::runtime_error("chromium printed no DOM: " + r.err);
    return r.out;
}

void chromium_screenshot(const std::filesystem::path& html, const std::filesystem::path& png,
                         std::chrono::milliseconds timeout) {
    std::error_code ec;
    std::filesystem::remove(png, ec);
    const auto r =
        run_chromium(file_url(html), "--screenshot=" + std::filesystem::absolute(png).string(), timeout);
    if (!std::filesystem::exists(png))
        throw std::runtime_error("chromium wrote no screenshot: " + r.err);
}

}  // namespace mb::test
