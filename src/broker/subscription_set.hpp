// Which rooms a node wants and where each stands at the backend, so subscriptions go out in
// batches and a room never has two commands in flight: a SUBSCRIBE is sent for a room only once
// its previous UNSUBSCRIBE is confirmed, and the other way round. (hiredis 0.14 keeps one callback
// per channel and drops it on an unsubscribe reply; overlapping commands would lose messages.)
// Pure bookkeeping: no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace huddle::broker {

class SubscriptionSet {
  public:
    struct Batch {
        std::vector<std::string> subscribe;
        std::vector<std::string> unsubscribe;
        bool empty() const { return subscribe.empty() && unsubscribe.empty(); }
    };

    // Idempotent: a room is wanted or not.
    void want(std::string_view room);
    void unwant(std::string_view room);

    // Rooms whose state at the backend differs from what is wanted and have nothing in flight, at
    // most `max` of them; they are marked in flight.
    Batch take_batch(std::size_t max);
    bool has_work() const { return !dirty_.empty(); }

    // Replies from the backend (for rooms not in flight they are ignored).
    void subscribed(std::string_view room);
    void unsubscribed(std::string_view room);

    // The connection is gone: nothing is subscribed at the backend, every wanted room is work.
    void connection_lost();

    // Whether a message of the room is to be delivered: wanted now (whatever the backend's state).
    bool wanted(std::string_view room) const;
    // Every wanted room is subscribed and nothing is in flight.
    bool settled() const;
    std::size_t wanted_count() const { return wanted_count_; }
    std::size_t subscribed_count() const { return subscribed_count_; }

  private:
    struct Room {
        bool wanted = false;
        bool subscribed = false;  // at the backend (confirmed)
        bool in_flight = false;
    };
    using Rooms = std::unordered_map<std::string, Room>;
    void update(Rooms::iterator it);

    Rooms rooms_;
    std::vector<std::string> dirty_;  // rooms that may need a command (may hold duplicates)
    std::size_t wanted_count_ = 0;
    std::size_t subscribed_count_ = 0;
    std::size_t in_flight_count_ = 0;
};

}  // namespace huddle::broker
