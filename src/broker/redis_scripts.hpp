// The Lua scripts the Redis broker runs (EVALSHA, EVAL when Redis does not know them yet). Each
// runs atomically, which is what gives every node the same offsets in the same order.
#pragma once

#include <string>
#include <string_view>

namespace huddle::broker {

struct RedisScript {
    std::string body;
    std::string sha1;  // hex, computed from the body
};

// KEYS: meta, log, channel, idempotency key. ARGV: candidate epoch, node, payload, max length,
// idempotency TTL (s), "1" when the key is used, max age (ms, 0: none). Returns {"ok"|"dup",
// offset, epoch}.
const RedisScript& publish_script();
// KEYS: meta, log. ARGV: after offset, limit, max age (ms, 0: none). Returns {epoch, last, oldest
// id, {{id, {f, v}}...}}.
const RedisScript& history_script();
// KEYS: nodes, pnode, puser, pinfo, node rooms. ARGV: node, user, count, info, room.
// Returns {cluster before, cluster after}.
const RedisScript& presence_set_script();
// KEYS: puser, pinfo. Returns {{user, count, ...}, {user, info, ...}}.
const RedisScript& presence_list_script();
// KEYS: nodes, alive key. ARGV: node, ttl (ms), key prefix. Registers the node until now + ttl,
// removes the nodes whose time ran out and their presence. Returns {newly registered (0/1),
// {{room, user, ...}, ...}}: the users who were only on removed nodes.
const RedisScript& heartbeat_script();
// KEYS: nodes. Returns the nodes whose heartbeat has not expired.
const RedisScript& live_nodes_script();

}  // namespace huddle::broker
