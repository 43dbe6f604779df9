#include "connectors/tuya/tuya_type.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <chrono>
#include <set>
#include <stdexcept>

#include "connectors/registry.h"
#include "normalize/config/table_reader.h"
#include "storage/clock.h"
#include "storage/query.h"

namespace mb {

namespace {

using std::chrono::milliseconds;

std::shared_ptr<const ConnectorOptions> parse_tuya(TableReader& r, ConnectorConfig& c) {
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

    if (auto s = r.integer("volume_scale", 0, 9)) o->volume_scale = static_cast<int>(*s);
    if (auto tz = r.string("time_zone")) {
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
    bounded("stale_after", milliseconds(1000), milliseconds(7LL * 86400 * 1000), o->stale_after);
    bounded("command_timeout", milliseconds(1000), milliseconds(600 * 1000), o->command_timeout);
    bounded("pair_window", milliseconds(1000), milliseconds(86400 * 1000), o->pair_window);
    if (auto n = r.integer("max_devices", 1, 100000)) o->max_devices = static_cast<std::size_t>(*n);
    return o;
}

std::vector<TuyaKnownDevice> known_devices(const std::filesystem::path& database, const std::string& source) {
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
