#include "endpoints/node_stats.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "endpoints/json_text.hpp"
#include "endpoints/length_prefixed.hpp"

namespace huddle::endpoints {
namespace {

constexpr std::string_view kStatsTag = "N1";

void append_count(std::string& out, std::string_view name, std::uint64_t value) {
    out += ",\"";
    out += name;
    out += "\":";
    append_json_int(out, static_cast<std::int64_t>(value));
}

// Everything after the counts of connections, users and rooms, which differ between the node and
// the cluster view.
void append_rest(std::string& out, const std::map<std::string, std::uint64_t>& rooms,
                 const NodeStats& totals) {
    out += ",\"clientsPerRoom\":{";
    bool first = true;
    for (const auto& [room, connections] : rooms) {
        if (!first)
            out += ',';
        first = false;
        append_json_string(out, room);
        out += ':';
        append_json_int(out, static_cast<std::int64_t>(connections));
    }
    out += '}';
    append_count(out, "messagesIn", totals.messages_in);
    append_count(out, "messagesOut", totals.messages_out);
    out += ",\"rateLimits\":{\"messages\":";
    append_json_int(out, static_cast<std::int64_t>(totals.rate_limited_messages));
    append_count(out, "handshakes", totals.rate_limited_handshakes);
    append_count(out, "connectionLimit", totals.connection_limit_refusals);
    append_count(out, "authFailures", totals.auth_failures);
    out += '}';
    append_count(out, "slowConsumerDrops", totals.slow_consumer_drops);
    out += ",\"accepting\":";
    out += totals.accepting ? "true" : "false";
}

}  // namespace

std::string encode_node_stats(std::string_view request_id, const NodeStats& stats) {
    std::string out(kStatsTag);
    put_field(out, request_id);
    put_field(out, stats.node);
    for (const std::uint64_t value :
         {stats.connections, stats.messages_in, stats.messages_out, stats.rate_limited_messages,
          stats.rate_limited_handshakes, stats.connection_limit_refusals, stats.auth_failures,
          stats.slow_consumer_drops, std::uint64_t{stats.accepting ? 1u : 0u}})
        put_number_field(out, value);
    put_number_field(out, stats.users.size());
    for (const auto& user : stats.users)
        put_field(out, user);
    put_number_field(out, stats.rooms.size());
    for (const auto& [room, connections] : stats.rooms) {
        put_field(out, room);
        put_number_field(out, connections);
    }
    return out;
}

std::optional<NodeStatsReply> decode_node_stats(std::string_view bytes) {
    if (!bytes.starts_with(kStatsTag))
        return std::nullopt;
    FieldReader in(bytes.substr(kStatsTag.size()));
    NodeStatsReply reply;
    const auto request = in.field();
    const auto node = in.field();
    if (!request || !node)
        return std::nullopt;
    reply.request_id = *request;
    NodeStats& stats = reply.stats;
    stats.node = *node;
    std::uint64_t accepting = 0;
    for (std::uint64_t* value :
         {&stats.connections, &stats.messages_in, &stats.messages_out, &stats.rate_limited_messages,
          &stats.rate_limited_handshakes, &stats.connection_limit_refusals, &stats.auth_failures,
          &stats.slow_consumer_drops, &accepting}) {
        const auto number = in.number<std::uint64_t>();
        if (!number)
            return std::nullopt;
        *value = *number;
    }
    stats.accepting = accepting != 0;
    // Each entry takes at least two bytes ("0:"): a count above that is a lie, not an allocation.
    const auto users = in.number<std::size_t>();
    if (!users || *users > bytes.size() / 2)
        return std::nullopt;
    for (std::size_t i = 0; i < *users; ++i) {
        const auto user = in.field();
        if (!user)
            return std::nullopt;
        stats.users.emplace_back(*user);
    }
    const auto rooms = in.number<std::size_t>();
    if (!rooms || *rooms > bytes.size() / 4)
        return std::nullopt;
    for (std::size_t i = 0; i < *rooms; ++i) {
        const auto room = in.field();
        const auto connections = in.number<std::uint64_t>();
        if (!room || !connections)
            return std::nullopt;
        stats.rooms.emplace_back(std::string(*room), *connections);
    }
    if (!in.done())
        return std::nullopt;
    return reply;
}

std::string render_node_stats(const NodeStats& stats) {
    std::string out = "{\"connections\":";
    append_json_int(out, static_cast<std::int64_t>(stats.connections));
    append_count(out, "users", stats.users.size());
    append_count(out, "rooms", stats.rooms.size());
    append_rest(out, {stats.rooms.begin(), stats.rooms.end()}, stats);
    out += '}';
    return out;
}

std::string render_cluster_stats(std::vector<NodeStats> nodes,
                                 const std::vector<std::string>& unanswered) {
    std::sort(nodes.begin(), nodes.end(),
              [](const NodeStats& a, const NodeStats& b) { return a.node < b.node; });
    NodeStats totals;
    std::set<std::string_view> users;
    std::map<std::string, std::uint64_t> rooms;
    for (const NodeStats& node : nodes) {
        totals.connections += node.connections;
        users.insert(node.users.begin(), node.users.end());
        for (const auto& [room, connections] : node.rooms)
            rooms[room] += connections;
        totals.messages_in += node.messages_in;
        totals.messages_out += node.messages_out;
        totals.rate_limited_messages += node.rate_limited_messages;
        totals.rate_limited_handshakes += node.rate_limited_handshakes;
        totals.connection_limit_refusals += node.connection_limit_refusals;
        totals.auth_failures += node.auth_failures;
        totals.slow_consumer_drops += node.slow_consumer_drops;
        totals.accepting = totals.accepting && node.accepting;
    }
    std::string out = "{\"scope\":\"cluster\",\"connections\":";
    append_json_int(out, static_cast<std::int64_t>(totals.connections));
    append_count(out, "users", users.size());
    append_count(out, "rooms", rooms.size());
    append_rest(out, rooms, totals);
    out += ",\"nodes\":[";
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const NodeStats& node = nodes[i];
        out += i == 0 ? "{\"node\":" : ",{\"node\":";
        append_json_string(out, node.node);
        append_count(out, "connections", node.connections);
        append_count(out, "users", node.users.size());
        append_count(out, "rooms", node.rooms.size());
        append_count(out, "messagesIn", node.messages_in);
        append_count(out, "messagesOut", node.messages_out);
        out += ",\"accepting\":";
        out += node.accepting ? "true}" : "false}";
    }
    out += "],\"unanswered\":[";
    for (std::size_t i = 0; i < unanswered.size(); ++i) {
        if (i != 0)
            out += ',';
        append_json_string(out, unanswered[i]);
    }
    out += "]}";
    return out;
}

}  // namespace huddle::endpoints
