// Chooses the store backend from the configuration (store.url, store.path).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "store/store.hpp"

namespace huddle::store {

struct StoreLocation {
    // postgres:// or postgresql:// URL: PostgreSQL. Empty: SQLite at `path`.
    std::string url;
    std::string path;
    // PostgreSQL: how long writes wait for an unreachable database before failing.
    std::chrono::milliseconds reconnect_timeout{30'000};
};

// Opens the store; throws StoreError on failure or on a URL of another kind.
std::unique_ptr<Store> open_store(const StoreLocation& location);

}  // namespace huddle::store
