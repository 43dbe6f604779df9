// One daemon per database: a second `meterbridge run` on the same store is
// turned away with 75 naming the first one's pid, and a daemon killed with
// SIGKILL leaves nothing that keeps the next one out.
#include <gtest/gtest.h>
#include <signal.h>

#include <fmt/format.h>

#include "storage/query.h"
#include "tests/support/eventually.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace mb::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class StoreLockTest : public ::testing::Test {
  protected:
    fs::path config() const { return dir / "meterbridge.toml"; }
    fs::path db() const { return dir / "data" / "mb.db"; }
    fs::path spool() const { return dir / "spool"; }
    void write_config() {
        fs::create_directories(spool());
        write_file(config(),
                   fmt::format("[storage]\npath = \"{}\"\n[control]\nsocket = \"\"\n\n"
                               "[[connectors]]\nname = \"import\"\ntype = \"spool\"\n"
                               "directory = \"{}\"\npoll_interval = \"50ms\"\n",
                               db().string(), spool().string()));
    }
    std::unique_ptr<Process> start(NotifySocket& n) {
        return std::make_unique<Process>(
            std::vector<std::string>{MB_BINARY, "run", "-c", config().string()}, dir.path(),
            std::vector{n.env()});
    }
    std::int64_t readings() {
        if (!fs::exists(db())) return 0;
        auto ro = open_read_only(db());
        return ro.scalar_int("SELECT count(*) FROM readings_v").value_or(0);
    }
    void drop_reading(const std::string& name, std::int64_t ts) {
        write_file(spool() / (name + ".tmp"),
                   fmt::format(R"({{"meter":"m1","quantity":"electricity.energy.consumption",)"
                               R"("value":1,"ts_start":{},"ts_end":{}}})"
                               "\n",
                               ts, ts + 900000));
        fs::rename(spool() / (name + ".tmp"), spool() / name);
    }
    TempDir dir;
    NotifySocket notify{dir / "notify.sock"};
    NotifySocket notify2{dir / "notify2.sock"};
};

TEST_F(StoreLockTest, ASecondRunOnTheSameDatabaseExits75NamingTheFirstsPid) {
    write_config();
    auto first = start(notify);
    ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << first->stderr_text();
    EXPECT_EQ(read_file(db().string() + ".lock"), fmt::format("{}\n", first->pid()));

    const auto second = run_binary({MB_BINARY, "run", "-c", config().string()}, 30s);
    EXPECT_EQ(second.exit_code, 75) << second.err;
    EXPECT_NE(second.err.find(fmt::format("database {} is in use by meterbridge run pid {}",
                                          db().string(), first->pid())),
              std::string::npos)
        << second.err;
    // The first one goes on undisturbed, ingesting.
    drop_reading("a.jsonl", 1646092800000);
    EXPECT_TRUE(eventually([&] { return readings() == 1; }, 10s));
    first->signal(SIGTERM);
    EXPECT_EQ(first->wait(10s), 0) << first->stderr_text();
}

TEST_F(StoreLockTest, AfterKill9ANewRunStartsAtOnceAndIngests) {
    write_config();
    auto first = start(notify);
    ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << first->stderr_text();
    first->signal(SIGKILL);
    first->wait(10s);
    ASSERT_EQ(first->killed_by(), SIGKILL);
    ASSERT_TRUE(fs::exists(db().string() + ".lock"));  // left behind, and harmless

    const auto t0 = std::chrono::steady_clock::now();
    auto next = start(notify2);
    ASSERT_TRUE(notify2.wait_for("READY=1", 10s)) << next->stderr_text();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
    EXPECT_EQ(read_file(db().string() + ".lock"), fmt::format("{}\n", next->pid()));
    drop_reading("b.jsonl", 1646092800000);
    EXPECT_TRUE(eventually([&] { return readings() == 1; }, 10s)) << next->stderr_text();
    next->signal(SIGTERM);
    EXPECT_EQ(next->wait(10s), 0) << next->stderr_text();
}

}  // namespace
}  // namespace mb::test
