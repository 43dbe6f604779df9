#include "connectors/tuya/tuya_type.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <chrono>
#include <iterator>
#include <set>
#include <stdexcept>

#include "connectors/registry.h"
#include "normalize/config/table_reader.h"
#include "storage/clock.h"
#include "storage/query.h"

namespace mb {

namespace {

using std::chrono::milliseconds;

constexpr KeySpec kTuyaKeys[] = {
    {.name = "gateways",
     .type = KeyType::strings,
     .required = true,
     .description = "the gateway ids this platform serves; the subscriptions are derived from "
                    "them (`topics` is refused)"},
    {.name = "volume_scale",
     .type = KeyType::integer,
     .default_value = "0",
     .min = 0,
     .max = 9,
     .description = "volumes are raw / 10^scale m3"},
    {.name = "time_zone",
     .default_value = "UTC",
     .description = "IANA zone of the day/month boundaries of the daily/monthly totals"},
    {.name = "command_timeout",
     .type = KeyType::duration,
     .default_value = "10s",
     .range = "1s..10m",
     .description = "a command without answer within this: 2001 device is offline"},
    {.name = "pair_window",
     .type = KeyType::duration,
     .default_value = "10m",
     .range = "1s..1d",
     .description = "a first/last reading and its time pair within this (report t)"},
    {.name = "max_devices",
     .type = KeyType::integer,
     .default_value = "1000",
     .min = 1,
     .max = 100000,
     .description = "synced devices per gateway"},
};

constexpr VerbArgument kPasswordArguments[] = {
    {.name = "client-id", .help = "the gateway's MQTT client id"},
    {.name = "username", .help = "the gateway's MQTT username"},
};

std::shared_ptr<const ConnectorOptions> parse_tuya(TableReader& r, ConnectorConfig& c) {
    r.declare(kTuyaKeys);
    auto o = std::make_shared<TuyaOptions>();
    if (r.has("topics")) {
        r.accept("topics");
        r.error("topics",
                "type 'tuya' derives its subscriptions from `gateways` "
                "(gateway_id/<gw>/devices/sync, …/properties/report, …/devices/status, "
                "…/commands/response): remove `topics`");
    }
    if (auto gws =
            r.string_list("gateways", [](std::string_view g) { return tuya_gateway_problem(g); })) {
        std::set<std::string> seen;
        for (const auto& g : *gws)
            if (!seen.insert(g).second)
                r.error("gateways", fmt::format("gateway '{}' is listed twice", g));
        if (gws->empty()) r.error("gateways", "must list at least one gateway id");
        o->gateways = std::move(*gws);
    } else if (!r.has("gateways")) {
        r.error("gateways", "missing required key: the gateway ids this platform serves");
    }
    // The loader reports missing topics unless the type derives them.
    c.topics.clear();
    for (const auto& g : o->gateways)
        for (auto kind : {TuyaUplink::devices_sync, TuyaUplink::properties_report,
                          TuyaUplink::devices_status, TuyaUplink::commands_response})
            c.topics.push_back(tuya_topic(g, kind));
    if (o->gateways.empty()) c.topics.push_back("gateway_id/-/none");  // errors already reported

    if (auto s = r.integer("volume_scale")) o->volume_scale = static_cast<int>(*s);
    if (auto tz = r.text("time_zone")) {
        try {
            if (*tz != "UTC") date::locate_zone(*tz);
            o->time_zone = *tz;
        } catch (const std::exception&) {
            r.error("time_zone", fmt::format("unknown time zone '{}' (an IANA name such as "
                                             "\"Europe/Paris\", or \"UTC\")",
                                             *tz));
        }
    }
    auto bounded = [&](std::string_view key, milliseconds lo, milliseconds hi, milliseconds& out) {
        auto d = r.duration(key);
        if (!d) return;
        if (*d < lo || *d > hi) {
            r.error(key, fmt::format("must be between {} s and {} s (got {} ms)", lo.count() / 1000,
                                     hi.count() / 1000, d->count()));
            return;
        }
        out = *d;
    };
    // `stale_after` is a key of every connector (registry.cpp); here it keeps
    // its Tuya default, 3 minutes, and a duration also says when a device is
    // stale (a multiple is about meters only: devices then keep the default).
    if (!c.stale_after_set) {
        c.stale_after = StaleRule{tuya_default_stale_ms, 3.0};
    } else if (c.stale_after.after_ms) {
        const milliseconds d(*c.stale_after.after_ms);
        if (d < milliseconds(1000) || d > milliseconds(7LL * 86400 * 1000))
            r.error("stale_after",
                    fmt::format("a Tuya platform's must be between 1 s and 604800 s (got {} ms)",
                                d.count()));
        else
            o->stale_after = d;
    }
    bounded("command_timeout", milliseconds(1000), milliseconds(600 * 1000), o->command_timeout);
    bounded("pair_window", milliseconds(1000), milliseconds(86400 * 1000), o->pair_window);
    if (auto n = r.integer("max_devices")) o->max_devices = static_cast<std::size_t>(*n);
    return o;
}

std::vector<TuyaKnownDevice> known_devices(const std::filesystem::path& database,
                                           const std::string& source) {
    std::vector<TuyaKnownDevice> out;
    auto db = open_read_only(database);
    for (const DeviceRow& d : load_devices(db, source)) {
        TuyaKnownDevice k;
        k.gateway = d.gateway;
        k.device = d.device;
        k.synced = d.synced_at.has_value();
        k.online = d.online;
        k.last_seen = d.last_seen.value_or(0);
        k.protocol_state = d.protocol_state.value_or("");
        k.first_seen = d.first_seen.value_or(0);
        out.push_back(std::move(k));
    }
    return out;
}

}  // namespace

MqttTypeSpec tuya_type_spec() {
    MqttTypeSpec spec;
    spec.type = "tuya";
    spec.description =
        "Tuya IoT Edge Gateway water meters: platform side (sync, reports, status, commands)";
    spec.parse_options = parse_tuya;
    spec.keys = kTuyaKeys;
    spec.verbs.push_back(VendorVerb{
        .name = "tuya-password",
        .help = "print a Tuya gateway's MQTT password: md5(clientId + username), hex",
        .arguments = kPasswordArguments,
        .run =
            [](const VerbInput& in) {
                return tuya_gateway_password(in.text.at("client-id"), in.text.at("username"));
            },
    });
    spec.make_protocol = [](const ConnectorContext& ctx,
                            const ConnectorConfig& cfg) -> std::unique_ptr<MqttProtocol> {
        const auto* o = dynamic_cast<const TuyaOptions*>(cfg.options.get());
        if (!o) throw std::runtime_error(fmt::format("connector {}: no tuya options", cfg.name));
        return std::make_unique<TuyaPlatform>(cfg.name, *o, known_devices(ctx.database, cfg.name),
                                              now_ms());
    };
    return spec;
}

void register_tuya(ConnectorRegistry& registry) {
    registry.add(make_mqtt_type(tuya_type_spec()));
}

}  // namespace mb
