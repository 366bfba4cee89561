// A fixed set of read connections, each lent to one thread at a time (private to src/store).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace huddle::store::detail {

template <class Connection>
class ConnectionPool {
  public:
    void add(std::unique_ptr<Connection> connection) { idle_.push_back(std::move(connection)); }

    // A connection borrowed for one call; waits while every connection is in use.
    class Lease {
      public:
        explicit Lease(ConnectionPool& pool) : pool_(pool) {
            std::unique_lock lock(pool_.mutex_);
            pool_.cv_.wait(lock, [this] { return !pool_.idle_.empty(); });
            connection_ = std::move(pool_.idle_.back());
            pool_.idle_.pop_back();
        }
        ~Lease() {
            {
                std::lock_guard lock(pool_.mutex_);
                pool_.idle_.push_back(std::move(connection_));
            }
            pool_.cv_.notify_one();
        }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Connection& operator*() { return *connection_; }
        Connection* operator->() { return connection_.get(); }

      private:
        ConnectionPool& pool_;
        std::unique_ptr<Connection> connection_;
    };

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace huddle::store::detail
