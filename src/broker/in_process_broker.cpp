#include "broker/in_process_broker.hpp"

#include <random>

#include <boost/asio/post.hpp>

namespace huddle::broker {

namespace {

std::string random_epoch() {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::random_device device;
    std::string epoch(16, '0');
    for (auto& c : epoch)
        c = kDigits[device() % 16];
    return epoch;
}

}  // namespace

InProcessBroker::InProcessBroker(boost::asio::io_context& io, std::string node_id)
    : io_(io), node_id_(std::move(node_id)) {}

InProcessBroker::~InProcessBroker() {
    handlers_ = {};  // the owner is going away: no handler runs from here on
    close();
    alive_.reset();  // what is still posted is dropped
}

template <typename Task>
void InProcessBroker::later(Task task) {
    boost::asio::post(io_, [alive = std::weak_ptr<bool>(alive_), task = std::move(task)]() mutable {
        if (alive.lock())
            task();
    });
}

void InProcessBroker::start(Handlers handlers) {
    handlers_ = std::move(handlers);
    if (handlers_.on_state)
        handlers_.on_state(state());
}

void InProcessBroker::close() {
    if (state_.exchange(BrokerState::closed) != BrokerState::closed && handlers_.on_state)
        handlers_.on_state(BrokerState::closed);
}

BrokerStats InProcessBroker::stats() const {
    BrokerStats stats;
    stats.published = published_.load(std::memory_order_relaxed);
    stats.publish_failures = failures_.load(std::memory_order_relaxed);
    stats.received = received_.load(std::memory_order_relaxed);
    return stats;
}

void InProcessBroker::subscribe(const std::vector<std::string>& rooms) {
    for (const auto& room : rooms)
        subscribed_.insert(room);
}

void InProcessBroker::unsubscribe(const std::vector<std::string>& rooms) {
    for (const auto& room : rooms)
        subscribed_.erase(room);
}

void InProcessBroker::deliver(std::string room, std::uint64_t offset, std::string epoch,
                              std::string payload) {
    later([this, room = std::move(room), offset, epoch = std::move(epoch),
           payload = std::move(payload)] {
        if (state() == BrokerState::closed || !subscribed_.contains(room) || !handlers_.on_message)
            return;
        received_.fetch_add(1, std::memory_order_relaxed);
        handlers_.on_message(Message{room, offset, epoch, node_id_, payload});
    });
}

void InProcessBroker::publish(std::string room, std::string payload, PublishOptions options,
                              std::function<void(PublishResult)> done) {
    PublishResult result;
    if (state() == BrokerState::closed) {
        failures_.fetch_add(1, std::memory_order_relaxed);
        result.status = PublishStatus::closed;
        if (done)
            done(std::move(result));
        return;
    }
    if (options.history) {
        RoomHistory& history = history_[room];
        if (history.epoch.empty())
            history.epoch = random_epoch();
        result.epoch = history.epoch;
        const auto known = options.idempotency_key.empty()
                               ? history.keys.end()
                               : history.keys.find(options.idempotency_key);
        if (known != history.keys.end()) {
            result.status = PublishStatus::duplicate;
            result.offset = known->second;
        } else {
            result.offset = ++history.last;
            history.entries.push_back({result.offset, payload});
            history.times.push_back(std::chrono::steady_clock::now());
            while (history.entries.size() > std::max<std::size_t>(options.history_length, 1)) {
                history.entries.pop_front();
                history.times.pop_front();
            }
            drop_older(history, options.history_max_age);
            if (!options.idempotency_key.empty()) {
                history.keys.emplace(options.idempotency_key, result.offset);
                history.key_order.push_back(options.idempotency_key);
                while (history.key_order.size() >
                       std::max<std::size_t>(options.history_length, 1)) {
                    history.keys.erase(history.key_order.front());
                    history.key_order.pop_front();
                }
            }
            deliver(room, result.offset, result.epoch, std::move(payload));
        }
    } else {
        deliver(room, 0, {}, std::move(payload));
    }
    published_.fetch_add(1, std::memory_order_relaxed);
    if (done)
        later([done = std::move(done), result = std::move(result)]() mutable {
            done(std::move(result));
        });
}

void InProcessBroker::drop_older(RoomHistory& history, std::chrono::milliseconds max_age) {
    if (max_age.count() <= 0)
        return;
    const auto cutoff = std::chrono::steady_clock::now() - max_age;
    while (!history.times.empty() && history.times.front() < cutoff) {
        history.entries.pop_front();
        history.times.pop_front();
    }
}

void InProcessBroker::read_history(std::string room, std::uint64_t after_offset, std::size_t limit,
                                   std::chrono::milliseconds max_age,
                                   std::function<void(HistoryRead)> done) {
    HistoryRead read;
    if (const auto it = history_.find(room); it != history_.end()) {
        RoomHistory& history = it->second;
        drop_older(history, max_age);
        read.epoch = history.epoch;
        read.last_offset = history.last;
        read.oldest_offset = history.entries.empty() ? 0 : history.entries.front().offset;
        for (const auto& entry : history.entries) {
            if (read.entries.size() >= limit)
                break;
            if (entry.offset > after_offset)
                read.entries.push_back(entry);
        }
    }
    later([done = std::move(done), read = std::move(read)]() mutable { done(std::move(read)); });
}

void InProcessBroker::live_nodes(std::function<void(bool, std::vector<std::string>)> done) {
    later([this, done = std::move(done)] { done(true, {node_id_}); });
}

void InProcessBroker::broadcast(std::string payload) {
    later([this, payload = std::move(payload)] {
        if (state() != BrokerState::closed && handlers_.on_command)
            handlers_.on_command(node_id_, payload);
    });
}

void InProcessBroker::send_to_node(std::string node, std::string payload) {
    if (node == node_id_)
        broadcast(std::move(payload));
}

void InProcessBroker::presence_set(std::string room, std::string user, std::size_t connections,
                                   std::string info_json,
                                   std::function<void(PresenceChange)> done) {
    PresenceChange change;
    auto& users = presence_[room];
    UserPresence& entry = users[user];
    change.cluster_before = entry.connections;
    change.cluster_after = connections;
    entry.connections = connections;
    if (!info_json.empty())
        entry.info_json = std::move(info_json);
    if (connections == 0) {
        users.erase(user);
        if (users.empty())
            presence_.erase(room);
    }
    if (done)
        later([done = std::move(done), change = std::move(change)]() mutable {
            done(std::move(change));
        });
}

void InProcessBroker::presence_list(std::string room,
                                    std::function<void(bool, std::vector<PresenceEntry>)> done) {
    std::vector<PresenceEntry> entries;
    if (const auto it = presence_.find(room); it != presence_.end()) {
        for (const auto& [user, entry] : it->second)
            entries.push_back({user, entry.connections, entry.info_json});
    }
    later([done = std::move(done), entries = std::move(entries)]() mutable {
        done(true, std::move(entries));
    });
}

}  // namespace huddle::broker
