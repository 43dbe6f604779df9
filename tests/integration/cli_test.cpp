// The CLI verbs of the real binary: exit codes and output formats.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "connectors/builtin.h"
#include "connectors/mqtt/mqtt_config.h"
#include "connectors/registry.h"
#include "normalize/time_format.h"
#include "storage/query.h"
#include "storage/store.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace mb::test {
namespace {

namespace fs = std::filesystem;
constexpr TimeMs kT0 = 1646092800000;

class CliTest : public ::testing::Test {
  protected:
    CliTest() { write_file(config(), fmt::format("[storage]\npath = \"{}\"\n", db().string())); }
    fs::path config() const { return dir / "mb.toml"; }
    fs::path db() const { return dir / "mb.db"; }
    RunResult cli(std::vector<std::string> args) {
        args.insert(args.begin(), MB_BINARY);
        return run_binary(args);
    }
    void seed() {
        auto store = Store::open(db(), StoreOptions{});
        Envelope a;
        a.raw = RawMessage{"voltaware", "voltaware/readings", "{}", {}, kT0 + 86400000};
        a.result.readings = {
            Reading{"dev, \"1\"", "electricity.energy.consumption", "Wh", Kind::interval, kT0,
                    kT0 + 900000, 123.5},
            Reading{"dev2", "electricity.energy.consumption", "Wh", Kind::interval, kT0 + 900000,
                    kT0 + 1800000, 0.1},
        };
        Envelope b;
        b.raw = RawMessage{"tuya", "gateway_id/gw/properties/report", "{}", {}, kT0 + 5};
        b.result.readings = {Reading{"cid", "water.volume.index", "m3", Kind::cumulative,
                                     kT0 + 60000, kT0 + 60000, 12}};
        Envelope bad;
        bad.raw = RawMessage{"voltaware", "voltaware/readings", "{\"broken\n", {}, kT0 + 7};
        bad.result = DecodeResult::rejected(RejectCode::malformed, "not valid JSON");
        store.apply(Batch{a, b, bad, a});
    }
    TempDir dir;
};

TEST_F(CliTest, JobsAndConsentListWhatTheEnedisConnectorRecorded) {
    {
        auto store = Store::open(db(), StoreOptions{});
        Envelope e;
        e.record_only = true;
        e.raw.source = "enedis";
        e.raw.received_at = kT0;
        JobRunRecord started;
        started.run_key = "k1";
        started.at = kT0;
        started.job = "daily";
        started.command = "get_daily";
        started.usage_point = "22516914714270";
        started.direction = "consumption";
        started.window_start = "2021-03-01";
        started.window_end = "2022-03-01";
        JobRunRecord done = started;
        done.step = JobRunRecord::Step::finished;
        done.at = kT0 + 1500;
        done.outcome = "no_older_data";
        done.error = "The requested period cannot be anterior to the meter's last activation date";
        done.upstream_code = "ADAM-ERR0123";
        e.job_runs = {started, done};
        e.consents.push_back(
            ConsentUpdate{"22516914714270", "ton_etat", "consent", kT0, kT0, kT0 + 86400000});
        e.authorize_uris.push_back(
            AuthorizeUriRecord{"consent", "https://proxy/authorize?id=a&duration=P1Y", kT0});
        store.apply(Batch{e});
    }
    auto r = cli({"jobs", "-c", config().string(), "--format", "csv"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out,
              "started_at,job,command,usage_point,direction,window_start,window_end,outcome,"
              "records,error,upstream_code,finished_at\n"
              "2022-03-01T00:00:00.000Z,daily,get_daily,22516914714270,consumption,2021-03-01,"
              "2022-03-01,no_older_data,0,The requested period cannot be anterior to the meter's "
              "last activation date,ADAM-ERR0123,2022-03-01T00:00:01.500Z\n");
    r = cli({"consent", "-c", config().string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("enedis consent: https://proxy/authorize?id=a&duration=P1Y"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("22516914714270"), std::string::npos) << r.out;
    // Running a job needs the daemon.
    r = cli({"jobs", "-c", config().string(), "--run", "daily"});
    EXPECT_EQ(r.exit_code, 69);
    EXPECT_NE(r.err.find("cannot reach the daemon"), std::string::npos) << r.err;
}

TEST_F(CliTest, VersionFlag) {
    auto r = cli({"--version"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("meterbridge 0."), std::string::npos) << r.out;
}

TEST_F(CliTest, CheckConfigAcceptsTheShippedExample) {
    auto r = cli({"check-config", "-c", std::string(MB_SOURCE_DIR) + "/etc/meterbridge.toml"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(": ok"), std::string::npos);
}

TEST_F(CliTest, CheckConfigExits78WithOneLinePerError) {
    write_file(config(), "[storage]\npath = \"x.db\"\nfoo = 1\n\n[log]\nlevel = \"loud\"\n");
    auto r = cli({"check-config", "-c", config().string()});
    EXPECT_EQ(r.exit_code, 78);
    EXPECT_NE(r.err.find(config().string() + ":3:1: storage.foo: unknown key"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("log.level"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
}

// Under systemd (an ExecStartPre, a timer's service) stderr is the journal:
// each problem is logged at err, so `journalctl -p err` shows it; a warning at
// warning. A quoted newline cannot start a line with a priority of its own.
TEST_F(CliTest, CheckConfigUnderSystemdLogsEachErrorAtErr) {
    write_file(config(),
               "[storage]\npath = \"x.db\"\nfoo = 1\nsynchronous = \"normal\"\n\n"
               "[log]\nlevel = \"loud\\n<0>forged\"\n");
    auto r = run_binary({MB_BINARY, "check-config", "-c", config().string()},
                        std::chrono::seconds(30), {"JOURNAL_STREAM=8:1234"});
    EXPECT_EQ(r.exit_code, 78);
    EXPECT_NE(r.err.find("<3>" + config().string() + ":3:1: storage.foo: unknown key\n"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("<3>" + config().string() + ":7:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("<4>warning: "), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("\n<0>"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 3) << r.err;
}

TEST_F(CliTest, CheckConfigOnAMissingFile) {
    auto r = cli({"check-config", "-c", (dir / "nope.toml").string()});
    EXPECT_EQ(r.exit_code, 78);
    EXPECT_NE(r.err.find("nope.toml"), std::string::npos);
}

TEST_F(CliTest, QueryCsvHasTheViewColumnsAndValues) {
    seed();
    auto r = cli({"query", "-c", config().string(), "--format", "csv"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out,
              "source,meter,quantity,unit,kind,ts_start,ts_end,value,received_at\n"
              "voltaware,\"dev, "
              "\"\"1\"\"\",electricity.energy.consumption,Wh,interval,2022-03-01T00:00:00.000Z,"
              "2022-03-01T00:15:00.000Z,123.5,2022-03-02T00:00:00.000Z\n"
              "tuya,cid,water.volume.index,m3,cumulative,2022-03-01T00:01:00.000Z,2022-03-01T00:01:"
              "00.000Z,12,"
              "2022-03-01T00:00:00.005Z\n"
              "voltaware,dev2,electricity.energy.consumption,Wh,interval,2022-03-01T00:15:00.000Z,"
              "2022-03-01T00:30:00.000Z,0.1,2022-03-02T00:00:00.000Z\n");
}

TEST_F(CliTest, QueryFiltersAndJson) {
    seed();
    auto r = cli({"query", "-c", config().string(), "--source", "voltaware", "--from",
                  "2022-03-01T00:10:00Z", "--to", "2022-03-02", "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out,
              "[\n{\"source\":\"voltaware\",\"meter\":\"dev2\",\"quantity\":\"electricity.energy."
              "consumption\","
              "\"unit\":\"Wh\",\"kind\":\"interval\",\"ts_start\":\"2022-03-01T00:15:00.000Z\","
              "\"ts_end\":\"2022-03-01T00:30:00.000Z\",\"value\":0.1,\"received_at\":\"2022-03-"
              "02T00:00:00.000Z\"}\n]\n");
    r = cli(
        {"query", "-c", config().string(), "--meter", "cid", "--quantity", "water.volume.index"});
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("(1 row)"), std::string::npos) << r.out;
}

// Filters are bound parameters and the CLI's connection is read-only: SQL in a
// filter is a value that matches nothing, and nothing is written.
TEST_F(CliTest, QueryFiltersAreValuesNotSqlAndTheCliCannotWrite) {
    seed();
    const auto before = fs::last_write_time(db());
    for (const char* evil : {"cid' OR '1'='1", "x'; DELETE FROM readings; --", "cid\" OR 1=1 --"}) {
        auto r = cli({"query", "-c", config().string(), "--meter", evil, "--format", "csv"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(r.out, "source,meter,quantity,unit,kind,ts_start,ts_end,value,received_at\n")
            << evil;
        r = cli({"rejected", "-c", config().string(), "--source", evil});
        EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    auto ro = open_read_only(db());
    EXPECT_EQ(ro.scalar_int("SELECT count(*) FROM readings"), 3);
    EXPECT_THROW(ro.exec("DELETE FROM readings"), std::exception);
    EXPECT_EQ(fs::last_write_time(db()), before);
}

TEST_F(CliTest, QueryRejectsBadTimesAndMissingDatabase) {
    auto r = cli({"query", "-c", config().string(), "--from", "yesterday"});
    EXPECT_EQ(r.exit_code, 65);
    EXPECT_NE(r.err.find("--from 'yesterday'"), std::string::npos) << r.err;
    r = cli({"query", "-c", config().string()});
    EXPECT_EQ(r.exit_code, 73);
    EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(db())) << "query must not create the database";
    r = cli({"query", "-c", config().string(), "--format", "xml"});
    EXPECT_EQ(r.exit_code, 64);
}

TEST_F(CliTest, StatsCountsPerSource) {
    seed();
    auto r = cli({"stats", "-c", config().string(), "--format", "csv"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out,
              "source,messages,readings,duplicates,revisions,rejected,states,last_received_at\n"
              "tuya,1,1,0,0,0,0,2022-03-01T00:00:00.005Z\n"
              "voltaware,3,2,2,0,1,0,2022-03-02T00:00:00.000Z\n");
    r = cli({"stats", "-c", config().string()});
    EXPECT_NE(r.out.find("TOTAL"), std::string::npos) << r.out;
}

TEST_F(CliTest, RejectedShowsReasonAndPayload) {
    seed();
    auto r = cli({"rejected", "-c", config().string(), "--format", "csv"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out,
              "received_at,source,topic,reason,payload\n"
              "2022-03-01T00:00:00.007Z,voltaware,voltaware/readings,malformed: not valid "
              "JSON,\"{\"\"broken\n\"\n");
}

TEST_F(CliTest, UnknownVerbIsAUsageError) {
    EXPECT_EQ(cli({"frobnicate"}).exit_code, 64);
}

// A mistyped verb is named, with the closest verb an operator may use; the
// hidden verbs of the build are never offered.
TEST_F(CliTest, AnUnknownVerbIsNamedWithTheClosestOne) {
    const auto typo = cli({"qurey", "-c", config().string()});
    EXPECT_EQ(typo.exit_code, 64);
    EXPECT_NE(typo.err.find("meterbridge: unknown verb 'qurey'; did you mean 'query'?"),
              std::string::npos)
        << typo.err;
    EXPECT_NE(typo.err.find("meterbridge help"), std::string::npos) << typo.err;
    EXPECT_EQ(typo.out, "");
    const auto short_one = cli({"stat"});
    EXPECT_NE(short_one.err.find("did you mean 'stats'?"), std::string::npos) << short_one.err;
    const auto far = cli({"frobnicate"});
    EXPECT_NE(far.err.find("unknown verb 'frobnicate'"), std::string::npos) << far.err;
    EXPECT_EQ(far.err.find("did you mean"), std::string::npos) << far.err;
    const auto hidden = cli({"manul"});
    EXPECT_EQ(hidden.exit_code, 64);
    EXPECT_EQ(hidden.err.find("manual"), std::string::npos) << hidden.err;
}

// `help` as git and systemctl have it: the verbs, or one verb's options.
TEST_F(CliTest, HelpListsTheVerbsOrExplainsOne) {
    const auto all = cli({"help"});
    EXPECT_EQ(all.exit_code, 0) << all.err;
    EXPECT_EQ(all.out, cli({"--help"}).out);
    for (const char* verb : {"run", "check-config", "query", "status", "jobs", "help"})
        EXPECT_NE(all.out.find(fmt::format("\n  {} ", verb)), std::string::npos) << verb << "\n"
                                                                                 << all.out;
    for (const char* hidden : {"manual", "names"})
        EXPECT_EQ(all.out.find(fmt::format("\n  {} ", hidden)), std::string::npos) << hidden;

    const auto query = cli({"help", "query"});
    EXPECT_EQ(query.exit_code, 0) << query.err;
    EXPECT_EQ(query.out, cli({"query", "--help"}).out);
    EXPECT_NE(query.out.find("--quantity"), std::string::npos) << query.out;

    const auto typo = cli({"help", "qurey"});
    EXPECT_EQ(typo.exit_code, 64);
    EXPECT_NE(typo.err.find("unknown verb 'qurey'; did you mean 'query'?"), std::string::npos)
        << typo.err;
}

// `meterbridge types` lists every type of the registry; `types TYPE` every key
// of its tables (those of every connector, of its transport, its own and
// their sub-tables', its jobs') and its verbs; an unknown type is a usage
// error naming the known ones.
void expect_keys(const std::string& out, std::span<const KeySpec> keys, const std::string& prefix) {
    for (const KeySpec& k : keys) {
        const std::string name = prefix + std::string(k.name);
        EXPECT_NE(out.find("  " + name + " "), std::string::npos) << name << "\n" << out;
        EXPECT_NE(out.find(std::string(k.description)), std::string::npos) << name;
        if (k.type == KeyType::tables) expect_keys(out, k.keys, name + "[].");
        if (k.type == KeyType::table) expect_keys(out, k.keys, name + ".<id>.");
    }
}

TEST_F(CliTest, TypesListsEveryTypeAndEveryKeyOfEach) {
    const auto list = cli({"types"});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    const ConnectorRegistry& registry = builtin_registry();
    ASSERT_FALSE(registry.types().empty());
    for (const ConnectorType& t : registry.types()) {
        SCOPED_TRACE(t.type);
        EXPECT_NE(list.out.find(t.type + " "), std::string::npos);
        EXPECT_NE(list.out.find(t.description), std::string::npos);
        const auto one = cli({"types", t.type});
        EXPECT_EQ(one.exit_code, 0) << one.err;
        EXPECT_TRUE(one.out.starts_with(t.type + " (" + std::string(to_string(t.transport)) +
                                        "): " + t.description + "\n"))
            << one.out;
        expect_keys(one.out, connector_keys(), "");
        if (t.transport == Transport::mqtt) expect_keys(one.out, mqtt_connector_keys(), "");
        expect_keys(one.out, t.keys, "");
        if (!t.jobs.empty()) expect_keys(one.out, job_keys(), "");
        for (const JobSpec& j : t.jobs) {
            EXPECT_NE(one.out.find(fmt::format("command = \"{}\"", j.command)), std::string::npos);
            expect_keys(one.out, j.keys, "");
        }
        for (const VendorVerb& v : t.verbs)
            EXPECT_NE(one.out.find("meterbridge " + v.name + "  "), std::string::npos);
    }
    const auto unknown = cli({"types", "voltawre"});
    EXPECT_EQ(unknown.exit_code, 64);
    EXPECT_EQ(unknown.out, "");
    EXPECT_EQ(unknown.err, fmt::format("types: unknown connector type 'voltawre' (known types: {})\n",
                                       fmt::join(registry.type_names(), ", ")));
}

}  // namespace
}  // namespace mb::test
