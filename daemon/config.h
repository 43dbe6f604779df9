// The daemon's configuration (DESIGN.md §4, contract), as loaded from TOML.
//
// Who calls: `load_config` runs on the main thread at start-up, on SIGHUP and
// for `check-config`. It never throws for bad content: every problem becomes a
// ConfigError naming file, line, column and the dotted key, so that an operator
// sees all of them at once. It throws only for programming errors.
// Secrets are never stored in this structure: only the paths of their files
// (see secret.h for reading them).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mb {

struct ConfigError {
    std::string file;
    std::uint32_t line = 0;  // 0 when the problem has no position (missing file)
    std::uint32_t column = 0;
    std::string key;  // dotted path: "connectors[1].broker", "" for the file itself
    std::string message;

    // "etc/x.toml:12:1: connectors[1].brokr: unknown key"
    std::string to_string() const;
};

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

struct LogConfig {
    std::string level = "info";  // trace|debug|info|warn|error
};

struct BrokerConfig {
    std::string name;
    std::string host = "127.0.0.1";
    std::uint16_t port = 1883;
    std::optional<bool> tls;  // unset: on for non-loopback hosts
    bool tls_insecure = false;
    std::string ca_file, ca_path, cert_file, key_file;
    std::string username;
    std::string password_file;  // relative names resolve in $CREDENTIALS_DIRECTORY
    std::chrono::seconds keepalive{30};
    int protocol = 4;  // 4 = MQTT 3.1.1, 5 = MQTT 5
};

// Keys specific to one connector type, parsed by the type's registry row.
// Each vendor derives its own options struct from this.
struct ConnectorOptions {
    virtual ~ConnectorOptions() = default;
};

struct ConnectorConfig {
    std::string name;  // becomes `source` of readings
    std::string type;
    std::string broker;  // MQTT connectors: a key of Config::brokers
    std::vector<std::string> topics;
    int qos = 1;
    bool clean_session = false;
    std::string client_id;  // default "meterbridge-<name>"
    std::size_t max_payload = 256 * 1024;
    std::shared_ptr<const ConnectorOptions> options;
    // The connector's TOML table rendered canonically; SIGHUP restarts a
    // connector only when this changed (or its broker's did).
    std::string fingerprint;
    std::uint32_t line = 0;
};

// A `[[jobs]]` entry. The keys beyond name/connector/command are validated by
// the registry row of the connector's type (only some types take jobs).
struct JobOptions {
    virtual ~JobOptions() = default;
};

struct JobConfig {
    std::string name;
    std::string connector;
    std::string command;
    std::shared_ptr<const JobOptions> options;
    std::string fingerprint;
    std::uint32_t line = 0;
};

struct Config {
    std::filesystem::path file;
    StorageConfig storage;
    LogConfig log;
    ControlConfig control;
    std::map<std::string, BrokerConfig> brokers;
    std::vector<ConnectorConfig> connectors;
    std::vector<JobConfig> jobs;
};

struct LoadResult {
    std::optional<Config> config;  // set iff errors is empty
    std::vector<ConfigError> errors;
    std::vector<std::string> warnings;  // valid but risky (qos = 2, tls_insecure)
};

class ConnectorRegistry;

// Reads and validates `file`. Connector types and their keys come from `registry`.
LoadResult load_config(const std::filesystem::path& file, const ConnectorRegistry& registry);
// Same, from text (tests, and `file` only names it in messages).
LoadResult load_config_text(std::string_view text, const std::filesystem::path& file,
                            const ConnectorRegistry& registry);

}  // namespace mb
