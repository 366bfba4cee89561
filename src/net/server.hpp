// The server: event loops (one thread each, shared-nothing), the services every connection
// uses (auth, admission, namespace rules), publishing with a per-room order, and shutdown.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "auth/jwt_verifier.hpp"
#include "config/settings.hpp"
#include "core/admission.hpp"
#include "core/namespace_rules.hpp"
#include "endpoints/cluster_message.hpp"
#include "endpoints/node_stats.hpp"
#include "endpoints/rooms_endpoint.hpp"
#include "net/shared_frame.hpp"
#include "net/stored_update.hpp"
#include "observability/metrics.hpp"
#include "store/store.hpp"

namespace huddle::net {

class Cluster;
class EventLoop;
class PresenceNotifier;

// A publish with everything a caller may ask for; only room and type are required.
struct PublishRequest {
    std::string room;
    std::string type;
    std::string payload_json = "null";
    std::string user_id;
    std::uint64_t excluded_connection = 0;
    std::vector<std::string> excluded_users;
    std::string idempotency_key;  // rooms with history: a retried publish is not delivered twice
    // When set, `done` runs on `reply_loop` once the event is durable (history rooms) or handed
    // to the loops.
    EventLoop* reply_loop = nullptr;
    std::function<void(struct PublishOutcome)> done;
};

struct PublishOutcome {
    bool ok = true;
    bool duplicate = false;    // the idempotency key was seen before: not delivered again
    std::uint64_t offset = 0;  // rooms with history
    std::string error;
};

// What a connection joining a room with history receives: the events it missed, then where the
// room stands.
struct HistoryJoin {
    std::vector<std::string> missed_events;  // event JSON texts, in order
    std::string position_message;            // room.position
};

struct RoomCount {
    std::string room;
    std::size_t connections = 0;
};

class Server {
  public:
    explicit Server(config::Settings settings);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds every loop's listener and starts the loop threads. Throws std::runtime_error when the
    // address cannot be bound or the TLS files cannot be loaded.
    void start();
    // Blocks until SIGTERM/SIGINT, then shuts down gracefully; returns the process exit code.
    int run_until_signal();
    // Stops accepting, tells clients, closes them with 1001 and stops the loops within the
    // deadline.
    void shutdown();

    const config::Settings& settings() const { return settings_; }
    const endpoints::RoomsEndpoint& rooms_endpoint() const { return rooms_endpoint_; }
    const auth::JwtVerifier& verifier() const { return *verifier_; }
    boost::asio::ssl::context* tls_context() { return tls_context_.get(); }
    observability::ServerCounters& counters() { return counters_; }
    bool accepting() const { return accepting_.load(std::memory_order_relaxed); }
    std::uint16_t bound_port() const { return bound_port_; }
    // Whether connections keep their token's claims (some namespace reads them).
    bool keeps_claims() const { return keeps_claims_; }

    // Admission control (guarded; called only at connect and close).
    core::AdmissionDecision admit_handshake(std::string_view ip);
    void record_failed_auth(std::string_view ip);
    core::AdmissionDecision admit_user(std::string_view ip, std::string_view user);
    void release_user(std::string_view ip, std::string_view user);
    std::size_t unique_users();
    // This node's /stats figures (node id left empty); `done` runs on `reply_loop`.
    void node_stats(EventLoop& reply_loop, std::function<void(endpoints::NodeStats)> done);
    void forget_idle_admissions();

    std::uint64_t next_connection_id() { return next_connection_id_.fetch_add(1) + 1; }

    // Publishes an event to a room from any loop thread (or any thread). Events of one room are
    // ordered by the room's owner loop, so every member everywhere sees the same order.
    void publish(std::string room, std::string type, std::string payload_json, std::string user_id,
                 std::uint64_t excluded_connection, std::vector<std::string> excluded_users = {});
    void publish(PublishRequest request);

    // Rooms with history: the owner replays what was missed since `resume` (if any) and says
    // where the room stands; `done` runs on `reply_loop`.
    void join_with_history(std::string room, std::optional<endpoints::Request::Resume> resume,
                           EventLoop& reply_loop, std::function<void(HistoryJoin)> done);
    store::Store* store() { return store_.get(); }
    // Null unless broker.url is set.
    const Cluster* cluster() const { return cluster_.get(); }
    Cluster* cluster() { return cluster_.get(); }

    // Yjs documents (y-websocket at /yjs/<name>), kept by the document's owner loop: its state,
    // its awareness, its connections. Every `done` runs on `reply_loop`.
    using Bytes = std::vector<std::uint8_t>;
    // Every connection of a document, whatever its protocol, is a member of this room; deliveries
    // to it carry one frame per protocol (RoomDelivery::document_frames).
    static std::string document_room(std::string_view document) {
        return "#doc:" + std::string(document);
    }
    // Connections that named themselves with a client id (S1's clientID) also join this room.
    static std::string document_client_room(std::string_view document, std::string_view client) {
        return "#doc:" + std::string(document) + "#" + std::string(client);
    }
    using DocumentFormat = endpoints::DocumentFormat;
    // Loads the document if needed and counts the connection; `done` gets the first messages to
    // send (sync step 1 with the server's state vector, the awareness of the others) or an error.
    void document_open(std::string document, DocumentFormat format, EventLoop& reply_loop,
                       std::function<void(std::vector<Bytes>, std::string)> done);
    // A state vector from a client: `done` gets the update with what it lacks.
    void document_sync(std::string document, Bytes state_vector, EventLoop& reply_loop,
                       std::function<void(Bytes, std::string)> done);
    // An update (sync step 2 or update): validated, stored, then relayed to the other connections.
    // `failed` runs (on reply_loop) when it is refused or cannot be stored.
    void document_update(std::string document, Bytes update, std::uint64_t connection,
                         EventLoop& reply_loop, std::function<void(std::string)> failed);
    // An awareness message from a connection (the whole y-websocket message), relayed.
    void document_awareness(std::string document, Bytes message, std::uint64_t connection);
    void document_query_awareness(std::string document, EventLoop& reply_loop,
                                  std::function<void(Bytes)> done);
    // Backend API: the whole document as one update (loaded for the call if not in memory).
    void document_state(std::string document, EventLoop& reply_loop,
                        std::function<void(Bytes, std::string)> done);
    // Backend API: an update applied as if a client sent it (stored, then relayed); `done` gets
    // an error message or "" once it is stored.
    void document_apply(std::string document, Bytes update, EventLoop& reply_loop,
                        std::function<void(std::string)> done);
    // Backend API: deletes the stored document and closes its connections (4404).
    void document_delete(std::string document, EventLoop& reply_loop,
                         std::function<void(bool)> done);
    struct DocumentInfo {
        std::string name;
        std::size_t bytes = 0;
        std::size_t updates = 0;
        std::size_t connections = 0;
    };
    // Backend API: the documents in memory.
    void list_documents(EventLoop& reply_loop, std::function<void(std::vector<DocumentInfo>)> done);
    // The connection is gone: its awareness is removed for everyone; an unused document leaves
    // memory.
    void document_close(std::string document, DocumentFormat format, std::uint64_t connection);
    // A text message from a connection to the document's other connections of that protocol, in
    // the document's order.
    void document_relay_text(std::string document, DocumentFormat format, std::string text,
                             std::uint64_t connection);
    // Backend API: a text message to the document's connections of one protocol, or only to those
    // with client id `client` when it is not empty.
    void document_send_text(std::string document, DocumentFormat format, std::string client,
                            std::string text);
    // Backend API: the number of connections of a document, by protocol (all zero when it is not
    // in memory).
    void document_connections(
        std::string document, EventLoop& reply_loop,
        std::function<void(std::array<std::size_t, endpoints::kDocumentFormatCount>)> done);

    // Presence (rooms whose namespace has presence_events): counted per user by the room's owner
    // loop, which sends user.joined / user.left when a user's first connection arrives or the
    // last one leaves (with a cluster: the first or last over every node, docs/scaling.md).
    void presence_join(std::string room, std::string user, std::string info_json,
                       std::uint64_t connection);
    void presence_leave(std::string room, std::string user, std::uint64_t connection);
    // JSON array of {"userId","connections","info"}, delivered on `reply_loop`; with a cluster,
    // over every live node.
    void presence_list(std::string room, EventLoop& reply_loop,
                       std::function<void(std::string)> done);
    // This node's part only.
    void presence_list_here(std::string room, EventLoop& reply_loop,
                            std::function<void(std::string)> done);
    // Backend revocation: removes the user's connections from every room matching `pattern`
    // ("*" wildcards); `done` gets the number of memberships removed.
    void remove_user_from_rooms(std::string user, std::string pattern, std::string reason,
                                EventLoop& reply_loop, std::function<void(std::size_t)> done);

    // Cross-loop queries: `collect` runs on every loop; `done` runs on `reply_loop` with all
    // results.
    void count_rooms(EventLoop& reply_loop, std::function<void(std::vector<RoomCount>)> done);
    void disconnect_user(std::string user, std::uint16_t code, std::string reason,
                         EventLoop& reply_loop, std::function<void(std::size_t)> done);

    // An idle document left `loop`'s memory (its owner).
    void document_unloaded(const std::string& document);

    std::size_t loop_count() const { return loops_.size(); }
    EventLoop& loop(std::size_t index) { return *loops_[index]; }
    std::vector<const observability::LoopCounters*> loop_counters() const;

  private:
    friend class Cluster;
    // This node's part of disconnect_user / remove_user_from_rooms.
    void disconnect_user_here(std::string user, std::uint16_t code, std::string reason,
                              EventLoop& reply_loop, std::function<void(std::size_t)> done);
    void remove_user_from_rooms_here(std::string user, std::string pattern, std::string reason,
                                     EventLoop& reply_loop, std::function<void(std::size_t)> done);
    EventLoop& owner_of(std::string_view room);
    void deliver_from_owner(PublishRequest request);
    void append_to_history(EventLoop& owner, PublishRequest request,
                           const core::NamespaceSettings& rules);
    void queue_history_append(EventLoop& owner, std::vector<store::RoomEvent> events,
                              store::AppendCallback done);
    // Document updates are handed to the store once per turn of their owner loop, like history
    // appends; submit_document_updates() hands over the queued ones at once.
    void queue_document_update(EventLoop& owner, const std::string& document, Bytes update,
                               store::AppendCallback done);
    void submit_document_updates(EventLoop& owner);
    // On the owner loop, once the store completed it: applies and relays it, or tells the failure.
    void relay_stored_update(EventLoop& owner, StoredDocumentUpdate& stored);
    void fan_out(const std::string& room, const std::string& text,
                 std::uint64_t excluded_connection, std::vector<std::string> excluded_users);
    static void complete(PublishRequest& request, PublishOutcome outcome);
    // Hands one encoded delivery to every loop (the same bytes for all).
    void deliver_to_loops(std::shared_ptr<RoomDelivery> delivery);
    // Document rooms: one frame per protocol, encoded once, to every loop.
    void fan_out_document(std::string room,
                          std::array<SharedFrame, endpoints::kDocumentFormatCount> frames,
                          std::uint64_t excluded_connection);
    // Validates, stores, applies and relays an update on the owner; `finished` gets an error, or
    // "" once relayed if `report_success` (a client's own update: only a refusal is news).
    void store_document_update(EventLoop& owner, const std::string& document, Bytes update,
                               std::uint64_t connection, EventLoop& reply_loop,
                               std::function<void(std::string)> finished, bool report_success);
    // Cluster (cluster.hpp): a message another node published about a document: updates it stored
    // and awareness are applied if the document is loaded here; everything is relayed to this
    // node's connections of the document.
    void document_from_cluster(std::string document, std::string origin,
                               endpoints::DocumentCast cast);
    // Cluster: node `origin` is no longer live; the awareness states it relayed leave every
    // loaded document, and this node's clients are told (rather than waiting for their timeout).
    void forget_node_awareness(const std::string& origin);
    // Closes the connections of a deleted document (4404), on every loop.
    void close_deleted_document(const std::string& document);
    // The document's subscription is live: what the store holds and the state lacks is applied.
    void document_catch_up(std::string document);
    // Merges a document's stored updates into one, off the loop (maintenance thread); the store
    // replaces them atomically, so a crash at any point loses nothing.
    void compact_document(EventLoop& owner, const std::string& document);
    void open_store();
    // Runs `task` on the room's owner loop (at once when already there).
    void on_owner(const std::string& room, std::function<void(EventLoop&)> task);
    void load_tls();

    config::Settings settings_;
    core::NamespaceTable namespaces_;
    endpoints::RoomsEndpoint rooms_endpoint_;
    std::unique_ptr<auth::JwtVerifier> verifier_;
    std::unique_ptr<boost::asio::ssl::context> tls_context_;

    std::mutex admission_mutex_;
    core::Admission admission_;

    observability::ServerCounters counters_;
    std::atomic<bool> accepting_{false};
    std::atomic<std::uint64_t> next_connection_id_{0};
    std::uint16_t bound_port_ = 0;
    bool keeps_claims_ = false;
    std::unique_ptr<store::Store> store_;
    // Store work that waits for a commit (trimming) runs here, never on an event loop.
    boost::asio::thread_pool maintenance_{1};
    // Before the loops: its thread posts to them and is stopped after them.
    std::unique_ptr<Cluster> cluster_;
    std::vector<std::unique_ptr<EventLoop>> loops_;
    // When webhooks.presence_url is set. Declared after the loops: its timer goes first.
    std::unique_ptr<PresenceNotifier> presence_notifier_;
};

}  // namespace huddle::net
