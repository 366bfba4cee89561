// Thin RAII wrappers over libpq, private to the PostgreSQL store (include only from
// src/store/*.cpp). Parameters are sent and results read in binary format: no escaping, no
// parsing, and text is checked by the server (a NUL byte is refused, never truncated).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/store.hpp"

namespace huddle::store::pg {

// A failed libpq call or statement. `sqlstate` is the server's error code (empty if none).
class DbError : public StoreError {
  public:
    DbError(const std::string& what, std::string sqlstate, bool connection_lost)
        : StoreError(what), sqlstate_(std::move(sqlstate)), connection_lost_(connection_lost) {}
    const std::string& sqlstate() const { return sqlstate_; }
    // The connection is gone (server restart, network): reconnect and try again.
    bool connection_lost() const { return connection_lost_; }
    // Worth retrying on the same connection (deadlock, serialization failure).
    bool transient() const { return sqlstate_ == "40P01" || sqlstate_ == "40001"; }

  private:
    std::string sqlstate_;
    bool connection_lost_;
};

// Statement parameters (they own their bytes until the statement ran).
class Params {
  public:
    Params& add(std::int64_t value);
    Params& add(std::string_view text);
    Params& add_bytes(const std::vector<std::uint8_t>& data);
    Params& add_null_text();
    // One-dimensional arrays (int8[], text[], bytea[]): a whole batch in one statement, through
    // unnest().
    Params& add_int8_array(std::span<const std::int64_t> values);
    Params& add_text_array(std::span<const std::string_view> values);
    Params& add_bytes_array(std::span<const std::span<const std::uint8_t>> values);

  private:
    friend class Connection;
    void push(unsigned int type, std::string bytes, bool null);
    std::vector<unsigned int> types_;
    std::vector<std::string> values_;
    std::vector<bool> nulls_;
};

class Result {
  public:
    explicit Result(PGresult* result) : result_(result, &PQclear) {}
    int rows() const { return PQntuples(result_.get()); }
    bool is_null(int row, int column) const;
    std::int64_t integer(int row, int column) const;  // int2/int4/int8/bool
    std::string text(int row, int column) const;
    std::vector<std::uint8_t> bytes(int row, int column) const;
    std::int64_t affected() const;  // rows changed by INSERT/UPDATE/DELETE

  private:
    friend class Connection;
    std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

class Connection {
  public:
    // Connects to `url` (a libpq connection URI or string); `setup` (may be empty) runs after
    // every (re)connection. Throws DbError (connection_lost) if the server cannot be reached.
    Connection(const std::string& url, std::string setup);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Runs one statement. `sql` must be a string with static storage: it is prepared once per
    // connection (keyed by its address) and reused.
    Result query(const char* sql, const Params& params = {});
    // Runs statements without preparing them (schema, BEGIN/COMMIT, settings).
    void exec(const char* sql);

    bool healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
    bool in_transaction() const;
    // Drops the connection and opens a new one with the same parameters. Throws DbError.
    void reconnect();

  private:
    [[noreturn]] void fail(const PGresult* result, std::string_view what) const;
    void check_connected();
    PGconn* conn_ = nullptr;
    std::string setup_;
    std::unordered_map<const char*, std::string> statements_;  // sql -> prepared name
};

// `url` with any password replaced by "***" (for messages and logs).
std::string redact(std::string_view url);

}  // namespace huddle::store::pg
