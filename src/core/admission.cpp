#include "core/admission.hpp"

namespace huddle::core {

Admission::IpState& Admission::ip_state(std::string_view ip, std::int64_t now_ms) {
    auto it = per_ip_.find(ip);
    if (it == per_ip_.end()) {
        IpState fresh{TokenBucket(limits_.handshakes_per_ip_per_minute, 60'000, now_ms),
                      TokenBucket(limits_.failed_auths_per_ip_per_minute, 60'000, now_ms)};
        it = per_ip_.emplace(std::string(ip), fresh).first;
    }
    return it->second;
}

AdmissionDecision Admission::on_handshake(std::string_view ip, std::int64_t now_ms) {
    IpState& state = ip_state(ip, now_ms);
    if (state.failed_auth_exhausted) {
        // The IP stays refused until its failed-auth bucket has a token again; peeking by taking
        // and not giving back would spend it, so test fullness through a copy.
        TokenBucket probe = state.failed_auths;
        const std::int64_t wait = probe.take(now_ms);
        if (wait > 0) {
            return {false, "RATE_LIMIT_EXCEEDED",
                    "too many failed authentications from this address", wait};
        }
        state.failed_auth_exhausted = false;
    }
    if (const std::int64_t wait = state.handshakes.take(now_ms); wait > 0) {
        return {false, "RATE_LIMIT_EXCEEDED", "too many connection attempts from this address",
                wait};
    }
    return {};
}

void Admission::on_failed_auth(std::string_view ip, std::int64_t now_ms) {
    IpState& state = ip_state(ip, now_ms);
    if (state.failed_auths.take(now_ms) > 0)
        state.failed_auth_exhausted = true;
    // The budget is spent when the last token is gone: the next handshake must wait.
    TokenBucket probe = state.failed_auths;
    if (probe.take(now_ms) > 0)
        state.failed_auth_exhausted = true;
}

AdmissionDecision Admission::on_authenticated(std::string_view ip, std::string_view user,
                                              std::int64_t now_ms) {
    IpState& state = ip_state(ip, now_ms);
    if (limits_.max_connections_per_ip != 0 &&
        state.connections >= limits_.max_connections_per_ip) {
        return {false, "CONNECTION_LIMIT", "too many connections from this address", 0};
    }
    auto user_it = per_user_.find(user);
    const std::uint32_t user_connections = user_it == per_user_.end() ? 0 : user_it->second;
    if (limits_.max_connections_per_user != 0 &&
        user_connections >= limits_.max_connections_per_user) {
        return {false, "CONNECTION_LIMIT", "too many connections for this user", 0};
    }
    ++state.connections;
    if (user_it == per_user_.end()) {
        per_user_.emplace(std::string(user), 1);
    } else {
        ++user_it->second;
    }
    return {};
}

void Admission::on_closed(std::string_view ip, std::string_view user) {
    if (auto it = per_ip_.find(ip); it != per_ip_.end() && it->second.connections > 0) {
        --it->second.connections;
    }
    if (auto it = per_user_.find(user); it != per_user_.end()) {
        if (--it->second == 0)
            per_user_.erase(it);
    }
}

void Admission::forget_idle(std::int64_t now_ms) {
    for (auto it = per_ip_.begin(); it != per_ip_.end();) {
        IpState& state = it->second;
        // Full buckets mean any earlier refusal has expired too.
        if (state.connections == 0 && state.handshakes.full(now_ms) &&
            state.failed_auths.full(now_ms)) {
            it = per_ip_.erase(it);
        } else {
            ++it;
        }
    }
}

std::size_t Admission::connections_of_user(std::string_view user) const {
    auto it = per_user_.find(user);
    return it == per_user_.end() ? 0 : it->second;
}

std::vector<std::string> Admission::users() const {
    std::vector<std::string> out;
    out.reserve(per_user_.size());
    for (const auto& [user, connections] : per_user_)
        out.push_back(user);
    return out;
}

}  // namespace huddle::core
