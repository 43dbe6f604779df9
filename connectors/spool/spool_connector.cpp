#include "connectors/spool/spool_connector.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "connectors/registry.h"
#include "connectors/spool/line_reader.h"
#include "storage/clock.h"
#include "storage/writer.h"

namespace mb {

namespace fs = std::filesystem;

namespace {

// Like the MQTT connector: a batch of long lines commits before it holds more than this.
constexpr std::size_t kMaxBatchBytes = std::size_t{4} << 20;

class FileDescriptor {
  public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

// What a spool entry is, for a reason naming why it is not read.
std::string_view kind_of(mode_t mode) {
    if (S_ISLNK(mode)) return "a symbolic link";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    return "not a regular file";
}

SpoolConnector::EntryId entry_id(const struct stat& st) {
    return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
            static_cast<std::int64_t>(st.st_size),
            st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec,
            st.st_ctim.tv_sec * 1'000'000'000LL + st.st_ctim.tv_nsec};
}

}  // namespace

SpoolConnector::SpoolConnector(Writer& writer, const ConnectorConfig& config,
                               std::size_t max_stored_payload)
    : writer_(writer),
      name_(config.name),
      options_(dynamic_cast<const SpoolOptions&>(*config.options)),
      max_payload_(config.max_payload),
      max_stored_payload_(max_stored_payload) {}

SpoolConnector::~SpoolConnector() {
    stop();
}

void SpoolConnector::start() {
    if (thread_.joinable()) return;
    std::error_code ec;
    fs::create_directories(options_.directory / "done", ec);
    if (ec)
        throw std::runtime_error(fmt::format("connector {}: cannot create {}: {}", name_,
                                             (options_.directory / "done").string(), ec.message()));
    health_.set_state(ConnectorState::running, "watching " + options_.directory.string());
    thread_ = std::thread([this] { run(); });
}

void SpoolConnector::stop() {
    {
        std::lock_guard lk(mu_);
        stop_requested_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    health_.set_state(ConnectorState::stopped, "stopped");
}

Health SpoolConnector::health() const {
    return health_.get();
}

void SpoolConnector::run() {
    for (;;) {
        std::vector<fs::path> files;
        std::error_code ec;
        // Every entry named *.jsonl, whatever its type: what is not a regular file is
        // refused by ingest_file(), with a reason, rather than skipped without a word.
        for (fs::directory_iterator it(options_.directory, ec), end; !ec && it != end;
             it.increment(ec)) {
            const auto& p = it->path();
            const auto fname = p.filename().string();
            if (p.extension() == ".jsonl" && !fname.starts_with(".")) files.push_back(p);
        }
        // Forget the problems of entries that are gone.
        std::erase_if(problems_, [&](const auto& kv) {
            return std::find_if(files.begin(), files.end(), [&](const fs::path& f) {
                       return f.filename().string() == kv.first;
                   }) == files.end();
        });
        const bool listed = !ec;
        if (!listed)
            health_.set_state(
                ConnectorState::failed,
                fmt::format("cannot list {}: {}", options_.directory.string(), ec.message()));
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            {
                std::lock_guard lk(mu_);
                if (stop_requested_) return;
            }
            if (!ingest_file(f)) break;
        }
        if (listed && problems_.empty())
            health_.set_state(ConnectorState::running, "watching " + options_.directory.string());
        std::unique_lock lk(mu_);
        if (wake_.wait_for(lk, options_.poll_interval, [&] { return stop_requested_; })) return;
    }
}

bool SpoolConnector::unchanged_problem(const std::string& fname, const EntryId& id) const {
    auto it = problems_.find(fname);
    return it != problems_.end() && it->second == id;
}

void SpoolConnector::report_problem(const std::string& fname, const EntryId& id,
                                    const std::string& what) {
    // Logged once: the entry is tried again only when it changes (or at the next start).
    problems_[fname] = id;
    spdlog::error("{}: {}", name_, what);
    health_.set_state(ConnectorState::running, what);
}

bool SpoolConnector::refuse(const fs::path& file, const EntryId& id, std::string_view why) {
    const std::string fname = file.filename().string();
    Envelope env;
    env.raw.source = name_;
    env.raw.topic = fname;
    env.raw.received_at = now_ms();
    env.result = DecodeResult::rejected(
        RejectCode::not_regular_file,
        fmt::format("{} is {}; the spool reads only regular files", fname, why));
    Batch batch;
    batch.push_back(std::move(env));
    const auto outcome = writer_.submit(std::move(batch), true).get();
    if (!outcome.committed) {
        spdlog::error("{}: commit of the refusal of {} failed ({}); it will be tried again", name_,
                      fname, outcome.error);
        return false;
    }
    health_.count(1, 1);
    std::error_code ec;
    fs::rename(file, options_.directory / "done" / file.filename(), ec);
    if (ec) {
        report_problem(fname, id,
                       fmt::format("refused {} ({}) but cannot move it to done/: {}", fname, why,
                                   ec.message()));
        return true;
    }
    spdlog::warn("{}: refused {}: it is {}; moved to done/ (a rejected message says so)", name_,
                 fname, why);
    return true;
}

bool SpoolConnector::ingest_file(const fs::path& file) {
    const std::string fname = file.filename().string();
    struct stat st {};
    if (::lstat(file.c_str(), &st) != 0) return true;  // gone since the listing
    EntryId id = entry_id(st);
    if (unchanged_problem(fname, id)) return true;
    if (!S_ISREG(st.st_mode)) return refuse(file, id, kind_of(st.st_mode));

    // O_NOFOLLOW: a link swapped in since the lstat is refused, not followed. O_NONBLOCK:
    // opening a FIFO swapped in does not wait for a writer; fstat below refuses it.
    const FileDescriptor fd(
        ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) {
        const int err = errno;
        if (err == ENOENT) return true;
        if (err == ELOOP) return refuse(file, id, kind_of(S_IFLNK));
        report_problem(
            fname, id,
            fmt::format("cannot open {}: {}; it stays in the spool", fname, std::strerror(err)));
        return true;
    }
    if (::fstat(fd.get(), &st) != 0) {
        report_problem(
            fname, id,
            fmt::format("cannot stat {}: {}; it stays in the spool", fname, std::strerror(errno)));
        return true;
    }
    id = entry_id(st);
    if (!S_ISREG(st.st_mode)) return refuse(file, id, kind_of(st.st_mode));
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);

    Batch batch;
    std::size_t batch_bytes = 0;
    std::uint64_t line_no = 0, messages = 0, rejected = 0;
    auto flush = [&]() -> bool {
        if (batch.empty()) return true;
        const auto outcome = writer_.submit(std::move(batch), true).get();
        batch = Batch{};
        batch_bytes = 0;
        if (!outcome.committed) {
            spdlog::error("{}: commit of {} failed ({}); the file will be read again", name_, fname,
                          outcome.error);
            return false;
        }
        return true;
    };
    // A line longer than max_payload is read through, never held whole: its first
    // max_stored_payload bytes are what the rejected message keeps anyway.
    LineReader reader([&](char* buf, std::size_t n) { return ::read(fd.get(), buf, n); },
                      max_payload_, max_stored_payload_);
    while (auto next = reader.next()) {
        ++line_no;
        std::string line = std::move(next->text);
        if (!next->oversized && line.find_first_not_of(" \t") == std::string::npos) continue;
        Envelope env;
        env.raw.source = name_;
        env.raw.topic = fmt::format("{}:{}", fname, line_no);
        env.raw.received_at = now_ms();
        if (next->oversized) {
            env.result = DecodeResult::rejected(
                RejectCode::oversized,
                fmt::format("{} bytes, the limit (max_payload) is {}", next->size, max_payload_));
            env.raw.received_size = next->size;
        } else {
            env.result =
                decoder_.decode(RawMessage{name_, env.raw.topic, line, {}, env.raw.received_at});
        }
        env.raw.payload = std::move(line);
        line = std::string{};
        if (env.result.reject) ++rejected;
        ++messages;
        batch_bytes += env.raw.payload.size();
        batch.push_back(std::move(env));
        if (batch.size() >= options_.batch_lines || batch_bytes >= kMaxBatchBytes) {
            if (!flush()) return false;
            std::lock_guard lk(mu_);
            // Stop between batches: what was committed stays, the file stays for next time.
            if (stop_requested_) return false;
        }
    }
    if (reader.error() != 0) {
        // Never "ingested" when it was not: what was committed stays (read again, it
        // counts as duplicates), the rest of the file was not read.
        report_problem(
            fname, id,
            fmt::format("cannot read {}{}: {}; it stays in the spool and is read again when it "
                        "changes or at the next start",
                        fname, line_no > 0 ? fmt::format(" after line {}", line_no) : "",
                        std::strerror(reader.error())));
        return true;
    }
    if (!flush()) return false;
    health_.count(messages, rejected);
    std::error_code ec;
    fs::rename(file, options_.directory / "done" / file.filename(), ec);
    if (ec) {
        spdlog::error("{}: ingested {} but cannot move it to done/: {}; it will be read again",
                      name_, fname, ec.message());
        return false;
    }
    problems_.erase(fname);
    spdlog::info("{}: ingested {} ({} lines, {} rejected)", name_, fname, messages, rejected);
    return true;
}

}  // namespace mb
