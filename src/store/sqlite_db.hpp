// Thin RAII wrappers over the SQLite C API, private to the SQLite store (not part of the
// interface: include only from src/store/*.cpp).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/store.hpp"

namespace huddle::store::sqlite {

// A failed SQLite call; `code` is the (extended) result code.
class DbError : public StoreError {
  public:
    DbError(int code, const std::string& what) : StoreError(what), code_(code) {}
    int code() const { return code_; }

  private:
    int code_;
};

class Connection;

// One use of a cached prepared statement: bind, step, read columns. The statement is reset and
// its bindings cleared when the Query ends. Text and blobs are bound without copying: the bound
// data must outlive the Query's steps.
class Query {
  public:
    Query(Connection& connection, sqlite3_stmt* statement)
        : connection_(connection), statement_(statement) {}
    ~Query();
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;

    Query& bind(int index, std::int64_t value);
    Query& bind(int index, std::string_view text);  // empty or null view binds ''
    Query& bind_blob(int index, const std::vector<std::uint8_t>& data);
    Query& bind_null(int index);

    // true: a row is available; false: done. Throws DbError.
    bool step();
    // Steps a statement that returns no rows; returns the number of rows changed.
    std::int64_t run();

    bool is_null(int column) const;
    std::int64_t integer(int column) const;
    std::string text(int column) const;
    std::vector<std::uint8_t> blob(int column) const;

  private:
    Connection& connection_;
    sqlite3_stmt* statement_;
};

class Connection {
  public:
    // Opens `path` (created if missing) in multi-thread mode: the caller makes sure one thread at
    // a time uses the connection.
    Connection(const std::string& path, int busy_timeout_ms);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // A query from the statement cache. `sql` must be a string with static storage (the cache is
    // keyed by its address): prepared once, reused for the connection's lifetime.
    Query query(const char* sql);
    // Runs one or more statements without caching (schema, pragmas).
    void exec(const char* sql);

    bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }
    sqlite3* handle() { return db_; }
    [[noreturn]] void fail(int code, std::string_view what) const;

  private:
    sqlite3* db_ = nullptr;
    std::unordered_map<const char*, sqlite3_stmt*> statements_;
};

}  // namespace huddle::store::sqlite
