#include "endpoints/node_stats.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace huddle::endpoints {
namespace {

NodeStats sample(std::string node, std::uint64_t connections, std::vector<std::string> users,
                 std::vector<std::pair<std::string, std::uint64_t>> rooms) {
    NodeStats stats;
    stats.node = std::move(node);
    stats.connections = connections;
    stats.users = std::move(users);
    stats.rooms = std::move(rooms);
    stats.messages_in = 10;
    stats.messages_out = 20;
    stats.auth_failures = 1;
    return stats;
}

TEST(NodeStats, RoundTripsBetweenNodes) {
    NodeStats stats = sample("n1", 3, {"ann", std::string("b\0b", 3)}, {{"r:1", 2}, {"r:2", 1}});
    stats.accepting = false;
    stats.slow_consumer_drops = 7;
    const auto reply = decode_node_stats(encode_node_stats("n0/5", stats));
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->request_id, "n0/5");
    EXPECT_EQ(reply->stats.node, "n1");
    EXPECT_EQ(reply->stats.connections, 3u);
    EXPECT_EQ(reply->stats.users, stats.users);
    EXPECT_EQ(reply->stats.rooms, stats.rooms);
    EXPECT_EQ(reply->stats.slow_consumer_drops, 7u);
    EXPECT_FALSE(reply->stats.accepting);
}

TEST(NodeStats, GarbageAndTruncationAreRefused) {
    const std::string encoded = encode_node_stats("id", sample("n", 1, {"u"}, {{"room", 1}}));
    for (std::size_t cut = 0; cut < encoded.size(); ++cut)
        EXPECT_FALSE(decode_node_stats(encoded.substr(0, cut)).has_value()) << cut;
    EXPECT_FALSE(decode_node_stats(encoded + "x").has_value());
    // A count far above what the bytes can hold is refused before anything is reserved.
    EXPECT_FALSE(
        decode_node_stats("N12:id1:n1:01:01:01:01:01:01:01:01:010:99999999991:u").has_value());
    EXPECT_FALSE(decode_node_stats("C1garbage").has_value());
}

TEST(NodeStats, ClusterViewSumsConnectionsAndCountsUsersAndRoomsOnce) {
    const std::string json =
        render_cluster_stats({sample("b", 2, {"ann"}, {{"r:1", 2}}),
                              sample("a", 3, {"ann", "bob"}, {{"r:1", 1}, {"r:2", 2}})},
                             {"c"});
    const auto value = boost::json::parse(json).as_object();
    EXPECT_EQ(value.at("scope").as_string(), "cluster");
    EXPECT_EQ(value.at("connections").as_int64(), 5);
    EXPECT_EQ(value.at("users").as_int64(), 2);
    EXPECT_EQ(value.at("rooms").as_int64(), 2);
    EXPECT_EQ(value.at("clientsPerRoom").at("r:1").as_int64(), 3);
    EXPECT_EQ(value.at("messagesIn").as_int64(), 20);
    EXPECT_EQ(value.at("rateLimits").at("authFailures").as_int64(), 2);
    const auto& nodes = value.at("nodes").as_array();
    ASSERT_EQ(nodes.size(), 2u);
    EXPECT_EQ(nodes[0].at("node").as_string(), "a");  // sorted by node id
    EXPECT_EQ(nodes[0].at("rooms").as_int64(), 2);
    EXPECT_EQ(value.at("unanswered").as_array().size(), 1u);
}

TEST(NodeStats, NodeViewKeepsTheSingleNodeFields) {
    const auto value =
        boost::json::parse(render_node_stats(sample("", 2, {"ann"}, {{"r:1", 2}}))).as_object();
    EXPECT_EQ(value.at("connections").as_int64(), 2);
    EXPECT_EQ(value.at("users").as_int64(), 1);
    EXPECT_EQ(value.at("rooms").as_int64(), 1);
    EXPECT_EQ(value.at("clientsPerRoom").at("r:1").as_int64(), 2);
    EXPECT_TRUE(value.at("accepting").as_bool());
    EXPECT_FALSE(value.contains("scope"));
}

}  // namespace
}  // namespace huddle::endpoints
