#include "store/sqlite_store.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <type_traits>
#include <utility>

#include "store/sqlite_db.hpp"

namespace huddle::store {
namespace {

using sqlite::Connection;
using sqlite::DbError;

// ---------------------------------------------------------------------------------------------
// Schema. migrations[i] brings a database from version i to version i + 1.

constexpr std::array<const char*, kSqliteSchemaVersion> kMigrations = {
    // 0 -> 1
    "CREATE TABLE rooms("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  epoch TEXT NOT NULL,"
    "  last_offset INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE room_events("
    "  room_id INTEGER NOT NULL,"
    "  event_offset INTEGER NOT NULL,"
    "  timestamp_ms INTEGER NOT NULL,"
    "  idempotency_key TEXT,"
    "  event_json TEXT NOT NULL,"
    "  PRIMARY KEY (room_id, event_offset)) WITHOUT ROWID;"
    "CREATE UNIQUE INDEX room_events_key ON room_events(room_id, idempotency_key)"
    "  WHERE idempotency_key IS NOT NULL;"
    "CREATE TABLE documents("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE document_updates("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  document_id INTEGER NOT NULL,"
    "  data BLOB NOT NULL);"
    "CREATE INDEX document_updates_document ON document_updates(document_id, id);",
};

// Statements (cached per connection by address).
constexpr const char* kBegin = "BEGIN IMMEDIATE";
constexpr const char* kCommit = "COMMIT";
constexpr const char* kRollback = "ROLLBACK";
constexpr const char* kSavepoint = "SAVEPOINT request";
constexpr const char* kRelease = "RELEASE request";
constexpr const char* kRollbackTo = "ROLLBACK TO request";

constexpr const char* kRoomSelect = "SELECT id, epoch, last_offset FROM rooms WHERE name = ?1";
constexpr const char* kRoomInsert = "INSERT INTO rooms(name, epoch, last_offset) VALUES(?1, ?2, 0)";
constexpr const char* kRoomSetLast = "UPDATE rooms SET last_offset = ?2 WHERE id = ?1";
constexpr const char* kEventInsert =
    "INSERT INTO room_events(room_id, event_offset, timestamp_ms, idempotency_key, event_json)"
    " VALUES(?1, ?2, ?3, ?4, ?5)";
constexpr const char* kEventsAfter =
    "SELECT e.event_offset, e.timestamp_ms, e.idempotency_key, e.event_json"
    " FROM room_events e WHERE e.room_id = (SELECT id FROM rooms WHERE name = ?1)"
    " AND e.event_offset > ?2 ORDER BY e.event_offset LIMIT ?3";
constexpr const char* kEventByKey =
    "SELECT e.event_offset, e.timestamp_ms, e.idempotency_key, e.event_json"
    " FROM room_events e WHERE e.room_id = (SELECT id FROM rooms WHERE name = ?1)"
    " AND e.idempotency_key = ?2";
constexpr const char* kOldestOffset =
    "SELECT event_offset FROM room_events WHERE room_id = (SELECT id FROM rooms WHERE name = ?1)"
    " ORDER BY event_offset LIMIT 1";
constexpr const char* kTrimCount =
    "DELETE FROM room_events WHERE room_id = ?1 AND event_offset <= (SELECT event_offset FROM"
    " room_events WHERE room_id = ?1 ORDER BY event_offset DESC LIMIT 1 OFFSET ?2)";
constexpr const char* kTrimAge = "DELETE FROM room_events WHERE room_id = ?1 AND timestamp_ms < ?2";

constexpr const char* kDocumentSelect = "SELECT id FROM documents WHERE name = ?1";
constexpr const char* kDocumentInsert = "INSERT INTO documents(name) VALUES(?1)";
constexpr const char* kDocumentDelete = "DELETE FROM documents WHERE id = ?1";
constexpr const char* kUpdateInsert =
    "INSERT INTO document_updates(document_id, data) VALUES(?1, ?2)";
constexpr const char* kUpdateInsertWithId =
    "INSERT INTO document_updates(id, document_id, data) VALUES(?1, ?2, ?3)";
constexpr const char* kUpdatesLoad =
    "SELECT u.id, u.data FROM document_updates u"
    " WHERE u.document_id = (SELECT id FROM documents WHERE name = ?1) ORDER BY u.id";
constexpr const char* kUpdatesCountUpTo =
    "SELECT COUNT(*), MAX(id = ?2) FROM document_updates WHERE document_id = ?1 AND id <= ?2";
constexpr const char* kUpdatesDeleteUpTo =
    "DELETE FROM document_updates WHERE document_id = ?1 AND id <= ?2";
constexpr const char* kUpdatesDeleteAll = "DELETE FROM document_updates WHERE document_id = ?1";
constexpr const char* kDocumentsList =
    "SELECT d.name, COUNT(*), SUM(LENGTH(u.data)) FROM documents d"
    " JOIN document_updates u ON u.document_id = d.id GROUP BY d.id ORDER BY d.name";

// A request refused for a reason the caller can act on (rolled back alone).
struct Refused {
    AppendStatus status;
    std::string error;
};

// The whole transaction was lost (SQLite rolled it back by itself, or the commit failed).
struct TransactionLost {
    std::string error;
};

std::string new_epoch() {
    // 128 random bits from the OS (getrandom), as 32 hex digits.
    thread_local std::random_device device;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string epoch;
    epoch.reserve(32);
    for (int word = 0; word < 4; ++word) {
        std::uint32_t bits = device();
        for (int nibble = 0; nibble < 8; ++nibble) {
            epoch.push_back(kHex[bits & 0xF]);
            bits >>= 4;
        }
    }
    return epoch;
}

std::int64_t to_db(std::uint64_t value) {
    // Offsets and ids live in SQLite's signed 64-bit integers.
    return value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
               ? std::numeric_limits<std::int64_t>::max()
               : static_cast<std::int64_t>(value);
}

std::uint64_t from_db(std::int64_t value) {
    return value < 0 ? 0 : static_cast<std::uint64_t>(value);
}

RoomEvent event_from_row(sqlite::Query& q, std::string_view room) {
    RoomEvent event;
    event.room = std::string(room);
    event.offset = from_db(q.integer(0));
    event.timestamp_ms = q.integer(1);
    event.idempotency_key = q.text(2);
    event.event_json = q.text(3);
    return event;
}

// Brings the schema to kSqliteSchemaVersion, in one transaction.
void migrate(Connection& db) {
    db.exec("BEGIN IMMEDIATE");
    try {
        db.exec("CREATE TABLE IF NOT EXISTS huddle_schema(version INTEGER NOT NULL)");
        int version = 0;
        bool has_row = false;
        {
            auto q = db.query("SELECT version FROM huddle_schema");
            if (q.step()) {
                version = static_cast<int>(q.integer(0));
                has_row = true;
            }
        }
        if (version > kSqliteSchemaVersion) {
            throw StoreError("database schema version " + std::to_string(version) +
                             " is newer than this build supports (" +
                             std::to_string(kSqliteSchemaVersion) + ")");
        }
        for (int v = version; v < kSqliteSchemaVersion; ++v)
            db.exec(kMigrations[static_cast<std::size_t>(v)]);
        if (!has_row) {
            db.query("INSERT INTO huddle_schema(version) VALUES(?1)")
                .bind(1, std::int64_t{kSqliteSchemaVersion})
                .run();
        } else if (version != kSqliteSchemaVersion) {
            db.query("UPDATE huddle_schema SET version = ?1")
                .bind(1, std::int64_t{kSqliteSchemaVersion})
                .run();
        }
        db.exec("COMMIT");
    } catch (...) {
        if (db.in_transaction())
            db.exec("ROLLBACK");
        throw;
    }
}

// ---------------------------------------------------------------------------------------------

class SqliteStore final : public Store {
  public:
    SqliteStore(const std::string& path, const SqliteOptions& options);
    ~SqliteStore() override;

    void append(std::vector<RoomEvent> events, AppendCallback done) override;
    RoomPosition position(std::string_view room) override;
    std::vector<RoomEvent> read_after(std::string_view room, std::uint64_t after_offset,
                                      std::size_t limit) override;
    std::optional<RoomEvent> find_by_idempotency_key(std::string_view room,
                                                     std::string_view key) override;
    std::size_t trim(std::string_view room, std::size_t keep_last,
                     std::int64_t min_timestamp_ms) override;
    std::uint64_t oldest_offset(std::string_view room) override;

    void append_update(std::string_view document, std::vector<std::uint8_t> update,
                       AppendCallback done) override;
    std::vector<StoredUpdate> load(std::string_view document) override;
    bool compact(std::string_view document, std::uint64_t up_to_id, std::size_t replaced_count,
                 std::vector<std::uint8_t> merged) override;
    bool remove(std::string_view document) override;
    std::vector<DocumentInfo> list() override;

    void flush() override;
    void close() override;
    StoreStats stats() const override;

  private:
    // One queued unit of work for the writer.
    struct Request {
        enum class Kind { events, update, task } kind = Kind::task;
        std::vector<RoomEvent> events;          // Kind::events
        std::string document;                   // Kind::update
        std::vector<std::uint8_t> data;         // Kind::update
        std::function<void(Connection&)> task;  // Kind::task: a synchronous call's work
        AppendCallback done;
        std::size_t bytes = 0;  // counted against max_queued_bytes (0 for tasks)
    };

    // A read connection borrowed from the pool for one call.
    class ReadLease {
      public:
        explicit ReadLease(SqliteStore& store);
        ~ReadLease();
        ReadLease(const ReadLease&) = delete;
        ReadLease& operator=(const ReadLease&) = delete;
        Connection& operator*() { return *connection_; }

      private:
        SqliteStore& store_;
        std::unique_ptr<Connection> connection_;
    };

    void enqueue_append(Request request);
    // Runs `work` on the writer thread inside the next transaction; returns its result once the
    // transaction is committed. Throws StoreError if the work or the commit fails.
    template <class Work>
    auto run_on_writer(Work work) -> std::invoke_result_t<Work&, Connection&>;

    void writer_loop();
    void write_batch(std::vector<Request>& batch);
    void execute(Request& request);
    void write_events(const std::vector<RoomEvent>& events);
    void write_update(const std::string& document, const std::vector<std::uint8_t>& data);
    std::int64_t room_id_for_write(Connection& db, std::string_view room, std::uint64_t* last);
    std::optional<std::int64_t> document_id(Connection& db, std::string_view document);

    const SqliteOptions options_;
    std::unique_ptr<Connection> writer_db_;  // used by the writer thread only (after start)

    mutable std::mutex queue_mutex_;
    std::condition_variable queue_cv_;
    std::deque<Request> queue_;
    std::size_t pending_requests_ = 0;  // queued + being written (appends only)
    std::size_t pending_bytes_ = 0;
    bool closing_ = false;
    std::thread writer_;
    std::thread::id writer_id_;
    std::once_flag close_once_;

    std::mutex read_mutex_;
    std::condition_variable read_cv_;
    std::vector<std::unique_ptr<Connection>> readers_;

    std::atomic<std::uint64_t> commits_{0};
    std::atomic<std::uint64_t> appends_{0};
    std::atomic<std::uint64_t> failed_{0};
};

SqliteStore::SqliteStore(const std::string& path, const SqliteOptions& options)
    : options_(options) {
    if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0)
        throw StoreError("sqlite store: a database file path is required, got '" + path + "'");
    writer_db_ = std::make_unique<Connection>(path, options_.busy_timeout_ms);
    {
        auto q = writer_db_->query("PRAGMA journal_mode=WAL");
        if (!q.step() || q.text(0) != "wal")
            throw StoreError("sqlite store: cannot enable WAL mode on '" + path + "'");
    }
    writer_db_->exec(options_.fsync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF");
    migrate(*writer_db_);

    const std::size_t reader_count = options_.read_connections == 0 ? 1 : options_.read_connections;
    for (std::size_t i = 0; i < reader_count; ++i) {
        auto reader = std::make_unique<Connection>(path, options_.busy_timeout_ms);
        reader->exec("PRAGMA query_only=1");
        readers_.push_back(std::move(reader));
    }

    writer_ = std::thread([this] { writer_loop(); });
    writer_id_ = writer_.get_id();
}

SqliteStore::~SqliteStore() {
    close();
}

void SqliteStore::close() {
    std::call_once(close_once_, [this] {
        {
            std::lock_guard lock(queue_mutex_);
            closing_ = true;
        }
        queue_cv_.notify_all();
        if (writer_.joinable()) {
            if (std::this_thread::get_id() == writer_id_)
                std::terminate();  // close() from a completion: documented as forbidden
            writer_.join();
        }
    });
}

StoreStats SqliteStore::stats() const {
    StoreStats s;
    s.commits = commits_.load(std::memory_order_relaxed);
    s.appends = appends_.load(std::memory_order_relaxed);
    s.failed_appends = failed_.load(std::memory_order_relaxed);
    std::lock_guard lock(queue_mutex_);
    s.queued = queue_.size();
    s.queued_bytes = pending_bytes_;
    return s;
}

// ---------------------------------------------------------------------------------------------
// Queueing.

void SqliteStore::enqueue_append(Request request) {
    AppendResult refusal;
    {
        std::lock_guard lock(queue_mutex_);
        if (closing_) {
            refusal = {AppendStatus::closed, "store is closed"};
        } else if (pending_requests_ + 1 > options_.max_queued_requests ||
                   (pending_bytes_ + request.bytes > options_.max_queued_bytes &&
                    pending_requests_ > 0)) {
            refusal = {AppendStatus::queue_full, "store write queue is full"};
        } else {
            ++pending_requests_;
            pending_bytes_ += request.bytes;
            queue_.push_back(std::move(request));
        }
    }
    if (refusal.ok()) {
        queue_cv_.notify_one();
        return;
    }
    failed_.fetch_add(1, std::memory_order_relaxed);
    if (request.done)
        request.done(std::move(refusal));
}

void SqliteStore::append(std::vector<RoomEvent> events, AppendCallback done) {
    Request request;
    request.kind = Request::Kind::events;
    request.bytes = 0;
    for (const auto& e : events)
        request.bytes +=
            sizeof(RoomEvent) + e.room.size() + e.idempotency_key.size() + e.event_json.size();
    request.events = std::move(events);
    request.done = std::move(done);
    enqueue_append(std::move(request));
}

void SqliteStore::append_update(std::string_view document, std::vector<std::uint8_t> update,
                                AppendCallback done) {
    Request request;
    request.kind = Request::Kind::update;
    request.bytes = sizeof(Request) + document.size() + update.size();
    request.document = std::string(document);
    request.data = std::move(update);
    request.done = std::move(done);
    enqueue_append(std::move(request));
}

template <class Work>
auto SqliteStore::run_on_writer(Work work) -> std::invoke_result_t<Work&, Connection&> {
    using Result = std::invoke_result_t<Work&, Connection&>;
    if (std::this_thread::get_id() == writer_id_)
        throw StoreError("store: synchronous call from a completion (would deadlock)");
    auto result = std::make_shared<std::optional<Result>>();
    auto promise = std::make_shared<std::promise<void>>();
    auto future = promise->get_future();

    Request request;
    request.kind = Request::Kind::task;
    request.task = [work = std::move(work), result](Connection& db) mutable {
        result->emplace(work(db));
    };
    request.done = [promise](AppendResult r) {
        if (r.ok())
            promise->set_value();
        else
            promise->set_exception(std::make_exception_ptr(StoreError(r.error)));
    };
    {
        std::lock_guard lock(queue_mutex_);
        if (closing_)
            throw StoreError("store is closed");
        // Tasks bypass the bound: each caller waits for its own, so they cannot pile up.
        queue_.push_back(std::move(request));
    }
    queue_cv_.notify_one();
    future.get();  // rethrows the task's error
    return std::move(**result);
}

// ---------------------------------------------------------------------------------------------
// The writer thread: group commit.

void SqliteStore::writer_loop() {
    std::vector<Request> batch;
    for (;;) {
        {
            std::unique_lock lock(queue_mutex_);
            queue_cv_.wait(lock, [this] { return !queue_.empty() || closing_; });
            if (queue_.empty())
                break;  // closing and drained
            const std::size_t take =
                std::min(queue_.size(), std::max<std::size_t>(1, options_.max_batch));
            for (std::size_t i = 0; i < take; ++i) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        write_batch(batch);
        std::size_t done_requests = 0;
        std::size_t done_bytes = 0;
        for (const auto& r : batch) {
            if (r.kind != Request::Kind::task) {
                ++done_requests;
                done_bytes += r.bytes;
            }
        }
        batch.clear();  // frees the payloads before the bound is released
        std::lock_guard lock(queue_mutex_);
        pending_requests_ -= done_requests;
        pending_bytes_ -= done_bytes;
    }
}

void SqliteStore::write_batch(std::vector<Request>& batch) {
    Connection& db = *writer_db_;
    std::vector<AppendResult> results(batch.size());
    try {
        db.query(kBegin).run();
        for (std::size_t i = 0; i < batch.size(); ++i) {
            db.query(kSavepoint).run();
            try {
                execute(batch[i]);
                db.query(kRelease).run();
                continue;
            } catch (const Refused& refused) {
                results[i] = {refused.status, refused.error};
            } catch (const std::exception& e) {
                results[i] = {AppendStatus::failed, e.what()};
            }
            // Undo this request alone, unless SQLite already rolled back the whole transaction
            // (I/O error, disk full, ...): then every request of the batch is lost.
            if (!db.in_transaction())
                throw TransactionLost{results[i].error};
            db.query(kRollbackTo).run();
            db.query(kRelease).run();
        }
        db.query(kCommit).run();
        commits_.fetch_add(1, std::memory_order_relaxed);
    } catch (...) {
        std::string error = "store transaction failed";
        try {
            throw;
        } catch (const TransactionLost& lost) {
            error += ": " + lost.error;
        } catch (const std::exception& e) {
            error += ": ";
            error += e.what();
        } catch (...) {
        }
        try {
            if (db.in_transaction())
                db.query(kRollback).run();
        } catch (const std::exception&) {
        }
        for (auto& r : results) {
            if (r.ok())
                r = {AppendStatus::failed, error};
        }
    }

    // Durable (or failed): tell everyone, in queue order.
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (batch[i].kind != Request::Kind::task) {
            if (results[i].ok())
                appends_.fetch_add(1, std::memory_order_relaxed);
            else
                failed_.fetch_add(1, std::memory_order_relaxed);
        }
        if (!batch[i].done)
            continue;
        try {
            batch[i].done(std::move(results[i]));
        } catch (...) {
            // A completion must not throw; the writer must not die of it.
        }
    }
}

void SqliteStore::execute(Request& request) {
    switch (request.kind) {
        case Request::Kind::events:
            write_events(request.events);
            break;
        case Request::Kind::update:
            write_update(request.document, request.data);
            break;
        case Request::Kind::task:
            if (request.task)
                request.task(*writer_db_);
            break;
    }
}

std::int64_t SqliteStore::room_id_for_write(Connection& db, std::string_view room,
                                            std::uint64_t* last) {
    {
        auto q = db.query(kRoomSelect);
        q.bind(1, room);
        if (q.step()) {
            if (last != nullptr)
                *last = from_db(q.integer(2));
            return q.integer(0);
        }
    }
    const std::string epoch = new_epoch();
    db.query(kRoomInsert).bind(1, room).bind(2, epoch).run();
    if (last != nullptr)
        *last = 0;
    return sqlite3_last_insert_rowid(db.handle());
}

void SqliteStore::write_events(const std::vector<RoomEvent>& events) {
    Connection& db = *writer_db_;
    for (const auto& e : events) {
        std::uint64_t last = 0;
        const std::int64_t room_id = room_id_for_write(db, e.room, &last);
        if (e.offset <= last ||
            e.offset > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            throw Refused{AppendStatus::offset_conflict,
                          "offset " + std::to_string(e.offset) + " is not after offset " +
                              std::to_string(last) + " in room '" + e.room + "'"};
        }
        {
            auto q = db.query(kEventInsert);
            q.bind(1, room_id).bind(2, to_db(e.offset)).bind(3, e.timestamp_ms);
            if (e.idempotency_key.empty())
                q.bind_null(4);
            else
                q.bind(4, e.idempotency_key);
            q.bind(5, e.event_json);
            try {
                q.run();
            } catch (const DbError& error) {
                if ((error.code() & 0xFF) == SQLITE_CONSTRAINT) {
                    throw Refused{AppendStatus::duplicate_key,
                                  "idempotency key '" + e.idempotency_key +
                                      "' already stored in room '" + e.room + "'"};
                }
                throw;
            }
        }
        db.query(kRoomSetLast).bind(1, room_id).bind(2, to_db(e.offset)).run();
    }
}

std::optional<std::int64_t> SqliteStore::document_id(Connection& db, std::string_view document) {
    auto q = db.query(kDocumentSelect);
    q.bind(1, document);
    if (q.step())
        return q.integer(0);
    return std::nullopt;
}

void SqliteStore::write_update(const std::string& document, const std::vector<std::uint8_t>& data) {
    Connection& db = *writer_db_;
    auto id = document_id(db, document);
    if (!id) {
        db.query(kDocumentInsert).bind(1, document).run();
        id = sqlite3_last_insert_rowid(db.handle());
    }
    db.query(kUpdateInsert).bind(1, *id).bind_blob(2, data).run();
}

void SqliteStore::flush() {
    {
        std::lock_guard lock(queue_mutex_);
        if (closing_)
            return;  // close() drains everything itself
    }
    run_on_writer([](Connection&) { return true; });
}

// ---------------------------------------------------------------------------------------------
// Reads: a pool of read-only connections.

SqliteStore::ReadLease::ReadLease(SqliteStore& store) : store_(store) {
    std::unique_lock lock(store_.read_mutex_);
    store_.read_cv_.wait(lock, [this] { return !store_.readers_.empty(); });
    connection_ = std::move(store_.readers_.back());
    store_.readers_.pop_back();
}

SqliteStore::ReadLease::~ReadLease() {
    {
        std::lock_guard lock(store_.read_mutex_);
        store_.readers_.push_back(std::move(connection_));
    }
    store_.read_cv_.notify_one();
}

RoomPosition SqliteStore::position(std::string_view room) {
    {
        ReadLease db(*this);
        auto q = (*db).query(kRoomSelect);
        q.bind(1, room);
        if (q.step())
            return RoomPosition{q.text(1), from_db(q.integer(2))};
    }
    // A new room: its epoch is created by the writer (one writer for every write).
    return run_on_writer([this, name = std::string(room)](Connection& db) {
        room_id_for_write(db, name, nullptr);
        auto q = db.query(kRoomSelect);
        q.bind(1, name);
        if (!q.step())
            throw StoreError("store: room row missing after insert");
        return RoomPosition{q.text(1), from_db(q.integer(2))};
    });
}

std::vector<RoomEvent> SqliteStore::read_after(std::string_view room, std::uint64_t after_offset,
                                               std::size_t limit) {
    std::vector<RoomEvent> events;
    if (limit == 0)
        return events;
    ReadLease db(*this);
    auto q = (*db).query(kEventsAfter);
    q.bind(1, room).bind(2, to_db(after_offset)).bind(3, to_db(limit));
    while (q.step())
        events.push_back(event_from_row(q, room));
    return events;
}

std::optional<RoomEvent> SqliteStore::find_by_idempotency_key(std::string_view room,
                                                              std::string_view key) {
    if (key.empty())
        return std::nullopt;
    ReadLease db(*this);
    auto q = (*db).query(kEventByKey);
    q.bind(1, room).bind(2, key);
    if (q.step())
        return event_from_row(q, room);
    return std::nullopt;
}

std::uint64_t SqliteStore::oldest_offset(std::string_view room) {
    ReadLease db(*this);
    auto q = (*db).query(kOldestOffset);
    q.bind(1, room);
    if (q.step())
        return from_db(q.integer(0));
    return 0;
}

std::size_t SqliteStore::trim(std::string_view room, std::size_t keep_last,
                              std::int64_t min_timestamp_ms) {
    const bool by_count =
        keep_last < static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    const bool by_age = min_timestamp_ms > 0;
    if (!by_count && !by_age)
        return 0;
    return run_on_writer([name = std::string(room), keep_last, by_count, by_age,
                          min_timestamp_ms](Connection& db) -> std::size_t {
        std::int64_t room_id = 0;
        {
            auto q = db.query(kRoomSelect);
            q.bind(1, name);
            if (!q.step())
                return 0;
            room_id = q.integer(0);
        }
        std::int64_t removed = 0;
        if (by_count)
            removed += db.query(kTrimCount)
                           .bind(1, room_id)
                           .bind(2, static_cast<std::int64_t>(keep_last))
                           .run();
        if (by_age)
            removed += db.query(kTrimAge).bind(1, room_id).bind(2, min_timestamp_ms).run();
        return static_cast<std::size_t>(removed);
    });
}

// ---------------------------------------------------------------------------------------------
// Documents.

std::vector<StoredUpdate> SqliteStore::load(std::string_view document) {
    std::vector<StoredUpdate> updates;
    ReadLease db(*this);
    auto q = (*db).query(kUpdatesLoad);
    q.bind(1, document);
    while (q.step())
        updates.push_back(StoredUpdate{from_db(q.integer(0)), q.blob(1)});
    return updates;
}

bool SqliteStore::compact(std::string_view document, std::uint64_t up_to_id,
                          std::size_t replaced_count, std::vector<std::uint8_t> merged) {
    if (replaced_count == 0 || up_to_id == 0)
        return false;
    return run_on_writer([this, name = std::string(document), up_to = to_db(up_to_id),
                          replaced_count, merged = std::move(merged)](Connection& db) {
        const auto id = document_id(db, name);
        if (!id)
            return false;
        {
            // The count must match what the caller merged, and id up_to_id must be one of this
            // document's updates (the merged update takes its id).
            auto q = db.query(kUpdatesCountUpTo);
            q.bind(1, *id).bind(2, up_to);
            if (!q.step() || q.integer(0) != static_cast<std::int64_t>(replaced_count) ||
                q.integer(1) != 1)
                return false;
        }
        db.query(kUpdatesDeleteUpTo).bind(1, *id).bind(2, up_to).run();
        db.query(kUpdateInsertWithId).bind(1, up_to).bind(2, *id).bind_blob(3, merged).run();
        return true;
    });
}

bool SqliteStore::remove(std::string_view document) {
    return run_on_writer([this, name = std::string(document)](Connection& db) {
        const auto id = document_id(db, name);
        if (!id)
            return false;
        const auto removed = db.query(kUpdatesDeleteAll).bind(1, *id).run();
        db.query(kDocumentDelete).bind(1, *id).run();
        return removed > 0;
    });
}

std::vector<DocumentInfo> SqliteStore::list() {
    std::vector<DocumentInfo> documents;
    ReadLease db(*this);
    auto q = (*db).query(kDocumentsList);
    while (q.step()) {
        documents.push_back(DocumentInfo{q.text(0), static_cast<std::size_t>(q.integer(1)),
                                         static_cast<std::size_t>(q.integer(2))});
    }
    return documents;
}

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path, const SqliteOptions& options) {
    return std::make_unique<SqliteStore>(path, options);
}

}  // namespace huddle::store
