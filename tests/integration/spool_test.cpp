// The spool connector on the real binary, against what can be dropped into a
// spool directory: links, FIFOs, a line far larger than max_payload, a file
// whose read fails.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <fstream>
#include <thread>

#include "tests/support/process.h"
#include "tests/support/view_rows.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace mb::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr TimeMs kT0 = 1646092800000;

std::string reading_line(const std::string& meter, int slot, double value) {
    const TimeMs start = kT0 + static_cast<TimeMs>(slot) * 900000;
    return fmt::format(R"({{"meter":"{}","quantity":"electricity.energy.consumption","value":{},)"
                       R"("ts_start":{},"ts_end":{}}})",
                       meter, value, start, start + 900000);
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
    return n;
}

// VmHWM (peak resident set) of a running process, in KiB; -1 when unreadable.
long peak_rss_kib(pid_t pid) {
    std::ifstream in(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(in, line))
        if (line.starts_with("VmHWM:")) return std::stol(line.substr(6));
    return -1;
}

class SpoolTest : public ::testing::Test {
  protected:
    fs::path config() const { return dir / "meterbridge.toml"; }
    fs::path db() const { return dir / "data" / "mb.db"; }
    fs::path spool() const { return dir / "spool"; }
    void write_config(const std::string& storage_extra = "") {
        fs::create_directories(spool());
        write_file(config(),
                   fmt::format("[storage]\npath = \"{}\"\n{}\n[[connectors]]\nname = \"import\"\n"
                               "type = \"spool\"\ndirectory = \"{}\"\npoll_interval = \"50ms\"\n",
                               db().string(), storage_extra, spool().string()));
    }
    std::vector<std::string> args() const { return {MB_BINARY, "run", "-c", config().string()}; }
    std::unique_ptr<Process> start(const std::vector<std::string>& argv) {
        return std::make_unique<Process>(argv, dir.path(), std::vector{notify.env()});
    }
    void drop(const std::string& name, const std::string& text) {
        write_file(dir / (name + ".tmp"), text);
        fs::rename(dir / (name + ".tmp"), spool() / name);
    }
    std::int64_t readings() const {
        return scalar(db(), "SELECT count(*) FROM readings_v WHERE source = 'import'");
    }
    TempDir dir;
    NotifySocket notify{dir / "notify.sock"};
};

// `ln -s secret spool/leak.jsonl` must not put the secret's lines anywhere:
// the link is refused with a reason, never opened, and moved out of the way.
// A FIFO is refused likewise (opening it would wait for a writer forever).
TEST_F(SpoolTest, LinksAndFifosAreRefusedWithAReasonAndNeverRead) {
    write_config();
    const fs::path secret = dir / "secret.txt";
    write_file(secret, "TOP-SECRET-LINE\n" + reading_line("secret-meter", 0, 7) + "\n");
    fs::create_symlink(secret, spool() / "a-leak.jsonl");
    ASSERT_EQ(::mkfifo((spool() / "b-pipe.jsonl").c_str(), 0600), 0);
    drop("c-good.jsonl", reading_line("m1", 0, 1) + "\n" + reading_line("m1", 1, 2) + "\n");

    auto p = start(args());
    ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << p->stderr_text();
    ASSERT_TRUE(eventually([&] { return fs::exists(spool() / "done" / "c-good.jsonl"); }, 20s))
        << p->stderr_text();
    // A few more polls: a refused entry is not refused (and stored) again.
    std::this_thread::sleep_for(300ms);

    EXPECT_EQ(readings(), 2);
    EXPECT_EQ(rows(db(), "SELECT topic, reason, length(payload) FROM rejected_v ORDER BY topic"),
              (std::vector<std::string>{
                  "a-leak.jsonl|not_regular_file: a-leak.jsonl is a symbolic link; the spool "
                  "reads only regular files|0",
                  "b-pipe.jsonl|not_regular_file: b-pipe.jsonl is a FIFO; the spool reads only "
                  "regular files|0"}));
    EXPECT_EQ(count(db(), "SELECT count(*) FROM readings_v WHERE meter = 'secret-meter'"), 0);
    EXPECT_EQ(count(db(),
                    "SELECT count(*) FROM messages WHERE CAST(payload AS TEXT) LIKE "
                    "'%TOP-SECRET%'"),
              0);
    // Moved to done/ as what they are: the link is still a link, the secret untouched.
    EXPECT_TRUE(fs::is_symlink(spool() / "done" / "a-leak.jsonl"));
    EXPECT_EQ(fs::status(spool() / "done" / "b-pipe.jsonl").type(), fs::file_type::fifo);
    EXPECT_FALSE(fs::exists(fs::symlink_status(spool() / "a-leak.jsonl")));
    EXPECT_EQ(read_file(secret).substr(0, 15), "TOP-SECRET-LINE");
    const auto log = p->stderr_text();
    EXPECT_EQ(occurrences(log, "refused a-leak.jsonl: it is a symbolic link"), 1u) << log;
    EXPECT_EQ(log.find("TOP-SECRET"), std::string::npos) << log;

    p->signal(SIGTERM);
    EXPECT_EQ(p->wait(10s), 0) << p->stderr_text();
}

// A line of 128 MiB between two good lines: the good ones are stored, the big
// one is rejected as oversized with its first max_stored_payload bytes, and the
// daemon never holds it whole (the file is sparse: the line costs no disk).
TEST_F(SpoolTest, AnOversizedLineIsRejectedWithoutBeingHeldInMemory) {
    write_config("max_stored_payload = \"1KiB\"\n");
    constexpr off_t kHuge = off_t{128} << 20;
    {
        const std::string first = reading_line("m1", 0, 1) + "\n";
        const std::string last = fmt::format("\n{}\n", reading_line("m1", 1, 2));
        const fs::path tmp = dir / "big.tmp";
        const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::write(fd, first.data(), first.size()), static_cast<ssize_t>(first.size()));
        ASSERT_EQ(::write(fd, "{", 1), 1);
        ASSERT_EQ(::lseek(fd, kHuge - 1, SEEK_CUR), static_cast<off_t>(first.size()) + kHuge);
        ASSERT_EQ(::write(fd, last.data(), last.size()), static_cast<ssize_t>(last.size()));
        ::close(fd);
    }
    auto p = start(args());
    ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << p->stderr_text();
    std::this_thread::sleep_for(200ms);  // a few polls of the empty spool
    const long before = peak_rss_kib(p->pid());
    fs::rename(dir / "big.tmp", spool() / "big.jsonl");
    ASSERT_TRUE(eventually([&] { return fs::exists(spool() / "done" / "big.jsonl"); }, 60s))
        << p->stderr_text();
    const long peak = peak_rss_kib(p->pid());

    EXPECT_EQ(readings(), 2);
    EXPECT_EQ(
        rows(db(),
             "SELECT topic, reason, length(CAST(payload AS BLOB)), substr(payload, 1, 1) FROM "
             "rejected_v"),
        (std::vector<std::string>{fmt::format(
            "big.jsonl:2|oversized: {} bytes, the limit (max_payload) is 262144|1024|{{", kHuge)}));
    // The message row keeps the size of the line as read, not of what was kept.
    EXPECT_EQ(rows(db(), "SELECT payload_size FROM messages WHERE topic = 'big.jsonl:2'"),
              (std::vector<std::string>{fmt::format("{}", kHuge)}));
    EXPECT_NE(p->stderr_text().find("ingested big.jsonl (3 lines, 1 rejected)"), std::string::npos)
        << p->stderr_text();
    ASSERT_GT(before, 0);
    EXPECT_LT(peak - before, 16 * 1024)
        << "peak RSS went from " << before << " to " << peak << " KiB reading a 128 MiB line";
    // Sanitizers' shadow memory makes the whole figure meaningless there, not the growth.
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    EXPECT_LT(peak, 48 * 1024) << "peak RSS " << peak << " KiB while reading a 128 MiB line";
#endif

    p->signal(SIGTERM);
    EXPECT_EQ(p->wait(10s), 0) << p->stderr_text();
}

// A regular file whose read fails (EIO) is not a short file: it is never
// reported as ingested nor moved to done/, the error is logged once, and the
// other files go on. The failing file is /proc/<daemon>/mem bind-mounted over a
// spool entry in a private mount namespace (reading its offset 0 fails with
// EIO); that needs root. Without root, the reading function's error path is
// covered by LineReader's unit tests.
TEST_F(SpoolTest, AFileThatFailsToReadStaysInPlaceAndIsNeverReportedIngested) {
    if (::geteuid() != 0) GTEST_SKIP() << "bind mounts need root";
    write_config();
    drop("a-good.jsonl", reading_line("m1", 0, 1) + "\n");
    const fs::path failing = spool() / "b-eio.jsonl";
    write_file(failing, "");
    drop("c-good.jsonl", reading_line("m1", 1, 2) + "\n");
    // $$ is the shell, which exec turns into the daemon: the file is the daemon's own memory.
    auto p = start({"/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                    fmt::format("mount --bind /proc/$$/mem '{}' && exec '{}' run -c '{}'",
                                failing.string(), MB_BINARY, config().string())});
    if (!notify.wait_for("READY=1", 10s)) {
        const auto exited = p->wait(1s);
        if (exited && *exited != 0 && p->stderr_text().find("mount") != std::string::npos)
            GTEST_SKIP() << "no private mount namespace here: " << p->stderr_text();
        FAIL() << p->stderr_text();
    }
    ASSERT_TRUE(eventually([&] { return fs::exists(spool() / "done" / "c-good.jsonl"); }, 20s))
        << p->stderr_text();
    ASSERT_TRUE(
        p->wait_for_log("cannot read b-eio.jsonl: Input/output error; it stays in the "
                        "spool",
                        10s))
        << p->stderr_text();
    std::this_thread::sleep_for(300ms);  // several polls

    EXPECT_EQ(readings(), 2);
    EXPECT_TRUE(fs::exists(failing));
    EXPECT_FALSE(fs::exists(spool() / "done" / "b-eio.jsonl"));
    const auto log = p->stderr_text();
    EXPECT_EQ(log.find("ingested b-eio.jsonl"), std::string::npos) << log;
    EXPECT_EQ(occurrences(log, "cannot read b-eio.jsonl"), 1u) << log;
    EXPECT_EQ(count(db(), "SELECT count(*) FROM rejected_v"), 0);

    p->signal(SIGTERM);
    EXPECT_EQ(p->wait(10s), 0) << p->stderr_text();
}

}  // namespace
}  // namespace mb::test
