#include "connectors/akenza/akenza_type.h"

#include <fmt/format.h>

#include <cmath>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/mqtt/mosquitto_handle.h"
#include "connectors/registry.h"
#include "normalize/config/secret.h"
#include "normalize/config/table_reader.h"
#include "normalize/quantity.h"
#include "normalize/topic.h"

namespace mb {

namespace {

constexpr std::int64_t kMinIntervalMs = 1000;
constexpr std::int64_t kMaxIntervalMs = 366LL * 24 * 3600 * 1000;

constexpr std::string_view kDelimiters[] = {",", ";", "\t", "|"};
constexpr std::string_view kTimeFormats[] = {"iso8601", "unix_s", "unix_ms"};
constexpr std::string_view kKinds[] = {"instant", "cumulative", "interval"};
constexpr std::string_view kMarks[] = {"start", "end"};

constexpr KeySpec kMappingKeys[] = {
    {.name = "data_topic",
     .default_value = "default",
     .description = "the uplink's sub-topic, levels joined with '_'"},
    {.name = "pointer",
     .required = true,
     .description = "RFC 6901 JSON pointer to the field (\"\" = the whole payload)"},
    {.name = "quantity",
     .description = "a canonical quantity or register.<id> (a reading; or state_key)"},
    {.name = "state_key", .description = "a state event's key (instead of quantity)"},
    {.name = "unit", .description = "register.<id> only; canonical quantities have their unit"},
    {.name = "kind",
     .type = KeyType::choice,
     .default_value = "instant",
     .choices = kKinds,
     .description = "register.<id> only; canonical quantities have their kind"},
    {.name = "scale",
     .type = KeyType::number,
     .default_value = "1",
     .range = "finite, not 0",
     .description = "the value is multiplied by it (1000: kWh → Wh)"},
    {.name = "duration",
     .type = KeyType::duration,
     .range = "1s..366d",
     .description = "interval readings (required): the length of the interval"},
    {.name = "timestamp_marks",
     .type = KeyType::choice,
     .choices = kMarks,
     .description = "interval readings (required): whether the timestamp marks the start or "
                    "the end"},
    {.name = "timestamp",
     .description = "JSON pointer to the reading's time (default: the time of receipt)"},
    {.name = "timestamp_format",
     .type = KeyType::choice,
     .default_value = "iso8601",
     .choices = kTimeFormats,
     .description = "how the timestamp is written"},
    {.name = "required",
     .type = KeyType::boolean,
     .default_value = "false",
     .description = "an absent field rejects the message (default: the field is skipped)"},
};

constexpr KeySpec kAkenzaKeys[] = {
    {.name = "secret_file",
     .type = KeyType::secret_file,
     .description = "file holding the device connector's uplink secret (required unless "
                    "accept_device_credentials)"},
    {.name = "accept_device_credentials",
     .type = KeyType::boolean,
     .default_value = "false",
     .description = "also take /up/device/id/<deviceId> (JWT, checked by the broker)"},
    {.name = "csv_header",
     .type = KeyType::boolean,
     .default_value = "true",
     .description = "text/csv: the first line names the columns"},
    {.name = "csv_delimiter",
     .type = KeyType::choice,
     .default_value = ",",
     .choices = kDelimiters,
     .description = "text/csv: the column separator"},
    {.name = "mappings",
     .type = KeyType::tables,
     .required = true,
     .keys = kMappingKeys,
     .description = "[[connectors.mappings]], at least one: a payload field to a reading or a "
                    "state event (keys below)"},
};

constexpr VerbArgument kDownlinkArguments[] = {
    {.name = "connector", .help = "the akenza connector (its broker and secret)"},
    {.name = "device", .help = "device id"},
    {.name = "topic", .help = "downlink topic (levels separated by '/')"},
    {.name = "payload", .help = "message body"},
    {.name = "qos",
     .type = ArgumentType::integer,
     .required = false,
     .default_value = 1,
     .min = 0,
     .max = 2,
     .help = "0, 1 or 2"},
};

// Subscriptions that can never receive an uplink, or that would put the secret
// in the configuration. Messages never echo the filter (it may hold a secret).
void check_topics(TableReader& r, const ConnectorConfig& c, bool accept_device) {
    for (std::size_t i = 0; i < c.topics.size(); ++i) {
        const auto levels = topic_levels(c.topics[i]);
        if (levels[0] == "#") continue;
        if (levels[0] != "" && levels[0] != "+") {
            r.error("topics",
                    fmt::format("topics[{}] can never match an akenza uplink, whose topic starts "
                                "with '/' (/up/<secret>/id/<deviceId>): is the leading '/' "
                                "missing? (\"/up/+/id/#\")",
                                i));
            continue;
        }
        if (levels.size() > 1 && levels[1] != "up" && levels[1] != "+" && levels[1] != "#") {
            r.error("topics", fmt::format("topics[{}] can never match an akenza uplink "
                                          "(/up/<secret>/id/<deviceId>)",
                                          i));
            continue;
        }
        if (levels.size() < 3) continue;
        if (levels[2] == akenza_device_level) {
            if (!accept_device)
                r.error("topics", fmt::format("topics[{}] subscribes to device-credential uplinks "
                                              "(/up/device/...), which are rejected unless "
                                              "accept_device_credentials = true",
                                              i));
        } else if (levels[2] != "+" && levels[2] != "#") {
            r.error("topics",
                    fmt::format("topics[{}]: write '+' in place of the uplink secret "
                                "(\"/up/+/id/#\"); a secret in a subscription would sit in the "
                                "configuration and the logs; the decoder checks it against "
                                "secret_file",
                                i));
        }
    }
}

std::string join_canonical() {
    std::string out;
    for (const auto& q : quantity::all()) {
        if (!out.empty()) out += ", ";
        out += q.name;
    }
    return out;
}

// Parses one [[connectors.mappings]] table; returns false when it has errors.
bool parse_mapping(TableReader& m, AkenzaMapping& out) {
    static constexpr std::string_view kReadingKeys[] = {"unit", "kind", "scale", "duration",
                                                        "timestamp_marks"};
    // Once the target is unknown, the keys that depend on it cannot be judged.
    const auto give_up = [&] {
        for (std::string_view key : kReadingKeys) m.accept(key);
        return false;
    };
    bool ok = true;
    const auto bad = [&](std::string_view key, std::string message) {
        m.error(key, std::move(message));
        ok = false;
    };
    // A key that is there but could not be read (reported) spoils the mapping.
    const auto text = [&](std::string_view key) {
        auto v = m.text(key);
        if (!v && m.has(key)) ok = false;
        return v;
    };

    if (auto t = text("data_topic")) {
        if (t->empty())
            bad("data_topic", "must not be empty (no sub-topic is \"default\")");
        else if (t->find_first_of(std::string_view("/+#\0", 4)) != std::string::npos)
            bad("data_topic",
                "cannot contain '/', '+', '#' or NUL: sub-topic levels are joined with '_' "
                "(/up/<secret>/id/<deviceId>/alerts/critical is \"alerts_critical\")");
        else
            out.data_topic = *t;
    }

    if (auto p = m.text("pointer")) {
        if (auto problem = akenza_pointer_problem(*p); !problem.empty())
            bad("pointer", problem);
        else
            out.pointer = *p;
    } else {
        ok = false;
    }

    if (auto t = text("timestamp")) {
        if (auto problem = akenza_pointer_problem(*t); !problem.empty())
            bad("timestamp", problem);
        else
            out.timestamp = *t;
    }
    if (auto f = text("timestamp_format")) {
        if (!m.has("timestamp"))
            bad("timestamp_format",
                "is only used with timestamp (without one, readings take the time of receipt)");
        else if (*f == "unix_s")
            out.timestamp_format = AkenzaTimeFormat::unix_s;
        else if (*f == "unix_ms")
            out.timestamp_format = AkenzaTimeFormat::unix_ms;
    }

    if (auto r = m.boolean("required"))
        out.required = *r;
    else if (m.has("required"))
        ok = false;

    const bool has_quantity = m.has("quantity");
    const bool has_state = m.has("state_key");
    if (has_quantity && has_state) {
        m.accept("quantity");
        m.accept("state_key");
        bad("state_key",
            "a mapping has either quantity (a reading) or state_key (a state event), not both");
        return give_up();
    }
    if (!has_quantity && !has_state) {
        bad("", "needs quantity (a reading) or state_key (a state event)");
        return give_up();
    }

    if (has_state) {
        if (auto k = m.text("state_key")) {
            out.state_key = *k;
            AkenzaMapping probe;
            probe.state_key = *k;
            if (k->empty())
                bad("state_key", "must not be empty");
            else if (auto problem = akenza_mapping_problem(probe); !problem.empty())
                bad("state_key", problem);
        } else {
            ok = false;
        }
        for (std::string_view key : kReadingKeys) {
            if (!m.has(key)) continue;
            m.accept(key);
            bad(key, "is only used by readings (quantity), not by state events (state_key)");
        }
        return ok;
    }

    const auto q = m.text("quantity");
    if (!q) return give_up();  // wrong type, already reported
    if (!quantity::is_valid_name(*q)) {
        bad("quantity", fmt::format("'{}' is neither a canonical quantity ({}) nor register.<id>",
                                    *q, join_canonical()));
        return give_up();
    }
    out.quantity = *q;
    const auto info = quantity::find(*q);

    if (auto u = text("unit")) {
        if (info && *u != info->unit)
            bad("unit", fmt::format("the unit of {} is {}: omit unit, or write \"{}\" and scale "
                                    "the value into it",
                                    *q, info->unit, info->unit));
        else if (u->empty())
            bad("unit", "must not be empty (omit it for no unit)");
        else
            out.unit = *u;
    }
    if (info) out.unit = std::string(info->unit);

    if (auto k = text("kind")) {
        const Kind kind = *parse_kind(*k);
        if (info && kind != info->kind)
            bad("kind", fmt::format("{} is always {}: omit kind", *q, to_string(info->kind)));
        else
            out.kind = kind;
    }
    if (info) out.kind = info->kind;

    if (auto s = m.number("scale")) {
        if (!std::isfinite(*s) || *s == 0)
            bad("scale", "must be a finite number other than 0 (e.g. 1000 for kWh → Wh)");
        else
            out.scale = *s;
    } else if (m.has("scale")) {
        ok = false;
    }

    const auto duration = m.duration("duration");
    const auto marks = m.text("timestamp_marks");
    if (out.kind == Kind::interval) {
        if (duration) {
            if (duration->count() < kMinIntervalMs || duration->count() > kMaxIntervalMs)
                bad("duration", "must be between 1s and 366 days");
            else
                out.duration_ms = duration->count();
        } else if (!m.has("duration")) {
            bad("duration",
                fmt::format("missing required key: an interval reading ({}) needs the length of "
                            "its interval (e.g. \"PT15M\")",
                            *q));
        } else {
            ok = false;
        }
        if (marks) {
            out.stamp = *marks == "start" ? AkenzaStamp::start : AkenzaStamp::end;
        } else if (!m.has("timestamp_marks")) {
            bad("timestamp_marks",
                "missing required key: does the timestamp (or the time of receipt) mark the "
                "\"start\" or the \"end\" of the interval?");
        } else {
            ok = false;
        }
    } else {
        for (std::string_view key : {"duration", "timestamp_marks"})
            if (m.has(key))
                bad(key, fmt::format("is only used by interval readings ({} is {})", *q,
                                     to_string(out.kind)));
    }
    return ok;
}

std::shared_ptr<const ConnectorOptions> parse_akenza_options(TableReader& r, ConnectorConfig& c) {
    r.declare(kAkenzaKeys);
    auto o = std::make_shared<AkenzaConnectorOptions>();
    AkenzaOptions& d = o->decoder;

    if (auto v = r.boolean("accept_device_credentials")) d.accept_device_credentials = *v;
    if (auto f = r.text("secret_file")) {
        o->secret_file = *f;
    } else if (!r.has("secret_file") && !d.accept_device_credentials) {
        r.error("secret_file",
                "missing required key: the file holding the device connector's uplink secret "
                "(or set accept_device_credentials = true to take only /up/device/... uplinks)");
    }
    if (auto v = r.boolean("csv_header")) d.csv_header = *v;
    if (auto v = r.text("csv_delimiter")) d.csv_delimiter = (*v)[0];

    check_topics(r, c, d.accept_device_credentials);

    const toml::array* arr = r.table_array("mappings");
    if (arr == nullptr) {
        if (!r.has("mappings"))
            r.error("mappings",
                    "missing required key: at least one [[connectors.mappings]] (pointer → "
                    "quantity) is needed");
        return o;
    }
    if (arr->empty()) {
        r.error("mappings", "must hold at least one mapping");
        return o;
    }
    // (data topic, quantity or state key) → index of the first mapping
    std::map<std::pair<std::string, std::string>, std::size_t> seen;
    for (std::size_t i = 0; i < arr->size(); ++i) {
        TableReader m = r.child(*arr->get(i)->as_table(), fmt::format("mappings[{}]", i));
        m.declare(r.spec("mappings").keys);
        m.refuse_undeclared();
        AkenzaMapping mapping;
        const bool ok = parse_mapping(m, mapping);
        m.finish();
        if (!ok) continue;
        const bool state = !mapping.state_key.empty();
        const std::string target =
            state ? "state " + mapping.state_key : "quantity " + mapping.quantity;
        auto [it, inserted] = seen.try_emplace({mapping.data_topic, target}, i);
        if (!inserted) {
            m.error(state ? "state_key" : "quantity",
                    fmt::format("{} is already mapped for data topic '{}' by mappings[{}] (one "
                                "message would give it twice)",
                                target, mapping.data_topic, it->second));
            continue;
        }
        d.mappings.push_back(std::move(mapping));
    }
    return o;
}

}  // namespace

std::unique_ptr<AkenzaDecoder> make_akenza_decoder(const ConnectorConfig& config) {
    const auto* o = dynamic_cast<const AkenzaConnectorOptions*>(config.options.get());
    if (o == nullptr)
        throw std::runtime_error(
            fmt::format("connector {}: type akenza built without its options", config.name));
    AkenzaOptions options = o->decoder;
    if (!o->secret_file.empty()) {
        try {
            options.secret = read_secret_file(o->secret_file);
        } catch (const std::exception& e) {
            throw std::runtime_error(
                fmt::format("connector {}: secret_file: {}", config.name, e.what()));
        }
        if (auto problem = akenza_secret_problem(options.secret); !problem.empty())
            throw std::runtime_error(fmt::format("connector {}: secret_file '{}': {}", config.name,
                                                 resolve_secret_path(o->secret_file).string(),
                                                 problem));
    }
    try {
        return std::make_unique<AkenzaDecoder>(std::move(options));
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(fmt::format("connector {}: {}", config.name, e.what()));
    }
}

namespace {

// `meterbridge akenza-downlink`: publishes the payload to
// /down/<secret>/id/<device>/<topic> on the broker of the named akenza
// connector (its secret read from its secret_file), waiting for the broker's
// acknowledgement. Messages never contain the secret.
std::string publish_downlink(const VerbInput& in) {
    const std::string& connector = in.text.at("connector");
    const std::string& device_id = in.text.at("device");
    const std::string& topic = in.text.at("topic");
    const std::string& payload = in.text.at("payload");
    const int qos = static_cast<int>(in.integers.at("qos"));
    const std::filesystem::path& file = in.config_file;
    const auto& connectors = *in.connectors;
    const auto& brokers = *in.brokers;
    const ConnectorConfig* c = nullptr;
    for (const auto& cc : connectors)
        if (cc.name == connector) c = &cc;
    if (!c)
        throw std::runtime_error(
            fmt::format("no connector named '{}' in {}", connector, file.string()));
    const auto* opts = dynamic_cast<const AkenzaConnectorOptions*>(c->options.get());
    if (c->type != "akenza" || !opts)
        throw std::runtime_error(
            fmt::format("connector '{}' is of type '{}', not akenza", connector, c->type));
    if (opts->secret_file.empty())
        throw std::runtime_error(fmt::format(
            "connector '{}' has no secret_file: a downlink topic carries the uplink secret",
            connector));
    const std::string secret = read_secret_file(opts->secret_file);
    try {
        const std::string down = akenza_downlink_topic(secret, device_id, topic);
        if (down.empty())
            throw std::runtime_error(
                fmt::format("cannot build a downlink topic for device '{}' and topic '{}' (empty "
                            "level, '+', '#' or too long)",
                            device_id, topic));
        const auto& broker = brokers.at(c->broker);
        publish_once(broker, c->client_id + "-downlink", down, payload, qos,
                     std::chrono::seconds(30));
    } catch (const std::exception& e) {
        // The library's and publish_once's messages quote the topic, secret level included.
        std::string why = e.what();
        akenza_redact_text(why, secret);
        throw std::runtime_error(why);
    }
    return fmt::format("published {} bytes to /down/***/id/{}/{} (QoS {})", payload.size(),
                       device_id, topic, qos);
}

}  // namespace

MqttTypeSpec akenza_type_spec() {
    MqttTypeSpec spec;
    spec.type = "akenza";
    spec.description =
        "akenza device uplinks (/up/<secret>/id/<deviceId>[/<sub-topic>...]) mapped to readings "
        "by [[connectors.mappings]]";
    spec.parse_options = parse_akenza_options;
    spec.keys = kAkenzaKeys;
    spec.verbs.push_back(VendorVerb{
        .name = "akenza-downlink",
        .help = "publish a downlink to an akenza device: /down/<secret>/id/<device>/<topic>",
        .uses_config = true,
        .reads_secrets = true,
        .arguments = kDownlinkArguments,
        .run = publish_downlink,
    });
    spec.make_decoder = [](const ConnectorConfig& c) -> std::unique_ptr<Decoder> {
        return make_akenza_decoder(c);
    };
    return spec;
}

void register_akenza(ConnectorRegistry& registry) {
    registry.add(make_mqtt_type(akenza_type_spec()));
}

}  // namespace mb
