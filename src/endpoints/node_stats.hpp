// /stats: one node's figures, the message that carries them to the node that asked
// (`GET /stats?scope=cluster`), and the JSON of one node or of the merged cluster.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace huddle::endpoints {

struct NodeStats {
    std::string node;  // the broker's node id ("" without a broker)
    std::uint64_t connections = 0;
    std::vector<std::string> users;                            // distinct, any order
    std::vector<std::pair<std::string, std::uint64_t>> rooms;  // room, connections
    std::uint64_t messages_in = 0;
    std::uint64_t messages_out = 0;
    std::uint64_t rate_limited_messages = 0;
    std::uint64_t rate_limited_handshakes = 0;
    std::uint64_t connection_limit_refusals = 0;
    std::uint64_t auth_failures = 0;
    std::uint64_t slow_consumer_drops = 0;
    bool accepting = true;
};

// The answer to a stats request `request_id` (between nodes).
std::string encode_node_stats(std::string_view request_id, const NodeStats& stats);
struct NodeStatsReply {
    std::string request_id;
    NodeStats stats;
};
// nullopt for anything else.
std::optional<NodeStatsReply> decode_node_stats(std::string_view bytes);

// `GET /stats`: {connections, users, rooms, clientsPerRoom, messagesIn, messagesOut, rateLimits,
// slowConsumerDrops, accepting}.
std::string render_node_stats(const NodeStats& stats);
// `GET /stats?scope=cluster`: the same fields over every node that answered (users and rooms
// counted once however many nodes have them, clients per room summed), plus "scope", "nodes"
// (each node's main figures, by node id) and "unanswered" (live nodes that did not answer in
// time).
std::string render_cluster_stats(std::vector<NodeStats> nodes,
                                 const std::vector<std::string>& unanswered);

}  // namespace huddle::endpoints
