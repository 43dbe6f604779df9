// SpoolConnector (`type = "spool"`): ingests files of canonical readings
// (JSON lines, see normalize/canonical_decoder.h) dropped into a directory —
// imports from other systems, replays, manual corrections.
//
// Thread: one, owned. Every `poll_interval` it takes the files ending in
// `.jsonl` (in name order; write them elsewhere or under another name and
// rename them in, so no half-written file is read), submits their lines in
// batches and waits for each commit. A file is moved to `<directory>/done/`
// only after all of its lines are committed, so a stop or crash mid-file
// means the file is read again at the next start: the store's deduplication
// makes that harmless (counted as duplicates, never stored twice).
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "connectors/connector.h"
#include "daemon/config.h"
#include "normalize/canonical_decoder.h"

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
    SpoolConnector(Writer& writer, const ConnectorConfig& config);
    ~SpoolConnector() override;

    void start() override;
    void stop() override;
    Health health() const override;
    const std::string& name() const override { return name_; }

  private:
    void run();
    // false when the file must be tried again later (a commit failed or stop was asked).
    bool ingest_file(const std::filesystem::path& file);
    void set_health(ConnectorState s, std::string detail);

    Writer& writer_;
    std::string name_;
    SpoolOptions options_;
    std::size_t max_payload_;
    CanonicalDecoder decoder_;

    mutable std::mutex mu_;
    std::condition_variable wake_;
    bool stop_requested_ = false;
    Health health_;
    std::thread thread_;
};

// The registry row of the spool type.
void register_spool_connector(ConnectorRegistry& registry);

}  // namespace mb
