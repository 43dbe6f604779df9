#include "connectors/spool_connector.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>

#include "connectors/registry.h"
#include "storage/writer.h"

namespace mb {

namespace fs = std::filesystem;

namespace {
std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}
}  // namespace

SpoolConnector::SpoolConnector(Writer& writer, const ConnectorConfig& config)
    : writer_(writer),
      name_(config.name),
      options_(dynamic_cast<const SpoolOptions&>(*config.options)),
      max_payload_(config.max_payload) {}

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
    set_health(ConnectorState::running, "watching " + options_.directory.string());
    thread_ = std::thread([this] { run(); });
}

void SpoolConnector::stop() {
    {
        std::lock_guard lk(mu_);
        stop_requested_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    set_health(ConnectorState::stopped, "stopped");
}

Health SpoolConnector::health() const {
    std::lock_guard lk(mu_);
    return health_;
}

void SpoolConnector::set_health(ConnectorState s, std::string detail) {
    std::lock_guard lk(mu_);
    health_.state = s;
    health_.detail = std::move(detail);
}

void SpoolConnector::run() {
    for (;;) {
        std::vector<fs::path> files;
        std::error_code ec;
        for (fs::directory_iterator it(options_.directory, ec), end; !ec && it != end;
             it.increment(ec)) {
            const auto& p = it->path();
            const auto fname = p.filename().string();
            if (it->is_regular_file(ec) && p.extension() == ".jsonl" && !fname.starts_with("."))
                files.push_back(p);
        }
        if (ec)
            set_health(
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
        std::unique_lock lk(mu_);
        if (wake_.wait_for(lk, options_.poll_interval, [&] { return stop_requested_; })) return;
    }
}

bool SpoolConnector::ingest_file(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        spdlog::warn("{}: cannot open {}", name_, file.string());
        return true;
    }
    const std::string fname = file.filename().string();
    Batch batch;
    std::uint64_t line_no = 0, messages = 0, rejected = 0;
    auto flush = [&]() -> bool {
        if (batch.empty()) return true;
        const auto outcome = writer_.submit(std::move(batch), true).get();
        batch = Batch{};
        if (!outcome.committed) {
            spdlog::error("{}: commit of {} failed ({}); the file will be read again", name_, fname,
                          outcome.error);
            return false;
        }
        return true;
    };
    std::string line;
    while (std::getline(in, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        Envelope env;
        env.raw.source = name_;
        env.raw.topic = fmt::format("{}:{}", fname, line_no);
        env.raw.received_at = now_ms();
        if (line.size() > max_payload_) {
            env.result = DecodeResult::rejected(
                RejectCode::oversized,
                fmt::format("{} bytes, the limit (max_payload) is {}", line.size(), max_payload_));
        } else {
            env.result =
                decoder_.decode(RawMessage{name_, env.raw.topic, line, {}, env.raw.received_at});
        }
        env.raw.payload = std::move(line);
        line = std::string{};
        if (env.result.reject) ++rejected;
        ++messages;
        batch.push_back(std::move(env));
        if (batch.size() >= options_.batch_lines) {
            if (!flush()) return false;
            std::lock_guard lk(mu_);
            // Stop between batches: what was committed stays, the file stays for next time.
            if (stop_requested_) return false;
        }
    }
    if (!flush()) return false;
    {
        std::lock_guard lk(mu_);
        health_.messages += messages;
        health_.rejected += rejected;
    }
    std::error_code ec;
    fs::rename(file, options_.directory / "done" / file.filename(), ec);
    if (ec) {
        spdlog::error("{}: ingested {} but cannot move it to done/: {}; it will be read again",
                      name_, fname, ec.message());
        return false;
    }
    spdlog::info("{}: ingested {} ({} lines, {} rejected)", name_, fname, messages, rejected);
    return true;
}

void register_spool_connector(ConnectorRegistry& registry) {
    ConnectorType t;
    t.type = "spool";
    t.transport = Transport::local;
    t.description = "files of canonical readings (JSON lines) dropped into a directory";
    t.parse_options = [](TableReader& r,
                         ConnectorConfig&) -> std::shared_ptr<const ConnectorOptions> {
        auto o = std::make_shared<SpoolOptions>();
        if (auto d = r.required_string("directory")) {
            fs::path p(*d);
            if (p.is_relative()) p = fs::path(r.file()).parent_path() / p;
            o->directory = p.lexically_normal();
        }
        if (auto v = r.duration("poll_interval")) {
            if (v->count() < 10 || v->count() > 3600000)
                r.error("poll_interval", "must be between 10ms and 1h");
            else
                o->poll_interval = *v;
        }
        if (auto v = r.integer("batch_lines", 1, 100000))
            o->batch_lines = static_cast<std::size_t>(*v);
        return o;
    };
    t.make_connector = [](ConnectorContext& ctx,
                          const ConnectorConfig& cfg) -> std::unique_ptr<Connector> {
        return std::make_unique<SpoolConnector>(ctx.writer, cfg);
    };
    registry.add(std::move(t));
}

}  // namespace mb
