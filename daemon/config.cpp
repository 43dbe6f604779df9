#include "daemon/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "connectors/registry.h"
#include "normalize/config/table_reader.h"

namespace mb {


namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::uint64_t kMiB = 1024 * 1024;

// Names end up in the database (`source`), in client ids and on command lines.
bool is_valid_name(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string_view transport_name(Transport t) {
    switch (t) {
        case Transport::mqtt:
            return "mqtt";
        case Transport::xmpp:
            return "xmpp";
        case Transport::local:
            return "local";
    }
    return "unknown";
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) {
        if (!out.empty()) out += ", ";
        out += s;
    }
    return out;
}

std::string describe(std::chrono::milliseconds d) {
    if (d.count() % 1000 == 0) return fmt::format("{}s", d.count() / 1000);
    return fmt::format("{}ms", d.count());
}

// Why `p` cannot be used as a file (or directory) to read, or "" when it can.
// Checked at load time so that a typo fails `check-config`, not a reconnect at 3 am.
std::string path_problem(const fs::path& p, bool want_directory) {
    std::error_code ec;
    const fs::file_status st = fs::status(p, ec);
    if (st.type() == fs::file_type::not_found)
        return fmt::format("'{}' does not exist", p.string());
    if (ec) return fmt::format("cannot access '{}': {}", p.string(), ec.message());
    if (want_directory && !fs::is_directory(st))
        return fmt::format("'{}' is not a directory", p.string());
    if (!want_directory && fs::is_directory(st))
        return fmt::format("'{}' is a directory, expected a file", p.string());
    const int mode = want_directory ? (R_OK | X_OK) : R_OK;
    if (::access(p.c_str(), mode) != 0)
        return fmt::format("'{}' is not readable: {}", p.string(), std::strerror(errno));
    return {};
}

std::string render(const toml::table& t) {
    std::ostringstream os;
    os << toml::toml_formatter(t);
    return os.str();
}

class Loader {
  public:
    Loader(const ConnectorRegistry& registry, std::string file, fs::path base_dir)
        : registry_(registry), file_(std::move(file)), base_dir_(std::move(base_dir)) {}

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
    void load_broker(TableReader& r, const std::string& name, const toml::table& t);
    void load_connector(TableReader& r, const toml::table& t);
    void load_job(TableReader& r, const toml::table& t);
    fs::path resolve(const std::string& p) const;

    const ConnectorRegistry& registry_;
    std::string file_;
    fs::path base_dir_;
    std::map<std::string, const toml::table*, std::less<>> broker_tables_;
    std::map<std::string, KnownConnector, std::less<>> connectors_;
    std::map<std::string, std::uint32_t, std::less<>> jobs_;
    // (broker, client id) → connector: two clients with one id on one broker
    // would take turns kicking each other off.
    std::map<std::pair<std::string, std::string>, std::string> client_ids_;
};

fs::path Loader::resolve(const std::string& p) const {
    fs::path path(p);
    if (path.is_absolute()) return path;
    return (base_dir_ / path).lexically_normal();
}

void Loader::load(const toml::table& root) {
    TableReader r(root, "", file_, errors, warnings);

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
    if (config.control.enabled && config.control.socket.empty() && !config.storage.path.empty())
        config.control.socket = fs::path(config.storage.path.string() + ".sock");

    if (const toml::table* brokers = r.table("brokers")) {
        TableReader br = r.child(*brokers, "brokers");
        for (const auto& [key, node] : *brokers) {
            const std::string name(key.str());
            if (const toml::table* t = br.table(name)) {
                TableReader one = br.child(*t, br.key_path(name));
                load_broker(one, name, *t);
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

void Loader::load_broker(TableReader& r, const std::string& name, const toml::table& t) {
    BrokerConfig b;
    b.name = name;
    if (!is_valid_name(name))
        r.error("", "a broker name may only contain letters, digits, '_', '.' and '-'");

    if (auto host = r.string("host")) {
        if (host->empty())
            r.error("host", "must not be empty");
        else
            b.host = *host;
    }
    const auto port = r.integer("port", 1, 65535);
    const auto tls = r.boolean("tls");
    const bool loopback = is_loopback_host(b.host);
    // Off the machine, encryption is the default; plaintext must be asked for.
    const bool tls_on = tls.value_or(!loopback);
    b.tls = tls_on;
    b.port = static_cast<std::uint16_t>(port.value_or(tls_on ? 8883 : 1883));
    if (!tls && !loopback && port && *port == 1883) {
        r.error("port",
                fmt::format("'{}' is not a loopback host, so TLS is on by default, but 1883 "
                            "is MQTT's plaintext port: write tls = false to connect in "
                            "plaintext, or use the broker's TLS port (usually 8883)",
                            b.host));
    } else if (tls && !*tls && !loopback) {
        r.warning("tls",
                  fmt::format("plaintext MQTT to '{}', which is not a loopback host: readings "
                              "and credentials cross the network unencrypted",
                              b.host));
    }

    if (auto insecure = r.boolean("tls_insecure")) {
        b.tls_insecure = *insecure;
        if (*insecure && !tls_on)
            r.error("tls_insecure", "requires TLS (tls = true)");
        else if (*insecure)
            r.warning("tls_insecure",
                      "tls_insecure = true: the broker's certificate and host name are not "
                      "verified, so anyone on the network path can impersonate the broker");
    }

    struct TlsPath {
        std::string_view key;
        std::string* target;
        bool directory;
    };
    const std::array<TlsPath, 4> tls_paths{{{"ca_file", &b.ca_file, false},
                                            {"ca_path", &b.ca_path, true},
                                            {"cert_file", &b.cert_file, false},
                                            {"key_file", &b.key_file, false}}};
    for (const TlsPath& tp : tls_paths) {
        auto v = r.string(tp.key);
        if (!v) continue;
        if (v->empty()) {
            r.error(tp.key, "must not be empty");
            continue;
        }
        const fs::path p = resolve(*v);
        *tp.target = p.string();
        if (!tls_on) {
            r.error(tp.key, fmt::format("is only used with TLS, which is off for this broker{}",
                                        tls ? "" : " (loopback host); write tls = true"));
            continue;
        }
        if (std::string problem = path_problem(p, tp.directory); !problem.empty())
            r.error(tp.key, std::move(problem));
    }
    if (!b.cert_file.empty() && b.key_file.empty() && !r.has("key_file"))
        r.error("cert_file", "requires key_file (a client certificate needs its private key)");
    if (!b.key_file.empty() && b.cert_file.empty() && !r.has("cert_file"))
        r.error("key_file", "requires cert_file (a private key needs its client certificate)");

    if (auto user = r.string("username")) {
        if (user->empty())
            r.error("username", "must not be empty");
        else
            b.username = *user;
    }
    if (auto pf = r.secret_file("password_file", false); pf && !pf->empty()) {
        b.password_file = *pf;
        if (!r.has("username"))
            r.error("password_file",
                    "requires username (MQTT sends a password only with a user name)");
    }

    if (auto d = r.duration("keepalive")) {
        if (*d < 5s || *d > 65535s)
            r.error("keepalive",
                    fmt::format("must be between 5s and 65535s (got {})", describe(*d)));
        else if (*d % 1s != 0ms)
            r.error("keepalive", fmt::format("must be whole seconds (got {})", describe(*d)));
        else
            b.keepalive = std::chrono::duration_cast<std::chrono::seconds>(*d);
    }
    if (auto proto = r.one_of("protocol", {"3.1.1", "5"})) b.protocol = *proto == "5" ? 5 : 4;

    r.finish();
    // Registered even when invalid, so that connectors naming it do not also
    // report a dangling reference.
    broker_tables_[name] = &t;
    config.brokers[name] = std::move(b);
}

void Loader::load_connector(TableReader& r, const toml::table& t) {
    ConnectorConfig c;
    c.line = r.line();

    if (auto name = r.required_string("name")) {
        c.name = *name;
        if (!is_valid_name(*name)) {
            r.error("name", "may only contain letters, digits, '_', '.' and '-'");
        } else if (auto it = connectors_.find(*name); it != connectors_.end()) {
            r.error("name", fmt::format("duplicate connector name '{}' (first defined at line {})",
                                        *name, it->second.line));
        }
    }
    const ConnectorType* row = nullptr;
    if (auto type = r.required_string("type")) {
        c.type = *type;
        row = registry_.find(*type);
        if (row == nullptr) {
            const auto known = registry_.type_names();
            r.error("type", fmt::format("unknown connector type '{}' (known types: {})", *type,
                                        known.empty() ? "none" : join(known)));
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
    bool topics_invalid = false;
    if (mqtt) {
        if (auto broker = r.required_string("broker")) {
            c.broker = *broker;
            if (!config.brokers.contains(*broker)) {
                std::vector<std::string> names;
                for (const auto& [n, b] : config.brokers) names.push_back(n);
                r.error("broker",
                        fmt::format("broker '{}' is not defined ({})", *broker,
                                    names.empty() ? std::string("there is no [brokers.NAME] table")
                                                  : "defined brokers: " + join(names)));
            }
        }
        if (auto topics = r.string_list("topics", mqtt_filter_problem))
            c.topics = std::move(*topics);
        else
            topics_invalid = r.has("topics");
        if (auto qos = r.integer("qos", 0, 2)) {
            c.qos = static_cast<int>(*qos);
            if (c.qos == 2)
                r.warning(
                    "qos",
                    "qos = 2: libmosquitto acknowledges a QoS 2 message before the daemon can "
                    "commit it, so a crash can lose it; qos = 1 is recommended, also for QoS 2 "
                    "publishers (the broker delivers at QoS 1 and deduplication absorbs "
                    "redeliveries)");
        }
        if (auto clean = r.boolean("clean_session")) {
            c.clean_session = *clean;
            if (*clean)
                r.warning(
                    "clean_session",
                    "clean_session = true: the broker forgets the subscription when the daemon "
                    "disconnects, so messages published while the daemon is down are lost");
        }
        if (auto id = r.string("client_id")) {
            if (id->empty())
                r.error("client_id", "must not be empty");
            else
                c.client_id = *id;
        }
        if (c.client_id.empty()) c.client_id = "meterbridge-" + c.name;
    } else {
        for (std::string_view key : {"broker", "topics", "qos", "clean_session", "client_id"}) {
            if (!r.has(key)) continue;
            r.accept(key);
            r.error(key, fmt::format("only MQTT connector types use {}; type '{}' uses {}", key,
                                     c.type, transport_name(row->transport)));
        }
    }
    if (auto max = r.bytes("max_payload", 1, 16 * kMiB))
        c.max_payload = static_cast<std::size_t>(*max);

    if (row->parse_options) {
        try {
            c.options = row->parse_options(r, c);
        } catch (const std::exception& e) {
            r.error("", fmt::format("type '{}' could not read its options: {}", c.type, e.what()));
        }
    }
    if (mqtt && c.topics.empty() && !topics_invalid) {
        if (r.has("topics"))
            r.error("topics", "must not be empty: an MQTT connector needs a subscription filter");
        else
            r.error("topics", "missing required key");
    }

    if (mqtt && !c.broker.empty() && is_valid_name(c.name)) {
        auto [it, inserted] = client_ids_.try_emplace({c.broker, c.client_id}, c.name);
        if (!inserted && it->second != c.name)
            r.error(r.has("client_id") ? "client_id" : "name",
                    fmt::format("client id '{}' is already used by connector '{}' on broker '{}'; "
                                "the broker would disconnect one whenever the other connects",
                                c.client_id, it->second, c.broker));
    }

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

    if (auto name = r.required_string("name")) {
        j.name = *name;
        if (!is_valid_name(*name)) {
            r.error("name", "may only contain letters, digits, '_', '.' and '-'");
        } else if (auto [it, inserted] = jobs_.try_emplace(*name, j.line); !inserted) {
            r.error("name", fmt::format("duplicate job name '{}' (first defined at line {})", *name,
                                        it->second));
        }
    }
    if (auto command = r.required_string("command")) {
        if (command->empty())
            r.error("command", "must not be empty");
        else
            j.command = *command;
    }

    // The keys beyond name/connector/command belong to the connector's type;
    // without a usable type they cannot be judged, so they are left alone.
    bool judged = false;
    if (auto connector = r.required_string("connector")) {
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
                            const ConnectorRegistry& registry) {
    Loader loader(registry, file.string(), config_directory(file));
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

LoadResult load_config(const fs::path& file, const ConnectorRegistry& registry) {
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
    if (!in) return unreadable(errno != 0 ? std::strerror(errno) : "cannot open");
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) return unreadable("read error");
    return load_config_text(text, file, registry);
}

}  // namespace mb
