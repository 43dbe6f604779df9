// What the configuration says about one broker, one connector and one job
// (DESIGN.md §4, contract), as the connector layer uses it. Loaded by
// load_config() (daemon/config.h) with the help of the registry rows, which
// parse the keys of their own type into ConnectorOptions / JobOptions.
// Plain data: copied by connectors at start, immutable afterwards. Secrets
// are never here, only the paths of their files (normalize/config/secret.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/meters.h"

namespace mb {

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
    // When its meters are stale (`stale_after`, default "3x"); `stale_after_set`:
    // written in the file (a type may give its own default, Tuya's "3m").
    StaleRule stale_after;
    bool stale_after_set = false;
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

}  // namespace mb
