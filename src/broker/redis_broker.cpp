#include "broker/redis_broker.hpp"

#include <charconv>
#include <stdexcept>

#include <hiredis/hiredis.h>
#include <boost/asio/post.hpp>

#include "broker/envelope.hpp"
#include "broker/redis_scripts.hpp"

namespace huddle::broker {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

std::string_view text(const redisReply* reply) {
    if (reply == nullptr || (reply->type != REDIS_REPLY_STRING &&
                             reply->type != REDIS_REPLY_STATUS && reply->type != REDIS_REPLY_ERROR))
        return {};
    return {reply->str, reply->len};
}

// An integer reply, or a string holding a decimal number (its leading digits: "12-0" gives 12).
std::uint64_t number(const redisReply* reply) {
    if (reply == nullptr)
        return 0;
    if (reply->type == REDIS_REPLY_INTEGER)
        return reply->integer > 0 ? static_cast<std::uint64_t>(reply->integer) : 0;
    const auto digits = text(reply);
    std::uint64_t value = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), value);
    return value;
}

const redisReply* element(const redisReply* reply, std::size_t index) {
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || index >= reply->elements)
        return nullptr;
    return reply->element[index];
}

std::string failure(const redisReply* reply) {
    if (reply == nullptr)
        return "connection to Redis lost";
    if (reply->type == REDIS_REPLY_ERROR)
        return std::string(text(reply));
    return "unexpected reply from Redis";
}

std::string random_token(std::minstd_rand& random, std::size_t length) {
    static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::string token(length, '0');
    for (auto& c : token)
        c = kDigits[random() % 36];
    return token;
}

}  // namespace

RedisBroker::RedisBroker(asio::io_context& io, RedisBrokerOptions options)
    : io_(io),
      options_(std::move(options)),
      names_(options_.key_prefix),
      backoff_(options_.backoff_initial, options_.backoff_max),
      random_(std::random_device{}()),
      reconnect_timer_(io),
      batch_timer_(io),
      heartbeat_timer_(io) {
    std::string error;
    auto address = parse_redis_url(options_.url, &error);
    if (!address)
        throw std::invalid_argument(error);
    address_ = *address;
    node_id_ = options_.node_id.empty() ? "n-" + random_token(random_, 12) : options_.node_id;
    if (!valid_token(node_id_))
        throw std::invalid_argument("bad broker node id (1 to 64 of A-Z a-z 0-9 . _ -)");
    if (!valid_token(options_.key_prefix))
        throw std::invalid_argument("bad broker key prefix (1 to 64 of A-Z a-z 0-9 . _ -)");
    commands_ = std::make_unique<RedisLink>(
        io_, RedisLink::Callbacks{[this] { command_link_up(); },
                                  [this](std::string reason) { link_down(false, reason); },
                                  {}});
    subscriber_ = std::make_unique<RedisLink>(
        io_, RedisLink::Callbacks{[this] { subscriber_link_up(); },
                                  [this](std::string reason) { link_down(true, reason); },
                                  [this](const redisReply& reply) { on_push(reply); }});
}

RedisBroker::~RedisBroker() {
    handlers_ = {};  // the owner is going away: no handler runs from here on (completions do)
    close();
    alive_.reset();
}

template <typename Task>
void RedisBroker::later(Task task) {
    asio::post(io_, [alive = std::weak_ptr<bool>(alive_), task = std::move(task)]() mutable {
        if (alive.lock())
            task();
    });
}

BrokerStats RedisBroker::stats() const {
    BrokerStats stats;
    stats.published = published_.load(std::memory_order_relaxed);
    stats.publish_failures = failures_.load(std::memory_order_relaxed);
    stats.received = received_.load(std::memory_order_relaxed);
    stats.dropped = dropped_.load(std::memory_order_relaxed);
    stats.reconnects = reconnects_.load(std::memory_order_relaxed);
    stats.pending = pending_.load(std::memory_order_relaxed);
    stats.subscribed_rooms = subscribed_.load(std::memory_order_relaxed);
    stats.wanted_rooms = wanted_.load(std::memory_order_relaxed);
    stats.batches = batches_.load(std::memory_order_relaxed);
    return stats;
}

// ---------------------------------------------------------------------------------------------
// Connections

void RedisBroker::start(Handlers handlers) {
    if (started_ || state() == BrokerState::closed)
        return;
    started_ = true;
    handlers_ = std::move(handlers);
    connect_idle_links();
    heartbeat_tick();
}

void RedisBroker::connect_idle_links() {
    if (commands_->idle())
        commands_->connect(address_, options_.connect_timeout);
    if (subscriber_->idle())
        subscriber_->connect(address_, options_.connect_timeout);
}

void RedisBroker::schedule_reconnect() {
    if (reconnect_scheduled_ || state() == BrokerState::closed)
        return;
    reconnect_scheduled_ = true;
    reconnect_timer_.expires_after(backoff_.next(random_()));
    reconnect_timer_.async_wait(
        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& error) {
            if (error || !alive.lock())
                return;
            reconnect_scheduled_ = false;
            if (state() != BrokerState::closed)
                connect_idle_links();
        });
}

void RedisBroker::command_link_up() {
    if (ever_up_)
        reconnects_.fetch_add(1, std::memory_order_relaxed);
    heartbeat_sent_.reset();
    // First the scripts (so that no EVALSHA of this connection meets NOSCRIPT and is retried out
    // of order), the heartbeat (so this node counts as alive), this node's presence, then what
    // waited: one pipeline, in this order.
    for (const RedisScript* script :
         {&publish_script(), &history_script(), &presence_set_script(), &presence_list_script(),
          &heartbeat_script(), &live_nodes_script()})
        commands_->command({"SCRIPT", "LOAD", script->body}, {});
    heartbeat_tick();
    for (const auto& [room, users] : presence_) {
        for (const auto& [user, entry] : users)
            send_presence(room, user, {});
    }
    while (!waiting_.empty() && commands_->up()) {
        auto publish = std::move(waiting_.front());
        waiting_.pop_front();
        send_publish(std::move(publish));
    }
    if (subscriber_->up())
        backoff_.reset();
    update_state();
}

void RedisBroker::subscriber_link_up() {
    if (ever_up_)
        reconnects_.fetch_add(1, std::memory_order_relaxed);
    ever_up_ = true;
    const std::string all = names_.broadcast_channel();
    const std::string mine = names_.node_channel(node_id_);
    subscriber_->subscription_command({"SUBSCRIBE", all, mine});
    batches_.fetch_add(1, std::memory_order_relaxed);
    resubscribing_ = rooms_.wanted_count() > 0;
    flush_subscriptions();
    if (commands_->up())
        backoff_.reset();
    update_state();
}

void RedisBroker::link_down(bool subscriber, const std::string&) {
    if (state() == BrokerState::closed)
        return;
    if (subscriber) {
        rooms_.connection_lost();
        node_channels_subscribed_ = false;
        subscribed_.store(0, std::memory_order_relaxed);
    } else {
        heartbeat_sent_.reset();
    }
    ever_up_ = true;
    update_state();
    schedule_reconnect();
}

void RedisBroker::update_state() {
    BrokerState next = BrokerState::reconnecting;
    if (state() == BrokerState::closed)
        return;
    if (resubscribing_ && rooms_.settled())
        resubscribing_ = false;
    if (commands_->up() && subscriber_->up() && node_channels_subscribed_ && !resubscribing_)
        next = BrokerState::connected;
    else if (commands_->up() || subscriber_->up())
        next = BrokerState::degraded;
    if (state_.exchange(next) != next && handlers_.on_state)
        handlers_.on_state(next);
}

void RedisBroker::close() {
    if (state_.exchange(BrokerState::closed) == BrokerState::closed)
        return;
    reconnect_timer_.cancel();
    batch_timer_.cancel();
    heartbeat_timer_.cancel();
    // In-flight completions run now, with `closed` (finish_publish checks the state).
    commands_->drop("closed");
    subscriber_->drop("closed");
    while (!waiting_.empty()) {
        auto publish = std::move(waiting_.front());
        waiting_.pop_front();
        finish_publish(*publish, {PublishStatus::closed, 0, {}, "the broker is closed"});
    }
    if (handlers_.on_state)
        handlers_.on_state(BrokerState::closed);
}

// ---------------------------------------------------------------------------------------------
// Subscriptions

void RedisBroker::subscribe(const std::vector<std::string>& rooms) {
    for (const auto& room : rooms)
        rooms_.want(room);
    wanted_.store(rooms_.wanted_count(), std::memory_order_relaxed);
    schedule_flush();
}

void RedisBroker::unsubscribe(const std::vector<std::string>& rooms) {
    for (const auto& room : rooms)
        rooms_.unwant(room);
    wanted_.store(rooms_.wanted_count(), std::memory_order_relaxed);
    schedule_flush();
}

void RedisBroker::schedule_flush() {
    if (flush_scheduled_ || !rooms_.has_work() || state() == BrokerState::closed)
        return;
    flush_scheduled_ = true;
    auto run = [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& error) {
        if (error || !alive.lock())
            return;
        flush_scheduled_ = false;
        flush_subscriptions();
    };
    if (options_.batch_delay.count() == 0) {
        asio::post(io_, [run] { run({}); });
        return;
    }
    batch_timer_.expires_after(options_.batch_delay);
    batch_timer_.async_wait(run);
}

void RedisBroker::flush_subscriptions() {
    while (subscriber_->up() && rooms_.has_work()) {
        auto batch = rooms_.take_batch(options_.max_rooms_per_command);
        if (batch.empty())
            break;
        for (auto* list : {&batch.subscribe, &batch.unsubscribe}) {
            if (list->empty())
                continue;
            std::vector<std::string> channels;
            channels.reserve(list->size());
            for (const auto& room : *list)
                channels.push_back(names_.room_channel(room));
            std::vector<std::string_view> args{list == &batch.subscribe ? "SUBSCRIBE"
                                                                        : "UNSUBSCRIBE"};
            args.insert(args.end(), channels.begin(), channels.end());
            subscriber_->subscription_command(args);
            batches_.fetch_add(1, std::memory_order_relaxed);
        }
    }
    update_state();
}

void RedisBroker::on_push(const redisReply& reply) {
    const auto kind = text(element(&reply, 0));
    const auto channel = text(element(&reply, 1));
    const auto room = names_.room_of_channel(channel);
    if (kind == "message") {
        const auto decoded = decode_envelope(text(element(&reply, 2)));
        if (!decoded) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        if (room) {
            // Unsubscribed meanwhile: nothing more is delivered once unsubscribe() returned.
            if (!rooms_.wanted(*room) || !handlers_.on_message)
                return;
            received_.fetch_add(1, std::memory_order_relaxed);
            handlers_.on_message(
                Message{*room, decoded->offset, decoded->epoch, decoded->origin, decoded->payload});
        } else if (handlers_.on_command) {
            handlers_.on_command(decoded->origin, decoded->payload);
        }
        return;
    }
    if (kind == "subscribe") {
        if (room)
            rooms_.subscribed(*room);
        else if (channel == names_.node_channel(node_id_))
            node_channels_subscribed_ = true;  // the later of the two in one command
    } else if (kind == "unsubscribe") {
        if (room)
            rooms_.unsubscribed(*room);
    } else {
        return;
    }
    subscribed_.store(rooms_.subscribed_count(), std::memory_order_relaxed);
    // A room wanted again while its UNSUBSCRIBE was in flight needs another command.
    if (rooms_.has_work())
        schedule_flush();
    update_state();
}

// ---------------------------------------------------------------------------------------------
// Publishing

void RedisBroker::publish(std::string room, std::string payload, PublishOptions options,
                          std::function<void(PublishResult)> done) {
    auto publish = std::make_shared<PendingPublish>(PendingPublish{
        std::move(room), std::move(payload), std::move(options), std::move(done), Clock::now()});
    if (state() == BrokerState::closed) {
        finish_publish(*publish, {PublishStatus::closed, 0, {}, "the broker is closed"});
        return;
    }
    if (waiting_.size() + in_flight_ >= options_.max_pending) {
        finish_publish(*publish,
                       {PublishStatus::queue_full,
                        0,
                        {},
                        commands_->up() ? "too many publishes in flight to Redis"
                                        : "Redis is unreachable and the pending queue is full"});
        return;
    }
    if (commands_->up() && waiting_.empty()) {
        send_publish(std::move(publish));
    } else {
        waiting_.push_back(std::move(publish));
        pending_.store(waiting_.size() + in_flight_, std::memory_order_relaxed);
    }
}

void RedisBroker::send_publish(std::shared_ptr<PendingPublish> publish) {
    ++in_flight_;
    pending_.store(waiting_.size() + in_flight_, std::memory_order_relaxed);
    auto completion = [this, publish](const redisReply* reply) {
        --in_flight_;
        PublishResult result;
        if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) {
            result.status = PublishStatus::failed;
            result.error = failure(reply);
        } else if (publish->options.history) {
            result.status =
                text(element(reply, 0)) == "dup" ? PublishStatus::duplicate : PublishStatus::ok;
            result.offset = number(element(reply, 1));
            result.epoch = std::string(text(element(reply, 2)));
        }
        finish_publish(*publish, std::move(result));
    };
    bool sent = false;
    if (!publish->options.history) {
        const std::string channel = names_.room_channel(publish->room);
        const std::string envelope = encode_envelope(0, {}, node_id_, publish->payload);
        sent = commands_->command({"PUBLISH", channel, envelope}, completion);
    } else {
        const bool keyed = !publish->options.idempotency_key.empty();
        const std::string& room = publish->room;
        sent = run_script(
            publish_script(),
            {names_.meta_key(room), names_.log_key(room), names_.room_channel(room),
             names_.idempotency_key(room, publish->options.idempotency_key)},
            {random_token(random_, 16), node_id_, publish->payload,
             std::to_string(std::max<std::size_t>(publish->options.history_length, 1)),
             std::to_string(std::max<long long>(publish->options.idempotency_ttl.count(), 1)),
             keyed ? "1" : "0",
             std::to_string(std::max<long long>(publish->options.history_max_age.count(), 0))},
            completion);
    }
    if (!sent) {
        --in_flight_;
        waiting_.push_front(std::move(publish));
    }
}

void RedisBroker::finish_publish(PendingPublish& publish, PublishResult result) {
    if (state() == BrokerState::closed && !result.ok()) {
        result.status = PublishStatus::closed;
        result.error = "the broker is closed";
    }
    (result.ok() ? published_ : failures_).fetch_add(1, std::memory_order_relaxed);
    pending_.store(waiting_.size() + in_flight_, std::memory_order_relaxed);
    if (auto done = std::move(publish.done))
        done(std::move(result));
}

void RedisBroker::expire_waiting() {
    const auto oldest_allowed = Clock::now() - options_.pending_timeout;
    while (!waiting_.empty() && waiting_.front()->queued_at < oldest_allowed) {
        auto publish = std::move(waiting_.front());
        waiting_.pop_front();
        finish_publish(*publish, {PublishStatus::timed_out,
                                  0,
                                  {},
                                  "Redis was unreachable for longer than the pending timeout"});
    }
}

bool RedisBroker::run_script(const RedisScript& script, std::vector<std::string> keys,
                             std::vector<std::string> args, RedisLink::Completion done) {
    const std::string key_count = std::to_string(keys.size());
    std::vector<std::string_view> argv{"EVALSHA", script.sha1, key_count};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    auto retry = [this, &script, keys = std::move(keys), args = std::move(args),
                  done = std::move(done)](const redisReply* reply) mutable {
        if (reply == nullptr || reply->type != REDIS_REPLY_ERROR ||
            !text(reply).starts_with("NOSCRIPT")) {
            done(reply);
            return;
        }
        const std::string count = std::to_string(keys.size());
        std::vector<std::string_view> eval{"EVAL", script.body, count};
        eval.insert(eval.end(), keys.begin(), keys.end());
        eval.insert(eval.end(), args.begin(), args.end());
        // Redis itself is the one in the callback: the link is up, unless it just went down.
        auto shared = std::make_shared<RedisLink::Completion>(std::move(done));
        if (!commands_->command(eval, [shared](const redisReply* r) { (*shared)(r); }))
            (*shared)(nullptr);
    };
    return commands_->command(argv, std::move(retry));
}

// ---------------------------------------------------------------------------------------------
// History, node commands

void RedisBroker::read_history(std::string room, std::uint64_t after_offset, std::size_t limit,
                               std::chrono::milliseconds max_age,
                               std::function<void(HistoryRead)> done) {
    auto completion = [done, limit](const redisReply* reply) {
        HistoryRead read;
        if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements < 4) {
            read.ok = false;
            read.error = failure(reply);
            done(std::move(read));
            return;
        }
        read.epoch = std::string(text(element(reply, 0)));
        read.last_offset = number(element(reply, 1));
        read.oldest_offset = number(element(reply, 2));
        const redisReply* entries = element(reply, 3);
        for (std::size_t i = 0; entries && i < entries->elements; ++i) {
            const redisReply* entry = entries->element[i];
            const redisReply* fields = element(entry, 1);
            read.entries.push_back(
                {number(element(entry, 0)), std::string(text(element(fields, 1)))});
        }
        if (limit == 0)
            read.entries.clear();  // Redis has no COUNT 0: one entry was read, none is wanted
        done(std::move(read));
    };
    const std::string count = std::to_string(std::max<std::size_t>(limit, 1));
    if (!run_script(history_script(), {names_.meta_key(room), names_.log_key(room)},
                    {std::to_string(after_offset), count,
                     std::to_string(std::max<long long>(max_age.count(), 0))},
                    completion)) {
        HistoryRead read;
        read.ok = false;
        read.error = "Redis is unreachable";
        later([done, read = std::move(read)]() mutable { done(std::move(read)); });
    }
}

void RedisBroker::send_command(std::string channel, std::string payload) {
    if (state() == BrokerState::closed)
        return;
    // Node commands are not queued: they are meant for nodes that are reachable now.
    const std::string envelope = encode_envelope(0, {}, node_id_, payload);
    commands_->command({"PUBLISH", channel, envelope}, {});
}

void RedisBroker::broadcast(std::string payload) {
    send_command(names_.broadcast_channel(), std::move(payload));
}

void RedisBroker::send_to_node(std::string node, std::string payload) {
    if (!valid_token(node))
        return;
    send_command(names_.node_channel(node), std::move(payload));
}

// ---------------------------------------------------------------------------------------------
// Presence and heartbeats

void RedisBroker::presence_set(std::string room, std::string user, std::size_t connections,
                               std::string info_json, std::function<void(PresenceChange)> done) {
    auto room_it = presence_.find(room);
    if (connections == 0) {
        if (room_it != presence_.end()) {
            room_it->second.erase(user);
            if (room_it->second.empty())
                presence_.erase(room_it);
        }
    } else {
        LocalPresence& entry = presence_[room][user];
        entry.connections = connections;
        if (!info_json.empty())
            entry.info_json = std::move(info_json);
    }
    if (commands_->up()) {
        send_presence(room, user, std::move(done));
    } else if (done) {
        // Restored when the connection comes back (command_link_up).
        later([done = std::move(done)] {
            done({false, "Redis is unreachable: presence is restored on reconnect", 0, 0});
        });
    }
}

void RedisBroker::send_presence(const std::string& room, const std::string& user,
                                std::function<void(PresenceChange)> done) {
    std::size_t connections = 0;
    std::string info;
    if (const auto it = presence_.find(room); it != presence_.end()) {
        if (const auto entry = it->second.find(user); entry != it->second.end()) {
            connections = entry->second.connections;
            info = entry->second.info_json;
        }
    }
    const bool sent = run_script(
        presence_set_script(),
        {names_.nodes_key(), names_.presence_nodes_key(room), names_.presence_users_key(room),
         names_.presence_info_key(room), names_.node_rooms_key(node_id_)},
        {node_id_, user, std::to_string(connections), info, room}, [done](const redisReply* reply) {
            if (!done)
                return;
            PresenceChange change;
            if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
                change.ok = false;
                change.error = failure(reply);
            } else {
                change.cluster_before = number(element(reply, 0));
                change.cluster_after = number(element(reply, 1));
            }
            done(std::move(change));
        });
    if (!sent && done)
        later([done] { done({false, "Redis is unreachable", 0, 0}); });
}

void RedisBroker::presence_list(std::string room,
                                std::function<void(bool, std::vector<PresenceEntry>)> done) {
    const bool sent = run_script(
        presence_list_script(), {names_.presence_users_key(room), names_.presence_info_key(room)},
        {}, [done](const redisReply* reply) {
            if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
                done(false, {});
                return;
            }
            std::map<std::string, PresenceEntry> users;
            const redisReply* counts = element(reply, 0);
            for (std::size_t i = 0; i + 1 < counts->elements; i += 2) {
                const auto connections = number(counts->element[i + 1]);
                if (connections == 0)
                    continue;
                std::string user(text(counts->element[i]));
                users[user] = {user, static_cast<std::size_t>(connections), {}};
            }
            const redisReply* infos = element(reply, 1);
            for (std::size_t i = 0; infos && i + 1 < infos->elements; i += 2) {
                const auto it = users.find(std::string(text(infos->element[i])));
                if (it != users.end())
                    it->second.info_json = std::string(text(infos->element[i + 1]));
            }
            std::vector<PresenceEntry> entries;
            entries.reserve(users.size());
            for (auto& [user, entry] : users)
                entries.push_back(std::move(entry));
            done(true, std::move(entries));
        });
    if (!sent)
        later([done] { done(false, {}); });
}

void RedisBroker::live_nodes(std::function<void(bool, std::vector<std::string>)> done) {
    const bool sent =
        run_script(live_nodes_script(), {names_.nodes_key()}, {}, [done](const redisReply* reply) {
            if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
                done(false, {});
                return;
            }
            std::vector<std::string> nodes;
            for (std::size_t i = 0; i < reply->elements; ++i)
                nodes.emplace_back(text(reply->element[i]));
            done(true, std::move(nodes));
        });
    if (!sent)
        later([done] { done(false, {}); });
}

void RedisBroker::heartbeat_tick() {
    if (state() == BrokerState::closed)
        return;
    expire_waiting();
    const auto now = Clock::now();
    if (heartbeat_sent_ && now - *heartbeat_sent_ > options_.command_timeout) {
        // Redis accepts the connection but does not answer: start over.
        heartbeat_sent_.reset();
        commands_->drop("Redis does not answer");
        subscriber_->drop("Redis does not answer");
    }
    if (commands_->up() && !heartbeat_sent_) {
        heartbeat_sent_ = now;
        run_script(heartbeat_script(), {names_.nodes_key(), names_.alive_key(node_id_)},
                   {node_id_, std::to_string(options_.node_ttl.count()), names_.prefix()},
                   [this, sent = now](const redisReply* reply) {
                       if (heartbeat_sent_ == sent)
                           heartbeat_sent_.reset();
                       if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY)
                           return;
                       // Registered anew while presence is known here: this node was taken
                       // for dead (or Redis lost its data); put its presence back.
                       if (number(element(reply, 0)) == 1) {
                           for (const auto& [room, users] : presence_) {
                               for (const auto& [user, entry] : users)
                                   send_presence(room, user, {});
                           }
                       }
                       const redisReply* lost = element(reply, 1);
                       for (std::size_t i = 0; lost && i < lost->elements; ++i) {
                           const redisReply* group = lost->element[i];
                           if (group->type != REDIS_REPLY_ARRAY || group->elements < 2)
                               continue;
                           std::vector<std::string> users;
                           for (std::size_t u = 1; u < group->elements; ++u)
                               users.emplace_back(text(group->element[u]));
                           if (handlers_.on_presence_lost)
                               handlers_.on_presence_lost(std::string(text(group->element[0])),
                                                          std::move(users));
                       }
                   });
    }
    heartbeat_timer_.expires_after(options_.heartbeat_interval);
    heartbeat_timer_.async_wait(
        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& error) {
            if (!error && alive.lock())
                heartbeat_tick();
        });
}

}  // namespace huddle::broker
