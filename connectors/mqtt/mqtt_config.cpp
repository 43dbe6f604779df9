#include "connectors/mqtt/mqtt_config.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mb {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::string_view kProtocols[] = {"3.1.1", "5"};

constexpr KeySpec kBrokerKeys[] = {
    {.name = "host", .default_value = "127.0.0.1", .description = "the broker's name or address"},
    {.name = "port",
     .type = KeyType::integer,
     .default_value = "1883, or 8883 with TLS",
     .min = 1,
     .max = 65535,
     .description = "the broker's port"},
    {.name = "tls",
     .type = KeyType::boolean,
     .default_value = "off for loopback hosts, on for others",
     .description = "encrypt the connection; plaintext to another host must be asked for"},
    {.name = "tls_insecure",
     .type = KeyType::boolean,
     .default_value = "false",
     .description = "skip certificate and host name verification (tests only; warned)"},
    {.name = "ca_file", .description = "PEM trust anchors (default: the system trust store)"},
    {.name = "ca_path", .description = "a directory of hashed CA certificates"},
    {.name = "cert_file", .description = "client certificate (PEM), with key_file"},
    {.name = "key_file", .description = "the client certificate's private key (PEM)"},
    {.name = "username", .description = "MQTT user name"},
    {.name = "password_file",
     .type = KeyType::secret_file,
     .description = "file holding the MQTT password (requires username)"},
    {.name = "keepalive",
     .type = KeyType::duration,
     .default_value = "30s",
     .range = "5s..65535s, whole seconds",
     .description = "MQTT keepalive interval"},
    {.name = "protocol",
     .type = KeyType::choice,
     .default_value = "3.1.1",
     .choices = kProtocols,
     .description = "MQTT protocol version"},
};

constexpr KeySpec kMqttConnectorKeys[] = {
    {.name = "broker", .required = true, .description = "the [brokers.NAME] to connect to"},
    {.name = "topics",
     .type = KeyType::strings,
     .range = "MQTT filters: '+' and '#' whole levels, '#' last",
     .description = "subscription filters (required unless the type derives them)"},
    {.name = "qos",
     .type = KeyType::integer,
     .default_value = "1",
     .min = 0,
     .max = 2,
     .description = "subscription QoS; keep 1, also for QoS 2 publishers (2 is warned)"},
    {.name = "clean_session",
     .type = KeyType::boolean,
     .default_value = "false",
     .description = "true: the broker forgets the session, messages sent while down are lost"},
    {.name = "client_id",
     .default_value = "meterbridge-<name>",
     .description = "MQTT client id, unique per broker and fixed across restarts"},
};

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

}  // namespace

std::span<const KeySpec> broker_keys() {
    return kBrokerKeys;
}

std::span<const KeySpec> mqtt_connector_keys() {
    return kMqttConnectorKeys;
}

BrokerConfig read_broker(TableReader& r, const std::string& name, const fs::path& base_dir) {
    r.declare(kBrokerKeys);
    r.refuse_undeclared();
    BrokerConfig b;
    b.name = name;
    if (!is_valid_name(name))
        r.error("", "a broker name may only contain letters, digits, '_', '.' and '-'");

    if (auto host = r.text("host")) {
        if (host->empty())
            r.error("host", "must not be empty");
        else
            b.host = *host;
    }
    const auto port = r.integer("port");
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
        auto v = r.text(tp.key);
        if (!v) continue;
        if (v->empty()) {
            r.error(tp.key, "must not be empty");
            continue;
        }
        fs::path p(*v);
        if (p.is_relative()) p = (base_dir / p).lexically_normal();
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

    if (auto user = r.text("username")) {
        if (user->empty())
            r.error("username", "must not be empty");
        else
            b.username = *user;
    }
    if (auto pf = r.text("password_file"); pf && !pf->empty()) {
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
    if (auto proto = r.text("protocol")) b.protocol = *proto == "5" ? 5 : 4;

    r.finish();
    return b;
}

bool MqttConnectorRules::read(TableReader& r, ConnectorConfig& c) {
    r.declare(kMqttConnectorKeys);
    bool topics_valid = true;
    if (auto broker = r.text("broker")) {
        c.broker = *broker;
        if (!brokers_.contains(*broker)) {
            std::vector<std::string> names;
            for (const auto& [n, b] : brokers_) names.push_back(n);
            r.error("broker",
                    fmt::format("broker '{}' is not defined ({})", *broker,
                                names.empty()
                                    ? std::string("there is no [brokers.NAME] table")
                                    : fmt::format("defined brokers: {}", fmt::join(names, ", "))));
        }
    }
    if (auto topics = r.string_list("topics", mqtt_filter_problem))
        c.topics = std::move(*topics);
    else
        topics_valid = !r.has("topics");
    if (auto qos = r.integer("qos")) {
        c.qos = static_cast<int>(*qos);
        if (c.qos == 2)
            r.warning("qos",
                      "qos = 2: libmosquitto acknowledges a QoS 2 message before the daemon can "
                      "commit it, so a crash can lose it; qos = 1 is recommended, also for QoS 2 "
                      "publishers (the broker delivers at QoS 1 and deduplication absorbs "
                      "redeliveries)");
    }
    if (auto clean = r.boolean("clean_session")) {
        c.clean_session = *clean;
        if (*clean)
            r.warning("clean_session",
                      "clean_session = true: the broker forgets the subscription when the daemon "
                      "disconnects, so messages published while the daemon is down are lost");
    }
    if (auto id = r.text("client_id")) {
        if (id->empty())
            r.error("client_id", "must not be empty");
        else
            c.client_id = *id;
    }
    if (c.client_id.empty()) c.client_id = "meterbridge-" + c.name;
    return topics_valid;
}

void MqttConnectorRules::check(TableReader& r, const ConnectorConfig& c, bool topics_valid) {
    if (c.topics.empty() && topics_valid) {
        if (r.has("topics"))
            r.error("topics", "must not be empty: an MQTT connector needs a subscription filter");
        else
            r.error("topics", "missing required key");
    }
    if (c.broker.empty() || !is_valid_name(c.name)) return;
    auto [it, inserted] = client_ids_.try_emplace({c.broker, c.client_id}, c.name);
    if (!inserted && it->second != c.name)
        r.error(r.has("client_id") ? "client_id" : "name",
                fmt::format("client id '{}' is already used by connector '{}' on broker '{}'; "
                            "the broker would disconnect one whenever the other connects",
                            c.client_id, it->second, c.broker));
}

void refuse_mqtt_keys(TableReader& r, const ConnectorConfig& c, Transport transport) {
    for (const KeySpec& k : kMqttConnectorKeys) {
        if (!r.has(k.name)) continue;
        r.accept(k.name);
        r.error(k.name, fmt::format("only MQTT connector types use {}; type '{}' uses {}", k.name,
                                    c.type, to_string(transport)));
    }
}

}  // namespace mb
