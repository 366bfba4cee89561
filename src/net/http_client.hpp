// A small HTTP/1.1 client for calls to the app's backend (webhooks): one POST per connection,
// bounded by a timeout, completing on the io_context it was started on.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace huddle::net {

struct HttpResult {
    unsigned status = 0;  // 0 when no HTTP answer arrived
    std::string body;
    std::string error;  // why there is no answer: "timed out", "connection refused", ...
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// POSTs `body` (JSON) to an http:// URL. `done` runs exactly once, on `io`.
void post_json(boost::asio::io_context& io, const std::string& url, std::string body,
               HttpHeaders headers, std::chrono::milliseconds timeout,
               std::function<void(HttpResult)> done);

// "sha256=<hex HMAC-SHA256 of body>": the X-Huddle-Signature header value.
std::string webhook_signature(std::string_view secret, std::string_view body);

}  // namespace huddle::net
