// One event loop: an io_context on its own thread, its listener, its connections and its rooms.
// Everything here is touched only by the loop's thread; other threads post to it.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/document_state.hpp"
#include "core/room_registry.hpp"
#include "endpoints/yws/awareness.hpp"
#include "net/loop_frame.hpp"
#include "net/loop_inbox.hpp"
#include "net/shared_frame.hpp"
#include "net/store_batch.hpp"
#include "net/stored_update.hpp"
#include "observability/metrics.hpp"
#include "store/store.hpp"

namespace huddle::net {

class AccessChecks;
class Server;
class WsSession;

// The loop's rooms, telling `on_change` (when set) when a room gets its first member on this loop
// or loses its last one: a cluster node subscribes to exactly the rooms its loops hold.
class LoopRooms : public core::RoomRegistry<WsSession> {
  public:
    std::function<void(std::string_view room, bool exists)> on_change;

    bool join(WsSession& member, std::string_view room);
    bool leave(WsSession& member, std::string_view room);
    void leave_all(WsSession& member);
};

class EventLoop {
  public:
    EventLoop(Server& server, unsigned index);
    ~EventLoop();

    boost::asio::io_context& io() { return io_; }
    FramePool& frame_pool() { return frame_pool_; }
    unsigned index() const { return index_; }
    Server& server() { return server_; }
    LoopRooms& rooms() { return rooms_; }
    AccessChecks& access_checks() { return *access_checks_; }
    observability::LoopCounters& counters() { return counters_; }
    bool on_this_thread() const { return std::this_thread::get_id() == thread_id_; }

    // Scratch space for plain-socket reads: connections read into it and keep only what is left
    // of a partial frame, so an idle connection holds no read buffer.
    std::vector<char>& read_buffer() { return read_buffer_; }

    // Binds the listener (SO_REUSEPORT: every loop has its own). Returns the bound port.
    std::uint16_t listen(const boost::asio::ip::tcp::endpoint& endpoint);
    void start_thread();
    void join();
    void stop() { io_.stop(); }

    void register_session(WsSession* session);
    void unregister_session(WsSession* session);
    std::size_t session_count() const { return sessions_.size(); }
    // Copies, because closing sessions edits the list.
    std::vector<std::shared_ptr<WsSession>> sessions_snapshot() const;
    // This loop's members of a room, as owning copies (closing them edits the room).
    std::vector<std::shared_ptr<WsSession>> members_of(std::string_view room) const;

    // Queues a session whose pending frames should be written once the current batch of work is
    // done: deliveries of a burst of events then leave in one write per connection.
    void schedule_flush(WsSession* session);
    // A session going away with a flush scheduled.
    void forget_flush(WsSession* session);

    // Writes an event to this loop's members of the room (on this loop's thread).
    void deliver(const RoomDelivery& delivery);

    // Presence of the rooms this loop owns: user -> connections and the user's info (JSON).
    struct PresenceEntry {
        std::uint32_t connections = 0;
        std::string info_json;
    };
    using RoomPresence = std::unordered_map<std::string, PresenceEntry>;
    std::unordered_map<std::string, RoomPresence>& owned_presence() { return presence_; }

    // History position of the rooms this loop owns (rooms whose namespace keeps history).
    struct RoomLog {
        std::string epoch;
        std::uint64_t last_offset = 0;     // given to the newest event
        std::uint64_t durable_offset = 0;  // newest event stored and handed to the loops
        std::uint32_t appends_since_trim = 0;
        std::deque<std::string> recent_keys;  // idempotency keys not yet certainly stored
    };
    std::unordered_map<std::string, RoomLog>& room_logs() { return room_logs_; }
    // History appends of this loop's current turn, handed to the store together
    // (net/store_batch.hpp).
    StoreBatch<store::HistoryStore::AppendRequest>& history_batch() { return history_batch_; }
    // The same for the updates of the documents this loop owns.
    StoreBatch<store::DocumentStore::UpdateRequest>& update_batch() { return update_batch_; }
    // Updates the store completed, back for this loop to apply and relay.
    LoopInbox<StoredDocumentUpdate>& stored_updates() { return stored_updates_; }

    // Yjs documents this loop owns, while they have connections.
    struct OwnedDocument {
        core::DocumentState state;
        endpoints::yws::AwarenessTable awareness;
        std::size_t connections = 0;
        // By protocol (endpoints::DocumentFormat): an update is encoded for the protocols in use.
        std::array<std::size_t, endpoints::kDocumentFormatCount> connections_by_format{};
        std::int64_t idle_since_ms = 0;  // when the last connection left (steady clock)
        // Id of the newest stored update in `state`: compaction replaces the updates up to it.
        std::uint64_t last_update_id = 0;
        // Holds updates this node did not store (cluster): its count of updates no longer
        // matches the store's, so it is not compacted until reloaded.
        bool foreign = false;
    };
    std::unordered_map<std::string, OwnedDocument>& documents() { return documents_; }
    // One compaction of this loop's documents at a time: documents that grow together would
    // otherwise all be merged and rewritten at once, stalling the loop and the store's writer.
    // The others are due again at their next update.
    bool compaction_running = false;

    // Stops accepting and closes every connection with `server_shutdown` + 1001.
    // With `drain_window` > 0 the closes are spread at random over it (rolling restarts).
    void begin_shutdown(std::chrono::milliseconds drain_window);

  private:
    void accept_next();
    void sweep();
    void unload_idle_documents(std::int64_t now_ms);
    void flush_scheduled();

    Server& server_;
    unsigned index_;
    // Before io_: the sessions its handlers own hold frames of this pool until they go.
    FramePool frame_pool_;
    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer sweep_timer_;
    boost::asio::steady_timer drain_timer_;
    // Sessions still to close during a drain, latest first (the next one is at the back).
    std::vector<std::pair<std::int64_t, std::weak_ptr<WsSession>>> drain_queue_;
    void close_drained();
    std::thread thread_;
    std::thread::id thread_id_;
    LoopRooms rooms_;
    observability::LoopCounters counters_;
    std::vector<char> read_buffer_;
    std::vector<WsSession*> sessions_;
    std::vector<WsSession*> flush_queue_;
    std::vector<WsSession*> flushing_;  // the batch being flushed
    bool flush_posted_ = false;
    std::int64_t last_admission_cleanup_ms_ = 0;
    std::unordered_map<std::string, RoomPresence> presence_;
    std::unique_ptr<AccessChecks> access_checks_;
    std::unordered_map<std::string, RoomLog> room_logs_;
    StoreBatch<store::HistoryStore::AppendRequest> history_batch_;
    StoreBatch<store::DocumentStore::UpdateRequest> update_batch_;
    LoopInbox<StoredDocumentUpdate> stored_updates_;
    std::unordered_map<std::string, OwnedDocument> documents_;
};

}  // namespace huddle::net
