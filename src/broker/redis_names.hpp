// Every Redis channel and key the broker uses, in one place (docs/scaling.md, "Redis broker").
// The keys of one room share the hash tag {room}, so one script touches one slot; channels and
// the node registry are global.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace huddle::broker {

class RedisNames {
  public:
    // `prefix` separates several Huddle clusters (or apps) on one Redis.
    explicit RedisNames(std::string prefix) : prefix_(std::move(prefix)) {}

    const std::string& prefix() const { return prefix_; }

    std::string room_channel(std::string_view room) const {
        return prefix_ + ":room:" + std::string(room);
    }
    // The room of a room channel; nullopt for any other channel.
    std::optional<std::string_view> room_of_channel(std::string_view channel) const;
    std::string broadcast_channel() const { return prefix_ + ":nodes"; }
    std::string node_channel(std::string_view node) const {
        return prefix_ + ":node:" + std::string(node);
    }

    // A room's epoch and last offset (hash: epoch, last), its history (stream, ids <offset>-0),
    // its idempotency keys (strings with a TTL), its presence (hashes).
    std::string meta_key(std::string_view room) const { return room_key(room, "meta"); }
    std::string log_key(std::string_view room) const { return room_key(room, "log"); }
    std::string idempotency_key(std::string_view room, std::string_view key) const {
        return room_key(room, "idem:") + std::string(key);
    }
    std::string presence_nodes_key(std::string_view room) const { return room_key(room, "pnode"); }
    std::string presence_users_key(std::string_view room) const { return room_key(room, "puser"); }
    std::string presence_info_key(std::string_view room) const { return room_key(room, "pinfo"); }

    // Node registry: a sorted set node -> expiry (ms), each node's heartbeat key (with a TTL) and
    // the rooms in which a node has presence entries.
    std::string nodes_key() const { return prefix_ + ":nodes"; }
    std::string alive_key(std::string_view node) const {
        return prefix_ + ":alive:" + std::string(node);
    }
    std::string node_rooms_key(std::string_view node) const {
        return prefix_ + ":noderooms:" + std::string(node);
    }

  private:
    std::string room_key(std::string_view room, std::string_view what) const {
        return prefix_ + ":{" + std::string(room) + "}:" + std::string(what);
    }

    std::string prefix_;
};

// redis://[[user]:password@]host[:port][/db]
struct RedisAddress {
    std::string host = "127.0.0.1";
    unsigned port = 6379;
    std::string user;
    std::string password;
    unsigned db = 0;
};

// nullopt and `error` set when the URL is not one of the above.
std::optional<RedisAddress> parse_redis_url(std::string_view url, std::string* error = nullptr);

}  // namespace huddle::broker
