#include "broker/redis_link.hpp"

#include <hiredis/async.h>
#include <boost/asio/post.hpp>

#include "broker/asio_redis_adapter.hpp"

namespace huddle::broker {

namespace {

struct PendingCommand {
    RedisLink::Completion done;
};

void command_reply(redisAsyncContext*, void* reply, void* data) {
    std::unique_ptr<PendingCommand> pending(static_cast<PendingCommand*>(data));
    if (pending->done)
        pending->done(static_cast<const redisReply*>(reply));
}

// hiredis keeps this callback per channel and calls it for every message; when it frees the
// context it calls it once more per channel with no reply.
void push_reply(redisAsyncContext*, void* reply, void* data) {
    if (reply == nullptr)
        return;
    auto* push = static_cast<std::function<void(const redisReply&)>*>(data);
    if (*push)
        (*push)(*static_cast<const redisReply*>(reply));
}

int send_argv(redisAsyncContext* context, redisCallbackFn* callback, void* data,
              const std::vector<std::string_view>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (const auto& arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    return redisAsyncCommandArgv(context, callback, data, static_cast<int>(args.size()),
                                 argv.data(), lengths.data());
}

}  // namespace

RedisLink::RedisLink(boost::asio::io_context& io, Callbacks callbacks)
    : io_(io), callbacks_(std::move(callbacks)), connect_timer_(io) {}

RedisLink::~RedisLink() {
    alive_.reset();  // nothing posted by this link runs any more
    drop("closed");
}

template <typename Task>
void RedisLink::later(Task task) {
    boost::asio::post(io_, [alive = std::weak_ptr<bool>(alive_), task = std::move(task)]() mutable {
        if (alive.lock())
            task();
    });
}

void RedisLink::connect(const RedisAddress& address, std::chrono::milliseconds timeout) {
    if (context_ != nullptr)
        return;
    down_reported_ = false;
    connected_ = false;
    // hiredis resolves names with getaddrinfo (blocking): give an address or a name in /etc/hosts.
    redisAsyncContext* context =
        redisAsyncConnect(address.host.c_str(), static_cast<int>(address.port));
    if (context == nullptr) {
        report_down("out of memory");
        return;
    }
    if (context->err) {
        std::string reason = context->errstr;
        redisAsyncFree(context);
        report_down(reason);
        return;
    }
    context_ = context;
    context->data = this;
    attach_to_asio(context, io_);
    redisAsyncSetDisconnectCallback(context, &RedisLink::on_disconnect);
    redisAsyncSetConnectCallback(context, &RedisLink::on_connect);
    // Commands queued now go out right after the connection is made, before anything else.
    if (!address.password.empty()) {
        std::vector<std::string_view> auth{"AUTH"};
        if (!address.user.empty())
            auth.push_back(address.user);
        auth.push_back(address.password);
        send_argv(context, &command_reply, new PendingCommand{[this](const redisReply* reply) {
                      if (reply && reply->type == REDIS_REPLY_ERROR)
                          later([this] { drop("authentication refused"); });
                  }},
                  auth);
    }
    if (address.db != 0) {
        const std::string db = std::to_string(address.db);
        send_argv(context, &command_reply, new PendingCommand{[this](const redisReply* reply) {
                      if (reply && reply->type == REDIS_REPLY_ERROR)
                          later([this] { drop("SELECT refused"); });
                  }},
                  {"SELECT", db});
    }
    connect_timer_.expires_after(timeout);
    connect_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_),
                               context](const boost::system::error_code& error) {
        if (error || !alive.lock() || context_ != context || (context->c.flags & REDIS_CONNECTED))
            return;
        drop("connect timed out");
    });
}

void RedisLink::on_connect(const redisAsyncContext* context, int status) {
    auto* link = static_cast<RedisLink*>(context->data);
    if (status != REDIS_OK) {
        // hiredis frees the context when this returns.
        link->context_ = nullptr;
        link->report_down(context->errstr ? context->errstr : "connect failed");
        return;
    }
    link->connect_timer_.cancel();
    // Up only once on_up runs, so that what on_up sends first (scripts, heartbeat) precedes any
    // other command on the connection.
    link->later([link, context] {
        if (link->context_ != context)
            return;
        link->connected_ = true;
        if (link->callbacks_.on_up)
            link->callbacks_.on_up();
    });
}

void RedisLink::on_disconnect(const redisAsyncContext* context, int status) {
    auto* link = static_cast<RedisLink*>(context->data);
    link->context_ = nullptr;
    link->connected_ = false;
    link->report_down(status == REDIS_OK ? "disconnected"
                                         : (context->errstr ? context->errstr : "connection lost"));
}

void RedisLink::report_down(std::string reason) {
    if (down_reported_)
        return;
    down_reported_ = true;
    later([this, reason = std::move(reason)] {
        if (callbacks_.on_down)
            callbacks_.on_down(reason);
    });
}

bool RedisLink::command(const std::vector<std::string_view>& args, Completion done) {
    if (!up())
        return false;
    auto* pending = new PendingCommand{std::move(done)};
    if (send_argv(context_, &command_reply, pending, args) != REDIS_OK) {
        delete pending;
        return false;
    }
    return true;
}

bool RedisLink::subscription_command(const std::vector<std::string_view>& args) {
    if (!up())
        return false;
    return send_argv(context_, &push_reply, &callbacks_.on_push, args) == REDIS_OK;
}

void RedisLink::drop(const std::string& reason) {
    connect_timer_.cancel();
    if (context_ == nullptr)
        return;
    redisAsyncContext* context = context_;
    context_ = nullptr;
    connected_ = false;
    // Runs the pending completions with no reply; inside a hiredis callback the free is deferred
    // until the callback returns.
    redisAsyncFree(context);
    report_down(reason);
}

}  // namespace huddle::broker
