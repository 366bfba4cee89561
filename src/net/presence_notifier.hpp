// Online/offline notices to the app's backend (webhooks.presence_url): a user is online from
// their first connection, offline once their last one has been gone for webhooks.offline_grace
// (a page reload is not an offline). Notices are batched — many users reconnecting after a
// restart make a few requests, not a storm — signed, retried with backoff, and bounded.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/steady_timer.hpp>

namespace huddle::net {

class EventLoop;

class PresenceNotifier {
  public:
    explicit PresenceNotifier(EventLoop& home);

    // Thread-safe: called when a user's connection count goes 0 -> 1 or 1 -> 0.
    void user_connected(std::string user);
    void user_disconnected(std::string user);

    // Starts the periodic flush (on the home loop's thread).
    void start();

  private:
    void on_connected(const std::string& user);
    void on_disconnected(const std::string& user);
    void tick();
    void queue_notice(std::string_view type, const std::string& user);
    void send_batch();

    EventLoop& home_;
    boost::asio::steady_timer timer_;
    std::unordered_set<std::string> online_;
    std::unordered_map<std::string, std::int64_t> offline_due_ms_;
    std::deque<std::string> queue_;    // notices as JSON objects, oldest first
    std::size_t in_flight_count_ = 0;  // notices of the batch being sent
    bool sending_ = false;
    unsigned failures_ = 0;
    std::int64_t retry_at_ms_ = 0;
    std::uint64_t dropped_ = 0;
};

}  // namespace huddle::net
