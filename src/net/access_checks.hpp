// Access rules that need more than the token in hand: a subscription token for the room, or the
// app's backend answering a webhook. One per event loop (no locks); webhook answers are cached.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include <boost/json/object.hpp>

#include "core/namespace_rules.hpp"
#include "endpoints/rooms_context.hpp"

namespace huddle::net {

class EventLoop;

class AccessChecks {
  public:
    using Decision = endpoints::RoomsContext::Decision;

    explicit AccessChecks(EventLoop& loop) : loop_(loop) {}

    // Decides one room whose rule is subscription_token or webhook. `done` runs on the loop,
    // possibly before check() returns.
    void check(const core::NamespaceSettings& rules, const std::string& room,
               const std::string& user, const boost::json::object& claims, const std::string& token,
               std::function<void(Decision)> done);

  private:
    Decision check_subscription_token(const std::string& room, const std::string& user,
                                      const std::string& token) const;
    void ask_webhook(const core::NamespaceSettings& rules, const std::string& room,
                     const std::string& user, const boost::json::object& claims,
                     std::function<void(Decision)> done);
    void forget_expired(std::int64_t now_ms);

    struct CachedAnswer {
        Decision decision;
        std::int64_t expires_ms = 0;
    };
    EventLoop& loop_;
    std::unordered_map<std::string, CachedAnswer> cache_;
    std::size_t in_flight_ = 0;
    std::int64_t last_prune_ms_ = 0;
};

}  // namespace huddle::net
