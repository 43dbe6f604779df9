#include "storage/store_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>
#include <utility>

namespace mb {

namespace {

// The pid the holder wrote, 0 when the file is empty or garbled (a holder
// between its flock and its write).
pid_t recorded_pid(int fd) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    pid_t pid = 0;
    const auto [end, ec] = std::from_chars(buf, buf + n, pid);
    (void)end;
    return ec == std::errc{} && pid > 0 ? pid : 0;
}

}  // namespace

std::filesystem::path StoreLock::lock_path(const std::filesystem::path& database) {
    return database.string() + ".lock";
}

StoreLock StoreLock::acquire(const std::filesystem::path& database) {
    auto path = lock_path(database);
    // 0640 under the daemon's umask, like the database: its group may see who holds it.
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        throw std::runtime_error(
            fmt::format("cannot open the lock file {}: {}", path.string(), std::strerror(errno)));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int e = errno;
        const pid_t holder = e == EWOULDBLOCK ? recorded_pid(fd) : 0;
        ::close(fd);
        if (e != EWOULDBLOCK)
            throw std::runtime_error(
                fmt::format("cannot lock {}: {}", path.string(), std::strerror(e)));
        throw StoreLocked(
            fmt::format("database {} is in use by {} (lock {})", database.string(),
                        holder > 0 ? fmt::format("meterbridge run pid {}", holder)
                                   : std::string("another meterbridge run"),
                        path.string()),
            holder);
    }
    // Ours now: record our pid, replacing the previous holder's.
    const std::string pid = fmt::format("{}\n", ::getpid());
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        const int e = errno;
        ::close(fd);
        throw std::runtime_error(
            fmt::format("cannot write the lock file {}: {}", path.string(), std::strerror(e)));
    }
    return StoreLock(fd, std::move(path));
}

StoreLock::StoreLock(StoreLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

StoreLock& StoreLock::operator=(StoreLock&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        path_ = std::move(other.path_);
    }
    return *this;
}

StoreLock::~StoreLock() {
    // The file stays: removing it would race with a newcomer that opened it
    // before the unlink and would then lock an orphaned inode.
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace mb
