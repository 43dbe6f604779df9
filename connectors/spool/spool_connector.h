// SpoolConnector (`type = "spool"`): ingests files of canonical readings
// (JSON lines, see normalize/canonical/canonical_decoder.h) dropped into a directory —
// imports from other systems, replays, manual corrections.
//
// Thread: one, owned. Every `poll_interval` it takes the files ending in
// `.jsonl` (in name order; write them elsewhere or under another name and
// rename them in, so no half-written file is read), submits their lines in
// batches and waits for each commit. A file is moved to `<directory>/done/`
// only after all of its lines are committed, so a stop or crash mid-file
// means the file is read again at the next start: the store's deduplication
// makes that harmless (counted as duplicates, never stored twice).
//
// Only regular files are read: an entry that is anything else (a symbolic
// link, which would let whoever writes the spool read any file the daemon
// can; a FIFO; a directory) is never opened or followed. It is stored as a
// rejected message (`not_regular_file`, topic = its name, no payload) and
// moved to done/. Lines are read through a bounded buffer (line_reader.h): a
// line longer than max_payload is rejected as `oversized` with its first
// max_stored_payload bytes. A file that cannot be opened or read (an I/O
// error) stays where it is, logged once, and is tried again when it changes
// or at the next start; it is never reported as ingested.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "connectors/connector.h"
#include "connectors/connector_config.h"
#include "connectors/connector_health.h"
#include "normalize/canonical/canonical_decoder.h"

namespace mb {

class Writer;
class ConnectorRegistry;

struct SpoolOptions final : ConnectorOptions {
    std::filesystem::path directory;
    std::chrono::milliseconds poll_interval{1000};
    std::size_t batch_lines = 1000;
};

class SpoolConnector final : public Connector {
  public:
    // `max_stored_payload`: what the store keeps of a rejected payload ([storage]).
    SpoolConnector(Writer& writer, const ConnectorConfig& config, std::size_t max_stored_payload);
    ~SpoolConnector() override;

    void start() override;
    void stop() override;
    Health health() const override;
    const std::string& name() const override { return name_; }

    // An entry as lstat/fstat saw it: a problem is logged once per version of an entry.
    struct EntryId {
        std::uint64_t dev = 0, ino = 0;
        std::int64_t size = 0, mtime_ns = 0, ctime_ns = 0;
        bool operator==(const EntryId&) const = default;
    };

  private:
    void run();
    // false when the file must be tried again later (a commit failed or stop was asked).
    bool ingest_file(const std::filesystem::path& file);
    // Stores the rejected message for an entry that is not a regular file, then moves it
    // to done/; false when the commit failed.
    bool refuse(const std::filesystem::path& file, const EntryId& id, std::string_view why);
    bool unchanged_problem(const std::string& fname, const EntryId& id) const;
    void report_problem(const std::string& fname, const EntryId& id, const std::string& what);

    Writer& writer_;
    std::string name_;
    SpoolOptions options_;
    std::size_t max_payload_;
    std::size_t max_stored_payload_;
    CanonicalDecoder decoder_;
    // File name → the version of it that could not be opened, read or moved. Only
    // the connector's thread touches it.
    std::map<std::string, EntryId> problems_;

    mutable std::mutex mu_;
    std::condition_variable wake_;
    bool stop_requested_ = false;
    ConnectorHealth health_;
    std::thread thread_;
};

}  // namespace mb
