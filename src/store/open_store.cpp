#include "store/open_store.hpp"

#include <string_view>

#include "store/postgres_store.hpp"
#include "store/sqlite_store.hpp"

namespace huddle::store {

std::unique_ptr<Store> open_store(const StoreLocation& location) {
    const std::string_view url = location.url;
    if (url.empty())
        return open_sqlite_store(location.path);
    if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        PostgresOptions options;
        options.reconnect_timeout = location.reconnect_timeout;
        return open_postgres_store(location.url, options);
    }
    throw StoreError(
        "store.url must start with postgres:// or postgresql:// (or be empty for "
        "SQLite at store.path)");
}

}  // namespace huddle::store
