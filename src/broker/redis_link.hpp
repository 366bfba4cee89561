// One connection to Redis on an io_context (hiredis through asio_redis_adapter): connect with a
// timeout, AUTH/SELECT, commands with completions, pub/sub pushes, and one "down" report per
// connection however it ends (refused, timed out, lost, dropped).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "broker/redis_names.hpp"

struct redisAsyncContext;
struct redisReply;

namespace huddle::broker {

class RedisLink {
  public:
    struct Callbacks {
        std::function<void()> on_up;                      // posted
        std::function<void(std::string reason)> on_down;  // posted
        // Pub/sub messages and (un)subscribe confirmations, inside hiredis's read handler.
        std::function<void(const redisReply&)> on_push;
    };
    // nullptr: the connection went away before the reply came.
    using Completion = std::function<void(const redisReply*)>;

    RedisLink(boost::asio::io_context& io, Callbacks callbacks);
    ~RedisLink();
    RedisLink(const RedisLink&) = delete;
    RedisLink& operator=(const RedisLink&) = delete;

    // Starts connecting unless already connecting or up.
    void connect(const RedisAddress& address, std::chrono::milliseconds timeout);
    bool up() const { return context_ != nullptr && connected_; }
    bool idle() const { return context_ == nullptr; }

    // Queues a command (pipelined); false, without calling `done`, when the link is not up.
    bool command(const std::vector<std::string_view>& args, Completion done);
    // SUBSCRIBE / UNSUBSCRIBE: the confirmations and the messages go to on_push.
    bool subscription_command(const std::vector<std::string_view>& args);

    // Closes the connection now: commands in flight complete with nullptr.
    void drop(const std::string& reason);

  private:
    static void on_connect(const redisAsyncContext* context, int status);
    static void on_disconnect(const redisAsyncContext* context, int status);
    void report_down(std::string reason);
    template <typename Task>
    void later(Task task);

    boost::asio::io_context& io_;
    Callbacks callbacks_;
    redisAsyncContext* context_ = nullptr;
    bool connected_ = false;
    bool down_reported_ = true;
    boost::asio::steady_timer connect_timer_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace huddle::broker
