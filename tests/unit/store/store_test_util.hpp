// Helpers shared by the store tests. Every test suite runs against each backend: SQLite always,
// PostgreSQL when HUDDLE_TEST_POSTGRES_URL gives a server (scripts/test-postgres.sh starts one).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace huddle::store::testing {

// A fresh directory under the system temp directory, removed with everything in it at the end.
class TempDir {
  public:
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "huddle-store-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string file(const std::string& name) const { return (path_ / name).string(); }

  private:
    std::filesystem::path path_;
};

// What the tests vary; each backend maps it to its own options.
struct TestOptions {
    // Tests that do not test durability skip the fsync (faster; the code path is the same).
    bool fsync = false;
    std::size_t max_queued_requests = 100'000;
    std::size_t max_queued_bytes = 64 * 1024 * 1024;
    std::chrono::milliseconds reconnect_timeout{30'000};  // PostgreSQL only
};

inline TestOptions durable() {
    TestOptions options;
    options.fsync = true;
    return options;
}

// One empty database of a backend; every open() opens the same database.
class TestDatabase {
  public:
    virtual ~TestDatabase() = default;
    virtual std::unique_ptr<Store> open(const TestOptions& options = {}) = 0;
    // Runs SQL statements on the database (after open(): the store creates the schema).
    virtual void execute_sql(const std::string& sql) = 0;
    // Marks the schema as written by a future version.
    void set_schema_version(int version) {
        execute_sql("UPDATE huddle_schema SET version = " + std::to_string(version));
    }
};

enum class Backend { sqlite, postgres };

std::string backend_name(Backend backend);
// The PostgreSQL server URL (HUDDLE_TEST_POSTGRES_URL), empty if unset.
std::string postgres_url();
// A new empty database. PostgreSQL: a schema of its own on the test server, dropped at the end.
std::unique_ptr<TestDatabase> create_database(Backend backend);

// Base of the store test fixtures: the backend under test and one database on it.
class StoreTest : public ::testing::TestWithParam<Backend> {
  protected:
    void SetUp() override {
        if (GetParam() == Backend::postgres && postgres_url().empty())
            GTEST_SKIP() << "PostgreSQL store not tested: set HUDDLE_TEST_POSTGRES_URL "
                            "(scripts/test-postgres.sh starts a server and sets it)";
        db_ = create_database(GetParam());
    }
    std::unique_ptr<TestDatabase> db_;
};

struct BackendName {
    std::string operator()(const ::testing::TestParamInfo<Backend>& info) const {
        return backend_name(info.param);
    }
};

#define HUDDLE_STORE_BACKENDS(Suite)                                                         \
    INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                                \
                             ::testing::Values(::huddle::store::testing::Backend::sqlite,    \
                                               ::huddle::store::testing::Backend::postgres), \
                             ::huddle::store::testing::BackendName())

inline RoomEvent make_event(const std::string& room, std::uint64_t offset,
                            std::int64_t timestamp_ms = 1000, std::string key = {}) {
    return RoomEvent{room, offset, timestamp_ms, std::move(key),
                     R"({"type":"e","n":)" + std::to_string(offset) + "}"};
}

// Appends and waits for the completion (tests only: the server never waits).
inline AppendResult append_wait(HistoryStore& store, std::vector<RoomEvent> events) {
    std::promise<AppendResult> promise;
    auto future = promise.get_future();
    store.append(std::move(events),
                 [&promise](AppendResult r) { promise.set_value(std::move(r)); });
    return future.get();
}

inline AppendResult append_update_wait(DocumentStore& store, const std::string& document,
                                       std::vector<std::uint8_t> update) {
    std::promise<AppendResult> promise;
    auto future = promise.get_future();
    store.append_update(document, std::move(update),
                        [&promise](AppendResult r) { promise.set_value(std::move(r)); });
    return future.get();
}

}  // namespace huddle::store::testing
