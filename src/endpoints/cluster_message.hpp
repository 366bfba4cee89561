// A room event as it travels between nodes through the broker: everything a node needs to encode
// the event for its own members. The offset and epoch are not in it: the broker gives them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace huddle::endpoints {

struct ClusterEvent {
    std::string type;
    std::string user_id;
    std::int64_t timestamp_ms = 0;
    // Meaningful only on the node that published (connection ids are per process).
    std::uint64_t excluded_connection = 0;
    std::vector<std::string> excluded_users;
    std::string payload_json = "null";
    // The publishing node fanned it out itself (its subscription was not ready): it skips the copy
    // that comes back.
    bool delivered_at_origin = false;
};

std::string encode_cluster_event(const ClusterEvent& event);
// nullopt for anything that is not an encoded event (a probe, garbage).
std::optional<ClusterEvent> decode_cluster_event(std::string_view bytes);

// Node commands (Broker::broadcast): disconnect a user, or remove a user from rooms.
struct ClusterCommand {
    std::string kind;  // "disconnect" or "remove"
    std::string user;
    std::uint16_t code = 0;
    std::string pattern;
    std::string reason;
};
std::string encode_cluster_command(const ClusterCommand& command);
std::optional<ClusterCommand> decode_cluster_command(std::string_view bytes);

}  // namespace huddle::endpoints
