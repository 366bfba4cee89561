#include "store/pg_db.hpp"

namespace huddle::store::pg {
namespace {

// Type OIDs from pg_type (stable across versions).
constexpr unsigned int kBytea = 17;
constexpr unsigned int kInt8 = 20;
constexpr unsigned int kText = 25;
constexpr unsigned int kByteaArray = 1001;
constexpr unsigned int kTextArray = 1009;
constexpr unsigned int kInt8Array = 1016;

void append_big_endian(std::string& out, std::uint64_t value, int size) {
    for (int shift = (size - 1) * 8; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>((value >> shift) & 0xFF));
}

// The binary form of a one-dimensional array without nulls: its header (dimensions, no-null
// flag, element type, length, lower bound 1), then each element as a length and its bytes.
std::string array_header(unsigned int element_type, std::size_t count) {
    std::string out;
    append_big_endian(out, 1, 4);
    append_big_endian(out, 0, 4);
    append_big_endian(out, element_type, 4);
    append_big_endian(out, count, 4);
    append_big_endian(out, 1, 4);
    return out;
}

void append_element(std::string& out, const void* data, std::size_t size) {
    append_big_endian(out, size, 4);
    out.append(static_cast<const char*>(data), size);
}

std::uint64_t read_big_endian(const char* data, int size) {
    std::uint64_t value = 0;
    for (int i = 0; i < size; ++i)
        value = (value << 8) | static_cast<unsigned char>(data[i]);
    return value;
}

std::string sqlstate_of(const PGresult* result) {
    const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    return state != nullptr ? state : "";
}

// Server errors that mean the session is over (shutdown, crash, cannot connect now).
bool ends_session(const std::string& state) {
    return state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03";
}

}  // namespace

void Params::push(unsigned int type, std::string bytes, bool null) {
    types_.push_back(type);
    values_.push_back(std::move(bytes));
    nulls_.push_back(null);
}

Params& Params::add(std::int64_t value) {
    std::string bytes;
    append_big_endian(bytes, static_cast<std::uint64_t>(value), 8);
    push(kInt8, std::move(bytes), false);
    return *this;
}

Params& Params::add(std::string_view text) {
    push(kText, std::string(text), false);
    return *this;
}

Params& Params::add_bytes(const std::vector<std::uint8_t>& data) {
    push(kBytea, std::string(data.begin(), data.end()), false);
    return *this;
}

Params& Params::add_int8_array(std::span<const std::int64_t> values) {
    std::string bytes = array_header(kInt8, values.size());
    for (const std::int64_t value : values) {
        append_big_endian(bytes, 8, 4);
        append_big_endian(bytes, static_cast<std::uint64_t>(value), 8);
    }
    push(kInt8Array, std::move(bytes), false);
    return *this;
}

Params& Params::add_text_array(std::span<const std::string_view> values) {
    std::string bytes = array_header(kText, values.size());
    for (const std::string_view value : values)
        append_element(bytes, value.data(), value.size());
    push(kTextArray, std::move(bytes), false);
    return *this;
}

Params& Params::add_bytes_array(std::span<const std::span<const std::uint8_t>> values) {
    std::string bytes = array_header(kBytea, values.size());
    for (const auto value : values)
        append_element(bytes, value.data(), value.size());
    push(kByteaArray, std::move(bytes), false);
    return *this;
}

Params& Params::add_null_text() {
    push(kText, {}, true);
    return *this;
}

bool Result::is_null(int row, int column) const {
    return PQgetisnull(result_.get(), row, column) != 0;
}

std::int64_t Result::integer(int row, int column) const {
    if (is_null(row, column))
        return 0;
    const int size = PQgetlength(result_.get(), row, column);
    const std::uint64_t raw = read_big_endian(PQgetvalue(result_.get(), row, column), size);
    // Sign-extend the narrower integer types.
    if (size == 8)
        return static_cast<std::int64_t>(raw);
    if (size == 4)
        return static_cast<std::int32_t>(static_cast<std::uint32_t>(raw));
    if (size == 2)
        return static_cast<std::int16_t>(static_cast<std::uint16_t>(raw));
    return static_cast<std::int64_t>(raw);  // bool
}

std::string Result::text(int row, int column) const {
    return std::string(PQgetvalue(result_.get(), row, column),
                       static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::vector<std::uint8_t> Result::bytes(int row, int column) const {
    const auto* data =
        reinterpret_cast<const std::uint8_t*>(PQgetvalue(result_.get(), row, column));
    return std::vector<std::uint8_t>(data, data + PQgetlength(result_.get(), row, column));
}

std::int64_t Result::affected() const {
    const char* count = PQcmdTuples(result_.get());
    return count != nullptr && *count != '\0' ? std::stoll(count) : 0;
}

Connection::Connection(const std::string& url, std::string setup) : setup_(std::move(setup)) {
    // The URL may set its own connect_timeout; this only bounds a silent network.
    const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
    const char* values[] = {url.c_str(), "10", "huddle", nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    try {
        check_connected();
    } catch (...) {
        PQfinish(conn_);  // the destructor does not run for a throwing constructor
        throw;
    }
}

Connection::~Connection() {
    PQfinish(conn_);
}

void Connection::check_connected() {
    if (conn_ == nullptr)
        throw DbError("postgres: out of memory", "", true);
    if (PQstatus(conn_) != CONNECTION_OK) {
        std::string message = "postgres: cannot connect: ";
        message += PQerrorMessage(conn_);
        while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
            message.pop_back();
        throw DbError(message, "", true);
    }
    if (!setup_.empty())
        exec(setup_.c_str());
}

void Connection::reconnect() {
    statements_.clear();
    PQreset(conn_);
    check_connected();
}

bool Connection::in_transaction() const {
    const auto status = PQtransactionStatus(conn_);
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

void Connection::fail(const PGresult* result, std::string_view what) const {
    const std::string state = sqlstate_of(result);
    std::string message = "postgres: ";
    const char* error = result != nullptr ? PQresultErrorMessage(result) : "";
    message += (error != nullptr && *error != '\0') ? error : PQerrorMessage(conn_);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
    message += " (in: ";
    message += what.substr(0, 80);
    message += ")";
    throw DbError(message, state, PQstatus(conn_) != CONNECTION_OK || ends_session(state));
}

Result Connection::query(const char* sql, const Params& params) {
    const int count = static_cast<int>(params.values_.size());
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
        std::string name = "huddle_" + std::to_string(statements_.size());
        Result prepared(PQprepare(conn_, name.c_str(), sql, count, params.types_.data()));
        if (PQresultStatus(prepared.result_.get()) != PGRES_COMMAND_OK)
            fail(prepared.result_.get(), sql);
        it = statements_.emplace(sql, std::move(name)).first;
    }
    std::vector<const char*> values(params.values_.size());
    std::vector<int> lengths(params.values_.size());
    std::vector<int> formats(params.values_.size(), 1);
    for (std::size_t i = 0; i < values.size(); ++i) {
        values[i] = params.nulls_[i] ? nullptr : params.values_[i].data();
        lengths[i] = static_cast<int>(params.values_[i].size());
    }
    Result result(PQexecPrepared(conn_, it->second.c_str(), count, values.data(), lengths.data(),
                                 formats.data(), 1));
    const auto status = PQresultStatus(result.result_.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        fail(result.result_.get(), sql);
    return result;
}

void Connection::exec(const char* sql) {
    Result result(PQexec(conn_, sql));
    const auto status = PQresultStatus(result.result_.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        fail(result.result_.get(), sql);
}

std::string redact(std::string_view url) {
    // scheme://user:password@host...: hide what lies between the first ':' after "//" and '@'.
    const auto start = url.find("://");
    const auto at = url.find('@');
    if (start == std::string_view::npos || at == std::string_view::npos || at < start)
        return std::string(url);
    const auto colon = url.find(':', start + 3);
    if (colon == std::string_view::npos || colon > at)
        return std::string(url);
    return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

}  // namespace huddle::store::pg
