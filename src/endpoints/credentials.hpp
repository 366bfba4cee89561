// Where a client's token comes from in an upgrade request: the query parameter, an
// `Authorization: Bearer` header, or a cookie — in that order.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace huddle::endpoints {

struct CredentialSources {
    std::string_view target;         // request target, e.g. "/ws?token=..."
    std::string_view authorization;  // Authorization header value
    std::string_view cookie;         // Cookie header value
};

// Empty when none of the sources holds a token.
std::string find_token(const CredentialSources& sources, std::string_view query_parameter,
                       std::string_view cookie_name);

// The path part of a request target ("/ws" for "/ws?token=x").
std::string_view target_path(std::string_view target);

// The percent-decoded value of query parameter `name`, if present.
bool find_query_parameter(std::string_view target, std::string_view name, std::string& value);

// A percent-decoded path segment (RFC 3986: '+' stays '+'); nullopt for a malformed escape.
std::optional<std::string> decode_path_segment(std::string_view text);

}  // namespace huddle::endpoints
