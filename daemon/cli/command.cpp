// `meterbridge command`: sends a command to a device through the running
// daemon's control socket and waits for the device's answer.
#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "daemon/cli/verb.h"
#include "daemon/control/control_client.h"
#include "normalize/detail_text.h"
#include "normalize/config/table_reader.h"

namespace mb {

namespace {

struct CommandArgs {
    std::optional<std::string> connector;
    std::string gateway, device, dp, value;
    std::optional<std::string> timeout;
};

int command(const std::string& file, const CommandArgs& a) {
    int failure = kExitConfig;
    auto cfg = load_or_report(file, &failure, Secrets::not_needed);
    if (!cfg) return failure;
    control::CommandRequest req;
    if (a.connector) {
        req.connector = *a.connector;
    } else {
        // One connector takes device commands: no need to name it.
        std::vector<std::string> tuya;
        for (const auto& c : cfg->connectors)
            if (c.type == "tuya") tuya.push_back(c.name);
        if (tuya.size() != 1) {
            fmt::print(stderr, "command: --connector is required ({} tuya connectors in {})\n",
                       tuya.size(), file);
            return kExitUsage;
        }
        req.connector = tuya.front();
    }
    req.command = DeviceCommand{a.gateway, a.device, a.dp, a.value, std::chrono::milliseconds(0)};
    if (a.timeout) {
        auto d = parse_duration(*a.timeout);
        if (!d || d->count() <= 0 || *d > std::chrono::hours(1)) {
            fmt::print(stderr,
                       "--timeout '{}': expected a duration such as 10s or PT30S, up to 1h\n",
                       *a.timeout);
            return kExitUsage;
        }
        req.command.timeout = *d;
    }
    if (!cfg->control.enabled) {
        fmt::print(stderr, "command: the control socket is disabled ([control] socket = \"\")\n");
        return kExitUnavailable;
    }
    // The daemon answers by the command's deadline; allow for its default and the way back.
    const auto wait = (req.command.timeout.count() > 0 ? req.command.timeout
                                                       : std::chrono::milliseconds(600'000)) +
                      std::chrono::seconds(5);
    control::Response r;
    try {
        r = control_call(cfg->control.socket, req, wait);
    } catch (const ControlUnavailable& e) {
        return report_control_failure("command", e);
    }
    const std::string code = r.code ? fmt::format("{} ", *r.code) : "";
    const std::string id =
        r.request_id.empty() ? "" : fmt::format(" (request_id {})", r.request_id);
    // The device's message and request id are its own text: shown escaped.
    if (r.status == "success") {
        fmt::print("{}{}: {} = {} on device {}{}\n", code,
                   r.msg.empty() ? "success" : display_escape(r.msg), a.dp, a.value, a.device,
                   display_escape(id));
        return kExitOk;
    }
    fmt::print(stderr, "{}: {}{}{}{}\n", r.status, code,
               r.msg.empty() ? "" : display_escape(r.msg) + ": ", display_escape(r.detail),
               display_escape(id));
    if (r.status == "invalid") return kExitDataErr;
    if (r.status == "unavailable") return kExitUnavailable;
    if (r.status == "error") return kExitUsage;
    return kExitFailure;
}

}  // namespace

Verb add_command_verb(CLI::App& cli, std::string& config) {
    auto a = std::make_shared<CommandArgs>();
    auto* sub = cli.add_subcommand(
        "command", "send a command to a device through the running daemon and wait for its answer");
    add_config_option(sub, config);
    sub->add_option("--connector", a->connector, "the tuya connector (default: the only one)");
    sub->add_option("--gateway", a->gateway, "gateway id")->required();
    sub->add_option("--device", a->device, "device id (Tuya cid)")->required();
    sub->add_option("--dp", a->dp,
                    "data point: switch_state, valve_state, cold_stall_type, "
                    "hot_stall_type, valve_open_degree (or its id)")
        ->required();
    sub->add_option("--value", a->value, "true/false, an enum value, or an integer")->required();
    sub->add_option("--timeout", a->timeout,
                    "how long to wait for the device (default: the connector's "
                    "command_timeout, 10s)");
    return {sub, [&config, a] { return command(config, *a); }};
}

}  // namespace mb
