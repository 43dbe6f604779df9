// App: the daemon's lifecycle (`meterbridge run`).
//
// Thread: run() is called on the main thread and owns a Boost.Asio
// io_context there for signals and timers; connectors and the writer run on
// their own threads. Ownership: App owns the store, the writer and every
// connector; connectors are stopped before the writer, the writer before the
// store closes.
//
// Signals: SIGTERM/SIGINT stop the connectors (each hands its last batch to
// the writer), drain the queue, commit and return 0 — or give up after
// `shutdown_timeout` and exit non-zero. SIGHUP reloads the configuration:
// an invalid file is logged and the running configuration kept; otherwise
// connectors whose configuration changed are restarted, new ones started,
// removed ones stopped. Storage settings need a restart.
// One daemon per database: run() first locks PATH.lock (storage/store_lock.h)
// and returns 75 naming the holder's pid when another daemon has it.
// Control socket: operators' commands to devices and a status query, served
// on the io_context (control_server.h); a failure to bind is logged, not fatal.
// HTTP listener ([http] listen): /metrics, /healthz on the io_context
// (daemon/http/); a failure to bind is logged, not fatal.
// systemd: READY=1 once the store is open and connectors started, WATCHDOG=1
// only while the writer makes progress, STOPPING=1 on shutdown, RELOADING=1
// around a reload, and a STATUS= line with counters; all through notify()
// (daemon/notify.h), which keeps a connector's quoted error on that one line.
#pragma once

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it under C++20

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "connectors/registry.h"
#include "daemon/config.h"
#include "daemon/control/control_server.h"
#include "daemon/http/health_report.h"
#include "daemon/http/http_server.h"
#include "daemon/http/metrics.h"
#include "storage/store.h"
#include "storage/store_lock.h"
#include "storage/writer.h"

namespace mb {

// Exit codes (sysexits.h where one fits).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 64;
inline constexpr int kExitDataErr = 65;
inline constexpr int kExitSoftware = 70;
inline constexpr int kExitCantCreate = 73;
inline constexpr int kExitTempFail = 75;  // another daemon holds the database
inline constexpr int kExitNoPerm = 77;    // the database, config or socket refuses this user
inline constexpr int kExitConfig = 78;

class App {
  public:
    App(Config config, const ConnectorRegistry& registry);
    ~App();

    // Blocks until a stop signal; returns the process exit code.
    int run();

    std::chrono::seconds shutdown_timeout{60};

    // Stale meters per source for /metrics; called on the io_context thread at
    // most every 15 s (the last answer is kept meanwhile). Unset at run(): counted
    // from the database (storage/meters.h) by each source's stale_after.
    std::function<std::map<std::string, std::uint64_t>()> stale_meters;

  private:
    void start_connector(const ConnectorConfig& cfg);
    void stop_all_connectors();
    void on_signal(int signo);
    void reload();
    void begin_shutdown();
    void schedule_watchdog();
    void schedule_status();
    control::DaemonStatus daemon_status() const;
    std::string status_line() const;
    void start_control();
    void on_control(const control::Request& request, ControlServer::Reply reply);
    void start_http();
    void schedule_progress_check();
    http::HealthInput health_input() const;
    http::MetricsSnapshot metrics_snapshot();
    // GET / (daemon/http/status_page.h): the database's part read through
    // read_db(), the live part (counters, connectors) from this process.
    http::Response status_page(const http::Request& request);
    std::vector<control::ConnectorStatus> connector_statuses() const;
    // The io_context thread's read-only connection to the store (WAL: readers
    // never block the writer), opened on first use. Throws sql::SqliteError.
    sql::Db& read_db();

    std::shared_ptr<const Config> config_;
    const ConnectorRegistry& registry_;
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer watchdog_timer_;
    boost::asio::steady_timer status_timer_;
    std::optional<StoreLock> lock_;  // held before the store opens, released after it closes
    std::optional<Store> store_;
    std::unique_ptr<Writer> writer_;
    struct Running {
        std::unique_ptr<ConnectorContext> context;  // outlives the connector using it
        std::unique_ptr<Connector> connector;
        std::string fingerprint;
        std::string type;
    };
    std::map<std::string, Running> connectors_;
    std::unique_ptr<ControlServer> control_;
    std::unique_ptr<http::Server> http_;
    std::shared_ptr<http::MetricsCollector> metrics_;
    // The writer's progress as last seen, and when it last moved.
    boost::asio::steady_timer progress_timer_;
    std::uint64_t seen_progress_ = 0;
    std::chrono::steady_clock::time_point progress_moved_{};
    // Latest receipt per source as the database had it at start.
    std::map<std::string, std::int64_t> last_received_at_start_;
    std::map<std::string, std::uint64_t> stale_cache_;
    std::optional<sql::Db> read_db_;
    std::chrono::steady_clock::time_point stale_refreshed_{};
    std::chrono::microseconds watchdog_interval_{0};
    std::uint64_t last_progress_ = 0;
    bool stopping_ = false;
    int exit_code_ = kExitOk;
};

}  // namespace mb
