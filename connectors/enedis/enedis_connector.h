// EnedisConnector: the `enedis` connector — an XmppSession to the DataConnect
// proxy driven by EnedisJobs (the job list), on a thread of its own.
//
// Thread: one, owned, running the job engine; the XMPP session has its own
// thread and hands answers and consent messages over through a queue. start()
// returns at once; stop() fails what is in flight (recorded as disconnected,
// retried at the next start), commits, joins.
// Delivery: every answer's readings, the days it completes and its job run
// commit together; a call goes out only after the previous answer committed,
// so a crash at any point loses at most the call in flight, which the next
// start plans again (days are marked done only with their data).
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "connectors/connector.h"
#include "connectors/connector_health.h"
#include "connectors/enedis/enedis_jobs.h"
#include "connectors/xmpp/xmpp_session.h"
#include "normalize/enedis/upstream_error.h"

namespace mb {

class Writer;

// The proxy's <upstream-error> among the application-specific conditions of a
// stanza error (the last one when there are several): the Enedis reading of
// what the transport hands over.
std::optional<UpstreamError> upstream_error_of(const XmppStanzaError& error);

class EnedisConnector final : public Connector {
  public:
    EnedisConnector(Writer& writer, const ConnectorConfig& config, const EnedisOptions& options,
                    std::vector<JobConfig> jobs, EnedisState state, std::string password);
    ~EnedisConnector() override;

    void start() override;
    void stop() override;
    Health health() const override;
    const std::string& name() const override { return config_.name; }
    bool run_job(const std::string& job) override;

  private:
    struct Answer {
        std::string key;
        std::string command;  // the call's node
        XmppResponse response;
    };
    struct Consent {
        std::string xml;
    };
    struct RunJob {
        std::string job;
    };
    using Event = std::variant<Answer, Consent, RunJob>;

    void run();
    void handle(Event& e, TimeMs now, Batch& staged);
    void send(const EnedisCall& call);
    void push(Event e);
    void commit(Batch& staged);

    Writer& writer_;
    ConnectorConfig config_;
    EnedisOptions options_;
    std::vector<std::string> job_names_;
    EnedisJobs jobs_;
    std::unique_ptr<XmppSession> session_;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Event> events_;
    bool stop_ = false;
    ConnectorHealth health_;
    // Calls answered, by (command, outcome): enedis_calls_total.
    HealthCell<std::map<std::pair<std::string, std::string>, std::uint64_t>> calls_;
    std::thread thread_;
};

}  // namespace mb
