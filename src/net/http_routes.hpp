// The HTTP side of the port: operations endpoints (/health, /ready, /stats, /metrics) and the
// backend API under /api (docs/protocol.md).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "net/http_session.hpp"

namespace huddle::net {

void route_http_request(const std::shared_ptr<HttpSession>& session, const HttpRequest& request);

// {"error":{"code":...,"message":...}}
std::string error_body(std::string_view code, std::string_view message);

}  // namespace huddle::net
