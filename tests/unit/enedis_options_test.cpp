// The enedis connector's keys and its jobs (DESIGN.md §4), through the real
// loader: every problem at its key and line.
#include "connectors/enedis/enedis_options.h"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/registry.h"
#include "daemon/config.h"
#include "tests/support/scoped_env.h"
#include "tests/support/temp_dir.h"

namespace mb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const ConnectorRegistry& registry() {
    static const ConnectorRegistry r = [] {
        ConnectorRegistry reg;
        ConnectorType t;
        t.type = "enedis";
        t.transport = Transport::xmpp;
        t.parse_options = parse_enedis_options;
        t.parse_job = parse_enedis_job;
        reg.add(std::move(t));
        return reg;
    }();
    return r;
}

constexpr const char* kHead = R"([storage]
path = "/tmp/mb.db"

[[connectors]]
name = "enedis"
type = "enedis"
jid = "bridge@example.org/meterbridge"
password_file = "xmpp.pass"
proxy = "proxy@srv5.example.org/proxy"
)";

// The examples' password file, where systemd's LoadCredential= would put it.
class EnedisOptionsTest : public ::testing::Test {
  protected:
    EnedisOptionsTest() { std::ofstream(creds / "xmpp.pass") << "bridge-secret\n"; }
    test::TempDir creds;
    test::ScopedEnv env{"CREDENTIALS_DIRECTORY", creds.path().string()};
};

LoadResult load(const std::string& tail) {
    return load_config_text(std::string(kHead) + tail, "/etc/mb/mb.toml", registry());
}

std::vector<std::string> errors(const LoadResult& r) {
    std::vector<std::string> out;
    for (const auto& e : r.errors) out.push_back(e.to_string());
    return out;
}

TEST_F(EnedisOptionsTest, TheDesignsExampleLoads) {
    const auto r = load(R"(
[[jobs]]
name = "consent-demo"
connector = "enedis"
command = "get_authorize_uri"
service_name = "Elec Expert Demo"
service = ["first line of the description", "second line"]
processings = ["Analyse votre consommation", "Affichage de graphiques"]
duration = "P1Y"
test_client = 3

[[jobs]]
name = "daily"
connector = "enedis"
command = "get_daily"
usage_points = "granted"
directions = ["consumption"]
backfill = "P365D"
schedule = "daily 08:30"

[[jobs]]
name = "curve"
connector = "enedis"
command = "get_load_curve"
usage_points = ["22516914714270", "11453290002823"]
directions = ["consumption", "production"]
backfill = "P28D"
schedule = "every 6h"
)");
    ASSERT_TRUE(r.config) << ::testing::PrintToString(errors(r));
    const auto& c = *r.config;
    const auto* o = dynamic_cast<const EnedisOptions*>(c.connectors.at(0).options.get());
    ASSERT_TRUE(o);
    EXPECT_EQ(o->proxy, "proxy@srv5.example.org/proxy");
    EXPECT_TRUE(o->tls);
    EXPECT_EQ(o->stamping, StampConvention::auto_detect);
    EXPECT_EQ(o->publish_minute, 480);

    const auto* consent = dynamic_cast<const EnedisJobOptions*>(c.jobs.at(0).options.get());
    ASSERT_TRUE(consent && consent->authorize);
    EXPECT_EQ(consent->authorize->duration, "P1Y");
    EXPECT_EQ(consent->authorize->test_client, 3);
    EXPECT_EQ(consent->schedule.kind, Schedule::Kind::once);

    const auto* daily = dynamic_cast<const EnedisJobOptions*>(c.jobs.at(1).options.get());
    ASSERT_TRUE(daily && daily->fetch);
    EXPECT_TRUE(daily->fetch->granted);
    EXPECT_EQ(daily->fetch->kind, FetchKind::daily);
    EXPECT_EQ(daily->fetch->backfill_days, 365);
    EXPECT_EQ(daily->schedule.minute_of_day, 8 * 60 + 30);

    const auto* curve = dynamic_cast<const EnedisJobOptions*>(c.jobs.at(2).options.get());
    ASSERT_TRUE(curve && curve->fetch);
    EXPECT_EQ(curve->fetch->kind, FetchKind::load_curve);
    EXPECT_THAT(curve->fetch->usage_points, ElementsAre("22516914714270", "11453290002823"));
    EXPECT_THAT(curve->fetch->directions, ElementsAre("consumption", "production"));
    EXPECT_EQ(curve->schedule.period, std::chrono::hours(6));
}

TEST_F(EnedisOptionsTest, ConnectorProblemsNameTheKey) {
    const auto r = load_config_text(R"([storage]
path = "/tmp/mb.db"
[[connectors]]
name = "enedis"
type = "enedis"
jid = "bridge@example.org"
password_file = "xmpp.pass"
proxy = "proxy@srv5.example.org"
server = "xmpp.example.org"
tls = false
stamping = "middle"
rate_limit = 50
)",
                                    "/etc/mb/mb.toml", registry());
    EXPECT_THAT(
        errors(r),
        ElementsAre("/etc/mb/mb.toml:6:7: connectors[0].jid: must be a full JID, "
                    "local@domain/resource (no resource)",
                    "/etc/mb/mb.toml:8:9: connectors[0].proxy: must be a full JID, "
                    "local@domain/resource (no resource): ad-hoc commands go to the proxy's full "
                    "JID",
                    "/etc/mb/mb.toml:10:7: connectors[0].tls: plaintext XMPP is allowed only to a "
                    "loopback server; 'xmpp.example.org' is not one",
                    HasSubstr("connectors[0].stamping"),
                    "/etc/mb/mb.toml:12:14: connectors[0].rate_limit: requests per second, above 0 "
                    "and at most 5 (the upstream's limit)"));
}

// check-config fails on a password file the daemon could not read at start.
TEST_F(EnedisOptionsTest, APasswordFileThatCannotBeReadIsAnError) {
    std::filesystem::remove(creds / "xmpp.pass");
    EXPECT_THAT(errors(load("")),
                ElementsAre("/etc/mb/mb.toml:8:17: connectors[0].password_file: '" +
                            (creds / "xmpp.pass").string() + "' does not exist"));
    std::ofstream(creds / "xmpp.pass") << "";
    EXPECT_THAT(errors(load("")),
                ElementsAre(HasSubstr("connectors[0].password_file: '" +
                                      (creds / "xmpp.pass").string() + "' is empty")));
}

TEST_F(EnedisOptionsTest, JobProblemsNameTheKey) {
    const auto r = load(R"(
[[jobs]]
name = "c"
connector = "enedis"
command = "get_authorize_uri"
service_name = "x"
duration = "1 year"

[[jobs]]
name = "d"
connector = "enedis"
command = "get_daily"
usage_points = ["2251691471427", "22516914714270", "22516914714270"]
directions = ["both"]
backfill = "PT12H"
schedule = "hourly"
backfil = "P1D"

[[jobs]]
name = "l"
connector = "enedis"
command = "get_curve"
)");
    EXPECT_THAT(
        errors(r),
        ElementsAre(
            HasSubstr("jobs[0].service: give `service` and `processings`"),
            HasSubstr("jobs[0].duration: '1 year' is not an ISO-8601 period"),
            HasSubstr("jobs[1].usage_points: '2251691471427' is not a usage point: 14 digits"),
            HasSubstr("jobs[1].usage_points: '22516914714270' is listed twice"),
            HasSubstr("jobs[1].directions[0]: must be \"consumption\" or \"production\""),
            HasSubstr("jobs[1].backfill: must be a whole number of days"),
            HasSubstr("jobs[1].schedule: expected \"once\", \"daily HH:MM\""),
            HasSubstr("jobs[1].backfil: unknown key"),
            HasSubstr("jobs[2].command: 'get_curve' is not an enedis command")));
}

TEST_F(EnedisOptionsTest, FetchJobsNeedASchedule) {
    const auto r = load(R"(
[[jobs]]
name = "d"
connector = "enedis"
command = "get_load_curve"
usage_points = "granted"
backfill = "P800D"
)");
    EXPECT_THAT(errors(r), ElementsAre(HasSubstr("jobs[0].schedule: missing required key")));
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_THAT(r.warnings[0], HasSubstr("800 days: the upstream keeps about 730 days"));
}

TEST(FullJid, Problems) {
    EXPECT_EQ(full_jid_problem("a@b/c"), "");
    EXPECT_NE(full_jid_problem("@b/c"), "");
    EXPECT_NE(full_jid_problem("a@/c"), "");
    EXPECT_NE(full_jid_problem("a@b/"), "");
    EXPECT_NE(full_jid_problem("a/b@c"), "");
}

}  // namespace
}  // namespace mb
