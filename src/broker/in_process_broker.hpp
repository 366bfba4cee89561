// A broker within one process: everything loops back, with the same semantics as the Redis
// broker (offsets and epoch per history room, bounded history, idempotency keys, presence
// counts). The server does not use it (one node runs without a broker); it is the Broker
// contract's reference for tests.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>

#include "broker/broker.hpp"

namespace huddle::broker {

class InProcessBroker final : public Broker {
  public:
    explicit InProcessBroker(boost::asio::io_context& io, std::string node_id = "local");
    ~InProcessBroker() override;

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
    struct RoomHistory {
        std::string epoch;
        std::uint64_t last = 0;
        std::deque<HistoryEntry> entries;
        std::deque<std::chrono::steady_clock::time_point> times;  // of `entries`
        std::unordered_map<std::string, std::uint64_t> keys;      // idempotency key -> offset
        std::deque<std::string> key_order;                        // oldest first, bounds `keys`
    };
    struct UserPresence {
        std::size_t connections = 0;
        std::string info_json;
    };
    // Runs `task` later on the io_context, unless the broker is gone by then.
    template <typename Task>
    void later(Task task);
    void deliver(std::string room, std::uint64_t offset, std::string epoch, std::string payload);
    static void drop_older(RoomHistory& history, std::chrono::milliseconds max_age);

    boost::asio::io_context& io_;
    std::string node_id_;
    Handlers handlers_;
    std::atomic<BrokerState> state_{BrokerState::connected};
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::set<std::string, std::less<>> subscribed_;
    std::unordered_map<std::string, RoomHistory> history_;
    std::map<std::string, std::map<std::string, UserPresence>, std::less<>> presence_;
    std::atomic<std::uint64_t> published_{0}, failures_{0}, received_{0};
};

}  // namespace huddle::broker
