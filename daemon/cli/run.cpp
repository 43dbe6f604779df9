// `meterbridge run`: the daemon in the foreground (systemd Type=notify).
#include <fmt/format.h>
#include <malloc.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "connectors/builtin.h"
#include "daemon/cli/verb.h"
#include "daemon/logging.h"

namespace mb {

namespace {

std::string user_name(uid_t uid) {
    const passwd* pw = ::getpwuid(uid);
    return pw ? pw->pw_name : std::to_string(uid);
}

int run_daemon(const std::string& file) {
    keep_secrets_out_of_dumps();
    // Blocks of 128 KiB and more (batches, sort buffers) are mapped and go back to the
    // system once freed. glibc's default raises this threshold each time such a block is
    // freed, after which they are carved from the threads' heaps and their pages stay.
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    setup_logging();
    // The database, its WAL and the control socket's directory stay the
    // daemon's and its group's (0640 files), whatever umask it was started
    // with; a stricter umask (the unit's 0027 or tighter) is kept.
    ::umask(::umask(0) | 027);
    if (::geteuid() == 0)
        spdlog::warn(
            "running as root: run meterbridge as an unprivileged user (the systemd unit uses "
            "User=meterbridge)");
    auto result = load_config(file, builtin_registry());
    for (const auto& w : result.warnings) spdlog::warn("{}", w);
    if (!result.config) {
        // Each at err, so that `systemctl status` and `journalctl -p err` show why the unit
        // failed; both exit codes are in the unit's RestartPreventExitStatus=: a restart
        // would find the same file.
        for (const auto& e : result.errors) spdlog::error("{}", e.to_string());
        if (result.permission_denied) {
            spdlog::critical("permission denied: user {} may not read the configuration {}",
                             user_name(::geteuid()), file);
            return kExitNoPerm;
        }
        spdlog::critical("invalid configuration {} ({} error(s))", file, result.errors.size());
        return kExitConfig;
    }
    App app(std::move(*result.config), builtin_registry());
    return app.run();
}

}  // namespace

Verb add_run_verb(CLI::App& cli, std::string& config) {
    auto* sub = cli.add_subcommand("run", "run the daemon in the foreground (systemd Type=notify)");
    add_config_option(sub, config);
    return {sub, [&config] { return run_daemon(config); }};
}

}  // namespace mb
