#include "net/access_checks.hpp"

#include <boost/json.hpp>

#include "core/room_pattern.hpp"
#include "endpoints/json_text.hpp"
#include "net/clock.hpp"
#include "net/event_loop.hpp"
#include "net/http_client.hpp"
#include "net/server.hpp"
#include "observability/log.hpp"

namespace huddle::net {
namespace json = boost::json;
using observability::log;
using observability::LogLevel;

namespace {

constexpr std::size_t kMaxCachedAnswers = 100'000;

// Error codes the app's backend may pass through to its clients, e.g. PROJECT_ACCESS_DENIED.
bool is_error_code(std::string_view code) {
    if (code.empty() || code.size() > 64)
        return false;
    for (char c : code) {
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

AccessChecks::Decision refusal_from_backend(const HttpResult& result) {
    AccessChecks::Decision decision{false, "FORBIDDEN", "the app refused access to this room"};
    boost::system::error_code error;
    const json::value body = json::parse(result.body, error);
    if (error || !body.is_object())
        return decision;
    const json::object& object = body.get_object();
    // Either {"code","message"} or {"error":{"code","message"}}.
    const json::object* fields = &object;
    if (const json::value* nested = object.if_contains("error"); nested && nested->is_object())
        fields = &nested->get_object();
    if (const json::value* code = fields->if_contains("code");
        code && code->is_string() && is_error_code(code->get_string())) {
        decision.code = code->get_string();
    }
    if (const json::value* message = fields->if_contains("message");
        message && message->is_string()) {
        decision.message = std::string(message->get_string()).substr(0, 200);
    }
    return decision;
}

}  // namespace

void AccessChecks::check(const core::NamespaceSettings& rules, const std::string& room,
                         const std::string& user, const boost::json::object& claims,
                         const std::string& token, std::function<void(Decision)> done) {
    if (rules.access == core::AccessRule::subscription_token) {
        done(check_subscription_token(room, user, token));
        return;
    }
    ask_webhook(rules, room, user, claims, std::move(done));
}

AccessChecks::Decision AccessChecks::check_subscription_token(const std::string& room,
                                                              const std::string& user,
                                                              const std::string& token) const {
    if (token.empty()) {
        return {false, "SUBSCRIPTION_TOKEN_REQUIRED",
                "this room needs a subscription token: {\"tokens\":{\"<room>\":\"<jwt>\"}}"};
    }
    auth::VerifyResult verified = loop_.server().verifier().verify(token, wall_ms() / 1000);
    if (!verified.identity) {
        return {false, "INVALID_SUBSCRIPTION_TOKEN", verified.error};
    }
    if (verified.identity->subject != user) {
        return {false, "INVALID_SUBSCRIPTION_TOKEN", "the subscription token is for another user"};
    }
    const json::object& claims = verified.identity->claims;
    if (const json::value* named = claims.if_contains("room");
        named && named->is_string() && named->get_string() == room) {
        return {true, {}, {}};
    }
    if (core::claim_rule_allows({}, room, claims))
        return {true, {}, {}};
    return {false, "INVALID_SUBSCRIPTION_TOKEN", "the subscription token is for another room"};
}

void AccessChecks::ask_webhook(const core::NamespaceSettings& rules, const std::string& room,
                               const std::string& user, const boost::json::object& claims,
                               std::function<void(Decision)> done) {
    const config::WebhookSettings& settings = loop_.server().settings().webhooks;
    const std::int64_t now = steady_ms();
    std::string key = rules.webhook_url;
    key += '\n';
    key += user;
    key += '\n';
    key += room;
    if (const auto it = cache_.find(key); it != cache_.end() && it->second.expires_ms > now) {
        done(it->second.decision);
        return;
    }
    if (in_flight_ >= settings.max_in_flight) {
        done({false, "ACCESS_CHECK_FAILED", "too many access checks in progress; try again"});
        return;
    }
    std::string body = "{\"action\":\"subscribe\",\"userId\":";
    endpoints::append_json_string(body, user);
    body += ",\"room\":";
    endpoints::append_json_string(body, room);
    body += ",\"claims\":";
    body += json::serialize(claims);
    body += '}';
    HttpHeaders headers;
    if (!settings.secret.empty())
        headers.emplace_back("X-Huddle-Signature", webhook_signature(settings.secret, body));
    ++in_flight_;
    post_json(loop_.io(), rules.webhook_url, std::move(body), std::move(headers), settings.timeout,
              [this, key = std::move(key), room, user,
               done = std::move(done)](HttpResult result) mutable {
                  --in_flight_;
                  const config::WebhookSettings& current = loop_.server().settings().webhooks;
                  if (result.status == 0 || result.status >= 500) {
                      // No answer is no decision: refuse now, ask again next time.
                      const std::string why = result.status == 0
                                                  ? result.error
                                                  : "HTTP " + std::to_string(result.status);
                      log(LogLevel::warn, "webhook.access_failed",
                          {{"user", user}, {"room", room}, {"reason", why}});
                      done({false, "ACCESS_CHECK_FAILED",
                            "the app's backend could not be asked: " + why});
                      return;
                  }
                  Decision decision = result.status >= 200 && result.status < 300
                                          ? Decision{true, {}, {}}
                                          : refusal_from_backend(result);
                  const std::int64_t at = steady_ms();
                  forget_expired(at);
                  if (current.cache_ttl.count() > 0 && cache_.size() < kMaxCachedAnswers) {
                      cache_[key] = {decision, at + current.cache_ttl.count()};
                  }
                  done(std::move(decision));
              });
}

void AccessChecks::forget_expired(std::int64_t now_ms) {
    if (now_ms - last_prune_ms_ < 10'000)
        return;
    last_prune_ms_ = now_ms;
    std::erase_if(cache_,
                  [now_ms](const auto& entry) { return entry.second.expires_ms <= now_ms; });
}

}  // namespace huddle::net
