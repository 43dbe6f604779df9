// Operators and the daemon's files: a member of the daemon's group reads the
// database and uses the control socket; anybody else is told "permission
// denied" with exit 77, not that the database does not exist. The daemon runs
// as nobody:nogroup and the CLI as uid 4242, so this needs root (setpriv).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace mb::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kDaemonId = "65534";  // nobody:nogroup

class PermissionTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "running as other users needs root";
        ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
        fs::create_directories(data());
        ASSERT_EQ(::chown(data().c_str(), 65534, 65534), 0);
        ASSERT_EQ(::chmod(data().c_str(), 0750), 0);
        write_file(config(), fmt::format("[storage]\npath = \"{}\"\n", db().string()));
        ASSERT_EQ(::chmod(config().c_str(), 0644), 0);
        // The daemon, as another user, must be able to send to the notify socket.
        ASSERT_EQ(::chmod((dir / "notify.sock").c_str(), 0666), 0);
    }
    fs::path config() const { return dir / "meterbridge.toml"; }
    fs::path data() const { return dir / "data"; }
    fs::path db() const { return data() / "mb.db"; }
    std::unique_ptr<Process> start_daemon(std::vector<std::string> env = {}) {
        env.push_back(notify.env());
        auto p = std::make_unique<Process>(
            std::vector<std::string>{"/usr/bin/setpriv", fmt::format("--reuid={}", kDaemonId),
                                     fmt::format("--regid={}", kDaemonId), "--clear-groups",
                                     MB_BINARY, "run", "-c", config().string()},
            dir.path(), env);
        EXPECT_TRUE(notify.wait_for("READY=1", 10s)) << p->stderr_text();
        EXPECT_TRUE(p->wait_for_log("control socket", 10s)) << p->stderr_text();
        return p;
    }
    // `meterbridge ARGS… -c config` as uid/gid 4242, with `groups` as supplementary groups.
    RunResult as_user(const std::vector<std::string>& args, const std::string& groups) {
        std::vector<std::string> argv{"/usr/bin/setpriv", "--reuid=4242", "--regid=4242"};
        argv.push_back(groups.empty() ? "--clear-groups" : "--groups=" + groups);
        argv.push_back(MB_BINARY);
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back("-c");
        argv.push_back(config().string());
        return run_binary(argv, 30s);
    }
    TempDir dir;
    NotifySocket notify{dir / "notify.sock"};
};

TEST_F(PermissionTest, AMemberOfTheDaemonsGroupReadsTheDatabaseAndTheSocket) {
    auto p = start_daemon();
    for (const char* verb : {"query", "stats", "rejected", "devices", "commands", "jobs",
                             "consent", "status"}) {
        const auto r = as_user({verb}, kDaemonId);
        EXPECT_EQ(r.exit_code, 0) << verb << ": " << r.err;
    }
    p->signal(SIGTERM);
    EXPECT_EQ(p->wait(10s), 0) << p->stderr_text();
}

TEST_F(PermissionTest, AnyoneElseIsToldPermissionDeniedWith77) {
    auto p = start_daemon();
    for (const char* verb : {"query", "stats", "rejected", "devices", "commands", "jobs",
                             "consent"}) {
        const auto r = as_user({verb}, "");
        EXPECT_EQ(r.exit_code, 77) << verb << ": " << r.err;
        EXPECT_NE(r.err.find("permission denied: cannot read the database " + db().string() +
                             " (readable by root and group nogroup only"),
                  std::string::npos)
            << verb << ": " << r.err;
        EXPECT_EQ(r.err.find("does not exist"), std::string::npos) << r.err;
        EXPECT_EQ(r.out, "");
    }
    // The control socket lives in the same directory: the kernel refuses the connection.
    const auto s = as_user({"status"}, "");
    EXPECT_EQ(s.exit_code, 77) << s.err;
    EXPECT_NE(s.err.find("status: permission denied: cannot connect to"), std::string::npos)
        << s.err;
    const auto c = as_user({"command", "--connector", "t", "--gateway", "g", "--device", "d",
                            "--dp", "1", "--value", "1"},
                           "");
    EXPECT_EQ(c.exit_code, 77) << c.err;
    p->signal(SIGTERM);
    EXPECT_EQ(p->wait(10s), 0) << p->stderr_text();
}

// The daemon's broker password comes from a credentials directory only it can
// read (as LoadCredential= makes one): a member of its group still runs the
// read verbs and status, which never read a secret; check-config does read it.
TEST_F(PermissionTest, AnOperatorNeedsNoAccessToTheDaemonsSecrets) {
    const auto creds = dir / "creds";
    fs::create_directories(creds);
    write_file(creds / "mqtt.pass", "s3cret");
    ASSERT_EQ(::chown(creds.c_str(), 65534, 65534), 0);
    ASSERT_EQ(::chown((creds / "mqtt.pass").c_str(), 65534, 65534), 0);
    ASSERT_EQ(::chmod(creds.c_str(), 0700), 0);
    write_file(config(), fmt::format("[storage]\npath = \"{}\"\n[brokers.b]\nhost = \"127.0.0.1\"\n"
                                     "username = \"mb\"\npassword_file = \"mqtt.pass\"\n",
                                     db().string()));
    auto p = start_daemon({"CREDENTIALS_DIRECTORY=" + creds.string()});
    for (const char* verb : {"query", "stats", "status"}) {
        const auto r = as_user({verb}, kDaemonId);
        EXPECT_EQ(r.exit_code, 0) << verb << ": " << r.err;
    }
    const auto check = as_user({"check-config"}, kDaemonId);
    EXPECT_EQ(check.exit_code, 78) << check.err;
    EXPECT_NE(check.err.find("password_file: 'mqtt.pass'"), std::string::npos) << check.err;
    p->signal(SIGTERM);
    EXPECT_EQ(p->wait(10s), 0) << p->stderr_text();
}

TEST_F(PermissionTest, AConfigurationThisUserMayNotReadIs77NamingIt) {
    ASSERT_EQ(::chmod(config().c_str(), 0640), 0);  // root:root
    for (const char* verb : {"query", "status"}) {
        const auto r = as_user({verb}, "");
        EXPECT_EQ(r.exit_code, 77) << verb << ": " << r.err;
        EXPECT_NE(r.err.find("permission denied: cannot read " + config().string() +
                             " (readable by root and group root only"),
                  std::string::npos)
            << r.err;
    }
}

// The daemon's own user may not read its configuration (a file left root:root
// 0640): 77 with the reason at err, which the unit does not restart in a loop.
TEST_F(PermissionTest, RunOnAConfigurationItMayNotReadExits77) {
    ASSERT_EQ(::chmod(config().c_str(), 0640), 0);  // root:root
    const auto r = run_binary({"/usr/bin/setpriv", fmt::format("--reuid={}", kDaemonId),
                               fmt::format("--regid={}", kDaemonId), "--clear-groups", MB_BINARY,
                               "run", "-c", config().string()},
                              30s, {"JOURNAL_STREAM=8:1234"});
    EXPECT_EQ(r.exit_code, 77) << r.err;
    EXPECT_NE(r.err.find("<3>" + config().string() +
                         ": cannot read the configuration: Permission denied\n"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("<2>permission denied: user nobody may not read the configuration " +
                         config().string() + "\n"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(db()));
}

}  // namespace
}  // namespace mb::test
