#include "endpoints/yws/protocol.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include <boost/json/basic_parser_impl.hpp>

#include "yjs/lib0.hpp"

namespace huddle::endpoints::yws {
namespace {

using huddle::yjs::lib0::Reader;
using huddle::yjs::lib0::Writer;

// Smallest encoding of one awareness entry: clientID, clock, empty string (each one byte).
constexpr std::size_t kMinAwarenessEntryBytes = 3;

// A basic_parser handler that keeps nothing: validation only, no DOM, no allocation.
struct ValidatingHandler {
    static constexpr std::size_t max_array_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_object_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_string_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_key_size = std::numeric_limits<std::size_t>::max();

    using ec_t = boost::json::error_code;
    using sv_t = boost::json::string_view;

    std::size_t depth = 0;
    bool top_level_null = false;

    bool on_document_begin(ec_t&) { return true; }
    bool on_document_end(ec_t&) { return true; }
    bool on_array_begin(ec_t&) {
        ++depth;
        return true;
    }
    bool on_array_end(std::size_t, ec_t&) {
        --depth;
        return true;
    }
    bool on_object_begin(ec_t&) {
        ++depth;
        return true;
    }
    bool on_object_end(std::size_t, ec_t&) {
        --depth;
        return true;
    }
    bool on_string_part(sv_t, std::size_t, ec_t&) { return true; }
    bool on_string(sv_t, std::size_t, ec_t&) { return true; }
    bool on_key_part(sv_t, std::size_t, ec_t&) { return true; }
    bool on_key(sv_t, std::size_t, ec_t&) { return true; }
    bool on_number_part(sv_t, ec_t&) { return true; }
    bool on_int64(std::int64_t, sv_t, ec_t&) { return true; }
    bool on_uint64(std::uint64_t, sv_t, ec_t&) { return true; }
    bool on_double(double, sv_t, ec_t&) { return true; }
    bool on_bool(bool, ec_t&) { return true; }
    bool on_null(ec_t&) {
        if (depth == 0) {
            top_level_null = true;
        }
        return true;
    }
    bool on_comment_part(sv_t, ec_t&) { return true; }
    bool on_comment(sv_t, ec_t&) { return true; }
};

DecodeError reader_error(std::string_view context, const Reader& reader) {
    std::string message(context);
    message += ": ";
    message += reader.error() != nullptr ? reader.error() : "malformed";
    return DecodeError{std::move(message)};
}

DecodeError error(std::string message) {
    return DecodeError{std::move(message)};
}

std::string_view as_chars(std::span<const std::uint8_t> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::span<const std::uint8_t> as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::vector<std::uint8_t> encode_sync(SyncType type, std::span<const std::uint8_t> payload) {
    std::vector<std::uint8_t> out;
    out.reserve(payload.size() + 12);
    Writer w(out);
    w.write_var_uint(static_cast<std::uint64_t>(MessageType::sync));
    w.write_var_uint(static_cast<std::uint64_t>(type));
    w.write_var_bytes(payload);
    return out;
}

void write_awareness_update(Writer& w, std::span<const AwarenessEntry> entries) {
    w.write_var_uint(entries.size());
    for (const auto& entry : entries) {
        w.write_var_uint(entry.client_id);
        w.write_var_uint(entry.clock);
        w.write_var_bytes(as_bytes(entry.state_json));
    }
}

std::size_t var_uint_size(std::uint64_t v) {
    std::size_t n = 1;
    while (v >= 0x80U) {
        v >>= 7;
        ++n;
    }
    return n;
}

std::size_t awareness_update_size(std::span<const AwarenessEntry> entries) {
    std::size_t n = var_uint_size(entries.size());
    for (const auto& entry : entries) {
        n += var_uint_size(entry.client_id) + var_uint_size(entry.clock) +
             var_uint_size(entry.state_json.size()) + entry.state_json.size();
    }
    return n;
}

}  // namespace

bool validate_state_json(std::string_view json, bool& is_null) {
    boost::json::parse_options options;
    options.max_depth = kMaxAwarenessJsonDepth;
    boost::json::basic_parser<ValidatingHandler> parser(options);
    boost::json::error_code ec;
    const std::size_t used = parser.write_some(false, json.data(), json.size(), ec);
    if (ec || !parser.done() || used != json.size()) {
        return false;
    }
    is_null = parser.handler().top_level_null;
    return true;
}

std::variant<std::vector<AwarenessEntry>, DecodeError> decode_awareness_update(
    std::span<const std::uint8_t> update) {
    Reader r(update);
    std::uint64_t count = 0;
    if (!r.read_var_uint(count)) {
        return reader_error("awareness update: client count", r);
    }
    if (count > kMaxAwarenessEntries) {
        return error("awareness update: " + std::to_string(count) + " clients (at most " +
                     std::to_string(kMaxAwarenessEntries) + ")");
    }
    if (count > r.remaining() / kMinAwarenessEntryBytes) {
        return error("awareness update: " + std::to_string(count) +
                     " clients do not fit in the message");
    }
    std::vector<AwarenessEntry> entries;
    entries.reserve(static_cast<std::size_t>(count));
    for (std::uint64_t i = 0; i < count; ++i) {
        AwarenessEntry entry;
        std::span<const std::uint8_t> state;
        if (!r.read_var_uint(entry.client_id) || !r.read_var_uint(entry.clock) ||
            !r.read_var_string(state)) {
            return reader_error("awareness update: client " + std::to_string(i), r);
        }
        bool is_null = false;
        if (!validate_state_json(as_chars(state), is_null)) {
            return error("awareness update: the state of client " +
                         std::to_string(entry.client_id) + " is not JSON");
        }
        entry.state_json = is_null ? std::string_view("null") : as_chars(state);
        entries.push_back(entry);
    }
    if (!r.at_end()) {
        return error("awareness update: " + std::to_string(r.remaining()) +
                     " bytes after the last client");
    }
    return entries;
}

std::variant<Decoded, DecodeError> decode_message(std::span<const std::uint8_t> bytes) {
    Reader r(bytes);
    std::uint64_t type = 0;
    if (!r.read_var_uint(type)) {
        return reader_error("message type", r);
    }
    Decoded out{};
    switch (type) {
        case static_cast<std::uint64_t>(MessageType::sync): {
            out.type = MessageType::sync;
            std::uint64_t sync_type = 0;
            if (!r.read_var_uint(sync_type)) {
                return reader_error("sync message: sync type", r);
            }
            if (sync_type > static_cast<std::uint64_t>(SyncType::update)) {
                return error("sync message: unknown sync type " + std::to_string(sync_type));
            }
            SyncMessage sync{static_cast<SyncType>(sync_type), {}};
            if (!r.read_var_bytes(sync.payload)) {
                return reader_error("sync message: payload", r);
            }
            out.sync = sync;
            break;
        }
        case static_cast<std::uint64_t>(MessageType::awareness): {
            out.type = MessageType::awareness;
            AwarenessMessage awareness;
            if (!r.read_var_bytes(awareness.raw_update)) {
                return reader_error("awareness message: update", r);
            }
            auto entries = decode_awareness_update(awareness.raw_update);
            if (auto* e = std::get_if<DecodeError>(&entries)) {
                return std::move(*e);
            }
            awareness.entries = std::move(std::get<std::vector<AwarenessEntry>>(entries));
            out.awareness = std::move(awareness);
            break;
        }
        case static_cast<std::uint64_t>(MessageType::auth): {
            out.type = MessageType::auth;
            std::uint64_t auth_type = 0;
            if (!r.read_var_uint(auth_type)) {
                return reader_error("auth message: auth type", r);
            }
            if (auth_type != kAuthPermissionDenied) {
                return error("auth message: unknown auth type " + std::to_string(auth_type));
            }
            std::span<const std::uint8_t> reason;
            if (!r.read_var_string(reason)) {
                return reader_error("auth message: reason", r);
            }
            out.auth_denied_reason = as_chars(reason);
            break;
        }
        case static_cast<std::uint64_t>(MessageType::query_awareness):
            out.type = MessageType::query_awareness;
            break;
        default:
            return error("unknown message type " + std::to_string(type));
    }
    if (!r.at_end()) {
        return error(std::to_string(r.remaining()) + " bytes after the message");
    }
    return out;
}

std::vector<std::uint8_t> encode_sync_step1(std::span<const std::uint8_t> state_vector) {
    return encode_sync(SyncType::step1, state_vector);
}

std::vector<std::uint8_t> encode_sync_step2(std::span<const std::uint8_t> update) {
    return encode_sync(SyncType::step2, update);
}

std::vector<std::uint8_t> encode_update(std::span<const std::uint8_t> update) {
    return encode_sync(SyncType::update, update);
}

std::vector<std::uint8_t> encode_awareness_update(std::span<const AwarenessEntry> entries) {
    std::vector<std::uint8_t> out;
    out.reserve(awareness_update_size(entries));
    Writer w(out);
    write_awareness_update(w, entries);
    return out;
}

std::vector<std::uint8_t> encode_awareness(std::span<const AwarenessEntry> entries) {
    const std::size_t body = awareness_update_size(entries);
    std::vector<std::uint8_t> out;
    out.reserve(1 + var_uint_size(body) + body);
    Writer w(out);
    w.write_var_uint(static_cast<std::uint64_t>(MessageType::awareness));
    w.write_var_uint(body);
    write_awareness_update(w, entries);
    return out;
}

std::vector<std::uint8_t> encode_awareness_raw(std::span<const std::uint8_t> awareness_update) {
    std::vector<std::uint8_t> out;
    out.reserve(awareness_update.size() + 11);
    Writer w(out);
    w.write_var_uint(static_cast<std::uint64_t>(MessageType::awareness));
    w.write_var_bytes(awareness_update);
    return out;
}

std::vector<std::uint8_t> encode_auth_denied(std::string_view reason) {
    std::vector<std::uint8_t> out;
    out.reserve(reason.size() + 12);
    Writer w(out);
    w.write_var_uint(static_cast<std::uint64_t>(MessageType::auth));
    w.write_var_uint(kAuthPermissionDenied);
    w.write_var_bytes(as_bytes(reason));
    return out;
}

std::vector<std::uint8_t> encode_query_awareness() {
    return {static_cast<std::uint8_t>(MessageType::query_awareness)};
}

}  // namespace huddle::endpoints::yws
