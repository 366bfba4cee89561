#include "core/namespace_rules.hpp"

#include "core/room_name.hpp"
#include "core/room_pattern.hpp"

namespace huddle::core {

const boost::json::object& no_claims() {
    static const boost::json::object empty;
    return empty;
}

NamespaceTable::NamespaceTable(std::vector<NamespaceSettings> namespaces)
    : namespaces_(std::move(namespaces)) {
    // Without a "*" entry, unlisted namespaces are open to authenticated users but read-only,
    // which is the safest useful default.
    fallback_.name = "*";
    for (const auto& entry : namespaces_) {
        if (entry.name == "*")
            fallback_ = entry;
    }
}

const NamespaceSettings& NamespaceTable::rules_for(std::string_view room) const {
    const std::string_view name = namespace_of(room);
    for (const auto& entry : namespaces_) {
        if (entry.name == name)
            return entry;
    }
    return fallback_;
}

AccessDecision NamespaceTable::may_subscribe(std::string_view room, std::string_view user_id,
                                             const boost::json::object& claims) const {
    const NamespaceSettings& rules = rules_for(room);
    switch (rules.access) {
        case AccessRule::authenticated:
            return {};
        case AccessRule::own_user:
            if (!user_id.empty() && room_id_of(room) == user_id)
                return {};
            return {false, "FORBIDDEN", "this room belongs to another user"};
        case AccessRule::claim:
            if (claim_rule_allows(rules.room_pattern, room, claims))
                return {};
            return {false, "FORBIDDEN", "the token's claims do not give access to this room"};
        case AccessRule::subscription_token:
        case AccessRule::webhook:
            return {.allowed = false, .deferred = true};
    }
    return {false, "FORBIDDEN", "access rule refused"};
}

AccessDecision NamespaceTable::may_publish(std::string_view room, std::string_view user_id,
                                           const boost::json::object& claims) const {
    if (!rules_for(room).client_publish) {
        return {false, "PUBLISH_NOT_ALLOWED", "clients may not publish to rooms of this namespace"};
    }
    return may_subscribe(room, user_id, claims);
}

}  // namespace huddle::core
