#include "store/sqlite_store.hpp"

#include <array>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "store/connection_pool.hpp"
#include "store/group_commit.hpp"
#include "store/sqlite_db.hpp"
#include "store/store_ids.hpp"

namespace huddle::store {
namespace {

using detail::from_db;
using detail::new_epoch;
using detail::Refused;
using detail::to_db;
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

// The whole transaction was lost (SQLite rolled it back by itself, or the commit failed).
struct TransactionLost {
    std::string error;
};

std::string first_error(const std::vector<AppendResult>& results) {
    for (const auto& r : results) {
        if (!r.ok())
            return r.error;
    }
    return {};
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

class SqliteStore final : public detail::GroupCommitStore {
  public:
    SqliteStore(const std::string& path, const SqliteOptions& options);
    ~SqliteStore() override;

    RoomPosition position(std::string_view room) override;
    std::vector<RoomEvent> read_after(std::string_view room, std::uint64_t after_offset,
                                      std::size_t limit) override;
    std::optional<RoomEvent> find_by_idempotency_key(std::string_view room,
                                                     std::string_view key) override;
    std::size_t trim(std::string_view room, std::size_t keep_last,
                     std::int64_t min_timestamp_ms) override;
    std::uint64_t oldest_offset(std::string_view room) override;

    std::vector<StoredUpdate> load(std::string_view document) override;
    bool compact(std::string_view document, std::uint64_t up_to_id, std::size_t replaced_count,
                 std::vector<std::uint8_t> merged) override;
    bool remove(std::string_view document) override;
    std::vector<DocumentInfo> list() override;

  private:
    using Request = detail::WriteRequest;
    using ReadLease = detail::ConnectionPool<Connection>::Lease;

    void write_batch(std::vector<Request>& batch, std::vector<AppendResult>& results) override;
    // Writes each request in the open transaction; false when one that had no savepoint failed.
    bool write_requests(std::vector<Request>& batch, std::vector<AppendResult>& results,
                        bool savepoint_each);
    void execute(Request& request, AppendResult& result);
    void write_events(const std::vector<RoomEvent>& events);
    std::uint64_t write_update(const std::string& document, const std::vector<std::uint8_t>& data);
    std::int64_t room_id_for_write(std::string_view room, std::uint64_t* last);
    std::optional<std::int64_t> document_id(std::string_view document);

    // The writer's own memory of document ids by name: saves a lookup per stored update. It is
    // forgotten whenever a transaction or savepoint is rolled back (an id may have gone with it).
    std::optional<std::int64_t> known_document_id(const std::string& document);
    void forget_document_ids() { document_ids_.clear(); }
    static constexpr std::size_t kMaxKnownDocumentIds = 65'536;

    const SqliteOptions options_;
    std::unique_ptr<Connection> writer_db_;  // used by the writer thread only (after start)
    std::unordered_map<std::string, std::int64_t> document_ids_;
    detail::ConnectionPool<Connection> readers_;
};

detail::QueueLimits limits_of(const SqliteOptions& options) {
    return {options.max_queued_requests, options.max_queued_bytes, options.max_batch};
}

SqliteStore::SqliteStore(const std::string& path, const SqliteOptions& options)
    : GroupCommitStore(limits_of(options)), options_(options) {
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
        readers_.add(std::move(reader));
    }
    start_writer();
}

SqliteStore::~SqliteStore() {
    close();
}

void SqliteStore::write_batch(std::vector<Request>& batch, std::vector<AppendResult>& results) {
    Connection& db = *writer_db_;
    try {
        db.query(kBegin).run();
        if (!write_requests(batch, results, false)) {
            // A request written without a savepoint failed: its writes cannot be undone alone, so
            // the batch is written again with each request in a savepoint of its own.
            if (!db.in_transaction())
                throw TransactionLost{first_error(results)};
            forget_document_ids();
            db.query(kRollback).run();
            std::fill(results.begin(), results.end(), AppendResult{});
            db.query(kBegin).run();
            write_requests(batch, results, true);
        }
        db.query(kCommit).run();
        count_commit();
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
        forget_document_ids();
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
}

bool SqliteStore::write_requests(std::vector<Request>& batch, std::vector<AppendResult>& results,
                                 bool savepoint_each) {
    Connection& db = *writer_db_;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        // A savepoint per request costs about as much as a small insert: it is kept for the
        // requests that are refused in normal operation (events: offsets, idempotency keys) and
        // for tasks. A document update is only ever lost with the whole transaction.
        if (!savepoint_each && batch[i].kind == Request::Kind::update) {
            try {
                execute(batch[i], results[i]);
                continue;
            } catch (const std::exception& e) {
                results[i] = {AppendStatus::failed, e.what()};
            }
            return false;
        }
        db.query(kSavepoint).run();
        try {
            execute(batch[i], results[i]);
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
        forget_document_ids();
        db.query(kRollbackTo).run();
        db.query(kRelease).run();
    }
    return true;
}

void SqliteStore::execute(Request& request, AppendResult& result) {
    switch (request.kind) {
        case Request::Kind::events:
            write_events(request.events);
            break;
        case Request::Kind::update:
            result.update_id = write_update(request.document, request.data);
            break;
        case Request::Kind::task:
            if (request.task)
                request.task();
            break;
    }
}

std::int64_t SqliteStore::room_id_for_write(std::string_view room, std::uint64_t* last) {
    Connection& db = *writer_db_;
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
        const std::int64_t room_id = room_id_for_write(e.room, &last);
        if (e.offset <= last ||
            e.offset > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            throw detail::offset_conflict(e, last);
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
                    throw detail::duplicate_key(e);
                }
                throw;
            }
        }
        db.query(kRoomSetLast).bind(1, room_id).bind(2, to_db(e.offset)).run();
    }
}

std::optional<std::int64_t> SqliteStore::document_id(std::string_view document) {
    auto q = writer_db_->query(kDocumentSelect);
    q.bind(1, document);
    if (q.step())
        return q.integer(0);
    return std::nullopt;
}

std::optional<std::int64_t> SqliteStore::known_document_id(const std::string& document) {
    if (const auto it = document_ids_.find(document); it != document_ids_.end())
        return it->second;
    auto id = document_id(document);
    if (id) {
        if (document_ids_.size() >= kMaxKnownDocumentIds)
            forget_document_ids();
        document_ids_.emplace(document, *id);
    }
    return id;
}

std::uint64_t SqliteStore::write_update(const std::string& document,
                                        const std::vector<std::uint8_t>& data) {
    Connection& db = *writer_db_;
    auto id = known_document_id(document);
    if (!id) {
        db.query(kDocumentInsert).bind(1, document).run();
        id = sqlite3_last_insert_rowid(db.handle());
    }
    db.query(kUpdateInsert).bind(1, *id).bind_blob(2, data).run();
    return static_cast<std::uint64_t>(sqlite3_last_insert_rowid(db.handle()));
}

RoomPosition SqliteStore::position(std::string_view room) {
    {
        ReadLease db(readers_);
        auto q = (*db).query(kRoomSelect);
        q.bind(1, room);
        if (q.step())
            return RoomPosition{q.text(1), from_db(q.integer(2))};
    }
    // A new room: its epoch is created by the writer (one writer for every write).
    return run_on_writer([this, name = std::string(room)] {
        room_id_for_write(name, nullptr);
        auto q = writer_db_->query(kRoomSelect);
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
    ReadLease db(readers_);
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
    ReadLease db(readers_);
    auto q = (*db).query(kEventByKey);
    q.bind(1, room).bind(2, key);
    if (q.step())
        return event_from_row(q, room);
    return std::nullopt;
}

std::uint64_t SqliteStore::oldest_offset(std::string_view room) {
    ReadLease db(readers_);
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
    return run_on_writer([this, name = std::string(room), keep_last, by_count, by_age,
                          min_timestamp_ms]() -> std::size_t {
        Connection& db = *writer_db_;
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
    ReadLease db(readers_);
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
                          replaced_count, merged = std::move(merged)] {
        Connection& db = *writer_db_;
        const auto id = document_id(name);
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
    return run_on_writer([this, name = std::string(document)] {
        Connection& db = *writer_db_;
        document_ids_.erase(name);
        const auto id = document_id(name);
        if (!id)
            return false;
        const auto removed = db.query(kUpdatesDeleteAll).bind(1, *id).run();
        db.query(kDocumentDelete).bind(1, *id).run();
        return removed > 0;
    });
}

std::vector<DocumentInfo> SqliteStore::list() {
    std::vector<DocumentInfo> documents;
    ReadLease db(readers_);
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
