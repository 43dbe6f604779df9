// The daemon's configuration (DESIGN.md §4, contract), as loaded from TOML.
//
// Who calls: `load_config` runs on the main thread at start-up, on SIGHUP and
// for `check-config`. It never throws for bad content: every problem becomes a
// ConfigError naming file, line, column and the dotted key, so that an operator
// sees all of them at once. It throws only for programming errors.
// Secrets are never stored in this structure: only the paths of their files
// (normalize/config/secret.h reads them).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/connector_config.h"
#include "normalize/config/config_error.h"

namespace mb {

enum class SyncMode { normal, full };

struct StorageConfig {
    std::filesystem::path path;
    SyncMode synchronous = SyncMode::full;  // acknowledged data must survive power loss
    std::size_t queue_capacity = 20000;     // rows (readings, states, messages) waiting for the
                                            // writer; submitters block above it (back-pressure)
    std::size_t batch_max_rows = 10000;     // rows per transaction at most
    std::chrono::milliseconds batch_max_delay{50};  // linger for more rows when nobody waits
    std::chrono::hours raw_retention{24 * 30};      // payloads of accepted messages; 0 = keep none
    std::size_t max_stored_payload = 64 * 1024;     // bytes of a rejected payload kept
    std::size_t cache_size = 4 * 1024 * 1024;       // SQLite page cache of the writer, bytes
};

// The control socket: operators' commands into the running daemon
// (`meterbridge command`, `meterbridge status`).
struct ControlConfig {
    // Default: the database path + ".sock". Empty: no control socket.
    std::filesystem::path socket;
    bool enabled = true;
};

// The HTTP listener: /metrics, /healthz, the status page.
struct HttpConfig {
    // "address:port" or "[IPv6]:port" (daemon/http/listen_address.h); empty:
    // no listener.
    std::string listen = "127.0.0.1:9477";
};

struct LogConfig {
    std::string level = "info";  // trace|debug|info|warn|error
};

struct Config {
    std::filesystem::path file;
    StorageConfig storage;
    LogConfig log;
    ControlConfig control;
    HttpConfig http;
    std::map<std::string, BrokerConfig> brokers;
    std::vector<ConnectorConfig> connectors;
    std::vector<JobConfig> jobs;
};

struct LoadResult {
    std::optional<Config> config;  // set iff errors is empty
    std::vector<ConfigError> errors;
    std::vector<std::string> warnings;  // valid but risky (qos = 2, tls_insecure)
    bool permission_denied = false;     // the file exists but this user may not read it
};

class ConnectorRegistry;

struct LoadOptions {
    // false: *_file secret keys are taken as names, the files not checked. For
    // the verbs that never read a secret (the read verbs, status, command): an
    // operator need not be able to read the daemon's credentials to use them.
    bool check_secret_files = true;
};

// Reads and validates `file`. Connector types and their keys come from `registry`.
LoadResult load_config(const std::filesystem::path& file, const ConnectorRegistry& registry,
                       LoadOptions options = {});
// Same, from text (tests, and `file` only names it in messages).
LoadResult load_config_text(std::string_view text, const std::filesystem::path& file,
                            const ConnectorRegistry& registry, LoadOptions options = {});

// The `stale_after` value: a duration ("15m", "PT15M") or a positive multiple
// ("3x", "2.5x"); nullopt when it is neither.
std::optional<StaleRule> parse_stale_rule(std::string_view text);
// Each connector's stale rule, by name (list_meters, count_stale_meters).
std::map<std::string, StaleRule> stale_rules(const Config& config);

}  // namespace mb
