#include "store/postgres_store.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "store/connection_pool.hpp"
#include "store/group_commit.hpp"
#include "store/pg_db.hpp"
#include "store/store_ids.hpp"

namespace huddle::store {
namespace {

using detail::from_db;
using detail::new_epoch;
using detail::to_db;
using pg::Connection;
using pg::DbError;
using pg::Params;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Schema. kMigrations[i] brings a database from version i to version i + 1.

constexpr std::array<const char*, kPostgresSchemaVersion> kMigrations = {
    // 0 -> 1
    "CREATE TABLE huddle_rooms("
    "  id bigserial PRIMARY KEY,"
    "  name text NOT NULL UNIQUE,"
    "  epoch text NOT NULL,"
    "  last_offset bigint NOT NULL DEFAULT 0);"
    "CREATE TABLE huddle_room_events("
    "  room_id bigint NOT NULL,"
    "  event_offset bigint NOT NULL,"
    "  timestamp_ms bigint NOT NULL,"
    "  idempotency_key text,"
    "  event_json text NOT NULL,"
    "  PRIMARY KEY (room_id, event_offset));"
    "CREATE UNIQUE INDEX huddle_room_events_key ON huddle_room_events(room_id, idempotency_key)"
    "  WHERE idempotency_key IS NOT NULL;"
    "CREATE TABLE huddle_document_updates("
    "  id bigserial PRIMARY KEY,"
    "  document text NOT NULL,"
    "  data bytea NOT NULL);"
    "CREATE INDEX huddle_document_updates_document ON huddle_document_updates(document, id);"
    // The last batch each writer committed: tells after a lost COMMIT answer whether it took.
    "CREATE TABLE huddle_writers("
    "  writer text PRIMARY KEY,"
    "  batch bigint NOT NULL);"
    // Appends one event under the room's row lock, so that writers on several nodes check the
    // offset and the idempotency key against the same state. Returns -1 when stored, -2 for a
    // duplicate key, otherwise the room's last offset (the event's offset is not above it).
    // Nothing is written when the event is refused, except the room's epoch on first use.
    "CREATE FUNCTION huddle_append_event(p_room text, p_epoch text, p_offset bigint,"
    "    p_timestamp bigint, p_key text, p_json text) RETURNS bigint"
    "  LANGUAGE plpgsql AS $$"
    "DECLARE v_id bigint; v_last bigint;"
    "BEGIN"
    "  SELECT id, last_offset INTO v_id, v_last FROM huddle_rooms WHERE name = p_room FOR UPDATE;"
    "  IF NOT FOUND THEN"
    "    INSERT INTO huddle_rooms(name, epoch) VALUES (p_room, p_epoch)"
    "      ON CONFLICT (name) DO NOTHING;"
    "    SELECT id, last_offset INTO v_id, v_last FROM huddle_rooms WHERE name = p_room"
    "      FOR UPDATE;"
    "  END IF;"
    "  IF p_offset <= v_last THEN RETURN v_last; END IF;"
    "  IF p_key IS NOT NULL AND EXISTS (SELECT 1 FROM huddle_room_events"
    "      WHERE room_id = v_id AND idempotency_key = p_key) THEN RETURN -2; END IF;"
    "  INSERT INTO huddle_room_events VALUES (v_id, p_offset, p_timestamp, p_key, p_json);"
    "  UPDATE huddle_rooms SET last_offset = p_offset WHERE id = v_id;"
    "  RETURN -1;"
    "END $$;",
    // 1 -> 2
    // Appends events one after the other, each as huddle_append_event would (an event refused
    // writes nothing): a batch of one-event requests in one round trip. An empty key is none.
    "CREATE FUNCTION huddle_append_events(p_rooms text[], p_epochs text[], p_offsets bigint[],"
    "    p_timestamps bigint[], p_keys text[], p_jsons text[])"
    "  RETURNS TABLE(item integer, outcome bigint) LANGUAGE plpgsql AS $$"
    "BEGIN"
    "  FOR i IN 1 .. coalesce(array_length(p_rooms, 1), 0) LOOP"
    "    item := i;"
    "    outcome := huddle_append_event(p_rooms[i], p_epochs[i], p_offsets[i], p_timestamps[i],"
    "        nullif(p_keys[i], ''), p_jsons[i]);"
    "    RETURN NEXT;"
    "  END LOOP;"
    "END $$;",
};

// Serializes schema changes between nodes opening the same database at once.
constexpr const char* kSchemaLock = "SELECT pg_advisory_xact_lock(7418327301)";

constexpr const char* kWriterMark =
    "INSERT INTO huddle_writers(writer, batch) VALUES($1, $2)"
    " ON CONFLICT (writer) DO UPDATE SET batch = EXCLUDED.batch";
constexpr const char* kWriterBatch = "SELECT batch FROM huddle_writers WHERE writer = $1";
constexpr const char* kWriterForget = "DELETE FROM huddle_writers WHERE writer = $1";

constexpr const char* kAppendEvent = "SELECT huddle_append_event($1, $2, $3, $4, $5, $6)";
constexpr const char* kAppendEvents =
    "SELECT item, outcome FROM huddle_append_events($1, $2, $3, $4, $5, $6) ORDER BY item";
constexpr const char* kRoomSelect = "SELECT epoch, last_offset FROM huddle_rooms WHERE name = $1";
constexpr const char* kRoomCreate =
    "INSERT INTO huddle_rooms(name, epoch) VALUES($1, $2) ON CONFLICT (name) DO NOTHING";
constexpr const char* kEventsAfter =
    "SELECT e.event_offset, e.timestamp_ms, e.idempotency_key, e.event_json"
    " FROM huddle_room_events e JOIN huddle_rooms r ON r.id = e.room_id"
    " WHERE r.name = $1 AND e.event_offset > $2 ORDER BY e.event_offset LIMIT $3";
constexpr const char* kEventByKey =
    "SELECT e.event_offset, e.timestamp_ms, e.idempotency_key, e.event_json"
    " FROM huddle_room_events e JOIN huddle_rooms r ON r.id = e.room_id"
    " WHERE r.name = $1 AND e.idempotency_key = $2";
constexpr const char* kOldestOffset =
    "SELECT min(e.event_offset) FROM huddle_room_events e JOIN huddle_rooms r"
    " ON r.id = e.room_id WHERE r.name = $1";
constexpr const char* kTrimCount =
    "DELETE FROM huddle_room_events WHERE room_id = (SELECT id FROM huddle_rooms WHERE name = $1)"
    " AND event_offset <= (SELECT e.event_offset FROM huddle_room_events e JOIN huddle_rooms r"
    " ON r.id = e.room_id WHERE r.name = $1 ORDER BY e.event_offset DESC LIMIT 1 OFFSET $2)";
constexpr const char* kTrimAge =
    "DELETE FROM huddle_room_events WHERE room_id = (SELECT id FROM huddle_rooms WHERE name = $1)"
    " AND timestamp_ms < $2";

constexpr const char* kUpdateInsert =
    "INSERT INTO huddle_document_updates(document, data) VALUES($1, $2) RETURNING id";
// A batch's updates in two statements, whatever their number (one statement per update would be
// one round trip to the server each): ids taken from the column's sequence, then one insert.
constexpr const char* kUpdateIdsReserve =
    "SELECT nextval('huddle_document_updates_id_seq') FROM generate_series(1, $1::bigint)";
constexpr const char* kUpdatesInsertMany =
    "INSERT INTO huddle_document_updates(id, document, data)"
    " SELECT * FROM unnest($1::bigint[], $2::text[], $3::bytea[])";
constexpr const char* kUpdateInsertWithId =
    "INSERT INTO huddle_document_updates(id, document, data) VALUES($1, $2, $3)";
constexpr const char* kUpdatesLoad =
    "SELECT id, data FROM huddle_document_updates WHERE document = $1 ORDER BY id";
// Counts and deletes in one statement, hence one snapshot: the rows deleted are exactly the rows
// counted, and only if they are what the caller merged (an update committed meanwhile by another
// node is either counted, making the count differ, or not seen, and then not deleted).
constexpr const char* kUpdatesCompact =
    "WITH seen AS (SELECT count(*) AS n, coalesce(bool_or(id = $2), false) AS has"
    "   FROM huddle_document_updates WHERE document = $1 AND id <= $2),"
    " gone AS (DELETE FROM huddle_document_updates WHERE document = $1 AND id <= $2"
    "   AND (SELECT n FROM seen) = $3 AND (SELECT has FROM seen) RETURNING id)"
    " SELECT count(*) FROM gone";
constexpr const char* kUpdatesDeleteAll = "DELETE FROM huddle_document_updates WHERE document = $1";
constexpr const char* kDocumentsList =
    "SELECT document, count(*), sum(length(data)) FROM huddle_document_updates"
    " GROUP BY document ORDER BY document COLLATE \"C\"";

RoomEvent event_from_row(const pg::Result& r, int row, std::string_view room) {
    RoomEvent event;
    event.room = std::string(room);
    event.offset = from_db(r.integer(row, 0));
    event.timestamp_ms = r.integer(row, 1);
    event.idempotency_key = r.is_null(row, 2) ? std::string() : r.text(row, 2);
    event.event_json = r.text(row, 3);
    return event;
}

// Brings the schema to kPostgresSchemaVersion, in one transaction.
void migrate(Connection& db) {
    db.exec("BEGIN");
    try {
        db.exec(
            "SET LOCAL synchronous_commit = on");  // the schema is durable, whatever the options
        db.query(kSchemaLock);
        db.exec("CREATE TABLE IF NOT EXISTS huddle_schema(version integer NOT NULL)");
        int version = 0;
        bool has_row = false;
        {
            auto r = db.query("SELECT version FROM huddle_schema");
            if (r.rows() > 0) {
                version = static_cast<int>(r.integer(0, 0));
                has_row = true;
            }
        }
        if (version > kPostgresSchemaVersion) {
            throw StoreError("database schema version " + std::to_string(version) +
                             " is newer than this build supports (" +
                             std::to_string(kPostgresSchemaVersion) + ")");
        }
        for (int v = version; v < kPostgresSchemaVersion; ++v)
            db.exec(kMigrations[static_cast<std::size_t>(v)]);
        const Params version_param = Params().add(std::int64_t{kPostgresSchemaVersion});
        if (!has_row)
            db.query("INSERT INTO huddle_schema(version) VALUES($1::bigint)", version_param);
        else if (version != kPostgresSchemaVersion)
            db.query("UPDATE huddle_schema SET version = $1::bigint", version_param);
        db.exec("COMMIT");
    } catch (...) {
        if (db.healthy() && db.in_transaction())
            db.exec("ROLLBACK");
        throw;
    }
}

// The whole transaction must be tried again (connection lost, deadlock, lost COMMIT answer).
struct Retry {
    std::string error;
};

// ---------------------------------------------------------------------------------------------

class PostgresStore final : public detail::GroupCommitStore {
  public:
    PostgresStore(const std::string& url, const PostgresOptions& options);
    ~PostgresStore() override;

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

    void write_batch(std::vector<Request>& batch, std::vector<AppendResult>& results) override;
    // One try at the whole batch. Returns normally once committed; throws Retry.
    void try_batch(std::vector<Request>& batch, std::vector<AppendResult>& results,
                   std::vector<bool>& dropped);
    void execute(Request& request, AppendResult& result);
    // Appends the one-event requests batch[indices] in one statement, in that order; each is
    // stored or refused on its own.
    void write_single_events(const std::vector<Request>& batch,
                             const std::vector<std::size_t>& indices,
                             std::vector<AppendResult>& results);
    // Appends the updates batch[indices] in one insert; they get ascending ids in that order.
    void write_updates(const std::vector<Request>& batch, const std::vector<std::size_t>& indices,
                       std::vector<AppendResult>& results);
    // Appends the events; returns the refusal of the first refused one (the events before it
    // are written: the caller rolls them back).
    std::optional<detail::Refused> write_events(const std::vector<RoomEvent>& events);
    // Runs `read` on a pooled connection, reconnecting once if the connection was lost.
    template <class Read>
    auto with_reader(Read read) -> std::invoke_result_t<Read&, Connection&>;

    const std::string url_;
    const PostgresOptions options_;
    const std::string writer_name_ = "writer-" + new_epoch();
    std::unique_ptr<Connection> writer_db_;  // writer thread only (after start)
    std::int64_t batch_number_ = 0;
    // A batch whose COMMIT answer was lost, to look up before the batch is written again.
    std::optional<std::int64_t> unsure_;
    std::optional<Clock::time_point> down_since_;  // writer thread only
    detail::ConnectionPool<Connection> readers_;
};

detail::QueueLimits limits_of(const PostgresOptions& options) {
    return {options.max_queued_requests, options.max_queued_bytes, options.max_batch};
}

PostgresStore::PostgresStore(const std::string& url, const PostgresOptions& options)
    : GroupCommitStore(limits_of(options)), url_(url), options_(options) {
    try {
        writer_db_ = std::make_unique<Connection>(
            url_, options_.fsync ? "" : "SET synchronous_commit = off");
        migrate(*writer_db_);
        const std::size_t count = std::max<std::size_t>(1, options_.read_connections);
        for (std::size_t i = 0; i < count; ++i)
            readers_.add(std::make_unique<Connection>(url_, ""));
    } catch (const StoreError& error) {
        throw StoreError(std::string(error.what()) + " [" + pg::redact(url_) + "]");
    }
    start_writer();
}

PostgresStore::~PostgresStore() {
    close();
    try {
        if (writer_db_ && writer_db_->healthy())
            writer_db_->query(kWriterForget, Params().add(writer_name_));
    } catch (const std::exception&) {
        // A leftover row is one small row; nothing depends on its removal.
    }
}

// ---------------------------------------------------------------------------------------------
// The writer.

void PostgresStore::write_batch(std::vector<Request>& batch, std::vector<AppendResult>& results) {
    std::vector<bool> dropped(batch.size(), false);
    auto backoff = std::chrono::milliseconds(20);
    for (;;) {
        try {
            try_batch(batch, results, dropped);
            down_since_.reset();
            set_reachable(true);
            return;
        } catch (const Retry& retry) {
            const auto now = Clock::now();
            if (!down_since_)
                down_since_ = now;
            set_reachable(false);
            const auto deadline = *down_since_ + options_.reconnect_timeout;
            if (now >= deadline) {
                unsure_.reset();
                for (std::size_t i = 0; i < batch.size(); ++i) {
                    if (!dropped[i])
                        results[i] = {AppendStatus::failed, "database unavailable: " + retry.error};
                }
                return;
            }
            std::this_thread::sleep_for(std::min<Clock::duration>(backoff, deadline - now));
            backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
        }
    }
}

// What huddle_append_event's outcome means for the event: -1 stored, -2 a duplicate key,
// otherwise the room's last offset, which the event's is not above.
std::optional<detail::Refused> refusal_of(const RoomEvent& event, std::int64_t outcome) {
    if (outcome == -2)
        return detail::duplicate_key(event);
    if (outcome >= 0)
        return detail::offset_conflict(event, from_db(outcome));
    return std::nullopt;
}

// Which requests are written together with their neighbours of the same kind.
enum class Together { no, updates, single_events };

Together together_kind(const detail::WriteRequest& request) {
    if (request.kind == detail::WriteRequest::Kind::update)
        return Together::updates;
    if (request.kind == detail::WriteRequest::Kind::events && request.events.size() == 1)
        return Together::single_events;
    return Together::no;
}

void PostgresStore::try_batch(std::vector<Request>& batch, std::vector<AppendResult>& results,
                              std::vector<bool>& dropped) {
    // A request that fails on its own (a database error that is not about the connection)
    // aborts the transaction: it is dropped and the batch tried again without it. Consecutive
    // updates, and consecutive one-event requests, are written together; if that fails, the
    // batch is tried again with each request alone, to find the one that failed.
    bool one_by_one = false;
    std::vector<std::size_t> together;
    for (;;) {
        // The request being executed when an error came; kNoRequest outside the loop, kTogether
        // while several requests are written together. (Not an optional: GCC -O3 warns that it
        // may be used uninitialised.)
        constexpr std::size_t kNoRequest = static_cast<std::size_t>(-1);
        constexpr std::size_t kTogether = kNoRequest - 1;
        std::size_t failing = kNoRequest;
        bool committing = false;
        const std::int64_t number = ++batch_number_;
        try {
            if (!writer_db_->healthy())
                writer_db_->reconnect();
            if (unsure_) {
                // The last try lost the answer to its COMMIT: did it take?
                auto r = writer_db_->query(kWriterBatch, Params().add(writer_name_));
                const bool took = r.rows() == 1 && r.integer(0, 0) == *unsure_;
                unsure_.reset();
                if (took) {
                    count_commit();
                    return;
                }
            }
            writer_db_->exec("BEGIN");
            writer_db_->query(kWriterMark, Params().add(writer_name_).add(number));
            for (std::size_t i = 0; i < batch.size(); ++i) {
                if (dropped[i])
                    continue;
                if (const Together kind = together_kind(batch[i]);
                    !one_by_one && kind != Together::no) {
                    together.clear();
                    std::size_t end = i;
                    for (; end < batch.size(); ++end) {
                        if (dropped[end])
                            continue;
                        if (together_kind(batch[end]) != kind)
                            break;
                        together.push_back(end);
                    }
                    if (together.size() > 1) {
                        failing = kTogether;
                        if (kind == Together::updates)
                            write_updates(batch, together, results);
                        else
                            write_single_events(batch, together, results);
                        i = end - 1;
                        continue;
                    }
                }
                failing = i;
                results[i] = {};
                execute(batch[i], results[i]);
            }
            failing = kNoRequest;
            committing = true;
            writer_db_->exec("COMMIT");
            count_commit();
            return;
        } catch (const DbError& error) {
            if (error.connection_lost()) {
                if (committing)
                    unsure_ = number;
                throw Retry{error.what()};
            }
            if (writer_db_->in_transaction()) {
                try {
                    writer_db_->exec("ROLLBACK");
                } catch (const DbError& rollback) {
                    throw Retry{rollback.what()};
                }
            }
            if (error.transient() || failing == kNoRequest)
                throw Retry{error.what()};
            if (failing == kTogether) {
                one_by_one = true;
                continue;
            }
            dropped[failing] = true;
            results[failing] = {AppendStatus::failed, error.what()};
        } catch (const std::exception& error) {
            // Not a database error (a task's own check): drop the request alone.
            if (writer_db_->healthy() && writer_db_->in_transaction())
                writer_db_->exec("ROLLBACK");
            if (failing == kNoRequest)
                throw Retry{error.what()};
            if (failing == kTogether) {
                one_by_one = true;
                continue;
            }
            dropped[failing] = true;
            results[failing] = {AppendStatus::failed, error.what()};
        }
    }
}

void PostgresStore::execute(Request& request, AppendResult& result) {
    switch (request.kind) {
        case Request::Kind::events: {
            // One event needs no savepoint: a refused event writes nothing.
            const bool several = request.events.size() > 1;
            if (several)
                writer_db_->exec("SAVEPOINT request");
            if (auto refused = write_events(request.events)) {
                result = {refused->status, std::move(refused->error)};
                if (several)
                    writer_db_->exec("ROLLBACK TO SAVEPOINT request");
            }
            if (several)
                writer_db_->exec("RELEASE SAVEPOINT request");
            break;
        }
        case Request::Kind::update: {
            auto inserted = writer_db_->query(
                kUpdateInsert, Params().add(request.document).add_bytes(request.data));
            result.update_id = static_cast<std::uint64_t>(inserted.integer(0, 0));
            break;
        }
        case Request::Kind::task:
            if (request.task)
                request.task();
            break;
    }
}

void PostgresStore::write_single_events(const std::vector<Request>& batch,
                                        const std::vector<std::size_t>& indices,
                                        std::vector<AppendResult>& results) {
    std::vector<std::size_t> sent;
    std::vector<std::string_view> rooms;
    std::vector<std::string> epochs;
    std::vector<std::int64_t> offsets;
    std::vector<std::int64_t> timestamps;
    std::vector<std::string_view> keys;  // empty: none
    std::vector<std::string_view> jsons;
    for (const std::size_t i : indices) {
        const RoomEvent& e = batch[i].events.front();
        results[i] = {};
        if (e.offset > detail::kMaxDbOffset) {
            auto refused = detail::offset_conflict(e, detail::kMaxDbOffset);
            results[i] = {refused.status, std::move(refused.error)};
            continue;
        }
        sent.push_back(i);
        rooms.push_back(e.room);
        epochs.push_back(new_epoch());
        offsets.push_back(to_db(e.offset));
        timestamps.push_back(e.timestamp_ms);
        keys.push_back(e.idempotency_key);
        jsons.push_back(e.event_json);
    }
    if (sent.empty())
        return;
    const std::vector<std::string_view> epoch_views(epochs.begin(), epochs.end());
    auto outcomes = writer_db_->query(kAppendEvents, Params()
                                                         .add_text_array(rooms)
                                                         .add_text_array(epoch_views)
                                                         .add_int8_array(offsets)
                                                         .add_int8_array(timestamps)
                                                         .add_text_array(keys)
                                                         .add_text_array(jsons));
    if (outcomes.rows() != static_cast<int>(sent.size()))
        throw StoreError("postgres: " + std::to_string(outcomes.rows()) + " outcomes for " +
                         std::to_string(sent.size()) + " events");
    for (int row = 0; row < outcomes.rows(); ++row) {
        const std::size_t i = sent[static_cast<std::size_t>(row)];
        if (auto refused = refusal_of(batch[i].events.front(), outcomes.integer(row, 1)))
            results[i] = {refused->status, std::move(refused->error)};
    }
}

void PostgresStore::write_updates(const std::vector<Request>& batch,
                                  const std::vector<std::size_t>& indices,
                                  std::vector<AppendResult>& results) {
    const auto count = static_cast<std::int64_t>(indices.size());
    auto reserved = writer_db_->query(kUpdateIdsReserve, Params().add(count));
    if (reserved.rows() != count)
        throw StoreError("postgres: the id sequence gave " + std::to_string(reserved.rows()) +
                         " ids for " + std::to_string(count) + " updates");
    std::vector<std::int64_t> ids(indices.size());
    for (int row = 0; row < reserved.rows(); ++row)
        ids[static_cast<std::size_t>(row)] = reserved.integer(row, 0);
    // The rows' order is not promised: the lowest id goes to the first update.
    std::sort(ids.begin(), ids.end());
    std::vector<std::string_view> documents;
    std::vector<std::span<const std::uint8_t>> data;
    documents.reserve(indices.size());
    data.reserve(indices.size());
    for (const std::size_t i : indices) {
        documents.push_back(batch[i].document);
        data.push_back(batch[i].data);
    }
    writer_db_->query(kUpdatesInsertMany,
                      Params().add_int8_array(ids).add_text_array(documents).add_bytes_array(data));
    for (std::size_t k = 0; k < indices.size(); ++k) {
        results[indices[k]] = {};
        results[indices[k]].update_id = static_cast<std::uint64_t>(ids[k]);
    }
}

std::optional<detail::Refused> PostgresStore::write_events(const std::vector<RoomEvent>& events) {
    for (const auto& e : events) {
        if (e.offset > detail::kMaxDbOffset)
            return detail::offset_conflict(e, detail::kMaxDbOffset);
        Params params;
        params.add(e.room).add(new_epoch()).add(to_db(e.offset)).add(e.timestamp_ms);
        if (e.idempotency_key.empty())
            params.add_null_text();
        else
            params.add(e.idempotency_key);
        params.add(e.event_json);
        if (auto refused = refusal_of(e, writer_db_->query(kAppendEvent, params).integer(0, 0)))
            return refused;
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Reads.

template <class Read>
auto PostgresStore::with_reader(Read read) -> std::invoke_result_t<Read&, Connection&> {
    detail::ConnectionPool<Connection>::Lease db(readers_);
    if (!db->healthy())
        db->reconnect();
    try {
        return read(*db);
    } catch (const DbError& error) {
        if (!error.connection_lost())
            throw;
    }
    db->reconnect();  // the server restarted since this connection was last used
    return read(*db);
}

RoomPosition PostgresStore::position(std::string_view room) {
    const std::string name(room);
    auto known = with_reader([&](Connection& db) -> std::optional<RoomPosition> {
        auto r = db.query(kRoomSelect, Params().add(name));
        if (r.rows() == 0)
            return std::nullopt;
        return RoomPosition{r.text(0, 0), from_db(r.integer(0, 1))};
    });
    if (known)
        return *known;
    // A new room: the writer creates its epoch (another node may create it first: then that
    // epoch is the room's).
    return run_on_writer([this, name] {
        writer_db_->query(kRoomCreate, Params().add(name).add(new_epoch()));
        auto r = writer_db_->query(kRoomSelect, Params().add(name));
        if (r.rows() == 0)
            throw StoreError("store: room row missing after insert");
        return RoomPosition{r.text(0, 0), from_db(r.integer(0, 1))};
    });
}

std::vector<RoomEvent> PostgresStore::read_after(std::string_view room, std::uint64_t after_offset,
                                                 std::size_t limit) {
    if (limit == 0)
        return {};
    return with_reader([&](Connection& db) {
        const auto r = db.query(kEventsAfter, Params()
                                                  .add(room)
                                                  .add(to_db(after_offset))
                                                  .add(to_db(static_cast<std::uint64_t>(limit))));
        std::vector<RoomEvent> events;
        events.reserve(static_cast<std::size_t>(r.rows()));
        for (int row = 0; row < r.rows(); ++row)
            events.push_back(event_from_row(r, row, room));
        return events;
    });
}

std::optional<RoomEvent> PostgresStore::find_by_idempotency_key(std::string_view room,
                                                                std::string_view key) {
    if (key.empty())
        return std::nullopt;
    return with_reader([&](Connection& db) -> std::optional<RoomEvent> {
        const auto r = db.query(kEventByKey, Params().add(room).add(key));
        if (r.rows() == 0)
            return std::nullopt;
        return event_from_row(r, 0, room);
    });
}

std::uint64_t PostgresStore::oldest_offset(std::string_view room) {
    return with_reader([&](Connection& db) {
        return from_db(db.query(kOldestOffset, Params().add(room)).integer(0, 0));
    });
}

std::size_t PostgresStore::trim(std::string_view room, std::size_t keep_last,
                                std::int64_t min_timestamp_ms) {
    const bool by_count =
        keep_last < static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    const bool by_age = min_timestamp_ms > 0;
    if (!by_count && !by_age)
        return 0;
    return run_on_writer([this, name = std::string(room), keep_last, by_count, by_age,
                          min_timestamp_ms]() -> std::size_t {
        std::int64_t removed = 0;
        if (by_count)
            removed += writer_db_
                           ->query(kTrimCount,
                                   Params().add(name).add(static_cast<std::int64_t>(keep_last)))
                           .affected();
        if (by_age)
            removed +=
                writer_db_->query(kTrimAge, Params().add(name).add(min_timestamp_ms)).affected();
        return static_cast<std::size_t>(removed);
    });
}

// ---------------------------------------------------------------------------------------------
// Documents.

std::vector<StoredUpdate> PostgresStore::load(std::string_view document) {
    return with_reader([&](Connection& db) {
        const auto r = db.query(kUpdatesLoad, Params().add(document));
        std::vector<StoredUpdate> updates;
        updates.reserve(static_cast<std::size_t>(r.rows()));
        for (int row = 0; row < r.rows(); ++row)
            updates.push_back(StoredUpdate{from_db(r.integer(row, 0)), r.bytes(row, 1)});
        return updates;
    });
}

bool PostgresStore::compact(std::string_view document, std::uint64_t up_to_id,
                            std::size_t replaced_count, std::vector<std::uint8_t> merged) {
    if (replaced_count == 0 || up_to_id == 0)
        return false;
    return run_on_writer([this, name = std::string(document), up_to = to_db(up_to_id),
                          replaced_count, merged = std::move(merged)] {
        const auto count = static_cast<std::int64_t>(replaced_count);
        const auto deleted =
            writer_db_->query(kUpdatesCompact, Params().add(name).add(up_to).add(count))
                .integer(0, 0);
        if (deleted != count)
            return false;
        writer_db_->query(kUpdateInsertWithId, Params().add(up_to).add(name).add_bytes(merged));
        return true;
    });
}

bool PostgresStore::remove(std::string_view document) {
    return run_on_writer([this, name = std::string(document)] {
        return writer_db_->query(kUpdatesDeleteAll, Params().add(name)).affected() > 0;
    });
}

std::vector<DocumentInfo> PostgresStore::list() {
    return with_reader([](Connection& db) {
        const auto r = db.query(kDocumentsList);
        std::vector<DocumentInfo> documents;
        for (int row = 0; row < r.rows(); ++row) {
            documents.push_back(DocumentInfo{r.text(row, 0),
                                             static_cast<std::size_t>(r.integer(row, 1)),
                                             static_cast<std::size_t>(r.integer(row, 2))});
        }
        return documents;
    });
}

}  // namespace

std::unique_ptr<Store> open_postgres_store(const std::string& url, const PostgresOptions& options) {
    return std::make_unique<PostgresStore>(url, options);
}

}  // namespace huddle::store
