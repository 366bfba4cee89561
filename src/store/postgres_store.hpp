// The PostgreSQL backend of the store: the same interfaces and the same writer as SQLite (one
// writer thread, bounded queue, group commit, completions in queue order), on a database that
// several Huddle nodes may share.
//
// Several nodes may append at once: appends to a room serialize on the room's row lock (offsets
// and idempotency keys are checked under it, so they conflict cleanly instead of overwriting),
// document updates are plain inserts (both survive), and compaction checks and deletes the
// merged updates in one statement (one snapshot), so an update it did not count is never
// deleted.
//
// When the server goes away (restart, failover), the writer keeps the batch and retries with
// backoff until reconnect_timeout has passed since the database was first found unreachable;
// then the batch completes with `failed`, and later batches fail after one connection attempt
// until the database is back. A commit whose answer was lost is looked up after reconnecting
// (each transaction records its batch number), so an acknowledged write is never written twice
// nor reported failed.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "store/store.hpp"

namespace huddle::store {

struct PostgresOptions {
    // Bounds of the append queue and of one transaction, as for SQLite (SqliteOptions).
    std::size_t max_queued_requests = 100'000;
    std::size_t max_queued_bytes = 64 * 1024 * 1024;
    std::size_t max_batch = 10'000;
    // Connections for the synchronous reads (each used by one thread at a time).
    std::size_t read_connections = 2;
    // How long writes wait for an unreachable database before failing.
    std::chrono::milliseconds reconnect_timeout{30'000};
    // false: commits do not wait for the server's WAL flush (synchronous_commit=off): a server
    // crash may lose the last acknowledged writes. For tests and benchmarks only.
    bool fsync = true;
};

// Connects to `url` (postgres://user:password@host:port/database?options...), creates or
// migrates the schema, and starts the writer. Throws StoreError on failure (including a schema
// written by a newer version).
std::unique_ptr<Store> open_postgres_store(const std::string& url,
                                           const PostgresOptions& options = {});

inline constexpr int kPostgresSchemaVersion = 2;

}  // namespace huddle::store
