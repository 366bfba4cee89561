// Helpers shared by the store tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "store/sqlite_store.hpp"

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

// Tests that do not test durability skip the fsync (faster; the code path is the same).
inline SqliteOptions fast_options() {
    SqliteOptions options;
    options.fsync = false;
    return options;
}

}  // namespace huddle::store::testing
