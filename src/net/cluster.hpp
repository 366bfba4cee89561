// The node's side of a cluster (broker.url set; docs/scaling.md): room traffic, history offsets
// and node commands go through the broker, which runs on its own thread with its own io_context.
//
// Rooms: the node subscribes to a room while some loop has members of it (or a history join is
// under way) and unsubscribes when the last one leaves. Every event of a room, the node's own
// included, comes back through the subscription and is fanned out from this thread, so every node
// delivers a room's events in the broker's order. History rooms: the broker gives offsets and
// keeps the history; a join reads it there, so a client recovers on any node.
//
// Presence: each node's owner loops count their connections per room and user, as without a
// cluster; the broker keeps the sum over the live nodes and tells which node saw a user's first
// connection arrive or last one leave, and that node alone publishes user.joined / user.left to
// the room.
//
// Documents: a node with a Yjs document loaded subscribes to its room (Server::document_room)
// and publishes every update once it is stored, and every awareness message; the other nodes
// apply the updates and relay both to their own connections. Once the subscription is proven
// live, the owner reads the store again for what was stored before it (shared store only).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "broker/broker.hpp"
#include "config/settings.hpp"
#include "endpoints/cluster_message.hpp"
#include "endpoints/node_stats.hpp"
#include "endpoints/rooms_endpoint.hpp"

namespace huddle::net {

using endpoints::ClusterCommand;
using endpoints::ClusterEvent;
using endpoints::decode_cluster_command;
using endpoints::decode_cluster_event;
using endpoints::DocumentCast;
using endpoints::encode_cluster_command;
using endpoints::encode_cluster_event;

class EventLoop;
class Server;
struct HistoryJoin;
struct PublishRequest;

class Cluster {
  public:
    // Throws std::runtime_error for an unusable URL.
    Cluster(Server& server, const config::BrokerSettings& settings);
    ~Cluster();
    Cluster(const Cluster&) = delete;
    Cluster& operator=(const Cluster&) = delete;

    void start();
    // Closes the broker and joins the thread. Idempotent.
    void stop();

    // Any thread. A loop's room appeared (first member there) or emptied.
    void room_changed(std::string room, bool exists);
    void publish(PublishRequest request);
    void join_history(std::string room, std::optional<endpoints::Request::Resume> resume,
                      EventLoop& reply_loop, std::function<void(HistoryJoin)> done);
    // GET /api/rooms/<room>/history with a broker: the room's events after `after`, at most
    // `limit`, read from the broker's history. `done` runs on the cluster thread.
    struct HistoryPage {
        bool ok = true;
        std::string error;
        std::string epoch;
        std::uint64_t last_offset = 0;
        std::vector<std::string> events;  // encoded as delivered
        std::uint64_t next = 0;           // the last event's offset (`after` when none)
    };
    void room_history(std::string room, std::uint64_t after, std::size_t limit,
                      std::function<void(HistoryPage)> done);
    // GET /stats?scope=cluster: `local` and the figures of every other live node that answers
    // within a second, as JSON. `done` runs on the cluster thread.
    void cluster_stats(endpoints::NodeStats local, std::function<void(std::string)> done);
    // To every other node; the caller does the local part itself.
    void broadcast(const ClusterCommand& command);

    // Any thread, called by the room's owner loop in the order of its changes: this node's
    // connections of `user` in `room` went from `local_before` to `local_after`.
    void presence_changed(std::string room, std::string user, std::size_t local_before,
                          std::size_t local_after, std::string info_json, std::uint64_t connection);
    // The room's users over every live node as a JSON array of {"userId","connections","info"};
    // nullopt when the broker could not answer. `done` runs on the cluster thread.
    void presence_list(std::string room, std::function<void(std::optional<std::string>)> done);

    // Any thread, called by the document's owner loop in the order of its changes.
    void document_loaded(std::string document, bool loaded);
    // To the other nodes with the document loaded.
    void document_publish(const std::string& document, const endpoints::DocumentCast& cast);

    // Any thread: for /health and /metrics.
    broker::BrokerState state() const { return broker_->state(); }
    const std::string& node_id() const { return broker_->node_id(); }
    std::string health_json() const;
    std::string metrics_text() const;

  private:
    struct PendingJoin;
    struct StatsRequest {
        std::vector<endpoints::NodeStats> answers;
        std::set<std::string> waiting;  // live nodes that have not answered yet
        std::function<void(std::string)> done;
        std::unique_ptr<boost::asio::steady_timer> deadline;
    };
    void finish_stats(const std::string& id);
    void answer_stats_request(std::string origin, std::string id);
    struct RoomState {
        std::size_t interest = 0;  // loops with members + history joins under way
        bool history = false;
        bool ready = false;  // our own probe came back through the subscription
        bool catching_up = false;
        std::chrono::steady_clock::time_point last_probe{};
        std::string epoch;            // of the last event fanned out
        std::uint64_t delivered = 0;  // offset of the last event fanned out
        std::vector<std::shared_ptr<PendingJoin>> joins;
        std::vector<std::pair<std::uint64_t, std::string>>
            held;  // (offset, payload) while catching up
    };

    std::chrono::milliseconds max_age(const std::string& room) const;
    void add_interest(const std::string& room);
    void release_interest(const std::string& room);
    void on_message(const broker::Message& message);
    void on_document_message(const broker::Message& message);
    void on_command(std::string_view origin, std::string_view payload);
    void on_state(broker::BrokerState state);
    // On the cluster thread: sets `drained` once no presence change or publish is in flight, the
    // broker is away, or the deadline passed.
    void drain(std::chrono::steady_clock::time_point deadline, std::promise<void>& drained);
    void on_presence_lost(const std::string& room, const std::vector<std::string>& users);
    // A room event that takes no history offset (presence), to every node's members.
    void publish_plain(const std::string& room, ClusterEvent event);
    // Fans out a history event if it is new; false when it was a duplicate.
    bool deliver_history(const std::string& room, RoomState& state, std::uint64_t offset,
                         const std::string& epoch, std::string_view origin,
                         std::string_view payload);
    void deliver_plain(const std::string& room, std::string_view origin, std::string_view payload);
    void mark_ready(const std::string& room, RoomState& state);
    void catch_up(const std::string& room);
    void schedule_probes();
    void probe_tick();
    // While other nodes' awareness states are kept here, asks the broker which nodes are live
    // and drops the states of those that are not (killed nodes never say goodbye).
    void schedule_liveness_check();
    void check_awareness_origins();
    void start_read(const std::shared_ptr<PendingJoin>& join);
    void try_answer(const std::shared_ptr<PendingJoin>& join);
    void answer(const std::shared_ptr<PendingJoin>& join);

    Server& server_;
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::unique_ptr<broker::Broker> broker_;
    std::thread thread_;
    std::atomic<bool> stopped_{false};
    std::unordered_map<std::string, RoomState> rooms_;
    std::set<std::string> unready_;  // history rooms waiting for their probe
    struct DocumentState {
        bool ready = false;  // our own probe came back through the subscription
        std::chrono::steady_clock::time_point last_probe{};
    };
    std::unordered_map<std::string, DocumentState> documents_;  // by document room
    // A timer armed at most once at a time; its tick runs unless the wait is cancelled.
    struct OnceTimer {
        explicit OnceTimer(boost::asio::io_context& io) : timer(io) {}
        template <class Tick>
        void arm(std::chrono::milliseconds after, Tick tick) {
            if (armed)
                return;
            armed = true;
            timer.expires_after(after);
            timer.async_wait(
                [this, tick = std::move(tick)](const boost::system::error_code& error) mutable {
                    armed = false;
                    if (!error)
                        tick();
                });
        }
        boost::asio::steady_timer timer;
        bool armed = false;
    };
    OnceTimer probe_timer_;
    boost::asio::steady_timer drain_timer_;
    std::set<std::string> awareness_origins_;  // nodes whose awareness states were relayed here
    OnceTimer liveness_timer_;
    std::chrono::milliseconds liveness_interval_;
    std::size_t presence_in_flight_ = 0;  // presence_set calls not answered yet
    std::unordered_map<std::string, StatsRequest> stats_requests_;  // by request id
    std::uint64_t next_stats_request_ = 0;
    std::atomic<std::uint64_t> delivered_{0}, duplicates_{0}, recovered_{0};
};

}  // namespace huddle::net
