#include "connectors/registry.h"

#include <algorithm>
#include <stdexcept>
#include <utility>


namespace mb {

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
