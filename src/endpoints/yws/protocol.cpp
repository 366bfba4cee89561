#include "endpoints/yws/protocol.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "yjs/lib0.hpp"

namespace huddle::endpoints::yws {
namespace {

using huddle::yjs::lib0::Reader;
using huddle::yjs::lib0::Writer;

// Smallest encoding of one awareness entry: clientID, clock, empty string (each one byte).
constexpr std::size_t kMinAwarenessEntryBytes = 3;

// Recursive-descent check of one JSON value with JSON.parse's grammar (RFC 8259): unlike
// Boost.JSON it accepts escaped lone surrogates ("\\ud83d"), which V8's JSON.stringify writes for
// strings cut in the middle of an emoji. Recursion is bounded by kMaxAwarenessJsonDepth.
class JsonValidator {
  public:
    explicit JsonValidator(std::string_view text) : s_(text) {}

    // True when the whole text is one value; sets is_null for a top-level null.
    bool document(bool& is_null) {
        skip_ws();
        is_null = s_.substr(pos_).starts_with("null");
        if (!value(0)) {
            return false;
        }
        skip_ws();
        return pos_ == s_.size();
    }

  private:
    bool value(std::size_t depth) {
        if (pos_ >= s_.size()) {
            return false;
        }
        switch (s_[pos_]) {
            case '{':
                return object(depth + 1);
            case '[':
                return array(depth + 1);
            case '"':
                return string();
            case 't':
                return literal("true");
            case 'f':
                return literal("false");
            case 'n':
                return literal("null");
            default:
                return number();
        }
    }

    bool object(std::size_t depth) {
        if (depth > kMaxAwarenessJsonDepth) {
            return false;
        }
        ++pos_;  // {
        skip_ws();
        if (eat('}')) {
            return true;
        }
        while (true) {
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != '"' || !string()) {
                return false;
            }
            skip_ws();
            if (!eat(':')) {
                return false;
            }
            skip_ws();
            if (!value(depth)) {
                return false;
            }
            skip_ws();
            if (eat('}')) {
                return true;
            }
            if (!eat(',')) {
                return false;
            }
        }
    }

    bool array(std::size_t depth) {
        if (depth > kMaxAwarenessJsonDepth) {
            return false;
        }
        ++pos_;  // [
        skip_ws();
        if (eat(']')) {
            return true;
        }
        while (true) {
            skip_ws();
            if (!value(depth)) {
                return false;
            }
            skip_ws();
            if (eat(']')) {
                return true;
            }
            if (!eat(',')) {
                return false;
            }
        }
    }

    // The input is valid UTF-8 already; only escapes and control characters need checking.
    bool string() {
        ++pos_;  // "
        while (pos_ < s_.size()) {
            const auto c = static_cast<unsigned char>(s_[pos_++]);
            if (c == '"') {
                return true;
            }
            if (c < 0x20) {
                return false;
            }
            if (c != '\\') {
                continue;
            }
            if (pos_ >= s_.size()) {
                return false;
            }
            const char e = s_[pos_++];
            if (e == 'u') {
                for (int i = 0; i < 4; ++i) {
                    if (pos_ >= s_.size() || !is_hex(s_[pos_])) {
                        return false;
                    }
                    ++pos_;
                }
            } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
                return false;
            }
        }
        return false;
    }

    bool number() {
        eat('-');
        if (eat('0')) {
            // no leading zeros
        } else if (!digits()) {
            return false;
        }
        if (eat('.') && !digits()) {
            return false;
        }
        if (eat('e') || eat('E')) {
            if (!eat('+')) {
                eat('-');
            }
            if (!digits()) {
                return false;
            }
        }
        return true;
    }

    bool digits() {
        const std::size_t start = pos_;
        while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
            ++pos_;
        }
        return pos_ > start;
    }

    bool literal(std::string_view word) {
        if (!s_.substr(pos_).starts_with(word)) {
            return false;
        }
        pos_ += word.size();
        return true;
    }

    bool eat(char c) {
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    void skip_ws() {
        while (pos_ < s_.size() &&
               (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
            ++pos_;
        }
    }

    static bool is_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    std::string_view s_;
    std::size_t pos_ = 0;
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
    const SyncPrefix prefix = sync_prefix(type, payload.size());
    std::vector<std::uint8_t> out;
    out.reserve(prefix.size + payload.size());
    out.insert(out.end(), prefix.view().begin(), prefix.view().end());
    out.insert(out.end(), payload.begin(), payload.end());
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
    bool top_level_null = false;
    if (!JsonValidator(json).document(top_level_null)) {
        return false;
    }
    is_null = top_level_null;
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

SyncPrefix sync_prefix(SyncType type, std::size_t payload_size) {
    using huddle::yjs::lib0::put_var_uint;
    static_assert(sizeof(SyncPrefix::bytes) >= 2 + huddle::yjs::lib0::kMaxVarUintSize);
    SyncPrefix prefix;
    std::uint8_t* out = prefix.bytes.data();
    prefix.size += put_var_uint(out, static_cast<std::uint64_t>(MessageType::sync));
    prefix.size += put_var_uint(out + prefix.size, static_cast<std::uint64_t>(type));
    prefix.size += put_var_uint(out + prefix.size, payload_size);
    return prefix;
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
