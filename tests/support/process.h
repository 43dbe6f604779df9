// Test helpers for driving the real meterbridge binary: spawn with redirected
// output and extra environment, signal, wait with a deadline; and a real
// sd_notify socket to receive READY=1 / WATCHDOG=1 / STOPPING=1.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mb::test {

struct RunResult {
    int exit_code = -1;  // -1: killed by a signal or not finished
    std::string out, err;
};

// Runs to completion (killed after `timeout`).
RunResult run_binary(const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30),
                     const std::vector<std::string>& extra_env = {});

class Process {
  public:
    Process(const std::vector<std::string>& args, const std::filesystem::path& log_dir,
            const std::vector<std::string>& extra_env = {});
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    void signal(int signo);
    // Exit code, or nullopt if still running after `timeout`. -1 if killed by a signal.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    // The signal that killed it, once wait() has seen it die of one.
    std::optional<int> killed_by() const { return killed_by_; }
    std::string stderr_text() const;
    std::string stdout_text() const;
    // Waits until stderr contains `needle`; false on timeout or exit.
    bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout);

  private:
    pid_t pid_ = -1;
    std::optional<int> exit_code_;
    std::optional<int> killed_by_;
    std::filesystem::path out_path_, err_path_;
};

// A datagram socket playing systemd's NOTIFY_SOCKET.
class NotifySocket {
  public:
    explicit NotifySocket(const std::filesystem::path& path);
    ~NotifySocket();
    std::string env() const { return "NOTIFY_SOCKET=" + path_.string(); }
    // Next datagram, or nullopt on timeout.
    std::optional<std::string> receive(std::chrono::milliseconds timeout);
    // Receives until a datagram contains `needle`.
    bool wait_for(const std::string& needle, std::chrono::milliseconds timeout);
    // The last datagram received.
    const std::string& last() const { return last_; }

  private:
    int fd_ = -1;
    std::filesystem::path path_;
    std::string last_;
};

std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::string& text);

}  // namespace mb::test
