// Admission control at connect time: handshakes and failed authentications per IP (token
// buckets), live connections per user and per IP. Not thread-safe: the server guards it with one
// mutex taken only when a connection opens or closes, never on the message path.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/token_bucket.hpp"

namespace huddle::core {

struct AdmissionLimits {
    std::uint32_t handshakes_per_ip_per_minute = 10;  // 0 = unlimited
    std::uint32_t failed_auths_per_ip_per_minute = 10;
    std::uint32_t max_connections_per_user = 20;  // 0 = unlimited
    std::uint32_t max_connections_per_ip = 1000;
};

struct AdmissionDecision {
    bool admitted = true;
    std::string_view code;  // RATE_LIMIT_EXCEEDED or CONNECTION_LIMIT
    std::string_view message;
    std::int64_t retry_after_ms = 0;
};

class Admission {
  public:
    explicit Admission(AdmissionLimits limits) : limits_(limits) {}

    // Before authentication: counts the handshake and refuses an IP over its handshake budget or
    // one that has used up its failed-authentication budget.
    AdmissionDecision on_handshake(std::string_view ip, std::int64_t now_ms);

    // A token was refused: spends from the IP's failed-authentication budget.
    void on_failed_auth(std::string_view ip, std::int64_t now_ms);

    // After authentication: reserves a connection slot for the user and the IP.
    AdmissionDecision on_authenticated(std::string_view ip, std::string_view user,
                                       std::int64_t now_ms);

    // The connection admitted by on_authenticated has closed.
    void on_closed(std::string_view ip, std::string_view user);

    // Drops full buckets so that the maps do not grow with every address ever seen.
    void forget_idle(std::int64_t now_ms);

    std::size_t connections_of_user(std::string_view user) const;
    std::size_t unique_users() const { return per_user_.size(); }
    // The users with at least one connection, in no particular order.
    std::vector<std::string> users() const;
    std::size_t tracked_ips() const { return per_ip_.size(); }

  private:
    struct IpState {
        TokenBucket handshakes;
        TokenBucket failed_auths;
        bool failed_auth_exhausted = false;
        std::uint32_t connections = 0;
    };
    IpState& ip_state(std::string_view ip, std::int64_t now_ms);

    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    AdmissionLimits limits_;
    std::unordered_map<std::string, IpState, Hash, std::equal_to<>> per_ip_;
    std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>> per_user_;
};

}  // namespace huddle::core
