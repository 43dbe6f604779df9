// ConnectorRegistry: the table of connector types. Each vendor folder of
// connectors/ adds its rows (its register_<folder>(), listed by the build in
// builtin.cpp): type name, transport, how to parse its own config keys and
// jobs, and how to build its connector.
//
// Who calls: load_config() (main thread) asks a row to parse the keys it owns;
// the daemon asks it to build connectors. Rows are immutable after start-up.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector.h"
#include "connectors/connector_config.h"
#include "normalize/config/table_reader.h"

namespace mb {

class Writer;

enum class Transport : std::uint8_t { mqtt, xmpp, local };

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

    // Parses the keys of a [[connectors]] table that are specific to this type
    // (the common keys name/type/broker/topics/qos/clean_session/client_id/
    // max_payload are already read into `connector`). Marks what it reads on
    // `reader`; whatever is left is reported as unknown. It may derive the
    // subscriptions from its own keys (Tuya: topics from `gateways`) by
    // setting connector.topics. May be empty: no extra keys.
    std::function<std::shared_ptr<const ConnectorOptions>(TableReader& reader,
                                                          ConnectorConfig& connector)>
        parse_options;

    // Parses a [[jobs]] table aimed at a connector of this type. Empty: this
    // type takes no jobs (a job naming it is a config error).
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

  private:
    std::vector<ConnectorType> types_;
};

}  // namespace mb
