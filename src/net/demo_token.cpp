#include "net/demo_token.hpp"

#include <algorithm>
#include <chrono>

#include <boost/json.hpp>

#include "auth/jwt_verifier.hpp"
#include "core/room_name.hpp"
#include "endpoints/credentials.hpp"
#include "endpoints/json_text.hpp"
#include "net/event_loop.hpp"
#include "net/http_routes.hpp"
#include "net/server.hpp"

namespace huddle::net {

namespace {

// Long enough for a demo session; the pages fetch a fresh one on every load.
constexpr std::chrono::hours kTtl{12};

}  // namespace

void demo_token(const std::shared_ptr<HttpSession>& session, const HttpRequest& request) {
    const config::Settings& settings = session->loop().server().settings();
    const auto& algorithms = settings.auth.algorithms;
    const auto hmac = std::find_if(algorithms.begin(), algorithms.end(),
                                   [](const std::string& a) { return a.starts_with("HS"); });
    // validate() refuses demo_tokens with another secret; checked again so that no later change
    // of that rule can hand out tokens signed with a real secret.
    if (!settings.server.demo_tokens || hmac == algorithms.end() ||
        settings.auth.secret != config::AuthSettings{}.secret) {
        session->respond(404, error_body("NOT_FOUND", "no such path"));
        return;
    }
    if (request.method() != boost::beast::http::verb::get) {
        session->respond(405, error_body("METHOD_NOT_ALLOWED", "method not allowed on this path"));
        return;
    }
    std::string user;
    endpoints::find_query_parameter(request.target(), "user", user);
    if (user.empty() || user.size() > 64 || !core::user_id_problem(user).empty()) {
        session->respond(
            400, error_body("INVALID_REQUEST", "give ?user=NAME (1 to 64 printable characters)"));
        return;
    }
    boost::json::object claims;
    claims["name"] = user;
    if (!settings.auth.issuer.empty())
        claims["iss"] = settings.auth.issuer;
    if (!settings.auth.audience.empty())
        claims["aud"] = settings.auth.audience;
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const std::string token =
        auth::mint_hs_token(*hmac, settings.auth.secret, user, claims, kTtl, now);
    std::string out = "{\"token\":";
    endpoints::append_json_string(out, token);
    out += ",\"userId\":";
    endpoints::append_json_string(out, user);
    out += ",\"expiresIn\":";
    endpoints::append_json_int(out, std::chrono::duration_cast<std::chrono::seconds>(kTtl).count());
    out += '}';
    session->respond(200, std::move(out));
}

}  // namespace huddle::net
