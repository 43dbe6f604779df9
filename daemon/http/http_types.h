// A request to the daemon's HTTP listener and the response a route gives,
// as the route handlers see them (daemon/http/http_server.h serves them).
// Plain data: handlers are called on the listener's io_context thread and
// must not block it for long.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace mb::http {

struct Request {
    std::string method;  // GET or HEAD (others are refused before a handler runs)
    std::string target;  // path?query as received
};

struct Response {
    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // besides type and caching
};

using Handler = std::function<Response(const Request&)>;

}  // namespace mb::http
