// The broker of a cluster: nodes connected through one Redis (docs/scaling.md, "Redis broker").
//
// Two connections per node, both on the broker's io_context: one for commands (pipelined
// publishes, scripts, presence, heartbeats) and one for SUBSCRIBE. Per-room channels, subscribed
// in batches, so a node gets only the traffic of rooms it wants. A publish to a room with history
// is one Lua script (offset, stream, PUBLISH): every node sees the same offsets in the same order.
// When Redis goes away the broker reports it (on_state), reconnects with backoff, subscribes every
// wanted room again and restores this node's presence; publishes wait meanwhile, up to
// max_pending, for at most pending_timeout.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "broker/backoff.hpp"
#include "broker/broker.hpp"
#include "broker/redis_link.hpp"
#include "broker/redis_names.hpp"
#include "broker/subscription_set.hpp"

namespace huddle::broker {

struct RedisBrokerOptions {
    std::string url = "redis://127.0.0.1:6379";
    std::string key_prefix = "huddle";  // separates clusters sharing one Redis
    std::string node_id;                // empty: a random one (valid_token() otherwise)
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds backoff_initial{100};
    std::chrono::milliseconds backoff_max{5000};
    // Subscriptions asked for within this time go out as one command (0: once per loop turn).
    std::chrono::milliseconds batch_delay{2};
    std::size_t max_rooms_per_command = 512;
    // Publishes waiting for a connection or in flight; beyond, publish() fails with queue_full.
    std::size_t max_pending = 10000;
    std::chrono::milliseconds pending_timeout{5000};  // waiting for a connection
    std::chrono::milliseconds heartbeat_interval{1000};
    // A node whose heartbeat is this old is dead: its presence is removed.
    std::chrono::milliseconds node_ttl{5000};
    // A heartbeat unanswered this long: Redis is taken as gone and both connections are redone.
    std::chrono::milliseconds command_timeout{3000};
};

class RedisBroker final : public Broker {
  public:
    // Throws std::invalid_argument for a bad URL or node id.
    RedisBroker(boost::asio::io_context& io, RedisBrokerOptions options);
    ~RedisBroker() override;

    void start(Handlers handlers) override;
    void close() override;
    const std::string& node_id() const override { return node_id_; }
    BrokerState state() const override { return state_.load(std::memory_order_relaxed); }
    BrokerStats stats() const override;

    void subscribe(const std::vector<std::string>& rooms) override;
    void unsubscribe(const std::vector<std::string>& rooms) override;
    void publish(std::string room, std::string payload, PublishOptions options,
                 std::function<void(PublishResult)> done) override;
    void read_history(std::string room, std::uint64_t after_offset, std::size_t limit,
                      std::chrono::milliseconds max_age,
                      std::function<void(HistoryRead)> done) override;
    void live_nodes(std::function<void(bool, std::vector<std::string>)> done) override;
    void broadcast(std::string payload) override;
    void send_to_node(std::string node, std::string payload) override;
    void presence_set(std::string room, std::string user, std::size_t connections,
                      std::string info_json, std::function<void(PresenceChange)> done) override;
    void presence_list(std::string room,
                       std::function<void(bool, std::vector<PresenceEntry>)> done) override;

  private:
    struct PendingPublish {
        std::string room;
        std::string payload;
        PublishOptions options;
        std::function<void(PublishResult)> done;
        std::chrono::steady_clock::time_point queued_at;
    };
    struct LocalPresence {
        std::size_t connections = 0;
        std::string info_json;
    };

    template <typename Task>
    void later(Task task);
    void connect_idle_links();
    void schedule_reconnect();
    void command_link_up();
    void subscriber_link_up();
    void link_down(bool subscriber, const std::string& reason);
    void update_state();
    void schedule_flush();
    void flush_subscriptions();
    void on_push(const redisReply& reply);
    void send_publish(std::shared_ptr<PendingPublish> publish);
    void finish_publish(PendingPublish& publish, PublishResult result);
    // EVALSHA, then EVAL if Redis does not know the script (a new or restarted Redis).
    bool run_script(const struct RedisScript& script, std::vector<std::string> keys,
                    std::vector<std::string> args, RedisLink::Completion done);
    void send_presence(const std::string& room, const std::string& user,
                       std::function<void(PresenceChange)> done);
    void heartbeat_tick();
    void expire_waiting();
    void send_command(std::string channel, std::string payload);

    boost::asio::io_context& io_;
    RedisBrokerOptions options_;
    RedisAddress address_;
    RedisNames names_;
    std::string node_id_;
    Handlers handlers_;
    bool started_ = false;
    std::atomic<BrokerState> state_{BrokerState::reconnecting};

    SubscriptionSet rooms_;
    bool flush_scheduled_ = false;
    bool node_channels_subscribed_ = false;
    bool resubscribing_ = false;  // after a (re)connect, until every wanted room is subscribed
    bool ever_up_ = false;
    std::deque<std::shared_ptr<PendingPublish>> waiting_;  // for the command connection
    std::size_t in_flight_ = 0;
    std::map<std::string, std::map<std::string, LocalPresence>, std::less<>> presence_;
    std::optional<std::chrono::steady_clock::time_point> heartbeat_sent_;

    Backoff backoff_;
    std::minstd_rand random_;
    boost::asio::steady_timer reconnect_timer_;
    bool reconnect_scheduled_ = false;
    boost::asio::steady_timer batch_timer_;
    boost::asio::steady_timer heartbeat_timer_;

    std::atomic<std::uint64_t> published_{0}, failures_{0}, received_{0}, dropped_{0},
        reconnects_{0}, pending_{0}, subscribed_{0}, wanted_{0}, batches_{0};
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    // Last: destroyed first, while everything their completions touch still exists.
    std::unique_ptr<RedisLink> commands_;
    std::unique_ptr<RedisLink> subscriber_;
};

}  // namespace huddle::broker
