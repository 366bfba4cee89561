// The SQLite backend of the store (the default: one file, nothing to install).
//
// One writer thread owns the write connection. It takes everything queued, writes it in ONE
// transaction (each request under its own savepoint, so a bad request fails alone), commits with
// an fsync (WAL, synchronous=FULL) and then runs every completion: many appends per fsync, and
// the more load, the larger the groups. Synchronous writes (epoch creation, trim, compaction,
// removal) go through the same thread. Reads use a small pool of separate read-only connections,
// which WAL lets run while the writer writes.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "store/store.hpp"

namespace huddle::store {

struct SqliteOptions {
    // Bound of the append queue, in requests and in payload bytes. An append beyond either bound
    // completes at once with queue_full: memory never grows without bound.
    std::size_t max_queued_requests = 100'000;
    std::size_t max_queued_bytes = 64 * 1024 * 1024;
    // Requests written per transaction at most (a bound on the latency of one group).
    std::size_t max_batch = 10'000;
    // Read-only connections (each used by one thread at a time).
    std::size_t read_connections = 2;
    // How long a connection waits for a lock held by another process before failing.
    int busy_timeout_ms = 5000;
    // synchronous=FULL: fsync at every commit. Turning it off keeps data across a process crash
    // (kill -9) but not across a power loss or kernel crash; meant for tests and benchmarks only.
    bool fsync = true;
};

// Opens (creating if needed) the database file at `path`, migrating its schema to the current
// version, and starts the writer thread. Throws StoreError on failure (including a database
// written by a newer version). ":memory:" is not supported (the connections must share a file).
std::unique_ptr<Store> open_sqlite_store(const std::string& path,
                                         const SqliteOptions& options = {});

// The schema version this build writes (kept in the table huddle_schema).
inline constexpr int kSqliteSchemaVersion = 1;

}  // namespace huddle::store
