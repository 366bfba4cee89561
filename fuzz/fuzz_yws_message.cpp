// libFuzzer target for the y-websocket wire protocol (src/endpoints/yws): decode one client
// message; re-encode what decoded and decode it again; feed awareness entries through an
// AwarenessTable (two connections, snapshot, removal) and check that everything it emits decodes.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <variant>
#include <vector>

#include "endpoints/yws/awareness.hpp"
#include "endpoints/yws/protocol.hpp"

namespace {

namespace yws = huddle::endpoints::yws;

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

const yws::Decoded& must_decode(const std::variant<yws::Decoded, yws::DecodeError>& result) {
    check(std::holds_alternative<yws::Decoded>(result));
    return std::get<yws::Decoded>(result);
}

bool same_entries(std::span<const yws::AwarenessEntry> a, std::span<const yws::AwarenessEntry> b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].client_id != b[i].client_id || a[i].clock != b[i].clock ||
            a[i].state_json != b[i].state_json) {
            return false;
        }
    }
    return true;
}

// Every message the table emits is a well-formed awareness message (or nothing).
void check_emitted(const std::vector<std::uint8_t>& message) {
    if (message.empty()) {
        return;
    }
    const auto result = yws::decode_message(message);
    const auto& decoded = must_decode(result);
    check(decoded.type == yws::MessageType::awareness && decoded.awareness.has_value());
    check(!decoded.awareness->entries.empty());
}

void exercise_table(std::span<const yws::AwarenessEntry> entries) {
    yws::AwarenessTable table(yws::AwarenessLimits{256, 16, 4096});
    const auto first = table.apply(1, entries);
    check(first.changed.size() + first.stale + first.refused <= entries.size());
    check_emitted(first.message);
    check(table.size() <= table.known() && table.known() <= 256);
    // The same entries from another connection: everything already applied is stale now, except
    // same-clock removals of clients that still had a state.
    const auto second = table.apply(2, entries);
    check_emitted(second.message);
    const auto snapshot = table.snapshot();
    check_emitted(snapshot);
    check(snapshot.empty() == (table.size() == 0));
    check_emitted(table.remove_connection(1));
    check_emitted(table.remove_connection(2));
    check(table.size() == 0 && table.known() == 0 && table.connections() == 0);
    check(table.snapshot().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);
    const auto result = yws::decode_message(input);
    if (std::holds_alternative<yws::DecodeError>(result)) {
        check(!std::get<yws::DecodeError>(result).message.empty());
        return 0;
    }
    const auto& decoded = std::get<yws::Decoded>(result);
    switch (decoded.type) {
        case yws::MessageType::sync: {
            check(decoded.sync.has_value());
            const auto& sync = *decoded.sync;
            std::vector<std::uint8_t> again;
            switch (sync.type) {
                case yws::SyncType::step1:
                    again = yws::encode_sync_step1(sync.payload);
                    break;
                case yws::SyncType::step2:
                    again = yws::encode_sync_step2(sync.payload);
                    break;
                case yws::SyncType::update:
                    again = yws::encode_update(sync.payload);
                    break;
            }
            // Minimal varints never make the message longer.
            check(again.size() <= size);
            const auto re = yws::decode_message(again);
            const auto& redecoded = must_decode(re);
            check(redecoded.sync.has_value() && redecoded.sync->type == sync.type);
            check(std::equal(sync.payload.begin(), sync.payload.end(),
                             redecoded.sync->payload.begin(), redecoded.sync->payload.end()));
            break;
        }
        case yws::MessageType::awareness: {
            check(decoded.awareness.has_value());
            const auto& entries = decoded.awareness->entries;
            // Relayed as received: the same entries.
            const auto raw = yws::encode_awareness_raw(decoded.awareness->raw_update);
            const auto re_raw = yws::decode_message(raw);
            check(same_entries(entries, must_decode(re_raw).awareness->entries));
            // Re-encoded from the entries: the same entries (null already normalized).
            const auto encoded = yws::encode_awareness(entries);
            const auto re = yws::decode_message(encoded);
            check(same_entries(entries, must_decode(re).awareness->entries));
            exercise_table(entries);
            break;
        }
        case yws::MessageType::auth: {
            check(decoded.auth_denied_reason.has_value());
            const auto again = yws::encode_auth_denied(*decoded.auth_denied_reason);
            const auto re = yws::decode_message(again);
            check(must_decode(re).auth_denied_reason == decoded.auth_denied_reason);
            break;
        }
        case yws::MessageType::query_awareness:
            check(!decoded.sync && !decoded.awareness && !decoded.auth_denied_reason);
            break;
    }
    return 0;
}
