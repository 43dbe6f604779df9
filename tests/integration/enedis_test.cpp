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

#include "daemon/fetch_plan.h"
#include "tests/integration/process.h"
#include "tests/integration/prosody_server.h"
#include "tests/integration/view_rows.h"
#include "tests/integration/xmpp_responder.h"
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
    // A year of daily energy with the upstream's gaps, and two weeks of load
    // curve, for a usage point listed in the config; answers come slowly.
    const std::string cfg = read_file(config());
    write_file(config(), cfg.substr(0, cfg.find("[[jobs]]")) + R"([[jobs]]
name = "daily"
connector = "enedis"
command = "get_daily"
usage_points = ["22516914714270"]
backfill = "P365D"
schedule = "daily 08:30"

[[jobs]]
name = "curve"
connector = "enedis"
command = "get_load_curve"
usage_points = ["22516914714270"]
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

}  // namespace
}  // namespace mb::test
