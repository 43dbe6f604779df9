#include "daemon/secret.h"

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

namespace mb {

namespace {
// A secret is a password or a key; anything larger is the wrong file, and
// reading it whole would be pointless.
constexpr std::uintmax_t kMaxSecretBytes = 64 * 1024;
}  // namespace

std::filesystem::path resolve_secret_path(const std::string& path) {
    if (path.find('/') == std::string::npos) {
        const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
        if (dir != nullptr && *dir != '\0') return std::filesystem::path(dir) / path;
    }
    return std::filesystem::path(path);
}

std::string read_secret_file(const std::string& path) {
    if (path.empty()) throw std::runtime_error("secret file: empty path");
    const std::filesystem::path resolved = resolve_secret_path(path);
    const std::string shown = resolved.string();

    std::error_code ec;
    const auto status = std::filesystem::status(resolved, ec);
    if (ec)
        throw std::runtime_error(
            fmt::format("cannot read secret file '{}': {}", shown, ec.message()));
    if (std::filesystem::is_directory(status))
        throw std::runtime_error(
            fmt::format("cannot read secret file '{}': it is a directory", shown));

    std::ifstream in(resolved, std::ios::binary);
    if (!in) {
        const int err = errno;
        throw std::runtime_error(fmt::format("cannot read secret file '{}': {}", shown,
                                             err != 0 ? std::strerror(err) : "cannot open"));
    }
    std::string content;
    std::array<char, 4096> buf{};
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
        content.append(buf.data(), static_cast<std::size_t>(in.gcount()));
        if (content.size() > kMaxSecretBytes)
            throw std::runtime_error(
                fmt::format("secret file '{}' is larger than {} bytes; is it the right file?",
                            shown, kMaxSecretBytes));
    }
    if (in.bad()) throw std::runtime_error(fmt::format("cannot read secret file '{}'", shown));

    if (content.ends_with('\n')) {
        content.pop_back();
        if (content.ends_with('\r')) content.pop_back();
    }
    if (content.empty()) throw std::runtime_error(fmt::format("secret file '{}' is empty", shown));
    return content;
}

}  // namespace mb
