// GET /demo/token?user=NAME: a token for the demo pages, when server.demo_tokens is on (only
// allowed with the development secret, so it gives nobody more than the public secret already
// does). Off: 404, as if the path did not exist.
#pragma once

#include <memory>

#include "net/http_session.hpp"

namespace huddle::net {

void demo_token(const std::shared_ptr<HttpSession>& session, const HttpRequest& request);

}  // namespace huddle::net
