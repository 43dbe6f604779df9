// StoreLock: one daemon per database. `meterbridge run` holds an exclusive
// flock(2) on PATH.lock (PATH = storage.path) for as long as it runs; the
// kernel releases it when the process dies, also on kill -9, so a stale lock
// file never keeps the next daemon out. The file records the holder's pid so
// that the one turned away can name it.
//
// Who calls: App::run() on the main thread, before the store is opened; the
// lock lives as long as the App. Not copyable; movable.
// Errors: StoreLocked when another process holds the lock (the CLI exits 75,
// EX_TEMPFAIL); std::runtime_error when the lock file cannot be opened or
// locked (a missing directory, permissions), naming the path and the reason.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <stdexcept>

namespace mb {

struct StoreLocked : std::runtime_error {
    StoreLocked(const std::string& what, pid_t holder_pid)
        : std::runtime_error(what), holder(holder_pid) {}
    pid_t holder;  // 0 when the lock file does not say (yet)
};

class StoreLock {
  public:
    // Locks `database`.lock; throws as above.
    static StoreLock acquire(const std::filesystem::path& database);

    StoreLock(StoreLock&& other) noexcept;
    StoreLock& operator=(StoreLock&& other) noexcept;
    StoreLock(const StoreLock&) = delete;
    StoreLock& operator=(const StoreLock&) = delete;
    ~StoreLock();

    const std::filesystem::path& path() const { return path_; }

    // PATH.lock for the database PATH.
    static std::filesystem::path lock_path(const std::filesystem::path& database);

  private:
    StoreLock(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
    int fd_ = -1;
    std::filesystem::path path_;
};

}  // namespace mb
