#include "normalize/config/secret.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
// Whether the (at most 2-byte) file holds nothing but what read_secret_file strips.
bool only_a_line_end(int fd) {
    char buf[3] = {};
    const ssize_t n = ::read(fd, buf, sizeof buf);
    const std::string_view s(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    return s.empty() || s == "\n" || s == "\r\n";
}

}  // namespace

std::filesystem::path resolve_secret_path(const std::string& path) {
    if (path.find('/') == std::string::npos) {
        const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
        if (dir != nullptr && *dir != '\0') return std::filesystem::path(dir) / path;
    }
    return std::filesystem::path(path);
}

std::string secret_file_problem(const std::string& path) {
    if (path.empty()) return "must not be empty";
    const std::filesystem::path resolved = resolve_secret_path(path);
    const std::string shown = resolved.string();
    std::string problem;
    // O_NONBLOCK: a FIFO in its place must not hang check-config.
    const int fd = ::open(resolved.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st {};
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT)
            problem = fmt::format("'{}' does not exist", shown);
        else if (err == EACCES || err == EPERM)
            problem = fmt::format("'{}' is not readable: {}", shown, std::strerror(err));
        else
            problem = fmt::format("cannot open '{}': {}", shown, std::strerror(err));
    } else {
        if (::fstat(fd, &st) != 0)
            problem = fmt::format("cannot access '{}': {}", shown, std::strerror(errno));
        else if (S_ISDIR(st.st_mode))
            problem = fmt::format("'{}' is a directory, expected a file", shown);
        else if (S_ISREG(st.st_mode) && st.st_size <= 2 && only_a_line_end(fd))
            problem = fmt::format("'{}' is empty", shown);
        else if (S_ISREG(st.st_mode) && static_cast<std::uintmax_t>(st.st_size) > kMaxSecretBytes)
            problem = fmt::format("'{}' is larger than {} bytes; is it the right file?", shown,
                                  kMaxSecretBytes);
        ::close(fd);
    }
    if (!problem.empty() && path.find('/') == std::string::npos && resolved == path)
        problem +=
            " ($CREDENTIALS_DIRECTORY is not set, so the name is taken in the current directory)";
    return problem;
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
