#include "store/sqlite_db.hpp"

namespace huddle::store::sqlite {

Query::~Query() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
}

Query& Query::bind(int index, std::int64_t value) {
    const int rc = sqlite3_bind_int64(statement_, index, value);
    if (rc != SQLITE_OK)
        connection_.fail(rc, "bind");
    return *this;
}

Query& Query::bind(int index, std::string_view text) {
    const char* data = text.data() != nullptr ? text.data() : "";
    const int rc =
        sqlite3_bind_text64(statement_, index, data, text.size(), SQLITE_STATIC, SQLITE_UTF8);
    if (rc != SQLITE_OK)
        connection_.fail(rc, "bind");
    return *this;
}

Query& Query::bind_blob(int index, const std::vector<std::uint8_t>& data) {
    // A null pointer would bind NULL: an empty blob is a zero-length blob.
    const int rc = data.empty() ? sqlite3_bind_zeroblob(statement_, index, 0)
                                : sqlite3_bind_blob64(statement_, index, data.data(), data.size(),
                                                      SQLITE_STATIC);
    if (rc != SQLITE_OK)
        connection_.fail(rc, "bind");
    return *this;
}

Query& Query::bind_null(int index) {
    const int rc = sqlite3_bind_null(statement_, index);
    if (rc != SQLITE_OK)
        connection_.fail(rc, "bind");
    return *this;
}

bool Query::step() {
    const int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    connection_.fail(rc, sqlite3_sql(statement_));
}

std::int64_t Query::run() {
    while (step()) {
    }
    return sqlite3_changes64(connection_.handle());
}

bool Query::is_null(int column) const {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

std::int64_t Query::integer(int column) const {
    return sqlite3_column_int64(statement_, column);
}

std::string Query::text(int column) const {
    const auto* data = sqlite3_column_text(statement_, column);
    const int size = sqlite3_column_bytes(statement_, column);
    if (data == nullptr)
        return {};
    return std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
}

std::vector<std::uint8_t> Query::blob(int column) const {
    const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(statement_, column));
    const int size = sqlite3_column_bytes(statement_, column);
    if (data == nullptr || size <= 0)
        return {};
    return std::vector<std::uint8_t>(data, data + size);
}

namespace {

// SQLite counts every allocation it makes under a global mutex, for statistics Huddle never reads:
// turned off before the library initialises (a no-op if it already has).
void configure_library_once() {
    static const bool configured = [] {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        return true;
    }();
    (void)configured;
}

}  // namespace

Connection::Connection(const std::string& path, int busy_timeout_ms) {
    configure_library_once();
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string message = "cannot open database '" + path + "': ";
        message += db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        throw DbError(rc, message);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, busy_timeout_ms);
}

Connection::~Connection() {
    for (auto& [sql, statement] : statements_)
        sqlite3_finalize(statement);
    sqlite3_close(db_);
}

Query Connection::query(const char* sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
        sqlite3_stmt* statement = nullptr;
        const int rc =
            sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
        if (rc != SQLITE_OK)
            fail(rc, sql);
        it = statements_.emplace(sql, statement).first;
    }
    return Query(*this, it->second);
}

void Connection::exec(const char* sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
        std::string message = error != nullptr ? error : sqlite3_errstr(rc);
        sqlite3_free(error);
        throw DbError(rc, "sqlite: " + message + " (in: " + sql + ")");
    }
}

void Connection::fail(int code, std::string_view what) const {
    std::string message = "sqlite: ";
    message += sqlite3_errmsg(db_);
    message += " (";
    message += what;
    message += ")";
    throw DbError(code, message);
}

}  // namespace huddle::store::sqlite
