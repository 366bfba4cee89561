// The y-websocket wire protocol (y-protocols sync/awareness/auth as framed by y-websocket), as pure
// functions: decode one binary WebSocket message from a client, encode the messages a server sends.
//
// Every message is a lib0 varUint message type followed by its body:
//   0 sync            varUint syncType, then varUint8Array (0 step1: state vector,
//                     1 step2: update, 2 update: update)
//   1 awareness       varUint8Array awareness update: varUint count, then per client
//                     varUint clientID, varUint clock, varString JSON state ("null" = removed)
//   2 auth            varUint 0 (permission denied), varString reason
//   3 queryAwareness  (no body)
//
// Decoding never reads past its input, allocates at most one small vector per awareness message
// (bounded by kMaxAwarenessEntries and by the input size) and returns DecodeError for anything a
// y-protocols peer would throw on, plus trailing bytes (which y-protocols silently ignores; no
// stock client sends them).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace huddle::endpoints::yws {

enum class MessageType : std::uint32_t { sync = 0, awareness = 1, auth = 2, query_awareness = 3 };
enum class SyncType : std::uint32_t { step1 = 0, step2 = 1, update = 2 };

// The only auth message y-protocols defines.
inline constexpr std::uint64_t kAuthPermissionDenied = 0;

// Upper bound on the clients one awareness message may carry (a browser tab announces one).
inline constexpr std::size_t kMaxAwarenessEntries = 10'000;

// Nesting bound for an awareness state's JSON (cursor states nest 4-6 levels).
inline constexpr std::size_t kMaxAwarenessJsonDepth = 64;

struct SyncMessage {
    SyncType type;
    // State vector (step1) or update (step2, update): a view into the decoded input.
    std::span<const std::uint8_t> payload;
};

struct AwarenessEntry {
    std::uint64_t client_id = 0;
    std::uint64_t clock = 0;
    // JSON text of the state. Decoding normalizes a JSON null (with any whitespace) to exactly
    // "null"; every other state is a view into the input, unchanged.
    std::string_view state_json;

    [[nodiscard]] bool removed() const { return state_json == "null"; }
};

struct AwarenessMessage {
    // The awareness update as received (what another peer can be sent unchanged).
    std::span<const std::uint8_t> raw_update;
    std::vector<AwarenessEntry> entries;
};

struct Decoded {
    MessageType type;
    std::optional<SyncMessage> sync;                     // type == sync
    std::optional<AwarenessMessage> awareness;           // type == awareness
    std::optional<std::string_view> auth_denied_reason;  // type == auth
};

struct DecodeError {
    std::string message;
};

// Decodes one client message. Views in the result point into `bytes`.
std::variant<Decoded, DecodeError> decode_message(std::span<const std::uint8_t> bytes);

// Decodes only an awareness update (the body of an awareness message, without the message type and
// without the outer length prefix); entries view into `update`.
std::variant<std::vector<AwarenessEntry>, DecodeError> decode_awareness_update(
    std::span<const std::uint8_t> update);

// True when `json` is one JSON text as JavaScript's JSON.parse accepts it (RFC 8259, escaped lone
// surrogates included) nested at most kMaxAwarenessJsonDepth deep; `is_null` tells whether that
// value is null. Validates without building anything; expects valid UTF-8.
bool validate_state_json(std::string_view json, bool& is_null);

// What a sync message puts before its payload: message type, sync type, payload length. Lets the
// caller write a message straight into a buffer of its own (a relayed update into its frame).
struct SyncPrefix {
    std::array<std::uint8_t, 12> bytes{};
    std::size_t size = 0;
    [[nodiscard]] std::span<const std::uint8_t> view() const { return {bytes.data(), size}; }
};
SyncPrefix sync_prefix(SyncType type, std::size_t payload_size);

std::vector<std::uint8_t> encode_sync_step1(std::span<const std::uint8_t> state_vector);
std::vector<std::uint8_t> encode_sync_step2(std::span<const std::uint8_t> update);
std::vector<std::uint8_t> encode_update(std::span<const std::uint8_t> update);

// One awareness message carrying every entry in order. State strings are written as given (callers
// pass valid JSON; "null" marks a removed client).
std::vector<std::uint8_t> encode_awareness(std::span<const AwarenessEntry> entries);
// The body of encode_awareness without message type and length prefix (an awareness update).
std::vector<std::uint8_t> encode_awareness_update(std::span<const AwarenessEntry> entries);
// An awareness message around an update received from a client (relay as received).
std::vector<std::uint8_t> encode_awareness_raw(std::span<const std::uint8_t> awareness_update);

std::vector<std::uint8_t> encode_auth_denied(std::string_view reason);
std::vector<std::uint8_t> encode_query_awareness();

}  // namespace huddle::endpoints::yws
