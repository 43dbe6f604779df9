#include "daemon/app.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <csignal>
#include <cstdlib>
#include <thread>
#include <vector>

#include "daemon/logging.h"
#include "daemon/notify.h"
#include "daemon/http/status_model.h"
#include "storage/clock.h"
#include "storage/meters.h"

namespace mb {

namespace {

StoreOptions store_options(const StorageConfig& s) {
    StoreOptions o;
    o.synchronous_full = s.synchronous == SyncMode::full;
    o.raw_retention = std::chrono::duration_cast<std::chrono::milliseconds>(s.raw_retention);
    o.max_stored_payload = s.max_stored_payload;
    o.kept_rows_capacity = 2 * s.batch_max_rows;
    o.cache_bytes = s.cache_size;
    return o;
}

WriterOptions writer_options(const StorageConfig& s) {
    WriterOptions o;
    o.queue_capacity_rows = s.queue_capacity;
    o.batch_max_rows = s.batch_max_rows;
    o.batch_max_delay = s.batch_max_delay;
    return o;
}

bool same_storage(const StorageConfig& a, const StorageConfig& b) {
    return a.path == b.path && a.synchronous == b.synchronous &&
           a.queue_capacity == b.queue_capacity && a.batch_max_rows == b.batch_max_rows &&
           a.batch_max_delay == b.batch_max_delay && a.raw_retention == b.raw_retention &&
           a.max_stored_payload == b.max_stored_payload && a.cache_size == b.cache_size;
}

}  // namespace

App::App(Config config, const ConnectorRegistry& registry)
    : config_(std::make_shared<const Config>(std::move(config))),
      registry_(registry),
      signals_(io_),
      watchdog_timer_(io_),
      status_timer_(io_),
      progress_timer_(io_) {}

App::~App() {
    stop_all_connectors();
    if (writer_) writer_->stop();
}

int App::run() {
    set_log_level(config_->log.level);
    // Signals first: a SIGTERM during start-up must not kill us half-way.
    signals_.add(SIGTERM);
    signals_.add(SIGINT);
    signals_.add(SIGHUP);
    std::signal(SIGPIPE, SIG_IGN);

    const auto& st = config_->storage;
    try {
        // The directory first: the lock file lives next to the database.
        if (st.path.has_parent_path()) std::filesystem::create_directories(st.path.parent_path());
        lock_.emplace(StoreLock::acquire(st.path));
    } catch (const StoreLocked& e) {
        spdlog::critical("{}", e.what());
        return kExitTempFail;
    } catch (const std::exception& e) {
        spdlog::critical("cannot lock the database {}: {}", st.path.string(), e.what());
        return kExitCantCreate;
    }
    try {
        store_.emplace(Store::open(st.path, store_options(st)));
    } catch (const std::exception& e) {
        spdlog::critical("cannot open the database {}: {}", st.path.string(), e.what());
        return kExitCantCreate;
    }
    spdlog::info("database {} open (synchronous={})", st.path.string(),
                 st.synchronous == SyncMode::full ? "full" : "normal");
    try {
        sql::Stmt q(store_->db(), "SELECT source, last_received_at FROM source_stats "
                                  "WHERE last_received_at IS NOT NULL");
        while (q.step()) last_received_at_start_[std::string(q.column_text(0))] = q.column_int(1);
    } catch (const std::exception& e) {
        spdlog::warn("cannot read the sources' last receipt times: {}", e.what());
    }
    writer_ = std::make_unique<Writer>(*store_, writer_options(st));
    writer_->start();

    try {
        for (const auto& c : config_->connectors) start_connector(c);
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        stop_all_connectors();
        writer_->stop();
        return kExitConfig;
    }

    std::function<void(const boost::system::error_code&, int)> handler;
    handler = [this, &handler](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        on_signal(signo);
        if (!stopping_) signals_.async_wait(handler);
    };
    signals_.async_wait(handler);

    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        watchdog_interval_ = std::chrono::microseconds(usec / 2);
        schedule_watchdog();
    }
    schedule_status();
    progress_moved_ = std::chrono::steady_clock::now();
    schedule_progress_check();
    start_control();
    start_http();
    notify({{"READY", "1"}, {"STATUS", status_line()}});
    spdlog::info("meterbridge running: {} connector(s), {} job(s)", connectors_.size(),
                 config_->jobs.size());

    io_.run();
    return exit_code_;
}

void App::start_connector(const ConnectorConfig& cfg) {
    const ConnectorType* type = registry_.find(cfg.type);
    if (!type)
        throw std::runtime_error(fmt::format("connector {}: unknown type {}", cfg.name, cfg.type));
    Running r;
    r.context = std::make_unique<ConnectorContext>(ConnectorContext{*writer_, config_->brokers, config_->jobs, config_->storage.path});
    r.connector = type->make_connector(*r.context, cfg);
    r.fingerprint = cfg.fingerprint;
    r.type = cfg.type;
    r.connector->start();
    spdlog::info("connector {} ({}) started", cfg.name, cfg.type);
    connectors_[cfg.name] = std::move(r);
}

void App::stop_all_connectors() {
    // In parallel: each stop() finishes its connector's last commit, and a
    // shutdown should take the longest of them, not their sum.
    std::vector<std::thread> stoppers;
    for (auto& [name, r] : connectors_)
        stoppers.emplace_back([&name = name, &r = r] {
            r.connector->stop();
            spdlog::info("connector {} stopped", name);
        });
    for (auto& t : stoppers) t.join();
    connectors_.clear();
}

void App::on_signal(int signo) {
    if (signo == SIGHUP) {
        reload();
        return;
    }
    spdlog::info("received {}, shutting down", signo == SIGTERM ? "SIGTERM" : "SIGINT");
    begin_shutdown();
}

void App::begin_shutdown() {
    if (stopping_) return;
    stopping_ = true;
    notify({{"STOPPING", "1"}});
    watchdog_timer_.cancel();
    status_timer_.cancel();
    progress_timer_.cancel();
    signals_.cancel();
    if (control_) control_->stop();
    if (http_) http_->stop();

    // A bounded shutdown: if draining hangs (a stuck disk), leave rather than
    // block systemd; nothing unacknowledged is lost by leaving.
    const auto limit = shutdown_timeout;
    std::thread([limit] {
        std::this_thread::sleep_for(limit);
        spdlog::critical("shutdown did not finish within {}s; exiting", limit.count());
        std::_Exit(kExitSoftware);
    }).detach();

    const auto t0 = std::chrono::steady_clock::now();
    stop_all_connectors();
    writer_->stop();
    const auto s = writer_->stats();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    spdlog::info(
        "stopped in {} ms: {} messages, {} readings stored, {} duplicates, {} revisions, {} "
        "rejected",
        ms.count(), s.stored.messages, s.stored.readings, s.stored.duplicates, s.stored.revisions,
        s.stored.rejected);
    io_.stop();
}

void App::reload() {
    notify({{"RELOADING", "1"}});
    spdlog::info("SIGHUP: reloading {}", config_->file.string());
    auto result = load_config(config_->file, registry_);
    for (const auto& w : result.warnings) spdlog::warn("{}", w);
    if (!result.config) {
        for (const auto& e : result.errors) spdlog::error("{}", e.to_string());
        spdlog::error("reload rejected ({} error(s)); keeping the running configuration",
                      result.errors.size());
        notify({{"READY", "1"}});
        return;
    }
    Config next = std::move(*result.config);
    if (!same_storage(next.storage, config_->storage)) {
        spdlog::warn("[storage] changed; it takes effect at the next restart");
        next.storage = config_->storage;
    }
    if (next.log.level != config_->log.level) set_log_level(next.log.level);

    auto shared = std::make_shared<const Config>(std::move(next));
    std::size_t stopped = 0, started = 0;
    // Stop what went away or changed.
    for (auto it = connectors_.begin(); it != connectors_.end();) {
        const ConnectorConfig* now = nullptr;
        for (const auto& c : shared->connectors)
            if (c.name == it->first) now = &c;
        if (now && now->fingerprint == it->second.fingerprint) {
            ++it;
            continue;
        }
        it->second.connector->stop();
        spdlog::info("connector {} stopped ({})", it->first, now ? "changed" : "removed");
        it = connectors_.erase(it);
        ++stopped;
    }
    config_ = shared;
    for (const auto& c : config_->connectors) {
        if (connectors_.count(c.name)) continue;
        try {
            start_connector(c);
            ++started;
        } catch (const std::exception& e) {
            spdlog::error("connector {} not started: {}", c.name, e.what());
        }
    }
    spdlog::info("reload done: {} connector(s) stopped, {} started, {} running", stopped, started,
                 connectors_.size());
    notify({{"READY", "1"}});
}

void App::schedule_watchdog() {
    watchdog_timer_.expires_after(watchdog_interval_);
    watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_) return;
        const auto p = writer_->progress();
        if (p != last_progress_) {
            notify({{"WATCHDOG", "1"}});
        } else {
            spdlog::error(
                "the storage writer made no progress for {} ms; withholding the watchdog ping",
                std::chrono::duration_cast<std::chrono::milliseconds>(watchdog_interval_).count());
        }
        last_progress_ = p;
        schedule_watchdog();
    });
}

control::DaemonStatus App::daemon_status() const {
    const auto s = writer_->stats();
    control::DaemonStatus d{.messages = s.stored.messages,
                            .readings = s.stored.readings,
                            .duplicates = s.stored.duplicates,
                            .revisions = s.stored.revisions,
                            .rejected = s.stored.rejected,
                            .queued = s.queued_rows,
                            .connectors = connectors_.size(),
                            .storage_paused = s.paused};
    for (const auto& [name, r] : connectors_) {
        const Health h = r.connector->health();
        d.reconnects += h.reconnects;
        if (h.state == ConnectorState::running) ++d.connectors_running;
    }
    return d;
}

std::string App::status_line() const {
    const control::DaemonStatus d = daemon_status();
    std::string line = fmt::format(
        "{} messages, {} readings, {} duplicates, {} revisions, {} rejected, {} queued{}",
        d.messages, d.readings, d.duplicates, d.revisions, d.rejected, d.queued,
        d.storage_paused ? " (storage paused)" : "");
    // Connectors that are not running, with their last word.
    std::string trouble;
    for (const auto& [name, r] : connectors_) {
        const Health h = r.connector->health();
        if (h.state != ConnectorState::running)
            trouble += fmt::format("; {} {}: {}", name, to_string(h.state), h.detail);
    }
    line += fmt::format("; connectors {}/{} running, {} reconnects{}", d.connectors_running,
                        d.connectors, d.reconnects, trouble);
    return line;
}

void App::start_control() {
    const auto& c = config_->control;
    if (!c.enabled || c.socket.empty()) return;
    try {
        control_ = std::make_unique<ControlServer>(
            io_, c.socket, [this](const control::Request& req, ControlServer::Reply reply) {
                on_control(req, std::move(reply));
            });
        control_->start();
        spdlog::info("control socket {}", c.socket.string());
    } catch (const std::exception& e) {
        spdlog::error("no control socket: {}", e.what());
    }
}

void App::on_control(const control::Request& request, ControlServer::Reply reply) {
    if (std::holds_alternative<control::StatusRequest>(request)) {
        control::Response r;
        r.status = "ok";
        r.detail = status_line();
        const auto report = http::assess(health_input());
        r.health = report.healthy ? "ok" : "degraded";
        r.reasons = report.reasons;
        r.connectors = connector_statuses();
        r.daemon = daemon_status();
        reply(r);
        return;
    }
    if (const auto* j = std::get_if<control::RunJobRequest>(&request)) {
        control::Response r;
        const JobConfig* job = nullptr;
        for (const auto& jc : config_->jobs)
            if (jc.name == j->job) job = &jc;
        const auto it = job ? connectors_.find(job->connector) : connectors_.end();
        if (!job) {
            std::string names;
            for (const auto& jc : config_->jobs) names += (names.empty() ? "" : ", ") + jc.name;
            r = control::error_response(fmt::format("no job named '{}' (jobs: {})", j->job,
                                                    names.empty() ? "none" : names));
            r.status = "invalid";  // the request's fault, not the daemon's
        } else if (it == connectors_.end() || !it->second.connector->run_job(j->job)) {
            r = control::error_response(
                fmt::format("connector '{}' of job '{}' is not running", job->connector, j->job));
            r.status = "unavailable";
        } else {
            r.status = "ok";
            r.detail = fmt::format("job {} started on connector {}", j->job, job->connector);
        }
        reply(r);
        return;
    }
    const auto& c = std::get<control::CommandRequest>(request);
    const auto it = connectors_.find(c.connector);
    if (it == connectors_.end() || stopping_) {
        DeviceCommandResult r;
        r.status = DeviceCommandResult::Status::unavailable;
        std::string names;
        for (const auto& [name, run] : connectors_) names += (names.empty() ? "" : ", ") + name;
        r.detail = stopping_ ? "the daemon is stopping"
                             : fmt::format("no running connector named '{}' (running: {})",
                                           c.connector, names.empty() ? "none" : names);
        reply(control::from_result(r));
        return;
    }
    it->second.connector->send_command(
        c.command, [reply](DeviceCommandResult r) { reply(control::from_result(r)); });
}

void App::schedule_progress_check() {
    progress_timer_.expires_after(std::chrono::seconds(1));
    progress_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_) return;
        const auto p = writer_->progress();
        if (p != seen_progress_) {
            seen_progress_ = p;
            progress_moved_ = std::chrono::steady_clock::now();
        }
        schedule_progress_check();
    });
}

http::HealthInput App::health_input() const {
    http::HealthInput in;
    for (const auto& [name, r] : connectors_)
        in.connectors.push_back({name, r.type, r.connector->health()});
    // The writer's loop turns at least once a second, also while idle.
    in.writer_stalled = std::chrono::steady_clock::now() - progress_moved_ > std::chrono::seconds(5);
    in.writer_paused = writer_->stats().paused;
    return in;
}

http::MetricsSnapshot App::metrics_snapshot() {
    http::MetricsSnapshot s;
    s.writer = writer_->stats();
    s.last_received_ms = last_received_at_start_;
    for (const auto& [source, t] : s.writer.last_received_ms) {
        auto& last = s.last_received_ms[source];
        last = std::max(last, t);
    }
    for (const auto& [name, r] : connectors_)
        s.connectors.push_back({name, r.type, r.connector->health()});
    const auto& path = config_->storage.path;
    std::error_code ec;
    const auto main = std::filesystem::file_size(path, ec);
    if (!ec) s.database_bytes += main;
    const auto wal = std::filesystem::file_size(path.string() + "-wal", ec);
    if (!ec) s.database_bytes += wal;
    const auto now = std::chrono::steady_clock::now();
    if (stale_meters && (stale_refreshed_ == std::chrono::steady_clock::time_point{} ||
                         now - stale_refreshed_ >= std::chrono::seconds(15))) {
        stale_refreshed_ = now;
        try {
            stale_cache_ = stale_meters();
        } catch (const std::exception& e) {
            spdlog::warn("http: cannot count stale meters: {}", e.what());
        }
    }
    s.meters_stale = stale_cache_;
    return s;
}

void App::start_http() {
    const std::string& listen = config_->http.listen;
    if (listen.empty()) return;
    if (!stale_meters)
        stale_meters = [this] { return count_stale_meters(read_db(), now_ms(), stale_rules(*config_)); };
    http_ = std::make_unique<http::Server>(io_, listen);
    metrics_ = std::make_shared<http::MetricsCollector>([this] { return metrics_snapshot(); });
    http_->route("/metrics", [this](const http::Request&) {
        http::Response r;
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        r.body = http::serialize(metrics_->Collect());
        return r;
    });
    http_->route("/", [this](const http::Request& req) { return status_page(req); });
    http_->route("/healthz", [this](const http::Request&) {
        const auto in = health_input();
        const auto report = http::assess(in);
        http::Response r;
        r.status = report.healthy ? 200 : 503;
        r.content_type = "application/json";
        r.body = http::render_json(report, in);
        return r;
    });
    try {
        http_->start();
        const auto ep = http_->local_endpoint();
        spdlog::info("http listening on {}", ep.address().is_v6()
                                                 ? fmt::format("[{}]:{}", ep.address().to_string(), ep.port())
                                                 : fmt::format("{}:{}", ep.address().to_string(), ep.port()));
    } catch (const std::exception& e) {
        spdlog::error("no HTTP listener: {}", e.what());
        http_.reset();
    }
}

sql::Db& App::read_db() {
    if (!read_db_) read_db_.emplace(sql::Db::open(config_->storage.path, sql::Db::Mode::read_only));
    return *read_db_;
}

http::Response App::status_page(const http::Request& request) {
    const TimeMs now = now_ms();
    const http::PageQuery query = http::parse_page_query(request.target);
    http::StatusPage page;
    try {
        sql::Db& db = read_db();
        page = http::load_status_page(db, query, now);
        const auto rules = stale_rules(*config_);
        MetersQuery stale_query;
        stale_query.stale_only = true;
        for (auto& m : list_meters(db, stale_query, now, rules))
            page.stale.push_back(http::StaleMeter{std::move(m.source), std::move(m.meter),
                                                  m.last_received});
        if (page.chart) {
            GapsQuery g;
            g.source = page.chart->series.source;
            g.meter = page.chart->series.meter;
            g.quantity = page.chart->series.quantity;
            g.from = page.chart->from;
            g.to = page.chart->to;
            for (const auto& series : find_gaps(db, g))
                for (const auto& gap : series.gaps)
                    page.chart->gaps.push_back(http::ChartGap{gap.from, gap.to, gap.missing});
        }
    } catch (const std::exception& e) {
        page.now = now;
        page.query = query;
        page.errors.push_back(fmt::format("cannot read the database: {}", e.what()));
    }
    const auto s = writer_->stats();
    page.daemon = http::DaemonCounters{s.stored.messages,   s.stored.readings, s.stored.duplicates,
                                       s.stored.revisions,  s.stored.rejected, s.queued_rows};
    page.connectors = connector_statuses();
    return http::status_page_response(page);
}

std::vector<control::ConnectorStatus> App::connector_statuses() const {
    std::vector<control::ConnectorStatus> out;
    for (const auto& [name, run] : connectors_) {
        const Health h = run.connector->health();
        out.push_back(control::ConnectorStatus{name, run.type, std::string(to_string(h.state)),
                                               h.detail, h.messages, h.rejected, h.reconnects});
    }
    return out;
}

void App::schedule_status() {
    status_timer_.expires_after(std::chrono::seconds(10));
    status_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_) return;
        notify({{"STATUS", status_line()}});
        schedule_status();
    });
}

}  // namespace mb
