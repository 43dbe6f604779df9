#include "daemon/config.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include "connectors/mqtt/mqtt_config.h"
#include "connectors/registry.h"
#include "daemon/http/listen_address.h"
#include "normalize/config/table_reader.h"

namespace mb {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::uint64_t kMiB = 1024 * 1024;

std::string describe(std::chrono::milliseconds d) {
    if (d.count() % 1000 == 0) return fmt::format("{}s", d.count() / 1000);
    return fmt::format("{}ms", d.count());
}

// A connector's or job's name: its characters, and unique among its kind
// (`first_line`: where the name was first defined, if it was).
void check_name(TableReader& r, std::string_view name, std::string_view what,
                std::optional<std::uint32_t> first_line) {
    if (!is_valid_name(name))
        r.error("name", "may only contain letters, digits, '_', '.' and '-'");
    else if (first_line)
        r.error("name", fmt::format("duplicate {} name '{}' (first defined at line {})", what,
                                    name, *first_line));
}

std::string render(const toml::table& t) {
    std::ostringstream os;
    os << toml::toml_formatter(t);
    return os.str();
}

class Loader {
  public:
    Loader(const ConnectorRegistry& registry, std::string file, fs::path base_dir,
           LoadOptions options)
        : registry_(registry),
          file_(std::move(file)),
          base_dir_(std::move(base_dir)),
          options_(options) {}

    void load(const toml::table& root);

    Config config;
    std::vector<ConfigError> errors;
    std::vector<std::string> warnings;

  private:
    struct KnownConnector {
        const ConnectorType* row;  // null when the type is unknown (already reported)
        std::uint32_t line;
        std::string type;
    };

    void load_storage(TableReader& r);
    void load_log(TableReader& r);
    void load_control(TableReader& r);
    void load_http(TableReader& r);
    void load_connector(TableReader& r, const toml::table& t);
    void load_job(TableReader& r, const toml::table& t);
    fs::path resolve(const std::string& p) const;

    const ConnectorRegistry& registry_;
    std::string file_;
    fs::path base_dir_;
    LoadOptions options_;
    std::map<std::string, const toml::table*, std::less<>> broker_tables_;
    std::map<std::string, KnownConnector, std::less<>> connectors_;
    std::map<std::string, std::uint32_t, std::less<>> jobs_;
    MqttConnectorRules mqtt_{config.brokers};
};

fs::path Loader::resolve(const std::string& p) const {
    fs::path path(p);
    if (path.is_absolute()) return path;
    return (base_dir_ / path).lexically_normal();
}

void Loader::load(const toml::table& root) {
    TableReader r(root, "", file_, errors, warnings);
    if (!options_.check_secret_files) r.skip_secret_file_checks();

    if (const toml::table* t = r.table("storage")) {
        TableReader sr = r.child(*t, "storage");
        load_storage(sr);
    } else if (!r.has("storage")) {
        r.error("storage", "missing required table [storage]");
    }

    if (const toml::table* t = r.table("log")) {
        TableReader lr = r.child(*t, "log");
        load_log(lr);
    }

    if (const toml::table* t = r.table("control")) {
        TableReader cr = r.child(*t, "control");
        load_control(cr);
    }
    if (const toml::table* t = r.table("http")) {
        TableReader hr = r.child(*t, "http");
        load_http(hr);
    }
    if (config.control.enabled && config.control.socket.empty() && !config.storage.path.empty())
        config.control.socket = fs::path(config.storage.path.string() + ".sock");

    if (const toml::table* brokers = r.table("brokers")) {
        TableReader br = r.child(*brokers, "brokers");
        for (const auto& [key, node] : *brokers) {
            const std::string name(key.str());
            if (const toml::table* t = br.table(name)) {
                TableReader one = br.child(*t, br.key_path(name));
                // Registered even when invalid, so that connectors naming it do
                // not also report a dangling reference.
                config.brokers[name] = read_broker(one, name, base_dir_);
                broker_tables_[name] = t;
            }
        }
        br.finish();
    }

    if (const toml::array* arr = r.table_array("connectors")) {
        for (std::size_t i = 0; i < arr->size(); ++i) {
            const toml::table& t = *arr->get(i)->as_table();
            TableReader cr = r.child(t, fmt::format("connectors[{}]", i));
            load_connector(cr, t);
        }
    }

    if (const toml::array* arr = r.table_array("jobs")) {
        for (std::size_t i = 0; i < arr->size(); ++i) {
            const toml::table& t = *arr->get(i)->as_table();
            TableReader jr = r.child(t, fmt::format("jobs[{}]", i));
            load_job(jr, t);
        }
    }

    r.finish();
}

void Loader::load_storage(TableReader& r) {
    StorageConfig& s = config.storage;
    if (auto p = r.required_string("path")) {
        if (p->empty())
            r.error("path", "must not be empty");
        else
            s.path = resolve(*p);
    }
    if (auto m = r.one_of("synchronous", {"normal", "full"})) {
        s.synchronous = *m == "normal" ? SyncMode::normal : SyncMode::full;
        if (s.synchronous == SyncMode::normal)
            r.warning("synchronous",
                      "synchronous = \"normal\": a power loss can lose messages that were already "
                      "acknowledged to the broker, which will not resend them");
    }
    if (auto v = r.integer("queue_capacity", 1, 1'000'000))
        s.queue_capacity = static_cast<std::size_t>(*v);
    if (auto v = r.integer("batch_max_rows", 1, 1'000'000))
        s.batch_max_rows = static_cast<std::size_t>(*v);
    if (auto d = r.duration("batch_max_delay")) {
        if (*d > 10s)
            r.error("batch_max_delay",
                    fmt::format("must be between 0s and 10s (got {})", describe(*d)));
        else
            s.batch_max_delay = *d;
    }
    if (auto d = r.duration("raw_retention")) {
        if (*d % 1h != 0ms)
            r.error("raw_retention",
                    fmt::format("must be a whole number of hours (got {})", describe(*d)));
        else
            s.raw_retention = std::chrono::duration_cast<std::chrono::hours>(*d);
    }
    if (auto b = r.bytes("max_stored_payload", 0, 16 * kMiB))
        s.max_stored_payload = static_cast<std::size_t>(*b);
    if (auto b = r.bytes("cache_size", 256 * 1024, 1024 * kMiB))
        s.cache_size = static_cast<std::size_t>(*b);
    r.finish();
}

void Loader::load_log(TableReader& r) {
    if (auto level = r.one_of("level", {"trace", "debug", "info", "warn", "error"}))
        config.log.level = *level;
    r.finish();
}

void Loader::load_control(TableReader& r) {
    if (auto p = r.string("socket")) {
        if (p->empty()) {
            config.control.enabled = false;
        } else {
            const fs::path path = resolve(*p);
            // sockaddr_un.sun_path holds 108 bytes with the terminating NUL.
            if (path.string().size() > 107)
                r.error("socket", fmt::format("path is {} bytes; a Unix socket path holds at most "
                                              "107",
                                              path.string().size()));
            else
                config.control.socket = path;
        }
    }
    r.finish();
}

void Loader::load_http(TableReader& r) {
    if (auto listen = r.string("listen")) {
        std::string why;
        if (listen->empty() || http::parse_listen(*listen, why))
            config.http.listen = *listen;
        else
            r.error("listen", fmt::format("\"{}\": {}", *listen, why));
    }
    r.finish();
}

void Loader::load_connector(TableReader& r, const toml::table& t) {
    ConnectorConfig c;
    c.line = r.line();
    r.declare(connector_keys());

    if (auto name = r.text("name")) {
        c.name = *name;
        const auto first = connectors_.find(*name);
        check_name(r, *name, "connector",
                   first == connectors_.end() ? std::nullopt : std::optional(first->second.line));
    }
    const ConnectorType* row = nullptr;
    if (auto type = r.text("type")) {
        c.type = *type;
        row = registry_.find(*type);
        if (row == nullptr) {
            const auto known = registry_.type_names();
            r.error("type", fmt::format("unknown connector type '{}' (known types: {})", *type,
                                        known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
        }
    }
    if (is_valid_name(c.name) && !connectors_.contains(c.name))
        connectors_.emplace(c.name, KnownConnector{row, c.line, c.type});
    if (row == nullptr) {
        // Which keys belong here depends on the type: listing them all as
        // unknown would bury the one error that matters.
        return;
    }

    const bool mqtt = row->transport == Transport::mqtt;
    bool topics_valid = true;
    if (mqtt)
        topics_valid = mqtt_.read(r, c);
    else
        refuse_mqtt_keys(r, c, row->transport);
    if (auto max = r.bytes("max_payload")) c.max_payload = static_cast<std::size_t>(*max);
    if (auto stale = r.text("stale_after")) {
        if (auto rule = parse_stale_rule(*stale)) {
            c.stale_after = *rule;
            c.stale_after_set = true;
        } else {
            r.error("stale_after",
                    fmt::format("expected a duration such as \"15m\" or \"PT15M\", or a "
                                "multiple of the meter's arrival interval such as \"3x\" (got "
                                "'{}')",
                                *stale));
        }
    }

    r.declare(row->keys);
    // A row that parses keys lists them all in its table (tests' stand-in
    // rows without a table read as they like).
    if (!row->parse_options || !row->keys.empty()) r.refuse_undeclared();
    if (row->parse_options) {
        try {
            c.options = row->parse_options(r, c);
        } catch (const std::exception& e) {
            r.error("", fmt::format("type '{}' could not read its options: {}", c.type, e.what()));
        }
    }
    if (mqtt) mqtt_.check(r, c, topics_valid);

    r.finish();

    c.fingerprint = render(t);
    if (mqtt) {
        if (auto it = broker_tables_.find(c.broker); it != broker_tables_.end())
            c.fingerprint += fmt::format("\n# broker {}\n{}", c.broker, render(*it->second));
    }
    config.connectors.push_back(std::move(c));
}

void Loader::load_job(TableReader& r, const toml::table& t) {
    JobConfig j;
    j.line = r.line();

    r.declare(job_keys());

    if (auto name = r.text("name")) {
        j.name = *name;
        const auto [it, inserted] = is_valid_name(*name)
                                        ? jobs_.try_emplace(*name, j.line)
                                        : std::pair(jobs_.end(), true);
        check_name(r, *name, "job", inserted ? std::nullopt : std::optional(it->second));
    }
    if (auto command = r.text("command")) {
        if (command->empty())
            r.error("command", "must not be empty");
        else
            j.command = *command;
    }

    // The keys beyond name/connector/command belong to the connector's type;
    // without a usable type they cannot be judged, so they are left alone.
    bool judged = false;
    if (auto connector = r.text("connector")) {
        j.connector = *connector;
        auto it = connectors_.find(*connector);
        if (it == connectors_.end()) {
            r.error("connector",
                    fmt::format("connector '{}' is not defined in [[connectors]]", *connector));
        } else if (it->second.row == nullptr) {
            // Its unknown type was reported at the connector.
        } else if (!it->second.row->parse_job) {
            r.error("connector", fmt::format("connector '{}' (type '{}') takes no jobs", *connector,
                                             it->second.type));
        } else {
            judged = true;
            if (!it->second.row->jobs.empty()) r.refuse_undeclared();
            try {
                j.options = it->second.row->parse_job(r, j);
            } catch (const std::exception& e) {
                r.error("", fmt::format("type '{}' could not read this job: {}", it->second.type,
                                        e.what()));
            }
        }
    }
    if (judged) r.finish();

    j.fingerprint = render(t);
    config.jobs.push_back(std::move(j));
}

fs::path config_directory(const fs::path& file) {
    std::error_code ec;
    if (file.empty()) return fs::current_path(ec);
    fs::path abs = fs::absolute(file, ec);
    if (ec) abs = file;
    return abs.parent_path();
}

}  // namespace

LoadResult load_config_text(std::string_view text, const fs::path& file,
                            const ConnectorRegistry& registry, LoadOptions options) {
    Loader loader(registry, file.string(), config_directory(file), options);
    LoadResult result;
    loader.config.file = file;

#if TOML_EXCEPTIONS
    toml::table root;
    try {
        root = toml::parse(text, std::string_view(file.native()));
    } catch (const toml::parse_error& e) {
        result.errors.push_back(ConfigError{file.string(), e.source().begin.line,
                                            e.source().begin.column, "",
                                            std::string(e.description())});
        return result;
    }
#else
    toml::parse_result parsed = toml::parse(text, std::string_view(file.native()));
    if (!parsed) {
        const toml::parse_error& e = parsed.error();
        result.errors.push_back(ConfigError{file.string(), e.source().begin.line,
                                            e.source().begin.column, "",
                                            std::string(e.description())});
        return result;
    }
    toml::table root = std::move(parsed).table();
#endif

    loader.load(root);

    // Tables iterate in key order, not file order: sort so that the operator
    // reads the problems top to bottom.
    std::stable_sort(loader.errors.begin(), loader.errors.end(),
                     [](const ConfigError& a, const ConfigError& b) {
                         return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                     });
    result.errors = std::move(loader.errors);
    result.warnings = std::move(loader.warnings);
    if (result.errors.empty()) result.config = std::move(loader.config);
    return result;
}

std::optional<StaleRule> parse_stale_rule(std::string_view text) {
    if (!text.empty() && (text.back() == 'x' || text.back() == 'X')) {
        const std::string number(text.substr(0, text.size() - 1));
        char* end = nullptr;
        errno = 0;
        const double m = number.empty() ? 0 : std::strtod(number.c_str(), &end);
        if (errno != 0 || end != number.c_str() + number.size() || !(m > 0) || m > 1e6)
            return std::nullopt;
        return StaleRule{std::nullopt, m};
    }
    const auto d = parse_duration(text);
    if (!d || d->count() <= 0) return std::nullopt;
    return StaleRule{d->count(), 3.0};
}

std::map<std::string, StaleRule> stale_rules(const Config& config) {
    std::map<std::string, StaleRule> out;
    for (const auto& c : config.connectors) out.emplace(c.name, c.stale_after);
    return out;
}

LoadResult load_config(const fs::path& file, const ConnectorRegistry& registry,
                       LoadOptions options) {
    const auto unreadable = [&](std::string reason) {
        LoadResult r;
        r.errors.push_back(ConfigError{file.string(), 0, 0, "",
                                       fmt::format("cannot read the configuration: {}", reason)});
        return r;
    };
    std::error_code ec;
    if (fs::is_directory(file, ec)) return unreadable("it is a directory");
    errno = 0;
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        const int e = errno;
        auto r = unreadable(e != 0 ? std::strerror(e) : "cannot open");
        r.permission_denied = e == EACCES || e == EPERM;
        return r;
    }
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) return unreadable("read error");
    return load_config_text(text, file, registry, options);
}

}  // namespace mb
