#include "store_test_util.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <random>
#include <stdexcept>

#include "store/postgres_store.hpp"
#include "store/sqlite_store.hpp"

namespace huddle::store::testing {
namespace {

class SqliteDatabase final : public TestDatabase {
  public:
    std::unique_ptr<Store> open(const TestOptions& options) override {
        SqliteOptions sqlite;
        sqlite.fsync = options.fsync;
        sqlite.max_queued_requests = options.max_queued_requests;
        sqlite.max_queued_bytes = options.max_queued_bytes;
        return open_sqlite_store(path_, sqlite);
    }
    void execute_sql(const std::string& sql) override {
        sqlite3* db = nullptr;
        if (sqlite3_open(path_.c_str(), &db) != SQLITE_OK)
            throw std::runtime_error("cannot open " + path_);
        char* error = nullptr;
        const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
        const std::string message = error != nullptr ? error : "";
        sqlite3_free(error);
        sqlite3_close(db);
        if (rc != SQLITE_OK)
            throw std::runtime_error("sqlite test setup: " + message + " (in: " + sql + ")");
    }

  private:
    TempDir dir_;
    std::string path_ = dir_.file("huddle.db");
};

// Runs statements on the test server (setup and teardown only).
void admin(const std::string& sql) {
    PGconn* conn = PQconnectdb(postgres_url().c_str());
    std::string error;
    if (PQstatus(conn) != CONNECTION_OK) {
        error = PQerrorMessage(conn);
    } else {
        PGresult* result = PQexec(conn, sql.c_str());
        if (PQresultStatus(result) != PGRES_COMMAND_OK)
            error = PQresultErrorMessage(result);
        PQclear(result);
    }
    PQfinish(conn);
    if (!error.empty())
        throw std::runtime_error("postgres test setup: " + error + " (in: " + sql + ")");
}

// Each database is a schema of its own, selected through the connection's search_path: the
// tests run in parallel on one server without seeing each other.
class PostgresDatabase final : public TestDatabase {
  public:
    PostgresDatabase() {
        std::random_device random;
        schema_ = "huddle_test_" + std::to_string(random()) + std::to_string(random());
        admin("CREATE SCHEMA " + schema_);
        url_ = postgres_url();
        url_ += url_.find('?') == std::string::npos ? '?' : '&';
        url_ += "options=-csearch_path%3D" + schema_;
    }
    ~PostgresDatabase() override {
        try {
            admin("DROP SCHEMA " + schema_ + " CASCADE");
        } catch (const std::exception&) {
            // The server may be gone (a failed restart test); the script drops it whole.
        }
    }
    std::unique_ptr<Store> open(const TestOptions& options) override {
        PostgresOptions pg;
        pg.fsync = options.fsync;
        pg.max_queued_requests = options.max_queued_requests;
        pg.max_queued_bytes = options.max_queued_bytes;
        pg.reconnect_timeout = options.reconnect_timeout;
        return open_postgres_store(url_, pg);
    }
    void execute_sql(const std::string& sql) override {
        admin("SET search_path TO " + schema_ + "; " + sql);
    }

  private:
    std::string schema_;
    std::string url_;
};

}  // namespace

std::string backend_name(Backend backend) {
    return backend == Backend::sqlite ? "SQLite" : "PostgreSQL";
}

std::string postgres_url() {
    const char* url = std::getenv("HUDDLE_TEST_POSTGRES_URL");
    return url != nullptr ? url : "";
}

std::unique_ptr<TestDatabase> create_database(Backend backend) {
    if (backend == Backend::sqlite)
        return std::make_unique<SqliteDatabase>();
    return std::make_unique<PostgresDatabase>();
}

}  // namespace huddle::store::testing
