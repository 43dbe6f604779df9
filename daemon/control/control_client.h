// The CLI's side of the control socket: sends one request to the running
// daemon and waits for its answer.
//
// Who calls: CLI verbs (`command`, `status`, `jobs --run`) in a short-lived
// process.
// Errors: throws ControlUnavailable (the CLI exits 69) when the daemon cannot
// be reached or will not serve us: nobody listens on the socket (not running,
// or running with another config), the socket's mode or the daemon refuses
// us, the socket is full (the connection is not accepted, or the daemon
// answers "busy"), the daemon closes the connection or gives no answer within
// `timeout`; ControlPermissionDenied, a ControlUnavailable, when the socket's
// mode or the daemon refuses us. std::runtime_error for anything else (a garbled answer). Each
// message says what happened, fit for an operator.
#pragma once

#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "daemon/control/control_protocol.h"

namespace mb {

struct ControlUnavailable : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// The socket's mode (EACCES) or the daemon's peer check turned us away: not a
// daemon that is down, a user who may not use it (the CLI exits 77).
struct ControlPermissionDenied : ControlUnavailable {
    using ControlUnavailable::ControlUnavailable;
};

control::Response control_call(const std::filesystem::path& socket, const control::Request& request,
                               std::chrono::milliseconds timeout);

}  // namespace mb
