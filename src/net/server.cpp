#include "net/server.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <thread>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include "core/room_name.hpp"
#include "core/room_pattern.hpp"
#include "endpoints/json_text.hpp"
#include "endpoints/rooms_messages.hpp"
#include "net/clock.hpp"
#include "net/cluster.hpp"
#include "net/event_loop.hpp"
#include "net/loop_gather.hpp"
#include "net/presence_notifier.hpp"
#include "net/ws/frame_writer.hpp"
#include "net/ws_session.hpp"
#include "observability/log.hpp"
#include "store/open_store.hpp"

namespace huddle::net {
namespace asio = boost::asio;
using observability::log;
using observability::LogLevel;

namespace {

// Below this size compression saves too little to pay for itself.
constexpr std::size_t kCompressFromBytes = 256;

std::string read_file(const std::string& path, std::string_view what) {
    if (path.empty())
        return {};
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + std::string(what) + " file " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

auth::JwtSettings jwt_settings(const config::AuthSettings& auth) {
    auth::JwtSettings jwt;
    jwt.algorithms = auth.algorithms;
    jwt.hmac_secret = auth.secret;
    jwt.rsa_public_key_pem = read_file(auth.rsa_public_key_file, "RSA public key");
    jwt.ec_public_key_pem = read_file(auth.ec_public_key_file, "EC public key");
    jwt.issuer = auth.issuer;
    jwt.audience = auth.audience;
    jwt.leeway = auth.leeway;
    return jwt;
}

core::AdmissionLimits admission_limits(const config::LimitSettings& limits) {
    return {limits.handshakes_per_ip_per_minute, limits.failed_auths_per_ip_per_minute,
            limits.max_connections_per_user, limits.max_connections_per_ip};
}

bool is_private_user_room(std::string_view room) {
    return core::namespace_of(room) == "user";
}

}  // namespace

Server::Server(config::Settings settings)
    : settings_(std::move(settings)),
      namespaces_(settings_.namespaces),
      rooms_endpoint_(namespaces_, {settings_.limits.max_rooms_per_connection}),
      verifier_(std::make_unique<auth::JwtVerifier>(jwt_settings(settings_.auth))),
      admission_(admission_limits(settings_.limits)) {
    unsigned threads = settings_.server.threads;
    if (threads == 0)
        threads = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < threads; ++i)
        loops_.push_back(std::make_unique<EventLoop>(*this, i));
    for (const auto& ns : settings_.namespaces) {
        if (ns.access == core::AccessRule::claim || ns.access == core::AccessRule::webhook ||
            !ns.presence_claims.empty())
            keeps_claims_ = true;
    }
    load_tls();
}

Server::~Server() {
    for (auto& loop : loops_)
        loop->stop();
    for (auto& loop : loops_)
        loop->join();
    if (cluster_)
        cluster_->stop();
    maintenance_.join();
    // Before the loops are destroyed: closing completes queued appends, which post to them.
    if (store_)
        store_->close();
}

void Server::load_tls() {
    const auto& server = settings_.server;
    if (server.tls_cert_file.empty() && server.tls_key_file.empty())
        return;
    tls_context_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    tls_context_->set_options(asio::ssl::context::default_workarounds |
                              asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                              asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                              asio::ssl::context::single_dh_use);
    boost::system::error_code error;
    tls_context_->use_certificate_chain_file(server.tls_cert_file, error);
    if (error)
        throw std::runtime_error("cannot load TLS certificate " + server.tls_cert_file + ": " +
                                 error.message());
    tls_context_->use_private_key_file(server.tls_key_file, asio::ssl::context::pem, error);
    if (error)
        throw std::runtime_error("cannot load TLS key " + server.tls_key_file + ": " +
                                 error.message());
}

void Server::open_store() {
    const bool sqlite = settings_.store.url.empty();
    if (const std::filesystem::path path(settings_.store.path); sqlite && path.has_parent_path()) {
        std::error_code ignored;
        std::filesystem::create_directories(path.parent_path(), ignored);
    }
    try {
        store_ = store::open_store(
            {settings_.store.url, settings_.store.path, settings_.store.reconnect_timeout});
    } catch (const std::exception& error) {
        // A PostgreSQL error names the URL itself, password hidden.
        throw std::runtime_error((sqlite ? "cannot open the store " + settings_.store.path
                                         : std::string("cannot open the PostgreSQL store")) +
                                 ": " + error.what());
    }
}

void Server::start() {
    open_store();
    const auto address = asio::ip::make_address(settings_.server.host);
    asio::ip::tcp::endpoint endpoint(address, settings_.server.port);
    for (auto& loop : loops_) {
        try {
            const std::uint16_t port = loop->listen(endpoint);
            // With port 0 the first loop picks one and the others share it.
            endpoint.port(port);
            bound_port_ = port;
        } catch (const boost::system::system_error& error) {
            throw std::runtime_error("cannot listen on " + settings_.server.host + ":" +
                                     std::to_string(settings_.server.port) + ": " +
                                     error.code().message());
        }
    }
    if (!settings_.broker.url.empty()) {
        cluster_ = std::make_unique<Cluster>(*this, settings_.broker);
        for (auto& loop : loops_) {
            loop->rooms().on_change = [cluster = cluster_.get()](std::string_view room,
                                                                 bool exists) {
                cluster->room_changed(std::string(room), exists);
            };
        }
        cluster_->start();
    }
    accepting_ = true;
    if (!settings_.webhooks.presence_url.empty()) {
        presence_notifier_ = std::make_unique<PresenceNotifier>(*loops_.front());
        asio::post(loops_.front()->io(),
                   [notifier = presence_notifier_.get()] { notifier->start(); });
    }
    for (auto& loop : loops_)
        loop->start_thread();
}

int Server::run_until_signal() {
    asio::io_context signal_io(1);
    asio::signal_set signals(signal_io, SIGINT, SIGTERM);
    int received = 0;
    signals.async_wait([&received](const boost::system::error_code& error, int signal_number) {
        if (!error)
            received = signal_number;
    });
    signal_io.run();
    log(LogLevel::info, "server.signal", {{"signal", received == SIGINT ? "SIGINT" : "SIGTERM"}});
    shutdown();
    return 0;
}

void Server::shutdown() {
    if (!accepting_.exchange(false))
        return;
    for (auto& loop : loops_) {
        asio::post(loop->io(), [&loop = *loop, window = settings_.server.drain_window] {
            loop.begin_shutdown(window);
        });
    }
    const auto deadline = std::chrono::steady_clock::now() + settings_.server.shutdown_deadline;
    while (std::chrono::steady_clock::now() < deadline) {
        if (observability::sum_counters(loop_counters()).connections == 0)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const auto left = observability::sum_counters(loop_counters()).connections;
    for (auto& loop : loops_)
        loop->stop();
    for (auto& loop : loops_)
        loop->join();
    if (cluster_)
        cluster_->stop();
    maintenance_.join();
    if (store_)
        store_->close();  // writes and completes everything queued
    const std::string left_text = std::to_string(left);
    log(LogLevel::info, "server.stopped", {{"connections_left", left_text}});
}

core::AdmissionDecision Server::admit_handshake(std::string_view ip) {
    std::lock_guard lock(admission_mutex_);
    return admission_.on_handshake(ip, steady_ms());
}

void Server::record_failed_auth(std::string_view ip) {
    std::lock_guard lock(admission_mutex_);
    admission_.on_failed_auth(ip, steady_ms());
}

core::AdmissionDecision Server::admit_user(std::string_view ip, std::string_view user) {
    std::lock_guard lock(admission_mutex_);
    core::AdmissionDecision decision = admission_.on_authenticated(ip, user, steady_ms());
    if (decision.admitted && presence_notifier_ && admission_.connections_of_user(user) == 1)
        presence_notifier_->user_connected(std::string(user));
    return decision;
}

void Server::release_user(std::string_view ip, std::string_view user) {
    std::lock_guard lock(admission_mutex_);
    admission_.on_closed(ip, user);
    if (presence_notifier_ && admission_.connections_of_user(user) == 0)
        presence_notifier_->user_disconnected(std::string(user));
}

void Server::forget_idle_admissions() {
    std::lock_guard lock(admission_mutex_);
    admission_.forget_idle(steady_ms());
}

std::size_t Server::unique_users() {
    std::lock_guard lock(admission_mutex_);
    return admission_.unique_users();
}

void Server::node_stats(EventLoop& reply_loop, std::function<void(endpoints::NodeStats)> done) {
    count_rooms(reply_loop, [this, done = std::move(done)](std::vector<RoomCount> rooms) {
        const auto totals = observability::sum_counters(loop_counters());
        const auto get = [](const std::atomic<std::uint64_t>& value) {
            return value.load(std::memory_order_relaxed);
        };
        endpoints::NodeStats stats;
        stats.connections = totals.connections;
        {
            std::lock_guard lock(admission_mutex_);
            stats.users = admission_.users();
        }
        stats.rooms.reserve(rooms.size());
        for (RoomCount& room : rooms)
            stats.rooms.emplace_back(std::move(room.room), room.connections);
        stats.messages_in = totals.messages_in;
        stats.messages_out = totals.messages_out;
        stats.rate_limited_messages = totals.rate_limited_messages;
        stats.rate_limited_handshakes = get(counters_.rate_limited_handshakes);
        stats.connection_limit_refusals = get(counters_.connection_limit_refusals);
        stats.auth_failures = get(counters_.auth_failures);
        stats.slow_consumer_drops = totals.slow_consumer_drops;
        stats.accepting = accepting();
        done(std::move(stats));
    });
}

std::vector<const observability::LoopCounters*> Server::loop_counters() const {
    std::vector<const observability::LoopCounters*> all;
    for (const auto& loop : loops_)
        all.push_back(&loop->counters());
    return all;
}

EventLoop& Server::owner_of(std::string_view room) {
    return *loops_[std::hash<std::string_view>{}(room) % loops_.size()];
}

void Server::on_owner(const std::string& room, std::function<void(EventLoop&)> task) {
    EventLoop& owner = owner_of(room);
    if (owner.on_this_thread()) {
        task(owner);
        return;
    }
    asio::post(owner.io(), [task = std::move(task), &owner] { task(owner); });
}

void Server::publish(std::string room, std::string type, std::string payload_json,
                     std::string user_id, std::uint64_t excluded_connection,
                     std::vector<std::string> excluded_users) {
    PublishRequest request;
    request.room = std::move(room);
    request.type = std::move(type);
    request.payload_json = std::move(payload_json);
    request.user_id = std::move(user_id);
    request.excluded_connection = excluded_connection;
    request.excluded_users = std::move(excluded_users);
    publish(std::move(request));
}

void Server::publish(PublishRequest request) {
    if (cluster_) {
        cluster_->publish(std::move(request));
        return;
    }
    EventLoop& owner = owner_of(request.room);
    if (owner.on_this_thread()) {
        deliver_from_owner(std::move(request));
        return;
    }
    asio::post(owner.io(), [this, request = std::move(request)]() mutable {
        deliver_from_owner(std::move(request));
    });
}

void Server::complete(PublishRequest& request, PublishOutcome outcome) {
    if (!request.done || request.reply_loop == nullptr)
        return;
    if (request.reply_loop->on_this_thread()) {
        request.done(std::move(outcome));
        return;
    }
    asio::post(request.reply_loop->io(),
               [done = std::move(request.done), outcome = std::move(outcome)]() mutable {
                   done(std::move(outcome));
               });
}

void Server::deliver_from_owner(PublishRequest request) {
    const core::NamespaceSettings& rules = namespaces_.rules_for(request.room);
    if (rules.history != 0 && store_) {
        // Named first: the argument that moves `request` may be evaluated before the others.
        EventLoop& owner = owner_of(request.room);
        append_to_history(owner, std::move(request), rules);
        return;
    }
    const std::string text = endpoints::encode_event(
        request.type, request.room, request.payload_json, wall_ms(), request.user_id);
    fan_out(request.room, text, request.excluded_connection, std::move(request.excluded_users));
    complete(request, {});
}

// Loads a room's history position on first use (a store call that may wait for a commit when
// the room is new; once per room per process).
static EventLoop::RoomLog& load_room_log(EventLoop& owner, store::Store& store,
                                         const std::string& room) {
    auto& logs = owner.room_logs();
    if (auto it = logs.find(room); it != logs.end())
        return it->second;
    const store::RoomPosition position = store.position(room);
    EventLoop::RoomLog& log = logs[room];
    log.epoch = position.epoch;
    log.last_offset = position.last_offset;
    log.durable_offset = position.last_offset;
    return log;
}

void Server::queue_history_append(EventLoop& owner, std::vector<store::RoomEvent> events,
                                  store::AppendCallback done) {
    add_to_store_batch(owner.io(), owner.history_batch(), {std::move(events), std::move(done)},
                       [this](std::vector<store::HistoryStore::AppendRequest> requests) {
                           store_->append_each(std::move(requests));
                       });
}

void Server::append_to_history(EventLoop& owner, PublishRequest request,
                               const core::NamespaceSettings& rules) {
    constexpr std::size_t kRecentKeys = 1000;
    EventLoop::RoomLog& history = load_room_log(owner, *store_, request.room);
    const std::string& key = request.idempotency_key;
    if (!key.empty()) {
        const bool seen = std::find(history.recent_keys.begin(), history.recent_keys.end(), key) !=
                              history.recent_keys.end() ||
                          store_->find_by_idempotency_key(request.room, key).has_value();
        if (seen) {
            complete(request, {.ok = true, .duplicate = true});
            return;
        }
        history.recent_keys.push_back(key);
        if (history.recent_keys.size() > kRecentKeys)
            history.recent_keys.pop_front();
    }
    const std::uint64_t offset = ++history.last_offset;
    const std::int64_t timestamp = wall_ms();
    auto text = std::make_shared<const std::string>(
        endpoints::encode_event(request.type, request.room, request.payload_json, timestamp,
                                request.user_id, offset, history.epoch));
    std::vector<store::RoomEvent> events{{request.room, offset, timestamp, key, *text}};
    auto pending = std::make_shared<PublishRequest>(std::move(request));
    const std::uint32_t keep = rules.history;
    const std::int64_t max_age = rules.history_max_age_ms;
    // Completions arrive in queue order; posting them to the owner keeps the room's order.
    queue_history_append(
        owner, std::move(events),
        [this, &owner, pending, text, offset, keep, max_age](store::AppendResult result) {
            asio::post(owner.io(), [this, &owner, pending, text, offset, keep, max_age,
                                    result = std::move(result)]() mutable {
                if (!result.ok()) {
                    log(LogLevel::error, "history.append_failed",
                        {{"room", pending->room}, {"error", result.error}});
                    complete(*pending, {.ok = false,
                                        .error = "the event could not be stored: " + result.error});
                    return;
                }
                EventLoop::RoomLog& room_log = owner.room_logs()[pending->room];
                room_log.durable_offset = std::max(room_log.durable_offset, offset);
                fan_out(pending->room, *text, pending->excluded_connection,
                        std::move(pending->excluded_users));
                complete(*pending, {.ok = true, .offset = offset});
                if (++room_log.appends_since_trim >= 64) {
                    room_log.appends_since_trim = 0;
                    const std::int64_t min_timestamp = max_age > 0 ? wall_ms() - max_age : 0;
                    asio::post(maintenance_, [this, room = pending->room, keep, min_timestamp] {
                        try {
                            store_->trim(room, keep, min_timestamp);
                        } catch (const std::exception& error) {
                            log(LogLevel::warn, "history.trim_failed",
                                {{"room", room}, {"error", error.what()}});
                        }
                    });
                }
            });
        });
}

void Server::fan_out(const std::string& room, const std::string& text,
                     std::uint64_t excluded_connection, std::vector<std::string> excluded_users) {
    // Encoded once here; every loop writes these same bytes to its members.
    auto delivery = std::make_shared<RoomDelivery>();
    delivery->frame = make_text_frame(text);
    if (settings_.server.permessage_deflate && text.size() >= kCompressFromBytes) {
        thread_local ws::MessageDeflater deflater;
        delivery->compressed = std::make_shared<const std::string>(
            deflater.encode_compressed_frame(ws::Opcode::text, text));
    }
    delivery->room = room;
    delivery->excluded_connection = excluded_connection;
    delivery->excluded_users = std::move(excluded_users);
    delivery->accepted_at_us = steady_us();
    deliver_to_loops(std::move(delivery));
}

void Server::deliver_to_loops(std::shared_ptr<RoomDelivery> delivery) {
    // Posts from this one loop reach each loop in order: the room's order is the same everywhere.
    for (auto& loop : loops_) {
        if (loop->on_this_thread()) {
            loop->deliver(*delivery);
        } else {
            asio::post(loop->io(), [delivery, &target = *loop] { target.deliver(*delivery); });
        }
    }
}

void Server::join_with_history(std::string room, std::optional<endpoints::Request::Resume> resume,
                               EventLoop& reply_loop, std::function<void(HistoryJoin)> done) {
    if (cluster_) {
        cluster_->join_history(std::move(room), std::move(resume), reply_loop, std::move(done));
        return;
    }
    constexpr std::uint64_t kMaxReplay = 10'000;
    on_owner(room, [this, room, resume = std::move(resume), &reply_loop,
                    done = std::move(done)](EventLoop& owner) mutable {
        HistoryJoin join;
        endpoints::RoomPositionMessage position{.room = room};
        std::string reason;
        try {
            EventLoop::RoomLog& history = load_room_log(owner, *store_, room);
            position.epoch = history.epoch;
            position.offset = history.durable_offset;
            if (resume) {
                position.recovery_requested = true;
                const std::uint64_t from = resume->offset;
                if (resume->epoch != history.epoch) {
                    reason = "the room's history has another epoch: resync";
                } else if (from > history.durable_offset) {
                    reason = "the offset is ahead of the room's history";
                } else if (history.durable_offset - from > kMaxReplay) {
                    reason = "more events were missed than a recovery replays: resync";
                } else {
                    const std::uint64_t oldest = store_->oldest_offset(room);
                    if (from < history.durable_offset && (oldest == 0 || oldest > from + 1)) {
                        reason = "the missed events are no longer kept: resync";
                    } else {
                        for (auto& event :
                             store_->read_after(room, from, history.durable_offset - from)) {
                            if (event.offset > history.durable_offset)
                                break;
                            join.missed_events.push_back(std::move(event.event_json));
                        }
                        position.recovered = true;
                        position.missed = join.missed_events.size();
                    }
                }
            }
        } catch (const std::exception& error) {
            log(LogLevel::error, "history.read_failed", {{"room", room}, {"error", error.what()}});
            position.recovery_requested = resume.has_value();
            reason = "the room's history could not be read";
        }
        position.reason = reason;
        join.position_message = endpoints::encode_room_position(position);
        // The connection must be a member before the owner fans out the next event. On another
        // loop, that event is posted after this answer and runs after it; on the owner's own loop
        // fan_out delivers at once, so the answer cannot wait in the queue.
        if (reply_loop.on_this_thread()) {
            done(std::move(join));
            return;
        }
        asio::post(reply_loop.io(), [done = std::move(done), join = std::move(join)]() mutable {
            done(std::move(join));
        });
    });
}

void Server::presence_join(std::string room, std::string user, std::string info_json,
                           std::uint64_t connection) {
    on_owner(room, [this, room, user = std::move(user), info_json = std::move(info_json),
                    connection](EventLoop& owner) mutable {
        EventLoop::PresenceEntry& entry = owner.owned_presence()[room][user];
        entry.info_json = std::move(info_json);
        if (cluster_) {
            // The cluster decides whether this is the user's first connection anywhere.
            cluster_->presence_changed(room, user, entry.connections, entry.connections + 1,
                                       entry.info_json, connection);
            ++entry.connections;
            return;
        }
        if (++entry.connections != 1)
            return;  // a second tab of someone already here
        std::string payload = "{\"userId\":";
        endpoints::append_json_string(payload, user);
        payload += ",\"info\":";
        payload += entry.info_json;
        payload += '}';
        fan_out(room, endpoints::encode_event("user.joined", room, payload, wall_ms(), user),
                connection, {});
    });
}

void Server::presence_leave(std::string room, std::string user, std::uint64_t connection) {
    on_owner(room, [this, room, user = std::move(user), connection](EventLoop& owner) {
        auto& rooms = owner.owned_presence();
        const auto room_it = rooms.find(room);
        if (room_it == rooms.end())
            return;
        const auto user_it = room_it->second.find(user);
        if (user_it == room_it->second.end())
            return;
        const std::size_t remaining = --user_it->second.connections;
        if (remaining == 0) {
            room_it->second.erase(user_it);
            if (room_it->second.empty())
                rooms.erase(room_it);
        }
        if (cluster_) {
            cluster_->presence_changed(room, user, remaining + 1, remaining, {}, connection);
            return;
        }
        if (remaining != 0)
            return;
        std::string payload = "{\"userId\":";
        endpoints::append_json_string(payload, user);
        payload += '}';
        fan_out(room, endpoints::encode_event("user.left", room, payload, wall_ms(), user),
                connection, {});
    });
}

void Server::presence_list(std::string room, EventLoop& reply_loop,
                           std::function<void(std::string)> done) {
    if (!cluster_) {
        presence_list_here(std::move(room), reply_loop, std::move(done));
        return;
    }
    cluster_->presence_list(room, [this, room, &reply_loop, done = std::move(done)](
                                      std::optional<std::string> users) mutable {
        if (!users) {
            // The broker cannot answer: this node's part is better than nothing.
            presence_list_here(std::move(room), reply_loop, std::move(done));
            return;
        }
        asio::post(reply_loop.io(),
                   [done = std::move(done), users = std::move(*users)] { done(users); });
    });
}

void Server::presence_list_here(std::string room, EventLoop& reply_loop,
                                std::function<void(std::string)> done) {
    on_owner(room, [room, &reply_loop, done = std::move(done)](EventLoop& owner) mutable {
        std::string users = "[";
        const auto& rooms = owner.owned_presence();
        if (const auto it = rooms.find(room); it != rooms.end()) {
            std::vector<std::pair<std::string, const EventLoop::PresenceEntry*>> sorted;
            for (const auto& [user, entry] : it->second)
                sorted.emplace_back(user, &entry);
            std::sort(sorted.begin(), sorted.end());
            for (const auto& [user, entry] : sorted) {
                if (users.size() > 1)
                    users += ',';
                users += "{\"userId\":";
                endpoints::append_json_string(users, user);
                users += ",\"connections\":";
                endpoints::append_json_int(users, entry->connections);
                users += ",\"info\":";
                users += entry->info_json;
                users += '}';
            }
        }
        users += ']';
        asio::post(reply_loop.io(),
                   [done = std::move(done), users = std::move(users)] { done(users); });
    });
}

void Server::remove_user_from_rooms(std::string user, std::string pattern, std::string reason,
                                    EventLoop& reply_loop, std::function<void(std::size_t)> done) {
    // Other nodes do their part; the count is this node's.
    if (cluster_)
        cluster_->broadcast({.kind = "remove", .user = user, .pattern = pattern, .reason = reason});
    remove_user_from_rooms_here(std::move(user), std::move(pattern), std::move(reason), reply_loop,
                                std::move(done));
}

void Server::remove_user_from_rooms_here(std::string user, std::string pattern, std::string reason,
                                         EventLoop& reply_loop,
                                         std::function<void(std::size_t)> done) {
    const std::string user_room = "user:" + user;
    gather_from_loops<std::size_t>(
        loops_, reply_loop,
        [user_room, pattern, reason](EventLoop& source) {
            std::size_t removed = 0;
            for (const auto& session : source.members_of(user_room)) {
                std::vector<std::string> rooms;
                for (const auto& membership : session->memberships()) {
                    const std::string& name = membership.room->name;
                    if (name != user_room && core::matches_wildcard(pattern, name))
                        rooms.push_back(name);
                }
                for (const auto& room : rooms)
                    session->remove_from_room(room, reason);
                removed += rooms.size();
            }
            return removed;
        },
        [done = std::move(done)](std::vector<std::size_t> per_loop) {
            done(std::accumulate(per_loop.begin(), per_loop.end(), std::size_t{0}));
        });
}

void Server::count_rooms(EventLoop& reply_loop, std::function<void(std::vector<RoomCount>)> done) {
    gather_from_loops<std::vector<RoomCount>>(
        loops_, reply_loop,
        [](EventLoop& source) {
            std::vector<RoomCount> local;
            source.rooms().for_each_room([&local](const auto& room) {
                if (!is_private_user_room(room.name))
                    local.push_back({room.name, room.members.size()});
            });
            return local;
        },
        [done = std::move(done)](std::vector<std::vector<RoomCount>> per_loop) {
            std::unordered_map<std::string, std::size_t> counts;
            for (const auto& local : per_loop) {
                for (const auto& entry : local)
                    counts[entry.room] += entry.connections;
            }
            std::vector<RoomCount> rooms;
            rooms.reserve(counts.size());
            for (auto& [room, count] : counts)
                rooms.push_back({room, count});
            std::sort(rooms.begin(), rooms.end(),
                      [](const RoomCount& a, const RoomCount& b) { return a.room < b.room; });
            done(std::move(rooms));
        });
}

void Server::disconnect_user(std::string user, std::uint16_t code, std::string reason,
                             EventLoop& reply_loop, std::function<void(std::size_t)> done) {
    if (cluster_)
        cluster_->broadcast({.kind = "disconnect", .user = user, .code = code, .reason = reason});
    disconnect_user_here(std::move(user), code, std::move(reason), reply_loop, std::move(done));
}

void Server::disconnect_user_here(std::string user, std::uint16_t code, std::string reason,
                                  EventLoop& reply_loop, std::function<void(std::size_t)> done) {
    const std::string room = "user:" + user;
    gather_from_loops<std::size_t>(
        loops_, reply_loop,
        [room, code, reason](EventLoop& source) {
            const auto targets = source.members_of(room);
            const std::string notice = endpoints::encode_error({}, "DISCONNECTED", reason);
            for (const auto& session : targets)
                session->close(code, reason, notice);
            return targets.size();
        },
        [done = std::move(done)](std::vector<std::size_t> per_loop) {
            done(std::accumulate(per_loop.begin(), per_loop.end(), std::size_t{0}));
        });
}

}  // namespace huddle::net
