// The broker: what a node needs from the other nodes of a cluster (issue #7), behind one
// interface. RedisBroker (redis_broker.hpp) connects several nodes through one Redis; a single
// node runs without a broker (net/server.cpp makes a Cluster only when broker.url is set).
// InProcessBroker (in_process_broker.hpp) keeps the same contract within one process, for tests.
//
// Threading: a broker lives on one io_context, given at construction. Every method must be called
// on that io_context's thread, and every callback and completion runs there. state() and stats()
// are the exception: any thread may read them (for /health and /metrics).
//
// Order: messages of one room reach every subscribed node in one order, the publisher's own node
// included (its message comes back through its subscription). A node that wants one order
// everywhere therefore delivers a room's events from on_message only, never straight from
// publish().
//
// Completions: a refusal known at once (queue_full, closed) completes inside the call; post
// before re-entering the broker from a completion if that matters. Every completion runs exactly
// once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace huddle::broker {

enum class BrokerState {
    connected,     // every connection is up and every wanted room is subscribed
    degraded,      // partly up: a connection is down, or (re)subscribing is not finished
    reconnecting,  // no connection to the backend: local rooms only, retrying with backoff
    closed,        // close() was called
};
std::string_view to_string(BrokerState state);

// One message of a room, as every subscribed node sees it.
struct Message {
    std::string_view room;
    std::uint64_t offset = 0;  // rooms with history: > 0 and increasing; otherwise 0
    std::string_view epoch;    // rooms with history: the offset's epoch; otherwise empty
    std::string_view origin;   // node id of the publisher
    std::string_view payload;  // opaque bytes
};

struct PublishOptions {
    // Give the message the room's next cluster-wide offset and keep it in the room's history,
    // atomically with sending it.
    bool history = false;
    std::size_t history_length = 1000;  // history kept per room (approximate in Redis: MAXLEN ~)
    std::string idempotency_key;        // history only: a retry with the same key is not sent twice
    std::chrono::seconds idempotency_ttl{600};
    // History only: entries older than this (by the broker's clock) are dropped; 0: no age limit.
    std::chrono::milliseconds history_max_age{0};
};

enum class PublishStatus {
    ok,
    duplicate,   // the idempotency key was seen: not sent again; offset is the first one's
    queue_full,  // too many publishes pending (backend away or slow): nothing sent
    failed,      // backend error, or the connection was lost with the publish in flight: it may
                 // or may not have been sent
    timed_out,   // waited for a connection longer than the pending timeout: nothing sent
    closed,      // the broker is closed: nothing sent
};
std::string_view to_string(PublishStatus status);

struct PublishResult {
    PublishStatus status = PublishStatus::ok;
    std::uint64_t offset = 0;  // history rooms
    std::string epoch;         // history rooms
    std::string error;         // detail when not ok

    bool ok() const { return status == PublishStatus::ok || status == PublishStatus::duplicate; }
};

struct HistoryEntry {
    std::uint64_t offset = 0;
    std::string payload;
};

// A room's history after an offset. A client that last saw `o` in `epoch` recovers without a gap
// iff its epoch equals `epoch` and (o >= last_offset or oldest_offset <= o + 1); otherwise it
// must resync.
struct HistoryRead {
    bool ok = true;
    std::string error;
    std::string epoch;              // empty: the room has no history (yet, or any more)
    std::uint64_t last_offset = 0;  // highest offset given in this epoch
    std::uint64_t oldest_offset = 0;
    std::vector<HistoryEntry> entries;  // offset > after, in order, at most `limit`
};

struct PresenceEntry {
    std::string user;
    std::size_t connections = 0;  // over every live node
    std::string info_json;        // as last set by any node ("" when none)

    friend bool operator==(const PresenceEntry&, const PresenceEntry&) = default;
};

// The user's connection count in the room over every live node, before and after a change: a
// change from 0 or to 0 is a join or a leave of the cluster (seen by exactly one node).
struct PresenceChange {
    bool ok = true;
    std::string error;
    std::size_t cluster_before = 0;
    std::size_t cluster_after = 0;
};

// Figures for /metrics; read from any thread.
struct BrokerStats {
    std::uint64_t published = 0;         // publishes completed ok (duplicates included)
    std::uint64_t publish_failures = 0;  // completed with any other status
    std::uint64_t received = 0;          // messages handed to on_message
    std::uint64_t dropped = 0;           // messages received that could not be decoded
    std::uint64_t reconnects = 0;        // connections (re)established after a loss
    std::uint64_t pending = 0;           // publishes waiting or in flight now
    std::uint64_t subscribed_rooms = 0;  // rooms subscribed at the backend now
    std::uint64_t wanted_rooms = 0;      // rooms this node wants
    std::uint64_t batches = 0;           // subscribe/unsubscribe commands sent
};

class Broker {
  public:
    struct Handlers {
        // A message of a room this node subscribed to (and has not unsubscribed since).
        std::function<void(const Message&)> on_message;
        // A node command: broadcast() by any node, or send_to_node() to this node.
        std::function<void(std::string_view origin, std::string_view payload)> on_command;
        std::function<void(BrokerState)> on_state;
        // A node died (its heartbeat expired): these users of `room` had connections only on it.
        // Called on exactly one surviving node, which then announces the leaves.
        std::function<void(std::string room, std::vector<std::string> users)> on_presence_lost;
    };

    virtual ~Broker() = default;

    // Installs the handlers and starts connecting (if there is anything to connect to).
    virtual void start(Handlers handlers) = 0;
    // Fails everything pending with `closed` and disconnects. Idempotent; the destructor calls it
    // (without calling any handler).
    virtual void close() = 0;

    virtual const std::string& node_id() const = 0;
    virtual BrokerState state() const = 0;
    virtual BrokerStats stats() const = 0;

    // Interest: a node subscribes to the rooms in which it has members. Calls are collected and
    // sent in batches (a few ms); after a reconnect every wanted room is subscribed again. Once
    // unsubscribe() returns, on_message is not called for the room any more. Calls are not
    // counted: a room is wanted or not (the caller counts its members).
    virtual void subscribe(const std::vector<std::string>& rooms) = 0;
    virtual void unsubscribe(const std::vector<std::string>& rooms) = 0;

    // Sends `payload` to every node subscribed to `room` (this one included). Pipelined: many may
    // be in flight. `done` may be empty.
    virtual void publish(std::string room, std::string payload, PublishOptions options,
                         std::function<void(PublishResult)> done) = 0;

    // Recovery on any node: the room's history with offset > after_offset. Entries older than
    // `max_age` (0: no limit) are dropped first, so a quiet room does not keep them either.
    virtual void read_history(std::string room, std::uint64_t after_offset, std::size_t limit,
                              std::chrono::milliseconds max_age,
                              std::function<void(HistoryRead)> done) = 0;

    // Node commands: to every node (this one included), or to one node.
    virtual void broadcast(std::string payload) = 0;
    virtual void send_to_node(std::string node, std::string payload) = 0;

    // The nodes whose heartbeat has not expired, this one included (when it is registered).
    virtual void live_nodes(std::function<void(bool ok, std::vector<std::string> nodes)> done) = 0;

    // Presence: this node's number of connections of `user` in `room` (0: none), with the user's
    // info. The broker remembers this node's figures and restores them after a reconnect.
    virtual void presence_set(std::string room, std::string user, std::size_t connections,
                              std::string info_json, std::function<void(PresenceChange)> done) = 0;
    // Every user of the room with connections on a live node, sorted by user.
    virtual void presence_list(
        std::string room,
        std::function<void(bool ok, std::vector<PresenceEntry> entries)> done) = 0;
};

}  // namespace huddle::broker
