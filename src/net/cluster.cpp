#include "net/cluster.hpp"

#include <algorithm>
#include <future>

#include <boost/asio/post.hpp>

#include "broker/redis_broker.hpp"
#include "endpoints/json_text.hpp"
#include "endpoints/rooms_messages.hpp"
#include "net/clock.hpp"
#include "net/event_loop.hpp"
#include "net/server.hpp"
#include "observability/log.hpp"

namespace huddle::net {
namespace asio = boost::asio;
using observability::log;
using observability::LogLevel;

namespace {

// A node's own probe coming back through its subscription proves the subscription is live.
constexpr std::string_view kProbe = "P1";
constexpr auto kProbeTick = std::chrono::milliseconds(10);
constexpr auto kProbeRetry = std::chrono::milliseconds(50);
// A history join that cannot finish (broker away) answers after this, telling the client why.
constexpr auto kJoinDeadline = std::chrono::milliseconds(3000);
constexpr std::uint64_t kMaxReplay = 10'000;
constexpr std::size_t kCatchUpLimit = 10'000;
// A stopping node waits at most this long for its last presence changes to reach Redis.
constexpr auto kDrainLimit = std::chrono::milliseconds(1000);
// GET /stats?scope=cluster answers with the nodes that answered within this.
constexpr auto kStatsDeadline = std::chrono::milliseconds(1000);

bool is_internal_room(const std::string& room) {
    // Document rooms carry Yjs traffic, which their owner loop relays itself.
    return !room.empty() && room.front() == '#';
}

std::unique_ptr<broker::Broker> make_broker(asio::io_context& io,
                                            const config::BrokerSettings& settings) {
    broker::RedisBrokerOptions options;
    options.url = settings.url;
    options.node_ttl = settings.presence_ttl;
    // Several heartbeats per period: one late answer does not make a live node look dead, and a
    // dead one is noticed soon after its time runs out.
    options.heartbeat_interval =
        std::max(std::chrono::milliseconds(100), settings.presence_ttl / 5);
    try {
        return std::make_unique<broker::RedisBroker>(io, std::move(options));
    } catch (const std::exception& error) {
        throw std::runtime_error("cannot use broker.url " + settings.url + ": " + error.what());
    }
}

// A history entry as its members receive it; nullopt for an entry that is not an event.
std::optional<std::string> history_event_text(const std::string& room,
                                              const broker::HistoryEntry& entry,
                                              const std::string& epoch) {
    const std::optional<ClusterEvent> event = decode_cluster_event(entry.payload);
    if (!event)
        return std::nullopt;
    return endpoints::encode_event(event->type, room, event->payload_json, event->timestamp_ms,
                                   event->user_id, entry.offset, epoch);
}

std::string presence_payload(const std::string& user, const std::string* info_json) {
    std::string payload = "{\"userId\":";
    endpoints::append_json_string(payload, user);
    if (info_json != nullptr) {
        payload += ",\"info\":";
        payload += info_json->empty() ? "{}" : *info_json;
    }
    payload += '}';
    return payload;
}

}  // namespace

struct Cluster::PendingJoin {
    std::string room;
    std::optional<endpoints::Request::Resume> resume;
    EventLoop* reply_loop = nullptr;
    std::function<void(HistoryJoin)> done;
    bool reading = false;
    bool read_done = false;
    bool answered = false;
    bool recovering = false;
    bool probed = false;  // a probe was sent to learn when every earlier event has arrived
    // A join without resume recovers from where the room stood when the join began (`implicit`),
    // as if the client had asked to: the events published after its subscribe answer, while the
    // subscription is proven and the history read, are replayed instead of skipped.
    bool implicit = false;
    bool located = false;  // the starting point is known (given, read, or not readable)
    std::string epoch;
    std::uint64_t position = 0;
    std::string reason;
    std::vector<std::string> missed;
    // Events fanned out while the read was in flight: (offset, epoch, text).
    struct Seen {
        std::uint64_t offset;
        std::string epoch;
        std::string text;
    };
    std::vector<Seen> seen;
    std::unique_ptr<asio::steady_timer> deadline;

    void absorb(std::uint64_t offset, const std::string& event_epoch, const std::string& text) {
        if (!read_done) {
            seen.push_back({offset, event_epoch, text});
            return;
        }
        if (event_epoch != epoch || offset <= position)
            return;
        if (recovering)
            missed.push_back(text);
        position = offset;
    }
};

Cluster::Cluster(Server& server, const config::BrokerSettings& settings)
    : server_(server),
      io_(1),
      work_(asio::make_work_guard(io_)),
      broker_(make_broker(io_, settings)),
      probe_timer_(io_),
      drain_timer_(io_),
      liveness_timer_(io_),
      // As often as the broker's heartbeats: a dead node's states go soon after its time is up.
      liveness_interval_(std::max(std::chrono::milliseconds(100), settings.presence_ttl / 5)) {}

Cluster::~Cluster() {
    stop();
}

void Cluster::start() {
    broker::Broker::Handlers handlers;
    handlers.on_message = [this](const broker::Message& message) { on_message(message); };
    handlers.on_command = [this](std::string_view origin, std::string_view payload) {
        on_command(origin, payload);
    };
    handlers.on_state = [this](broker::BrokerState state) { on_state(state); };
    handlers.on_presence_lost = [this](std::string room, std::vector<std::string> users) {
        on_presence_lost(room, users);
    };
    asio::post(io_, [this, handlers = std::move(handlers)]() mutable {
        broker_->start(std::move(handlers));
    });
    thread_ = std::thread([this] { io_.run(); });
    log(LogLevel::info, "cluster.started", {{"node", broker_->node_id()}});
}

void Cluster::stop() {
    if (stopped_.exchange(true))
        return;
    if (!thread_.joinable())
        return;
    // The last connections' presence changes and their leave events are still on their way to
    // Redis: give them a moment, or those users would leave nowhere (their counts gone, no event).
    std::promise<void> drained;
    asio::post(
        io_, [this, &drained] { drain(std::chrono::steady_clock::now() + kDrainLimit, drained); });
    drained.get_future().wait();
    asio::post(io_, [this] {
        probe_timer_.timer.cancel();
        liveness_timer_.timer.cancel();
        for (auto& [room, state] : rooms_) {
            for (auto& join : state.joins) {
                if (join->deadline)
                    join->deadline->cancel();
            }
        }
        broker_->close();
        work_.reset();
        io_.stop();
    });
    thread_.join();
}

void Cluster::drain(std::chrono::steady_clock::time_point deadline, std::promise<void>& drained) {
    const bool idle = presence_in_flight_ == 0 && broker_->stats().pending == 0;
    if (idle || broker_->state() == broker::BrokerState::reconnecting ||
        std::chrono::steady_clock::now() >= deadline) {
        drained.set_value();
        return;
    }
    drain_timer_.expires_after(std::chrono::milliseconds(5));
    drain_timer_.async_wait(
        [this, deadline, &drained](const boost::system::error_code&) { drain(deadline, drained); });
}

// ---- interest -----------------------------------------------------------------------------------

void Cluster::room_changed(std::string room, bool exists) {
    if (is_internal_room(room))
        return;
    asio::post(io_, [this, room = std::move(room), exists] {
        if (exists) {
            add_interest(room);
        } else {
            release_interest(room);
        }
    });
}

void Cluster::add_interest(const std::string& room) {
    RoomState& state = rooms_[room];
    if (state.interest++ != 0)
        return;
    state.history = server_.namespaces_.rules_for(room).history != 0;
    broker_->subscribe({room});
    unready_.insert(room);
    schedule_probes();
}

void Cluster::release_interest(const std::string& room) {
    const auto it = rooms_.find(room);
    if (it == rooms_.end() || --it->second.interest != 0)
        return;
    broker_->unsubscribe({room});
    unready_.erase(room);
    rooms_.erase(it);
}

// ---- readiness
// ------------------------------------------------------------------------------------

void Cluster::schedule_probes() {
    const bool documents_waiting =
        std::any_of(documents_.begin(), documents_.end(),
                    [](const auto& entry) { return !entry.second.ready; });
    if ((unready_.empty() && !documents_waiting) || stopped_)
        return;
    probe_timer_.arm(kProbeTick, [this] { probe_tick(); });
}

void Cluster::probe_tick() {
    if (broker_->state() != broker::BrokerState::reconnecting) {
        const auto now = std::chrono::steady_clock::now();
        for (auto& [room, document] : documents_) {
            if (document.ready || now - document.last_probe < kProbeRetry)
                continue;
            document.last_probe = now;
            broker_->publish(room, std::string(kProbe), {}, {});
        }
        for (const std::string& room : unready_) {
            RoomState& state = rooms_[room];
            if (now - state.last_probe < kProbeRetry)
                continue;
            state.last_probe = now;
            broker_->publish(room, std::string(kProbe), {}, {});
        }
    }
    schedule_probes();
}

void Cluster::schedule_liveness_check() {
    if (awareness_origins_.empty() || stopped_)
        return;
    liveness_timer_.arm(liveness_interval_, [this] { check_awareness_origins(); });
}

void Cluster::check_awareness_origins() {
    broker_->live_nodes([this](bool ok, std::vector<std::string> nodes) {
        // Without an answer nothing is known to be dead: keep everything.
        if (ok) {
            const std::set<std::string> live(nodes.begin(), nodes.end());
            for (auto it = awareness_origins_.begin(); it != awareness_origins_.end();) {
                if (live.count(*it) != 0) {
                    ++it;
                    continue;
                }
                log(LogLevel::info, "cluster.node_awareness_dropped", {{"node", *it}});
                server_.forget_node_awareness(*it);
                it = awareness_origins_.erase(it);
            }
        }
        schedule_liveness_check();
    });
}

void Cluster::mark_ready(const std::string& room, RoomState& state) {
    state.ready = true;
    unready_.erase(room);
    // Ready again after a lost subscription: fetch what the room's history kept meanwhile.
    if (state.history && state.delivered != 0)
        catch_up(room);
    for (const auto& join : std::vector(state.joins)) {
        if (!join->reading && join->located)
            start_read(join);
    }
}

void Cluster::on_state(broker::BrokerState broker_state) {
    log(broker_state == broker::BrokerState::connected ? LogLevel::info : LogLevel::warn,
        "cluster.broker_state", {{"state", std::string(broker::to_string(broker_state))}});
    if (broker_state == broker::BrokerState::connected)
        return;
    // Whatever was subscribed may have missed messages: prove each subscription again.
    for (auto& [room, document] : documents_)
        document.ready = false;
    for (auto& [room, state] : rooms_) {
        if (state.ready) {
            state.ready = false;
            unready_.insert(room);
        }
    }
    schedule_probes();
}

void Cluster::catch_up(const std::string& room) {
    RoomState& waiting = rooms_[room];
    waiting.catching_up = true;
    broker_->read_history(
        room, waiting.delivered, kCatchUpLimit, max_age(room),
        [this, room](broker::HistoryRead read) {
            const auto it = rooms_.find(room);
            if (it == rooms_.end())
                return;
            RoomState& state = it->second;
            state.catching_up = false;
            if (read.ok && read.epoch == state.epoch) {
                for (const auto& entry : read.entries) {
                    if (deliver_history(room, state, entry.offset, read.epoch, {}, entry.payload))
                        recovered_.fetch_add(1, std::memory_order_relaxed);
                }
            } else if (!read.ok) {
                log(LogLevel::warn, "cluster.catch_up_failed",
                    {{"room", room}, {"error", read.error}});
            }
            std::vector<std::pair<std::uint64_t, std::string>> held;
            held.swap(state.held);
            for (auto& [offset, payload] : held) {
                // Held messages are "<epoch>\n<origin>\n<payload>".
                const std::size_t first = payload.find('\n');
                const std::size_t second = payload.find('\n', first + 1);
                deliver_history(room, state, offset, payload.substr(0, first),
                                std::string_view(payload).substr(first + 1, second - first - 1),
                                std::string_view(payload).substr(second + 1));
            }
        });
}

// ---- messages -----------------------------------------------------------------------------------

void Cluster::on_message(const broker::Message& message) {
    if (is_internal_room(std::string(message.room))) {
        on_document_message(message);
        return;
    }
    const std::string room(message.room);
    const auto it = rooms_.find(room);
    if (it == rooms_.end())
        return;
    RoomState& state = it->second;
    if (message.payload == kProbe) {
        if (message.origin != broker_->node_id())
            return;
        // Every event published before this probe has come through the subscription already.
        for (const auto& join : std::vector(state.joins)) {
            if (join->read_done && join->probed)
                answer(join);
        }
        if (!state.ready)
            mark_ready(room, state);
        return;
    }
    if (message.offset == 0) {
        deliver_plain(room, message.origin, message.payload);
        return;
    }
    if (state.catching_up) {
        std::string held(message.epoch);
        held += '\n';
        held += message.origin;
        held += '\n';
        held += message.payload;
        state.held.emplace_back(message.offset, std::move(held));
        return;
    }
    deliver_history(room, state, message.offset, std::string(message.epoch), message.origin,
                    message.payload);
}

void Cluster::deliver_plain(const std::string& room, std::string_view origin,
                            std::string_view payload) {
    std::optional<ClusterEvent> event = decode_cluster_event(payload);
    if (!event)
        return;
    const bool mine = origin == broker_->node_id();
    if (mine && event->delivered_at_origin)
        return;
    server_.fan_out(room,
                    endpoints::encode_event(event->type, room, event->payload_json,
                                            event->timestamp_ms, event->user_id),
                    mine ? event->excluded_connection : 0, std::move(event->excluded_users));
    delivered_.fetch_add(1, std::memory_order_relaxed);
}

bool Cluster::deliver_history(const std::string& room, RoomState& state, std::uint64_t offset,
                              const std::string& epoch, std::string_view origin,
                              std::string_view payload) {
    if (epoch == state.epoch && offset <= state.delivered) {
        duplicates_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    std::optional<ClusterEvent> event = decode_cluster_event(payload);
    if (!event)
        return false;
    const bool mine = origin == broker_->node_id();
    const std::string text = endpoints::encode_event(
        event->type, room, event->payload_json, event->timestamp_ms, event->user_id, offset, epoch);
    server_.fan_out(room, text, mine ? event->excluded_connection : 0,
                    std::move(event->excluded_users));
    delivered_.fetch_add(1, std::memory_order_relaxed);
    state.epoch = epoch;
    state.delivered = offset;
    for (const auto& join : std::vector(state.joins)) {
        join->absorb(offset, epoch, text);
        if (join->read_done)
            try_answer(join);
    }
    return true;
}

void Cluster::publish(PublishRequest request) {
    asio::post(io_, [this, request = std::move(request)]() mutable {
        const core::NamespaceSettings& rules = server_.namespaces_.rules_for(request.room);
        ClusterEvent event{
            request.type,           request.user_id,      wall_ms(), request.excluded_connection,
            request.excluded_users, request.payload_json, false};
        broker::PublishOptions options;
        if (rules.history != 0) {
            options.history = true;
            options.history_length = rules.history;
            options.idempotency_key = request.idempotency_key;
            options.history_max_age = std::chrono::milliseconds(rules.history_max_age_ms);
        } else if (const auto it = rooms_.find(request.room);
                   it != rooms_.end() && !it->second.ready) {
            // Our subscription is not live yet (new room, or the broker is away): our members get
            // it now, and the other nodes through the broker when it is reachable.
            server_.fan_out(request.room,
                            endpoints::encode_event(event.type, request.room, event.payload_json,
                                                    event.timestamp_ms, event.user_id),
                            event.excluded_connection, event.excluded_users);
            event.delivered_at_origin = true;
            if (broker_->state() == broker::BrokerState::reconnecting) {
                Server::complete(request, {});
                return;
            }
        }
        auto pending = std::make_shared<PublishRequest>(std::move(request));
        broker_->publish(pending->room, encode_cluster_event(event), std::move(options),
                         [pending](broker::PublishResult result) {
                             PublishOutcome outcome;
                             outcome.ok = result.ok();
                             outcome.duplicate = result.status == broker::PublishStatus::duplicate;
                             outcome.offset = result.offset;
                             if (!result.ok()) {
                                 outcome.error = "the broker did not take the event (" +
                                                 std::string(broker::to_string(result.status)) +
                                                 "): " + result.error;
                             }
                             Server::complete(*pending, std::move(outcome));
                         });
    });
}

void Cluster::publish_plain(const std::string& room, ClusterEvent event) {
    if (const auto it = rooms_.find(room); it != rooms_.end() && !it->second.ready) {
        // As publish(): our members must not wait for our subscription to be proven.
        server_.fan_out(room,
                        endpoints::encode_event(event.type, room, event.payload_json,
                                                event.timestamp_ms, event.user_id),
                        event.excluded_connection, event.excluded_users);
        event.delivered_at_origin = true;
        if (broker_->state() == broker::BrokerState::reconnecting)
            return;
    }
    broker_->publish(room, encode_cluster_event(event), {}, {});
}

// ---- documents ----------------------------------------------------------------------------------

void Cluster::document_loaded(std::string document, bool loaded) {
    asio::post(io_, [this, room = Server::document_room(document), loaded] {
        if (!loaded) {
            if (documents_.erase(room) != 0)
                broker_->unsubscribe({room});
            return;
        }
        if (!documents_.emplace(room, DocumentState{}).second)
            return;
        broker_->subscribe({room});
        schedule_probes();
    });
}

void Cluster::document_publish(const std::string& document, const DocumentCast& cast) {
    asio::post(io_, [this, room = Server::document_room(document),
                     payload = endpoints::encode_document_cast(cast)]() mutable {
        broker_->publish(std::move(room), std::move(payload), {}, {});
    });
}

void Cluster::on_document_message(const broker::Message& message) {
    const std::string room(message.room);
    const auto it = documents_.find(room);
    if (it == documents_.end())
        return;
    const bool mine = message.origin == broker_->node_id();
    if (message.payload == kProbe) {
        if (!mine || it->second.ready)
            return;
        it->second.ready = true;
        // Updates stored before the subscription was live never come through it: read them.
        server_.document_catch_up(room.substr(Server::document_room("").size()));
        return;
    }
    // The origin relayed its own messages when it accepted them.
    if (mine)
        return;
    std::optional<DocumentCast> cast = endpoints::decode_document_cast(message.payload);
    if (!cast)
        return;
    if (cast->kind == DocumentCast::Kind::awareness &&
        awareness_origins_.emplace(message.origin).second)
        schedule_liveness_check();
    server_.document_from_cluster(room.substr(Server::document_room("").size()),
                                  std::string(message.origin), std::move(*cast));
    delivered_.fetch_add(1, std::memory_order_relaxed);
}

// ---- presence -----------------------------------------------------------------------------------

void Cluster::presence_changed(std::string room, std::string user, std::size_t local_before,
                               std::size_t local_after, std::string info_json,
                               std::uint64_t connection) {
    asio::post(io_, [this, room = std::move(room), user = std::move(user), local_before,
                     local_after, info_json = std::move(info_json), connection]() mutable {
        const std::string info = info_json;
        ++presence_in_flight_;
        broker_->presence_set(
            room, user, local_after, std::move(info_json),
            [this, room, user, local_before, local_after, info,
             connection](broker::PresenceChange change) {
                --presence_in_flight_;
                bool joined = change.cluster_before == 0 && change.cluster_after != 0;
                bool left = change.cluster_before != 0 && change.cluster_after == 0;
                if (!change.ok) {
                    // Redis away: this node's members hear of this node's changes (the broker
                    // writes the figures back when it reconnects).
                    joined = local_before == 0 && local_after != 0;
                    left = local_before != 0 && local_after == 0;
                }
                if (!joined && !left)
                    return;
                ClusterEvent event;
                event.type = joined ? "user.joined" : "user.left";
                event.user_id = user;
                event.timestamp_ms = wall_ms();
                event.excluded_connection = connection;
                event.payload_json = presence_payload(user, joined ? &info : nullptr);
                if (!change.ok) {
                    server_.fan_out(room,
                                    endpoints::encode_event(event.type, room, event.payload_json,
                                                            event.timestamp_ms, event.user_id),
                                    connection, {});
                    return;
                }
                publish_plain(room, std::move(event));
            });
    });
}

void Cluster::on_presence_lost(const std::string& room, const std::vector<std::string>& users) {
    log(LogLevel::info, "cluster.presence_lost",
        {{"room", room}, {"users", std::to_string(users.size())}});
    for (const std::string& user : users) {
        ClusterEvent event;
        event.type = "user.left";
        event.user_id = user;
        event.timestamp_ms = wall_ms();
        event.payload_json = presence_payload(user, nullptr);
        publish_plain(room, std::move(event));
    }
}

void Cluster::presence_list(std::string room,
                            std::function<void(std::optional<std::string>)> done) {
    asio::post(io_, [this, room = std::move(room), done = std::move(done)]() mutable {
        broker_->presence_list(
            std::move(room),
            [done = std::move(done)](bool ok, std::vector<broker::PresenceEntry> entries) {
                if (!ok) {
                    done(std::nullopt);
                    return;
                }
                std::string users = "[";
                for (const broker::PresenceEntry& entry : entries) {
                    if (users.size() > 1)
                        users += ',';
                    users += "{\"userId\":";
                    endpoints::append_json_string(users, entry.user);
                    users += ",\"connections\":";
                    endpoints::append_json_int(users, static_cast<std::int64_t>(entry.connections));
                    users += ",\"info\":";
                    users += entry.info_json.empty() ? "{}" : entry.info_json;
                    users += '}';
                }
                users += ']';
                done(std::move(users));
            });
    });
}

// ---- history joins
// --------------------------------------------------------------------------------

void Cluster::join_history(std::string room, std::optional<endpoints::Request::Resume> resume,
                           EventLoop& reply_loop, std::function<void(HistoryJoin)> done) {
    auto join = std::make_shared<PendingJoin>();
    join->room = std::move(room);
    join->resume = std::move(resume);
    join->reply_loop = &reply_loop;
    join->done = std::move(done);
    asio::post(io_, [this, join] {
        add_interest(join->room);
        RoomState& state = rooms_[join->room];
        state.joins.push_back(join);
        join->deadline = std::make_unique<asio::steady_timer>(io_, kJoinDeadline);
        join->deadline->async_wait([this, join](const boost::system::error_code& error) {
            if (error || join->answered)
                return;
            if (!join->read_done) {
                join->recovering = false;
                join->missed.clear();
                join->reason = "the room's history could not be read";
            }
            answer(join);
        });
        if (join->resume) {
            join->located = true;
            if (state.ready)
                start_read(join);
            return;
        }
        broker_->read_history(
            join->room, 0, 0, max_age(join->room), [this, join](broker::HistoryRead read) {
                if (join->answered)
                    return;
                if (read.ok) {
                    join->resume =
                        endpoints::Request::Resume{join->room, read.last_offset, read.epoch};
                    join->implicit = true;
                }
                join->located = true;
                const auto it = rooms_.find(join->room);
                if (it != rooms_.end() && it->second.ready && !join->reading)
                    start_read(join);
            });
    });
}

void Cluster::start_read(const std::shared_ptr<PendingJoin>& join) {
    join->reading = true;
    const std::uint64_t after = join->resume ? join->resume->offset : 0;
    const std::size_t limit = join->resume ? kMaxReplay + 1 : 0;
    broker_->read_history(
        join->room, after, limit, max_age(join->room), [this, join](broker::HistoryRead read) {
            if (join->answered)
                return;
            join->read_done = true;
            if (!read.ok) {
                join->reason = "the room's history could not be read";
                answer(join);
                return;
            }
            join->epoch = read.epoch;
            join->position = read.last_offset;
            if (const auto& resume = join->resume) {
                const std::uint64_t from = resume->offset;
                // A client that saw nothing yet (no epoch, offset 0) recovers from the start.
                const bool from_start = resume->epoch.empty() && from == 0;
                if (!from_start && resume->epoch != read.epoch) {
                    join->reason = "the room's history has another epoch: resync";
                } else if (from > read.last_offset) {
                    join->reason = "the offset is ahead of the room's history";
                } else if (read.last_offset - from > kMaxReplay) {
                    join->reason = "more events were missed than a recovery replays: resync";
                } else if (from < read.last_offset &&
                           (read.oldest_offset == 0 || read.oldest_offset > from + 1)) {
                    join->reason = "the missed events are no longer kept: resync";
                } else {
                    join->recovering = true;
                    for (const auto& entry : read.entries) {
                        if (entry.offset > read.last_offset)
                            break;
                        if (auto text = history_event_text(join->room, entry, read.epoch))
                            join->missed.push_back(std::move(*text));
                    }
                }
            }
            std::vector<PendingJoin::Seen> seen;
            seen.swap(join->seen);
            for (const auto& item : seen)
                join->absorb(item.offset, item.epoch, item.text);
            try_answer(join);
        });
}

void Cluster::try_answer(const std::shared_ptr<PendingJoin>& join) {
    if (join->answered)
        return;
    const auto it = rooms_.find(join->room);
    // Answer once this node has fanned out everything up to the position: what comes after it
    // reaches the client as a member, what came before is in its replay.
    const bool caught_up = join->epoch.empty() || join->position == 0 ||
                           (it != rooms_.end() && it->second.epoch == join->epoch &&
                            it->second.delivered >= join->position);
    if (caught_up) {
        answer(join);
        return;
    }
    // Events up to the position were published either before this node's subscription was live
    // (they never come) or after (they are on their way): a probe published now comes back after
    // all of them.
    if (!join->probed) {
        join->probed = true;
        broker_->publish(join->room, std::string(kProbe), {}, {});
    }
}

void Cluster::answer(const std::shared_ptr<PendingJoin>& join) {
    join->answered = true;
    if (join->deadline)
        join->deadline->cancel();
    if (const auto it = rooms_.find(join->room); it != rooms_.end())
        std::erase(it->second.joins, join);
    HistoryJoin result;
    endpoints::RoomPositionMessage position{.room = join->room};
    position.epoch = join->epoch;
    position.offset = join->position;
    position.recovery_requested = join->resume.has_value() && !join->implicit;
    position.recovered = join->recovering;
    position.missed = join->missed.size();
    position.reason = join->reason;
    result.position_message = endpoints::encode_room_position(position);
    result.missed_events = std::move(join->missed);
    // Posted after every fan-out so far: the loop joins the client before the next event. The
    // join's interest is released only after the loop's own (posted from there, so later).
    asio::post(join->reply_loop->io(), [this, done = std::move(join->done),
                                        result = std::move(result), room = join->room]() mutable {
        done(std::move(result));
        asio::post(io_, [this, room] { release_interest(room); });
    });
}

std::chrono::milliseconds Cluster::max_age(const std::string& room) const {
    return std::chrono::milliseconds(server_.namespaces_.rules_for(room).history_max_age_ms);
}

void Cluster::room_history(std::string room, std::uint64_t after, std::size_t limit,
                           std::function<void(HistoryPage)> done) {
    asio::post(io_, [this, room = std::move(room), after, limit, done = std::move(done)]() mutable {
        const auto age = max_age(room);
        broker_->read_history(room, after, limit, age,
                              [room, after, done = std::move(done)](broker::HistoryRead read) {
                                  HistoryPage page;
                                  page.ok = read.ok;
                                  page.error = std::move(read.error);
                                  page.epoch = std::move(read.epoch);
                                  page.last_offset = read.last_offset;
                                  page.next = after;
                                  for (const auto& entry : read.entries) {
                                      if (auto text = history_event_text(room, entry, page.epoch)) {
                                          page.events.push_back(std::move(*text));
                                          page.next = entry.offset;
                                      }
                                  }
                                  done(std::move(page));
                              });
    });
}

// ---- node commands
// --------------------------------------------------------------------------------

void Cluster::broadcast(const ClusterCommand& command) {
    asio::post(io_, [this, payload = encode_cluster_command(command)]() mutable {
        broker_->broadcast(std::move(payload));
    });
}

void Cluster::on_command(std::string_view origin, std::string_view payload) {
    if (origin == broker_->node_id())
        return;  // the sender did its part itself
    if (std::optional<endpoints::NodeStatsReply> reply = endpoints::decode_node_stats(payload)) {
        const auto it = stats_requests_.find(reply->request_id);
        if (it == stats_requests_.end() || it->second.waiting.erase(std::string(origin)) == 0)
            return;  // answered too late, or twice
        it->second.answers.push_back(std::move(reply->stats));
        if (it->second.waiting.empty())
            finish_stats(reply->request_id);
        return;
    }
    const std::optional<ClusterCommand> command = decode_cluster_command(payload);
    if (!command)
        return;
    if (command->kind == "stats") {
        answer_stats_request(std::string(origin), command->user);
    } else if (command->kind == "disconnect") {
        server_.disconnect_user_here(command->user, command->code, command->reason, server_.loop(0),
                                     [](std::size_t) {});
    } else if (command->kind == "remove") {
        server_.remove_user_from_rooms_here(command->user, command->pattern, command->reason,
                                            server_.loop(0), [](std::size_t) {});
    }
}

// ---- reporting ----------------------------------------------------------------------------------

void Cluster::cluster_stats(endpoints::NodeStats local, std::function<void(std::string)> done) {
    asio::post(io_, [this, local = std::move(local), done = std::move(done)]() mutable {
        local.node = broker_->node_id();
        const std::string id = broker_->node_id() + "/" + std::to_string(++next_stats_request_);
        StatsRequest& request = stats_requests_[id];
        request.answers.push_back(std::move(local));
        request.done = std::move(done);
        request.deadline = std::make_unique<asio::steady_timer>(io_, kStatsDeadline);
        request.deadline->async_wait([this, id](const boost::system::error_code& error) {
            if (!error)
                finish_stats(id);
        });
        broker_->live_nodes([this, id](bool ok, std::vector<std::string> nodes) {
            const auto it = stats_requests_.find(id);
            if (it == stats_requests_.end())
                return;
            if (ok) {
                for (std::string& node : nodes) {
                    if (node != broker_->node_id())
                        it->second.waiting.insert(std::move(node));
                }
            }
            if (it->second.waiting.empty()) {
                finish_stats(id);
                return;
            }
            ClusterCommand command;
            command.kind = "stats";
            command.user = id;
            broker_->broadcast(encode_cluster_command(command));
        });
    });
}

void Cluster::finish_stats(const std::string& id) {
    const auto it = stats_requests_.find(id);
    if (it == stats_requests_.end())
        return;
    StatsRequest request = std::move(it->second);
    stats_requests_.erase(it);
    request.deadline->cancel();
    request.done(endpoints::render_cluster_stats(std::move(request.answers),
                                                 {request.waiting.begin(), request.waiting.end()}));
}

void Cluster::answer_stats_request(std::string origin, std::string id) {
    server_.node_stats(server_.loop(0), [this, origin = std::move(origin),
                                         id = std::move(id)](endpoints::NodeStats stats) mutable {
        asio::post(io_, [this, origin = std::move(origin), id = std::move(id),
                         stats = std::move(stats)]() mutable {
            stats.node = broker_->node_id();
            broker_->send_to_node(std::move(origin), endpoints::encode_node_stats(id, stats));
        });
    });
}

std::string Cluster::health_json() const {
    std::string out = "{\"state\":";
    endpoints::append_json_string(out, broker::to_string(broker_->state()));
    out += ",\"node\":";
    endpoints::append_json_string(out, broker_->node_id());
    out += '}';
    return out;
}

std::string Cluster::metrics_text() const {
    const broker::BrokerStats stats = broker_->stats();
    const broker::BrokerState current = broker_->state();
    std::string out;
    const auto metric = [&out](std::string_view name, std::string_view type, std::string_view help,
                               std::uint64_t value) {
        out += "# HELP huddle_broker_";
        out += name;
        out += ' ';
        out += help;
        out += "\n# TYPE huddle_broker_";
        out += name;
        out += ' ';
        out += type;
        out += "\nhuddle_broker_";
        out += name;
        out += ' ';
        out += std::to_string(value);
        out += '\n';
    };
    out +=
        "# HELP huddle_broker_state Broker connection state (1 for the current one)\n"
        "# TYPE huddle_broker_state gauge\n";
    for (const auto candidate : {broker::BrokerState::connected, broker::BrokerState::degraded,
                                 broker::BrokerState::reconnecting, broker::BrokerState::closed}) {
        out += "huddle_broker_state{state=\"";
        out += broker::to_string(candidate);
        out += "\"} ";
        out += candidate == current ? "1\n" : "0\n";
    }
    metric("published_total", "counter", "Publishes the broker completed", stats.published);
    metric("publish_failures_total", "counter", "Publishes the broker failed",
           stats.publish_failures);
    metric("received_total", "counter", "Messages received from the broker", stats.received);
    metric("dropped_total", "counter", "Messages from the broker that could not be decoded",
           stats.dropped);
    metric("reconnects_total", "counter", "Broker connections re-established", stats.reconnects);
    metric("pending", "gauge", "Publishes waiting or in flight", stats.pending);
    metric("subscribed_rooms", "gauge", "Rooms subscribed at the broker", stats.subscribed_rooms);
    metric("wanted_rooms", "gauge", "Rooms with local members or joins", stats.wanted_rooms);
    metric("batches_total", "counter", "Subscribe/unsubscribe commands sent", stats.batches);
    metric("delivered_total", "counter", "Broker events fanned out to local members",
           delivered_.load(std::memory_order_relaxed));
    metric("duplicates_total", "counter", "History events dropped as already delivered",
           duplicates_.load(std::memory_order_relaxed));
    metric("recovered_total", "counter", "History events fetched after a lost subscription",
           recovered_.load(std::memory_order_relaxed));
    return out;
}

}  // namespace huddle::net
