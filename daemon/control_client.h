// The CLI's side of the control socket: sends one request to the running
// daemon and waits for its answer.
//
// Who calls: CLI verbs (`command`, `status`) in a short-lived process.
// Errors: throws ControlUnavailable when nobody listens on the socket (the
// daemon is not running, or runs with another config), std::runtime_error for
// anything else (permissions, a timeout, a garbled answer), with a message
// fit for an operator.
#pragma once

#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "daemon/control_protocol.h"

namespace mb {

struct ControlUnavailable : std::runtime_error {
    using std::runtime_error::runtime_error;
};

control::Response control_call(const std::filesystem::path& socket, const control::Request& request,
                               std::chrono::milliseconds timeout);

}  // namespace mb
