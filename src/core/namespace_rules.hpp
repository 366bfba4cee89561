// Per-namespace rules: a room "team:42" belongs to namespace "team"; rooms of namespaces that are
// not configured follow the "*" entry.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace huddle::core {

// Who may subscribe to (and, if allowed, publish in) the rooms of a namespace.
enum class AccessRule {
    authenticated,       // any connection with a valid token (or anonymous, if allowed)
    own_user,            // only `<namespace>:<sub>` of the connection's own user
    claim,               // rooms matching `room_pattern` expanded with the token's claims, or the
                         // patterns of its `rooms` claim
    subscription_token,  // a second JWT for the room, issued by the app's backend
    webhook,             // the app's backend answers an HTTP POST (cached)
};

struct NamespaceSettings {
    std::string name;  // "team" for rooms "team:42"; "*" = rooms of unlisted namespaces
    AccessRule access = AccessRule::authenticated;
    bool client_publish = false;   // may clients publish to these rooms (the backend always may)
    bool presence_events = false;  // send join/leave events to the room's members
    // Client publishes per connection into this namespace per minute; 0 = only the connection-wide
    // message limit applies.
    std::uint32_t publish_per_minute = 0;
    // For AccessRule::claim: e.g. "firm:{firmId}" or "firm:{firmId}/*".
    std::string room_pattern;
    // Events kept per room for recovery after a reconnect; 0 = no history (events are not
    // stored and carry no offsets).
    std::uint32_t history = 0;
    // Events older than this are dropped from the history; 0 = no age limit.
    std::int64_t history_max_age_ms = 0;
    // For AccessRule::webhook: where to POST {"userId","claims","room","action"}.
    std::string webhook_url;
    // Claims copied into a member's presence entry, e.g. {"name", "avatar"}.
    std::vector<std::string> presence_claims;
};

// Outcome of an access check; `code` is a protocol error code when refused.
struct AccessDecision {
    bool allowed = true;
    std::string_view code;
    std::string_view message;
    // The rule needs an answer from elsewhere (subscription token, webhook): ask, then decide.
    bool deferred = false;
};

// An empty claim set, for callers (and tests) without a token.
const boost::json::object& no_claims();

class NamespaceTable {
  public:
    explicit NamespaceTable(std::vector<NamespaceSettings> namespaces);

    // The rules for a room; rooms of unknown namespaces get "*" (without one: open to any
    // authenticated user, read-only).
    const NamespaceSettings& rules_for(std::string_view room) const;

    AccessDecision may_subscribe(std::string_view room, std::string_view user_id,
                                 const boost::json::object& claims = no_claims()) const;
    AccessDecision may_publish(std::string_view room, std::string_view user_id,
                               const boost::json::object& claims = no_claims()) const;

  private:
    std::vector<NamespaceSettings> namespaces_;
    NamespaceSettings fallback_;
};

}  // namespace huddle::core
