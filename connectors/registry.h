// ConnectorRegistry: the table of connector types. Each vendor folder of
// connectors/ adds its rows (its register_<folder>(), called from the
// builtin.cpp the build writes, see builtin.h): type name, transport, its
// keys as data (key_spec.h), how to parse them and its jobs, how to build its
// connector, and the CLI verbs it supplies (vendor_verb.h).
//
// Who calls: load_config() (main thread) asks a row to parse the keys it owns;
// the daemon asks it to build connectors; the CLI reads the key tables
// (`meterbridge types`) and builds the rows' verbs. Rows are immutable after
// start-up; their key tables are constant data that outlive them.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector.h"
#include "connectors/connector_config.h"
#include "connectors/vendor_verb.h"
#include "normalize/config/key_spec.h"
#include "normalize/config/table_reader.h"

namespace mb {

class Writer;

enum class Transport : std::uint8_t { mqtt, xmpp, local };

std::string_view to_string(Transport t);

// The keys every [[connectors]] table has (name, type, max_payload) and every
// [[jobs]] table has (name, connector, command), read by load_config().
std::span<const KeySpec> connector_keys();
std::span<const KeySpec> job_keys();

// Names end up in the database (`source`), in client ids and on command
// lines: letters, digits, '_', '.' and '-'.
bool is_valid_name(std::string_view name);

// The jobs of one command of a job-capable type, and the keys they take
// beyond job_keys().
struct JobSpec {
    std::string_view command;
    std::string_view description;
    std::span<const KeySpec> keys;
};

// What a row's make_connector gets from the daemon, valid during that call
// only: rows copy what their connector keeps. The writer outlives every
// connector.
struct ConnectorContext {
    Writer& writer;
    const std::map<std::string, BrokerConfig>& brokers;
    const std::vector<JobConfig>& jobs;  // every job; a row keeps those naming its connector
    std::filesystem::path database;      // for read-only lookups at start (storage/query.h)
};

struct ConnectorType {
    std::string type;
    Transport transport = Transport::mqtt;
    std::string description;
    // The keys specific to this type. load_config() declares them on the
    // connector's reader with connector_keys() (and the MQTT keys for MQTT
    // types, connectors/mqtt/mqtt_config.h): a key in none of them is refused.
    std::span<const KeySpec> keys;
    // Job-capable types: one entry per command, with its keys.
    std::span<const JobSpec> jobs;
    // CLI verbs this type supplies (`meterbridge <verb>`).
    std::vector<VendorVerb> verbs;

    // Parses the keys of a [[connectors]] table that are specific to this type
    // (the common keys name/type/broker/topics/qos/clean_session/client_id/
    // max_payload are already read into `connector`). Marks what it reads on
    // `reader`; whatever is left is reported as unknown. It may derive the
    // subscriptions from its own keys (Tuya: topics from `gateways`) by
    // setting connector.topics. May be empty: no extra keys.
    std::function<std::shared_ptr<const ConnectorOptions>(TableReader& reader,
                                                          ConnectorConfig& connector)>
        parse_options;

    // Parses a [[jobs]] table aimed at a connector of this type, declaring
    // the keys of its command (`jobs`) on the reader. Empty: this type takes
    // no jobs (a job naming it is a config error).
    std::function<std::shared_ptr<const JobOptions>(TableReader& reader, const JobConfig& partial)>
        parse_job;

    // Builds the connector. May throw std::runtime_error for start-up problems
    // (unreadable secret file, ...): the daemon reports it and exits.
    std::function<std::unique_ptr<Connector>(ConnectorContext& ctx, const ConnectorConfig& cfg)>
        make_connector;
};

class ConnectorRegistry {
  public:
    void add(ConnectorType type);
    const ConnectorType* find(std::string_view type) const;
    std::vector<std::string> type_names() const;
    // Every row, in the order added.
    std::span<const ConnectorType> types() const { return types_; }

  private:
    std::vector<ConnectorType> types_;
};

}  // namespace mb
