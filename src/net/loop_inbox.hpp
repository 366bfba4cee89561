// Items handed to a loop by other threads (the store's writer completing appends), drained by one
// handler per burst rather than one posted handler each: one wake-up of the loop for everything
// that arrived meanwhile, and no allocation per item once the vectors have grown.
#pragma once

#include <mutex>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace huddle::net {

template <class Item>
class LoopInbox {
  public:
    // Any thread. `drain(Item&)` runs on `io`, for every item added until then, in order. The
    // inbox must outlive the io_context's handlers (it belongs to the loop).
    template <class Drain>
    void add(boost::asio::io_context& io, Item item, Drain drain) {
        {
            std::lock_guard lock(mutex_);
            items_.push_back(std::move(item));
            if (items_.size() > 1)
                return;  // the drain posted for the first one takes this one too
        }
        boost::asio::post(io, [this, drain = std::move(drain)]() mutable {
            {
                std::lock_guard lock(mutex_);
                taken_.swap(items_);  // items_ gets taken_'s emptied capacity back
            }
            for (Item& taken : taken_)
                drain(taken);
            taken_.clear();
        });
    }

  private:
    std::mutex mutex_;
    std::vector<Item> items_;  // under mutex_
    std::vector<Item> taken_;  // the loop's thread only
};

}  // namespace huddle::net
