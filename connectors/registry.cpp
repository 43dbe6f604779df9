#include "connectors/registry.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace mb {

namespace {

constexpr KeySpec kConnectorKeys[] = {
    {.name = "name",
     .required = true,
     .range = "[A-Za-z0-9_.-]+, unique",
     .description = "the connector's name; becomes `source` in readings"},
    {.name = "type", .required = true, .description = "the connector type (`meterbridge types`)"},
    {.name = "max_payload",
     .type = KeyType::size,
     .default_value = "256KiB",
     .min = 1,
     .max = 16 * 1024 * 1024,
     .description = "largest accepted payload"},
    {.name = "stale_after",
     .default_value = "3x",
     .range = "a duration (\"15m\", \"PT15M\") or a multiple (\"3x\")",
     .description = "a meter with nothing received for this long, or for this multiple of its "
                    "learned arrival interval, is stale (`meterbridge meters --stale`)"},
};

constexpr KeySpec kJobKeys[] = {
    {.name = "name",
     .required = true,
     .range = "[A-Za-z0-9_.-]+, unique",
     .description = "the job's name"},
    {.name = "connector",
     .required = true,
     .description = "the [[connectors]] name the job runs on"},
    {.name = "command", .required = true, .description = "what the job asks for"},
};

}  // namespace

std::span<const KeySpec> connector_keys() {
    return kConnectorKeys;
}

std::span<const KeySpec> job_keys() {
    return kJobKeys;
}

bool is_valid_name(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string_view to_string(Transport t) {
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

std::string_view to_string(ConnectorState s) {
    switch (s) {
        case ConnectorState::starting:
            return "starting";
        case ConnectorState::running:
            return "running";
        case ConnectorState::reconnecting:
            return "reconnecting";
        case ConnectorState::stopped:
            return "stopped";
        case ConnectorState::failed:
            return "failed";
    }
    return "unknown";
}

std::string_view to_string(DeviceCommandResult::Status s) {
    using S = DeviceCommandResult::Status;
    switch (s) {
        case S::success:
            return "success";
        case S::failed:
            return "failed";
        case S::timeout:
            return "timeout";
        case S::invalid:
            return "invalid";
        case S::unavailable:
            return "unavailable";
    }
    return "unknown";
}

void Connector::send_command(DeviceCommand, CommandDone done) {
    DeviceCommandResult r;
    r.status = DeviceCommandResult::Status::unavailable;
    r.detail = "connector " + name() + " does not take device commands";
    done(std::move(r));
}

void ConnectorRegistry::add(ConnectorType type) {
    // Rows are written by developers, not operators: a bad row is a bug.
    if (type.type.empty()) throw std::logic_error("connector type without a name");
    if (find(type.type) != nullptr)
        throw std::logic_error("connector type '" + type.type + "' registered twice");
    types_.push_back(std::move(type));
}

const ConnectorType* ConnectorRegistry::find(std::string_view type) const {
    for (const auto& t : types_)
        if (t.type == type) return &t;
    return nullptr;
}

std::vector<std::string> ConnectorRegistry::type_names() const {
    std::vector<std::string> names;
    names.reserve(types_.size());
    for (const auto& t : types_) names.push_back(t.type);
    std::sort(names.begin(), names.end());
    return names;
}


}  // namespace mb
