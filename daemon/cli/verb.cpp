#include "daemon/cli/verb.h"

#include <fmt/format.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "connectors/builtin.h"
#include "daemon/control/control_client.h"
#include "daemon/logging.h"
#include "normalize/time_format.h"
#include "storage/query.h"

namespace mb {

void add_config_option(CLI::App* sub, std::string& config) {
    sub->add_option("-c,--config", config, "configuration file")->capture_default_str();
}

void add_format_option(CLI::App* sub, std::string& format) {
    sub->add_option("--format", format, "table, csv or json")
        ->check(CLI::IsMember(std::vector<std::string>(kFormats.begin(), kFormats.end())))
        ->capture_default_str();
}

namespace {

// Who may read `path`: the group of the file, or of the nearest directory
// above it this user can see, which is what an operator has to join.
std::string group_hint(const std::filesystem::path& path) {
    struct stat st {};
    for (auto p = path; !p.empty(); p = p.parent_path()) {
        if (::stat(p.c_str(), &st) == 0) {
            const group* g = ::getgrgid(st.st_gid);
            const std::string name = g ? g->gr_name : std::to_string(st.st_gid);
            return fmt::format(" (readable by root and group {} only: join it, or ask root)", name);
        }
        if (p == p.parent_path()) break;
    }
    return {};
}

}  // namespace

std::optional<Config> load_or_report(const std::string& file, int* failure, Secrets secrets) {
    auto result = load_config(file, builtin_registry(),
                              LoadOptions{.check_secret_files = secrets == Secrets::checked});
    for (const auto& w : result.warnings) report(Severity::warning, "warning: " + w);
    for (const auto& e : result.errors) report(Severity::error, e.to_string());
    if (result.permission_denied)
        report(Severity::error,
               fmt::format("permission denied: cannot read {}{}", file, group_hint(file)));
    if (failure) *failure = result.permission_denied ? kExitNoPerm : kExitConfig;
    return std::move(result.config);
}

int report_control_failure(const char* verb, const ControlUnavailable& e) {
    fmt::print(stderr, "{}: {}\n", verb, e.what());
    return dynamic_cast<const ControlPermissionDenied*>(&e) ? kExitNoPerm : kExitUnavailable;
}

std::optional<OutputFormat> parse_format(const std::string& f) {
    if (f == "table") return OutputFormat::table;
    if (f == "csv") return OutputFormat::csv;
    if (f == "json") return OutputFormat::json;
    return std::nullopt;
}

int with_db(const std::string& file, const std::function<int(sql::Db&)>& fn) {
    int failure = kExitConfig;
    auto cfg = load_or_report(file, &failure, Secrets::not_needed);
    if (!cfg) return failure;
    // Told apart from "does not exist": a directory this user may not search
    // hides the file as well as its absence.
    const auto& path = cfg->storage.path;
    if (::access(path.c_str(), R_OK) != 0 && (errno == EACCES || errno == EPERM)) {
        fmt::print(stderr, "permission denied: cannot read the database {}{}\n", path.string(),
                   group_hint(path));
        return kExitNoPerm;
    }
    try {
        auto db = open_read_only(path);
        return fn(db);
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}\n", e.what());
        return kExitCantCreate;
    }
}

int print_rows(const std::string& file, const std::string& format_name,
               std::vector<std::string> columns,
               const std::function<void(sql::Db&, TableWriter&)>& fill) {
    auto format = parse_format(format_name);
    if (!format) return kExitUsage;
    return with_db(file, [&](sql::Db& db) {
        TableWriter out(stdout, *format, std::move(columns));
        fill(db, out);
        out.finish();
        return kExitOk;
    });
}

void keep_secrets_out_of_dumps() {
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        fmt::print(stderr, "warning: prctl(PR_SET_DUMPABLE, 0): {}\n", std::strerror(errno));
    // With fs.suid_dumpable = 2 a non-dumpable process still dumps (for root): not us.
    const rlimit none{0, 0};
    if (::setrlimit(RLIMIT_CORE, &none) != 0)
        fmt::print(stderr, "warning: setrlimit(RLIMIT_CORE, 0): {}\n", std::strerror(errno));
}

Cell text(std::string s) {
    return Cell{std::move(s)};
}

Cell num(std::int64_t v) {
    return Cell{std::to_string(v), true};
}

Cell num(double v) {
    return Cell{format_number(v), true};
}

Cell time_cell(std::optional<TimeMs> t) {
    if (!t) return Cell{"", false, true};
    return Cell{format_iso_ms(*t)};
}

Cell opt_text(const std::optional<std::string>& s) {
    if (!s) return Cell{"", false, true};
    return Cell{*s};
}

}  // namespace mb
