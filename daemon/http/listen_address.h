// The `[http] listen` value: "HOST:PORT" with HOST an IPv4 literal, or
// "[IPv6]:PORT". No name lookup: what is bound is what is written.
// Pure; called by the configuration loader (to name the key on an error) and
// by the HTTP server.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mb::http {

struct ListenAddress {
    std::string host;  // the address literal, without brackets
    std::uint16_t port = 0;
    bool loopback = false;  // 127.0.0.0/8 or ::1
};

// nullopt and `error` set when `text` is not such an address.
std::optional<ListenAddress> parse_listen(std::string_view text, std::string& error);

}  // namespace mb::http
