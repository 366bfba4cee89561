#include "app/token_command.hpp"

#include <charconv>
#include <chrono>
#include <iostream>
#include <optional>

#include <boost/json.hpp>

#include "auth/jwt_verifier.hpp"

namespace huddle::app {
namespace json = boost::json;
namespace {

// "90", "90s", "15m", "1h", "7d" → seconds.
std::optional<std::int64_t> parse_ttl(std::string_view text) {
    if (text.empty())
        return std::nullopt;
    std::int64_t factor = 1;
    switch (text.back()) {
        case 's':
            factor = 1;
            text.remove_suffix(1);
            break;
        case 'm':
            factor = 60;
            text.remove_suffix(1);
            break;
        case 'h':
            factor = 3600;
            text.remove_suffix(1);
            break;
        case 'd':
            factor = 86400;
            text.remove_suffix(1);
            break;
        default:
            break;
    }
    std::int64_t value = 0;
    const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
    if (result.ec != std::errc() || result.ptr != text.data() + text.size() || value <= 0) {
        return std::nullopt;
    }
    return value * factor;
}

std::string hmac_algorithm(const config::Settings& settings) {
    for (const std::string& algorithm : settings.auth.algorithms) {
        if (algorithm.rfind("HS", 0) == 0)
            return algorithm;
    }
    return {};
}

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

int run_token_command(const config::Settings& settings, const TokenRequest& request) {
    const std::string algorithm = hmac_algorithm(settings);
    if (algorithm.empty() || settings.auth.secret.empty()) {
        std::cerr << "huddle token: needs an HS256/384/512 algorithm and auth.secret configured\n";
        return 2;
    }
    const auto ttl = parse_ttl(request.ttl);
    if (!ttl) {
        std::cerr << "huddle token: --ttl must look like 3600, 90s, 15m, 1h or 7d\n";
        return 2;
    }
    json::object claims;
    for (const std::string& claim : request.claims) {
        const auto eq = claim.find('=');
        if (eq == std::string::npos || eq == 0) {
            std::cerr << "huddle token: --claim must be key=value, got '" << claim << "'\n";
            return 2;
        }
        const std::string key = claim.substr(0, eq);
        const std::string value = claim.substr(eq + 1);
        // Numbers, booleans, arrays and objects keep their JSON type; anything else is a string.
        boost::system::error_code error;
        json::value parsed = json::parse(value, error);
        if (!error && !parsed.is_string() && !parsed.is_null()) {
            claims[key] = std::move(parsed);
        } else {
            claims[key] = value;
        }
    }
    if (!settings.auth.issuer.empty() && !claims.contains("iss"))
        claims["iss"] = settings.auth.issuer;
    if (!settings.auth.audience.empty() && !claims.contains("aud"))
        claims["aud"] = settings.auth.audience;
    std::cout << auth::mint_hs_token(algorithm, settings.auth.secret, request.subject, claims,
                                     std::chrono::seconds(*ttl), now_seconds())
              << "\n";
    return 0;
}

std::string development_token(const config::Settings& settings) {
    if (settings.auth.secret != config::AuthSettings{}.secret)
        return {};
    const std::string algorithm = hmac_algorithm(settings);
    if (algorithm.empty())
        return {};
    json::object claims;
    if (!settings.auth.issuer.empty())
        claims["iss"] = settings.auth.issuer;
    if (!settings.auth.audience.empty())
        claims["aud"] = settings.auth.audience;
    return auth::mint_hs_token(algorithm, settings.auth.secret, "dev", claims,
                               std::chrono::hours(24), now_seconds());
}

}  // namespace huddle::app
