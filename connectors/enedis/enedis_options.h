// The configuration of the `enedis` connector (Enedis DataConnect through the
// consometers XMPP proxy, shared/seeds/003) and of the jobs aimed at it
// (DESIGN.md §4): parsed and validated at start-up, every problem reported at
// its key. The keys are tables (enedis_keys(), enedis_jobs(): one per
// command), shown by `meterbridge types enedis`.
//
// Who calls: the `enedis` registry row (load_config, main thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "connectors/connector_config.h"
#include "connectors/registry.h"
#include "connectors/enedis/fetch_plan.h"
#include "normalize/enedis/quoalise_decoder.h"

namespace mb {

class TableReader;

struct EnedisOptions final : ConnectorOptions {
    std::string jid;            // bare@domain/resource: the connector's full JID
    std::string password_file;  // relative names resolve in $CREDENTIALS_DIRECTORY
    std::string proxy;          // the DataConnect proxy's full JID
    std::string server;         // "" = the JID's domain
    std::uint16_t port = 5222;
    std::string ca_file;        // "" = the system trust store
    bool tls = true;            // false only towards a loopback server
    bool tls_insecure = false;  // skip verification (tests only; warned)
    StampConvention stamping = StampConvention::auto_detect;
    std::chrono::milliseconds request_timeout{30000};
    double rate_limit = 1.0;  // requests per second, all jobs together
    std::chrono::milliseconds ping_interval{60000};
    int publish_minute = 8 * 60;  // Paris time when yesterday's data is out
};

struct EnedisAuthorizeJob {
    std::string service_name;
    std::vector<std::string> service, processings;
    std::optional<std::string> description, logo_url;
    std::string duration;  // ISO-8601, appended to the URI as given ("P1Y")
    std::optional<std::string> redirect_uri;
    std::optional<int> test_client;
};

struct EnedisFetchJob {
    FetchKind kind = FetchKind::daily;
    bool granted = false;                   // usage_points = "granted"
    std::vector<std::string> usage_points;  // when !granted
    std::vector<std::string> directions;    // consumption and/or production
    std::int64_t backfill_days = 7;
};

struct EnedisJobOptions final : JobOptions {
    std::optional<EnedisAuthorizeJob> authorize;  // command get_authorize_uri
    std::optional<EnedisFetchJob> fetch;          // get_load_curve / get_daily
    Schedule schedule;
};

std::span<const KeySpec> enedis_keys();
std::span<const JobSpec> enedis_jobs();

std::shared_ptr<const ConnectorOptions> parse_enedis_options(TableReader& r, ConnectorConfig& c);
std::shared_ptr<const JobOptions> parse_enedis_job(TableReader& r, const JobConfig& job);

// Why `jid` is not a full JID (local@domain/resource), or "".
std::string full_jid_problem(std::string_view jid);

}  // namespace mb
