#include "daemon/http/listen_address.h"

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it under C++20

#include <boost/asio/ip/address.hpp>

#include <charconv>

namespace mb::http {

std::optional<ListenAddress> parse_listen(std::string_view text, std::string& error) {
    std::string_view host, port;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            error = "expected \"[IPv6 address]:port\", e.g. \"[::1]:9477\"";
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos || text.find(':') != colon) {
            error = "expected \"address:port\", e.g. \"127.0.0.1:9477\" (IPv6 in brackets)";
            return std::nullopt;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    ListenAddress out;
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535) {
        error = "the port must be a number from 0 to 65535";
        return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(value);
    boost::system::error_code bad;
    const auto address = boost::asio::ip::make_address(std::string(host), bad);
    if (bad || (text.starts_with('[') != address.is_v6())) {
        error = "the address must be an IP address literal (no host names)";
        return std::nullopt;
    }
    out.host = address.to_string();
    out.loopback = address.is_loopback();
    return out;
}

}  // namespace mb::http
