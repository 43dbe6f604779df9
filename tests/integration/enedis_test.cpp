// Enedis end to end: the real binary against a real prosody and a fake
// DataConnect proxy (a second XMPP client answering the ad-hoc commands by
// window, like the upstream: days before the meter's activation are refused
// with the upstream's words).
#include <gtest/gtest.h>
#include <signal.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "connectors/enedis/fetch_plan.h"
#include "tests/support/process.h"
#include "tests/support/prosody_server.h"
#include "tests/support/view_rows.h"
#include "tests/support/xmpp_responder.h"
#include "tests/support/eventually.h"
#include "tests/support/fixture.h"
#include "tests/support/quoalise_answers.h"
#include "tests/support/temp_dir.h"

namespace mb::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kPrm = "22516914714270";

TimeMs now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The <value> of the form field `var` in a request.
std::string field(const std::string& xml, const std::string& var) {
    auto at = xml.find("'" + var + "'");
    if (at == std::string::npos) at = xml.find("\"" + var + "\"");
    if (at == std::string::npos) return {};
    const auto v = xml.find("<value>", at);
    const auto e = xml.find("</value>", v);
    return v == std::string::npos || e == std::string::npos ? "" : xml.substr(v + 7, e - v - 7);
}

class EnedisTest : public ::testing::Test {
  protected:
    void SetUp() override {
        server = std::make_unique<ProsodyServer>(dir / "prosody");
        server->add_user("bridge", "bridge-secret");
        server->add_user("proxy", "proxy-secret");
        XmppResponderConfig c;
        c.jid = server->jid("proxy", "proxy");
        c.password = "proxy-secret";
        c.host = server->host();
        c.port = server->port();
        c.ca_file = server->ca_file().string();
        proxy = std::make_unique<XmppResponder>(c);
        ASSERT_TRUE(proxy->wait_connected(10s));
        activation = paris_day(now_ms()) - date::days{100};
        proxy->on_command(
            "get_authorize_uri",
            XmppReply::result(
                R"(<x xmlns="jabber:x:data" type="result"><title>Authorize URI</title><field var="authorize_uri" type="text-single"><value>https://proxy.test/dataconnect-proxy/authorize?id=ad35a140</value></field></x>)"));
        proxy->on_command("get_daily", [this](const std::string& iq) {
            const auto from = parse_day(field(iq, "start_date"));
            const auto to = parse_day(field(iq, "end_date"));
            if (!from || !to || field(iq, "usage_point_id") != kPrm)
                return XmppReply::error("Invalid request", "enedis-data-connect");
            if (*from < activation)
                return XmppReply::error(
                    "The requested period cannot be anterior to the meter's last activation date",
                    "enedis-data-connect", "ADAM-ERR0123");
            return XmppReply::result(daily_quoalise(kPrm, *from, *to));
        });
        write_file(dir / "xmpp.pass", "bridge-secret\n");
        write_file(config(), fmt::format(R"([storage]
path = "{}"
synchronous = "normal"

[[connectors]]
name = "enedis"
type = "enedis"
jid = "{}"
password_file = "{}"
proxy = "{}"
server = "127.0.0.1"
port = {}
ca_file = "{}"
rate_limit = 5
publish_time = "00:00"

[[jobs]]
name = "consent"
connector = "enedis"
command = "get_authorize_uri"
service_name = "Elec Expert Demo"
service = ["Nos experts analysent votre consommation"]
processings = ["Analyse", "Graphiques"]
duration = "P1Y"
test_client = 0

[[jobs]]
name = "daily"
connector = "enedis"
command = "get_daily"
usage_points = "granted"
directions = ["consumption"]
backfill = "P400D"
schedule = "daily 08:30"
)",
                                         db().string(), server->jid("bridge", "meterbridge"),
                                         (dir / "xmpp.pass").string(), proxy->jid(), server->port(),
                                         server->ca_file().string()));
    }
    void start_daemon() {
        daemon = std::make_unique<Process>(
            std::vector<std::string>{MB_BINARY, "run", "-c", config().string()}, dir.path());
    }
    void stop_daemon() {
        daemon->signal(SIGTERM);
        EXPECT_EQ(daemon->wait(30s), 0) << daemon->stderr_text();
    }
    std::size_t daily_requests() const {
        std::size_t n = 0;
        for (const auto& r : proxy->requests())
            if (r.find("get_daily") != std::string::npos) ++n;
        return n;
    }
    // Replaces the config's [[jobs]] with `jobs` (the connector is kept).
    void set_jobs(const std::string& jobs, const std::string& connector_extra = "") {
        const std::string cfg = read_file(config());
        write_file(config(), cfg.substr(0, cfg.find("[[jobs]]")) + connector_extra + "\n" + jobs);
    }
    // The fake proxy's data commands for the document's test_client profiles:
    // each usage point has the directions it was consented for; others get
    // the upstream's "no consent" error, like Enedis (ADAM-DC-0008).
    void serve(std::map<std::string, std::set<std::string>> allowed) {
        auto answer = [allowed](const std::string& iq, bool curve) {
            const auto up = field(iq, "usage_point_id");
            const auto direction = field(iq, "direction");
            const auto from = parse_day(field(iq, "start_date"));
            const auto to = parse_day(field(iq, "end_date"));
            if (!from || !to) return XmppReply::error("Invalid request", "enedis-data-connect");
            auto it = allowed.find(up);
            if (it == allowed.end() || !it->second.count(direction))
                return XmppReply::error(
                    "No consent can be found for this customer and this usage point.",
                    "enedis-data-connect", "ADAM-DC-0008");
            return XmppReply::result(curve ? curve_quoalise(up, *from, *to, direction)
                                           : daily_quoalise(up, *from, *to, {}, direction));
        };
        proxy->on_command("get_daily",
                          [answer](const std::string& iq) { return answer(iq, false); });
        proxy->on_command("get_load_curve",
                          [answer](const std::string& iq) { return answer(iq, true); });
    }
    std::int64_t readings(const std::string& up, const std::string& quantity) const {
        return count(db(), fmt::format("SELECT count(DISTINCT ts_start) FROM readings_v WHERE "
                                       "meter = '{}' AND quantity = '{}'",
                                       up, quantity));
    }
    std::size_t data_requests() const {
        std::size_t n = 0;
        for (const auto& r : proxy->requests())
            if (r.find("get_daily") != std::string::npos ||
                r.find("get_load_curve") != std::string::npos)
                ++n;
        return n;
    }
    fs::path config() const { return dir / "mb.toml"; }
    fs::path db() const { return dir / "mb.db"; }

    TempDir dir;
    std::unique_ptr<ProsodyServer> server;
    std::unique_ptr<XmppResponder> proxy;
    std::unique_ptr<Process> daemon;
    Day activation{};
};

TEST_F(EnedisTest, ConsentThenBackfillToTheActivationDateOnceAcrossARestart) {
    start_daemon();
    // The authorize URI, with the configured parameters.
    ASSERT_TRUE(
        eventually([&] { return count(db(), "SELECT count(*) FROM authorize_uris") == 1; }, 20s))
        << daemon->stderr_text();
    EXPECT_EQ(rows(db(), "SELECT uri FROM authorize_uris"),
              std::vector<std::string>{
                  "https://proxy.test/dataconnect-proxy/authorize?id=ad35a140&duration=P1Y&"
                  "test_client=0"});
    const auto shown = run_binary({MB_BINARY, "consent", "-c", config().string()});
    EXPECT_NE(shown.out.find("authorize?id=ad35a140&duration=P1Y"), std::string::npos) << shown.out;

    // The customer consents: the proxy tells the bridge, the daily job starts on it.
    proxy->send_consent(server->jid("bridge"), {kPrm}, "");
    ASSERT_TRUE(eventually(
        [&] {
            return count(db(), "SELECT count(*) FROM job_progress WHERE floor IS NOT NULL") == 1;
        },
        60s))
        << daemon->stderr_text();
    EXPECT_EQ(rows(db(), "SELECT usage_point, state, job FROM consents_v"),
              std::vector<std::string>{std::string(kPrm) + "||consent"});

    // Every day from the activation to yesterday, once; no day before.
    const auto days = rows(db(),
                           "SELECT count(*), count(DISTINCT ts_start), min(ts_start) FROM "
                           "readings_v WHERE quantity = 'electricity.energy.consumption'");
    ASSERT_EQ(days.size(), 1u);
    const auto expected_first = fmt::format("{}T", format_day(activation - date::days{1}));
    EXPECT_NE(days[0].find(expected_first),
              std::string::npos)  // Paris midnight is 22:00/23:00Z the day before
        << days[0];
    const std::int64_t n = count(db(), "SELECT count(*) FROM readings_v");
    EXPECT_GE(n, 99);
    EXPECT_LE(n, 101);
    EXPECT_EQ(count(db(), "SELECT count(DISTINCT ts_start) FROM readings_v"), n);
    EXPECT_EQ(count(db(), "SELECT count(*) FROM revisions_v"), 0);
    // The refusals are recorded with the upstream's words, and the backfill ended.
    EXPECT_GE(count(db(),
                    "SELECT count(*) FROM job_runs_v WHERE outcome = 'no_older_data' AND "
                    "upstream_code = 'ADAM-ERR0123' AND error LIKE 'The requested period "
                    "cannot be anterior%'"),
              1);
    EXPECT_LE(daily_requests(), 14u);  // bisected, not day by day
    const auto jobs = run_binary({MB_BINARY, "jobs", "-c", config().string(), "--format", "csv"});
    EXPECT_NE(jobs.out.find("no_older_data"), std::string::npos) << jobs.out;
    // The XMPP password is read, never shown.
    const auto checked = run_binary({MB_BINARY, "check-config", "-c", config().string()});
    EXPECT_EQ(checked.exit_code, 0) << checked.err;
    for (const std::string& text : {daemon->stderr_text(), checked.out, checked.err})
        EXPECT_EQ(text.find("bridge-secret"), std::string::npos) << text;
    EXPECT_EQ(count(db(),
                    "SELECT count(*) FROM messages WHERE CAST(payload AS TEXT) LIKE "
                    "'%bridge-secret%' OR topic LIKE '%bridge-secret%'"),
              0);

    // A restart asks for nothing again: what is done and the floor were kept.
    stop_daemon();
    const auto before = proxy->requests().size();
    start_daemon();
    ASSERT_TRUE(daemon->wait_for_log("XMPP connected", 20s)) << daemon->stderr_text();
    std::this_thread::sleep_for(3s);
    EXPECT_EQ(proxy->requests().size(), before) << daemon->stderr_text();
    EXPECT_EQ(count(db(), "SELECT count(*) FROM readings_v"), n);
    stop_daemon();
}

TEST_F(EnedisTest, TwoFetchJobsSurviveRestartsOfProsodyAndMeterbridgeMidway) {
    // The consent job and two fetch jobs on the granted usage point: a year
    // of daily energy with the upstream's gaps and two weeks of load curve;
    // answers come slowly.
    const std::string cfg = read_file(config());
    const auto consent_job = cfg.find("[[jobs]]");
    write_file(config(), cfg.substr(0, cfg.find("[[jobs]]", consent_job + 1)) + R"([[jobs]]
name = "daily"
connector = "enedis"
command = "get_daily"
usage_points = "granted"
backfill = "P365D"
schedule = "daily 08:30"

[[jobs]]
name = "curve"
connector = "enedis"
command = "get_load_curve"
usage_points = "granted"
backfill = "P14D"
schedule = "every 6h"
)");
    std::atomic<int> answered{0};
    proxy->on_command("get_daily", [&](const std::string& iq) {
        std::this_thread::sleep_for(300ms);
        ++answered;
        // Tuesdays and Wednesdays are missing (the document's test_client 4).
        return XmppReply::result(
            daily_quoalise(kPrm, *parse_day(field(iq, "start_date")),
                           *parse_day(field(iq, "end_date")), [](Day d) -> std::optional<int> {
                               const date::weekday wd{d};
                               if (wd == date::Tuesday || wd == date::Wednesday)
                                   return std::nullopt;
                               return 5000;
                           }));
    });
    proxy->on_command("get_load_curve", [&](const std::string& iq) {
        std::this_thread::sleep_for(300ms);
        ++answered;
        return XmppReply::result(curve_quoalise(kPrm, *parse_day(field(iq, "start_date")),
                                                *parse_day(field(iq, "end_date"))));
    });
    start_daemon();
    ASSERT_TRUE(
        eventually([&] { return count(db(), "SELECT count(*) FROM authorize_uris") == 1; }, 20s))
        << daemon->stderr_text();
    proxy->send_consent(server->jid("bridge"), {kPrm}, "");
    ASSERT_TRUE(eventually([&] { return answered >= 1; }, 20s)) << daemon->stderr_text();
    // Prosody goes away in the middle, and comes back.
    server->kill();
    std::this_thread::sleep_for(500ms);
    server->start();
    ASSERT_TRUE(eventually([&] { return answered >= 2; }, 30s)) << daemon->stderr_text();
    // meterbridge is killed in the middle, and started again.
    daemon->signal(SIGKILL);
    daemon->wait(10s);
    start_daemon();
    const auto done = [&] {
        return count(db(),
                     "SELECT count(*) FROM job_runs WHERE outcome = 'ok' AND job = 'daily'") >= 1 &&
               count(db(),
                     "SELECT count(*) FROM job_progress WHERE job = 'curve' AND done != ''") == 1 &&
               rows(db(), "SELECT done FROM job_progress WHERE job = 'curve'").at(0).find(' ') ==
                   std::string::npos &&
               count(db(), "SELECT count(*) FROM job_runs WHERE outcome = 'running'") <= 1;
    };
    ASSERT_TRUE(eventually(done, 60s)) << daemon->stderr_text();
    ASSERT_TRUE(eventually(
        [&] {
            const auto r = rows(db(), "SELECT done FROM job_progress WHERE job = 'curve'");
            const Day today = paris_day(now_ms());
            return !r.empty() &&
                   r[0] == format_day(today - date::days{14}) + "/" + format_day(today);
        },
        60s))
        << daemon->stderr_text();

    // Daily: every day of the year but Tuesdays and Wednesdays, once.
    const Day today = paris_day(now_ms());
    std::int64_t expected = 0;
    for (Day d = today - date::days{365}; d < today; d += date::days{1})
        if (date::weekday{d} != date::Tuesday && date::weekday{d} != date::Wednesday) ++expected;
    ASSERT_TRUE(eventually(
        [&] {
            return count(db(),
                         "SELECT count(*) FROM readings_v WHERE quantity = "
                         "'electricity.energy.consumption'") == expected;
        },
        30s))
        << daemon->stderr_text();
    // Load curve: two weeks of half-hours (46 or 50 on DST days), each once.
    const std::int64_t half_hours =
        (paris_midnight(today) - paris_midnight(today - date::days{14})) / 1800000;
    EXPECT_EQ(count(db(),
                    "SELECT count(*) FROM readings_v WHERE quantity = "
                    "'electricity.power.consumption'"),
              half_hours);
    EXPECT_EQ(count(db(),
                    "SELECT count(DISTINCT ts_start) FROM readings_v WHERE quantity = "
                    "'electricity.power.consumption'"),
              half_hours);
    EXPECT_EQ(count(db(), "SELECT count(*) FROM revisions_v"), 0);
    stop_daemon();
}

constexpr const char* kAuthorizeJob = R"([[jobs]]
name = "consent"
connector = "enedis"
command = "get_authorize_uri"
service_name = "Elec Expert Demo"
service = ["Nos experts analysent votre consommation"]
processings = ["Analyse"]
duration = "P1Y"
test_client = {}
)";

constexpr const char* kBoth = R"(["consumption", "production"])";

// A [[jobs]] table of a fetch job; `usage_points` as written in TOML.
std::string fetch_job(const char* name, const char* command, const char* usage_points,
                      const char* backfill, const char* directions = R"(["consumption"])") {
    return fmt::format(R"(
[[jobs]]
name = "{}"
connector = "enedis"
command = "{}"
usage_points = {}
directions = {}
backfill = "{}"
schedule = "daily 08:30"
)",
                       name, command, usage_points, directions, backfill);
}

Day today() {
    return paris_day(now_ms());
}
std::int64_t half_hours(int days) {
    return (paris_midnight(today()) - paris_midnight(today() - date::days{days})) / 1800000;
}

// test_client 3: a consumption point and a production point, load curves on
// both; each refuses the other direction, and neither loses its consent.
TEST_F(EnedisTest, ConsumptionAndProductionPointsEachGiveTheirDirection) {
    const std::string prod = "10284856584123";
    set_jobs(fmt::format(kAuthorizeJob, 3) +
             fetch_job("daily", "get_daily", "\"granted\"", "P30D", kBoth) +
             fetch_job("curve", "get_load_curve", "\"granted\"", "P7D", kBoth));
    serve({{kPrm, {"consumption"}}, {prod, {"production"}}});
    start_daemon();
    ASSERT_TRUE(
        eventually([&] { return count(db(), "SELECT count(*) FROM authorize_uris") == 1; }, 20s))
        << daemon->stderr_text();
    proxy->send_consent(server->jid("bridge"), {kPrm, prod}, "st3");
    const auto complete = [&] {
        return readings(kPrm, "electricity.energy.consumption") == 30 &&
               readings(prod, "electricity.energy.production") == 30 &&
               readings(kPrm, "electricity.power.consumption") == half_hours(7) &&
               readings(prod, "electricity.power.production") == half_hours(7) &&
               count(db(), "SELECT count(*) FROM job_runs WHERE outcome = 'running'") == 0;
    };
    ASSERT_TRUE(eventually(complete, 60s)) << daemon->stderr_text();
    EXPECT_EQ(count(db(), "SELECT count(*) FROM readings_v"), 60 + 2 * half_hours(7));
    EXPECT_EQ(readings(kPrm, "electricity.energy.production"), 0);
    EXPECT_EQ(readings(prod, "electricity.power.consumption"), 0);
    // Each refused (job, point, direction) asked once, with the upstream's words.
    EXPECT_EQ(rows(db(),
                   "SELECT job || ' ' || usage_point || ' ' || direction FROM job_runs_v WHERE "
                   "outcome = 'no_consent' AND upstream_code = 'ADAM-DC-0008' AND error LIKE "
                   "'No consent can be found%' ORDER BY 1"),
              (std::vector<std::string>{
                  "curve 10284856584123 consumption", "curve 22516914714270 production",
                  "daily 10284856584123 consumption", "daily 22516914714270 production"}));
    EXPECT_EQ(rows(db(), "SELECT usage_point, state FROM consents_v ORDER BY 1"),
              (std::vector<std::string>{prod + "|st3", std::string(kPrm) + "|st3"}));
    EXPECT_EQ(count(db(), "SELECT count(*) FROM revisions_v"), 0);
    stop_daemon();
}

// test_client 7: three usage points in one consent, all backfilled.
TEST_F(EnedisTest, ThreeUsagePointsInOneConsentAreAllBackfilled) {
    const std::vector<std::string> ups = {"64975835695673", "63695879465986", "22315546958763"};
    set_jobs(fmt::format(kAuthorizeJob, 7) +
             fetch_job("daily", "get_daily", "\"granted\"", "P30D"));
    serve({{ups[0], {"consumption"}}, {ups[1], {"consumption"}}, {ups[2], {"consumption"}}});
    start_daemon();
    ASSERT_TRUE(
        eventually([&] { return count(db(), "SELECT count(*) FROM authorize_uris") == 1; }, 20s))
        << daemon->stderr_text();
    proxy->send_consent(server->jid("bridge"), ups, "");
    ASSERT_TRUE(
        eventually([&] { return count(db(), "SELECT count(*) FROM readings_v") == 90; }, 60s))
        << daemon->stderr_text();
    for (const auto& up : ups) EXPECT_EQ(readings(up, "electricity.energy.consumption"), 30) << up;
    EXPECT_EQ(count(db(), "SELECT count(*) FROM consents_v WHERE job = 'consent'"), 3);
    EXPECT_EQ(data_requests(), 3u);  // one 30-day window each
    stop_daemon();
}

// test_client 8: consent given, then revoked at once: the upstream refuses,
// the consent is recorded as revoked and nothing more is asked, even after a
// restart.
TEST_F(EnedisTest, AConsentRevokedRightAfterItsGrantStopsItsJobs) {
    set_jobs(fmt::format(kAuthorizeJob, 8) +
             fetch_job("daily", "get_daily", "\"granted\"", "P30D") +
             fetch_job("curve", "get_load_curve", "\"granted\"", "P7D"));
    serve({});
    start_daemon();
    ASSERT_TRUE(
        eventually([&] { return count(db(), "SELECT count(*) FROM authorize_uris") == 1; }, 20s))
        << daemon->stderr_text();
    proxy->send_consent(server->jid("bridge"), {kPrm}, "");
    ASSERT_TRUE(eventually(
        [&] { return count(db(), "SELECT count(*) FROM consents_v WHERE state = 'revoked'") == 1; },
        30s))
        << daemon->stderr_text();
    std::this_thread::sleep_for(2s);
    // Each job asked once; the second refusal revoked the grant for both.
    EXPECT_EQ(count(db(), "SELECT count(*) FROM job_runs_v WHERE outcome = 'no_consent'"),
              static_cast<std::int64_t>(data_requests()));
    EXPECT_LE(data_requests(), 2u);
    EXPECT_EQ(count(db(),
                    "SELECT count(*) FROM consents_v WHERE expires_at IS NOT NULL AND "
                    "expires_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"),
              1);
    const auto shown = run_binary({MB_BINARY, "consent", "-c", config().string()});
    EXPECT_NE(shown.out.find("revoked"), std::string::npos) << shown.out;
    EXPECT_EQ(count(db(), "SELECT count(*) FROM readings_v"), 0);
    stop_daemon();
    const auto before = data_requests();
    start_daemon();
    ASSERT_TRUE(daemon->wait_for_log("XMPP connected", 20s)) << daemon->stderr_text();
    std::this_thread::sleep_for(3s);
    EXPECT_EQ(data_requests(), before) << daemon->stderr_text();
    stop_daemon();
}

// test_client 9: the customer refuses. No consent message comes: "granted"
// jobs ask nothing, and a job listing the point gets the refusal once.
TEST_F(EnedisTest, ARefusedConsentFetchesNothing) {
    set_jobs(fmt::format(kAuthorizeJob, 9) +
             fetch_job("daily", "get_daily", "\"granted\"", "P30D") +
             fetch_job("listed", "get_daily", "[\"22516914714270\"]", "P30D"));
    serve({});
    start_daemon();
    ASSERT_TRUE(eventually(
        [&] {
            return count(db(), "SELECT count(*) FROM job_runs_v WHERE outcome = 'no_consent'") == 1;
        },
        20s))
        << daemon->stderr_text();
    std::this_thread::sleep_for(3s);
    EXPECT_EQ(data_requests(), 1u);
    EXPECT_EQ(rows(db(), "SELECT job FROM job_runs_v WHERE command = 'get_daily'"),
              std::vector<std::string>{"listed"});
    EXPECT_EQ(count(db(), "SELECT count(*) FROM consents_v"), 0);
    EXPECT_EQ(count(db(), "SELECT count(*) FROM authorize_uris"), 1);
    EXPECT_EQ(count(db(), "SELECT count(*) FROM readings_v"), 0);
    stop_daemon();
}

// A request the proxy never answers: its own deadline ends it (recorded as
// a timeout), and the job asks again — here at once, on `jobs --run`.
TEST_F(EnedisTest, ARequestNeverAnsweredTimesOutAndIsAskedAgain) {
    set_jobs(fetch_job("daily", "get_daily", "[\"22516914714270\"]", "P10D"),
             "request_timeout = \"2s\"\n");
    std::atomic<int> asked{0};
    proxy->on_command("get_daily", [&](const std::string& iq) {
        if (++asked == 1) return XmppReply::silent();
        return XmppReply::result(daily_quoalise(kPrm, *parse_day(field(iq, "start_date")),
                                                *parse_day(field(iq, "end_date"))));
    });
    start_daemon();
    ASSERT_TRUE(eventually(
        [&] {
            return count(db(), "SELECT count(*) FROM job_runs_v WHERE outcome = 'timeout'") == 1;
        },
        20s))
        << daemon->stderr_text();
    EXPECT_EQ(count(db(), "SELECT count(*) FROM readings_v"), 0);
    EXPECT_EQ(count(db(), "SELECT count(*) FROM job_runs_v WHERE error != ''"), 1);
    const auto run = run_binary({MB_BINARY, "jobs", "-c", config().string(), "--run", "daily"});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    ASSERT_TRUE(
        eventually([&] { return count(db(), "SELECT count(*) FROM readings_v") == 10; }, 20s))
        << daemon->stderr_text();
    EXPECT_EQ(asked.load(), 2);
    EXPECT_EQ(count(db(), "SELECT count(*) FROM job_runs_v WHERE outcome = 'ok'"), 1);
    stop_daemon();
}

}  // namespace
}  // namespace mb::test
