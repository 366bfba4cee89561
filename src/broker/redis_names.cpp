#include "broker/redis_names.hpp"

#include <charconv>

namespace huddle::broker {

std::optional<std::string_view> RedisNames::room_of_channel(std::string_view channel) const {
    if (channel.size() <= prefix_.size() + 6 || !channel.starts_with(prefix_) ||
        channel.substr(prefix_.size(), 6) != ":room:")
        return std::nullopt;
    return channel.substr(prefix_.size() + 6);
}

namespace {

bool parse_number(std::string_view text, unsigned max, unsigned& out) {
    if (text.empty() || text.size() > 5)
        return false;
    unsigned value = 0;
    const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
    if (result.ec != std::errc{} || result.ptr != text.data() + text.size() || value > max)
        return false;
    out = value;
    return true;
}

std::optional<RedisAddress> fail(std::string* error, std::string message) {
    if (error)
        *error = std::move(message);
    return std::nullopt;
}

}  // namespace

std::optional<RedisAddress> parse_redis_url(std::string_view url, std::string* error) {
    constexpr std::string_view kScheme = "redis://";
    if (!url.starts_with(kScheme))
        return fail(error, "the broker URL must start with redis:// (TLS is not supported)");
    std::string_view rest = url.substr(kScheme.size());
    RedisAddress address;
    if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
        const auto db = rest.substr(slash + 1);
        if (!db.empty() && !parse_number(db, 1000, address.db))
            return fail(error, "bad database number in the broker URL");
        rest = rest.substr(0, slash);
    }
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
        const auto credentials = rest.substr(0, at);
        rest = rest.substr(at + 1);
        const auto colon = credentials.find(':');
        if (colon == std::string_view::npos)
            return fail(error, "credentials in the broker URL must be [user]:password");
        address.user = std::string(credentials.substr(0, colon));
        address.password = std::string(credentials.substr(colon + 1));
    }
    std::string_view host = rest;
    if (rest.starts_with('[')) {  // [IPv6]:port
        const auto close = rest.find(']');
        if (close == std::string_view::npos)
            return fail(error, "unclosed [ in the broker URL");
        host = rest.substr(1, close - 1);
        rest = rest.substr(close + 1);
        if (!rest.empty() &&
            (rest.front() != ':' || !parse_number(rest.substr(1), 65535, address.port)))
            return fail(error, "bad port in the broker URL");
    } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        if (!parse_number(rest.substr(colon + 1), 65535, address.port))
            return fail(error, "bad port in the broker URL");
    }
    if (address.port == 0)
        return fail(error, "bad port in the broker URL");
    if (!host.empty())
        address.host = std::string(host);
    for (const char c : address.host) {
        if (c == '/' || c == '@' || c == ' ' || static_cast<unsigned char>(c) < 0x21)
            return fail(error, "bad host in the broker URL");
    }
    return address;
}

}  // namespace huddle::broker
