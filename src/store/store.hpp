// Storage of room history and Yjs document updates, behind interfaces.
//
// The durability contract (DESIGN.md §3): an event or update that any client has been sent is
// already on disk. Appends are therefore asynchronous: the caller hands over the data and gets a
// completion once the data is durable (committed and fsynced), and only then sends it to clients.
// Implementations group the appends queued meanwhile into one transaction (group commit), so one
// fsync covers many appends. Event loops never block on disk: append*() only queues.
//
// Completions run on the store's own writer thread, in the order the appends were queued, except
// refusals known at once (queue_full, closed), which complete on the calling thread before
// append*() returns (so a completion may run inside the append call: post, don't re-enter). They
// must be short and must not throw (post back to the caller's event loop). They must not call
// flush()/close() or the synchronous methods of the same store (that would wait on the very thread
// that runs them); calling append*() from a completion is fine.
//
// Every other method is synchronous and may wait for disk. They are meant for rare work
// (recovery, loading a document on first use, trimming, compaction) run off the event loops, and
// are safe to call from any thread at the same time as appends.
//
// Nothing here depends on a database library: SQLite (sqlite_store.hpp) is the default backend,
// PostgreSQL (postgres_store.hpp) serves the same interfaces; open_store.hpp chooses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace huddle::store {

// Thrown by open functions and synchronous methods when the database itself fails (cannot be
// opened, I/O error, schema from a newer version, store closed). Never thrown by append*().
class StoreError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

enum class AppendStatus {
    ok,
    queue_full,       // the bounded queue is full: nothing written; retry later or tell the client
    closed,           // the store is closed (or closing): nothing written
    offset_conflict,  // an offset not greater than the room's last offset: nothing written
    duplicate_key,    // the idempotency key is already stored for that room: nothing written
    failed,           // database error (I/O, disk full, ...): nothing written
};

struct AppendResult {
    AppendStatus status = AppendStatus::ok;
    std::string error;  // human-readable detail when !ok()
    // append_update(): the id the update got (DocumentStore::load order, compact's up_to_id).
    std::uint64_t update_id = 0;
    // append_update(): the update's bytes, handed back whatever the outcome, so that a caller
    // who applies and relays them once durable keeps no copy of its own meanwhile.
    std::vector<std::uint8_t> update;

    bool ok() const { return status == AppendStatus::ok; }
};

using AppendCallback = std::function<void(AppendResult)>;

// ---------------------------------------------------------------------------------------------
// Room history.

struct RoomEvent {
    std::string room;
    std::uint64_t offset = 0;       // > 0, strictly increasing within a room (gaps are allowed)
    std::int64_t timestamp_ms = 0;  // Unix time in ms, used by age trimming
    std::string idempotency_key;    // empty: none; otherwise unique within the room
    std::string event_json;         // opaque to the store

    friend bool operator==(const RoomEvent&, const RoomEvent&) = default;
};

struct RoomPosition {
    // Random id created when a room's history starts (or restarts after it was lost). A client's
    // offset is meaningful only together with the epoch it was given.
    std::string epoch;
    // Highest offset ever stored in the room, even if trimmed since (0: none). The next event
    // gets an offset above it.
    std::uint64_t last_offset = 0;

    friend bool operator==(const RoomPosition&, const RoomPosition&) = default;
};

class HistoryStore {
  public:
    virtual ~HistoryStore() = default;

    // Appends the events (any rooms) atomically: all are stored or none. Each event's offset must
    // be greater than every offset stored (or trimmed) before in its room, and its idempotency key
    // (if any) new in that room; otherwise nothing is written and `done` gets offset_conflict or
    // duplicate_key. A room that has no epoch yet gets one. `done` is called exactly once, on the
    // writer thread, after the events are durable (or with the error).
    virtual void append(std::vector<RoomEvent> events, AppendCallback done) = 0;

    // Several independent appends at once: each is stored or refused on its own, exactly as by
    // append(), in the order given. Queued together, so that the writer commits them in one
    // transaction instead of waking up for the first one alone.
    struct AppendRequest {
        std::vector<RoomEvent> events;
        AppendCallback done;
    };
    virtual void append_each(std::vector<AppendRequest> requests) = 0;

    // The room's epoch and last offset; creates the epoch (durably) if the room has none.
    virtual RoomPosition position(std::string_view room) = 0;

    // Up to `limit` events with offset > after_offset, in offset order.
    virtual std::vector<RoomEvent> read_after(std::string_view room, std::uint64_t after_offset,
                                              std::size_t limit) = 0;

    virtual std::optional<RoomEvent> find_by_idempotency_key(std::string_view room,
                                                             std::string_view key) = 0;

    // Bounds a room's history: keeps at most `keep_last` newest events (SIZE_MAX: no count bound)
    // and drops events with timestamp_ms < min_timestamp_ms (0 or less: no age bound). The epoch
    // and last offset stay. Returns the number of events removed.
    virtual std::size_t trim(std::string_view room, std::size_t keep_last,
                             std::int64_t min_timestamp_ms) = 0;

    // Smallest offset still stored for the room; 0 if none. A client that last saw offset `o` can
    // recover without a gap iff the epoch matches and (o >= last_offset or oldest_offset <= o + 1).
    virtual std::uint64_t oldest_offset(std::string_view room) = 0;
};

// ---------------------------------------------------------------------------------------------
// Yjs documents: an append-only log of binary updates per document, compacted now and then.

struct StoredUpdate {
    std::uint64_t id = 0;  // increasing within a document, in append order
    std::vector<std::uint8_t> data;

    friend bool operator==(const StoredUpdate&, const StoredUpdate&) = default;
};

struct DocumentInfo {
    std::string name;
    std::size_t updates = 0;  // number of stored updates
    std::size_t bytes = 0;    // sum of their sizes

    friend bool operator==(const DocumentInfo&, const DocumentInfo&) = default;
};

class DocumentStore {
  public:
    virtual ~DocumentStore() = default;

    // Appends one update; `done` is called once, on the writer thread, after it is durable, and
    // gets the update back (AppendResult::update).
    virtual void append_update(std::string_view document, std::vector<std::uint8_t> update,
                               AppendCallback done) = 0;

    // Several updates at once, exactly as by append_update() in the order given, queued together
    // so that the writer commits them in one transaction instead of waking up for the first one.
    struct UpdateRequest {
        std::string document;
        std::vector<std::uint8_t> update;
        AppendCallback done;
    };
    virtual void append_updates(std::vector<UpdateRequest> requests) = 0;

    // Every stored update of the document, in id order (empty if none).
    virtual std::vector<StoredUpdate> load(std::string_view document) = 0;

    // Compaction: atomically replaces the stored updates with id <= up_to_id by `merged`, which
    // takes id up_to_id (so it stays before the updates appended meanwhile, which are kept).
    // `replaced_count` is the number of updates with id <= up_to_id the caller merged (as returned
    // by load()); if the store holds a different number (another compaction or a concurrent writer
    // got there first), nothing changes and false is returned: load again and retry later.
    // Durable when it returns true.
    virtual bool compact(std::string_view document, std::uint64_t up_to_id,
                         std::size_t replaced_count, std::vector<std::uint8_t> merged) = 0;

    // Deletes every update of the document; false if it had none. Durable when it returns.
    virtual bool remove(std::string_view document) = 0;

    // Every document with stored updates, sorted by name.
    virtual std::vector<DocumentInfo> list() = 0;
};

// ---------------------------------------------------------------------------------------------

struct StoreStats {
    std::uint64_t commits = 0;         // transactions committed by the writer (one fsync each)
    std::uint64_t appends = 0;         // append()/append_update() requests made durable
    std::uint64_t failed_appends = 0;  // completed with an error (any status but ok)
    std::uint64_t queued = 0;          // requests waiting for the writer now
    std::uint64_t queued_bytes = 0;    // their payload size
    bool realtime_writer = false;      // the writer thread got SCHED_FIFO (see group_commit.cpp)
    bool reachable = true;             // false while the writer retries a database it cannot reach
};

// One object serving both interfaces, with lifecycle and figures for /metrics.
class Store : public HistoryStore, public DocumentStore {
  public:
    // Waits until everything queued before the call is durable and its completion has run.
    // Returns at once after close().
    virtual void flush() = 0;
    // Stops accepting appends (they complete with `closed`), writes and completes everything
    // already queued, stops the writer. Idempotent; the destructor calls it.
    virtual void close() = 0;
    virtual StoreStats stats() const = 0;
};

}  // namespace huddle::store
