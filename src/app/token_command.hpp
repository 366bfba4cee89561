// `huddle token`: mints a development token with the configured HMAC secret.
#pragma once

#include <string>
#include <vector>

#include "config/settings.hpp"

namespace huddle::app {

struct TokenRequest {
    std::string subject;
    std::vector<std::string> claims;  // "key=value"; numbers, true/false and JSON stay typed
    std::string ttl = "1h";
};

// Prints the token on stdout; returns the exit code (errors on stderr).
int run_token_command(const config::Settings& settings, const TokenRequest& request);

// A token for the startup banner when the development secret is in use; empty otherwise.
std::string development_token(const config::Settings& settings);

}  // namespace huddle::app
