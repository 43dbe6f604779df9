// `meterbridge devices`: the device registry (Tuya): synced, online, stale.
#include <memory>

#include "daemon/cli/verb.h"
#include "storage/clock.h"
#include "storage/query.h"

namespace mb {

namespace {

struct DevicesArgs {
    std::optional<std::string> source;
    std::string format = "table";
};

int devices(const std::string& file, const DevicesArgs& a) {
    return print_rows(
        file, a.format,
        {"source", "gateway", "device", "product_id", "online", "last_seen", "stale", "synced",
         "name", "ip", "mac", "location"},
        [&](sql::Db& db, TableWriter& out) {
            const TimeMs now = now_ms();
            for (const DeviceRow& d : load_devices(db, a.source)) {
                const Cell online =
                    d.online ? text(*d.online ? "true" : "false") : Cell{"", false, true};
                out.row({text(d.source), text(d.gateway), text(d.device), opt_text(d.product_id),
                         online, time_cell(d.last_seen), text(d.stale_at(now) ? "true" : "false"),
                         text(d.synced_at ? "true" : "false"), opt_text(d.name), opt_text(d.ip),
                         opt_text(d.mac), opt_text(d.location)});
            }
        });
}

}  // namespace

Verb add_devices_verb(CLI::App& cli, std::string& config) {
    auto a = std::make_shared<DevicesArgs>();
    auto* sub = cli.add_subcommand("devices", "the device registry (Tuya): synced, online, stale");
    add_config_option(sub, config);
    sub->add_option("--source", a->source, "connector name");
    add_format_option(sub, a->format);
    return {sub, [&config, a] { return devices(config, *a); }};
}

}  // namespace mb
