// The native JSON protocol at /ws (docs/protocol.md): decoding client requests and encoding the
// server's answers and events. Pure functions; no sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace huddle::endpoints {

enum class RequestKind {
    subscribe,
    unsubscribe,
    publish,
    typing,
    refresh,
    presence,
    ping,
    ping_upper,
    invalid
};

struct Request {
    RequestKind kind = RequestKind::invalid;
    std::string id_json;  // the request's "id" as JSON text, echoed verbatim; empty if absent
    std::vector<std::string> rooms;  // subscribe / unsubscribe
    // subscribe: {"recover": {"team:1": {"offset": 41, "epoch": "..."}}}, where to resume.
    struct Resume {
        std::string room;
        std::uint64_t offset = 0;
        std::string epoch;
    };
    std::vector<Resume> recover;
    // subscribe: {"tokens": {"doc:1": "<jwt>"}}, subscription tokens for rooms that need one.
    std::vector<std::pair<std::string, std::string>> room_tokens;
    std::string room;          // publish, typing, presence
    std::string type;          // publish
    std::string payload_json;  // publish; "null" when absent
    bool typing = true;        // typing
    std::string token;         // refresh
    // When kind == invalid: the error to answer with.
    std::string_view error_code;
    std::string error_message;
};

Request decode_request(std::string_view text);

struct RoomResult {
    std::string room;
    std::string error_code;  // empty = ok
    std::string error_message;
};

std::string encode_connection_ack(std::string_view connection_id, std::string_view user_id,
                                  std::int64_t now_ms);
std::string encode_room_results(std::string_view type, std::string_view id_json,
                                const std::vector<RoomResult>& results);
std::string encode_error(std::string_view id_json, std::string_view code, std::string_view message,
                         std::int64_t retry_after_ms = 0);
// `offset`: the event's offset in a room with history (0: none, not sent).
std::string encode_published(std::string_view id_json, std::string_view room,
                             std::uint64_t offset = 0);
std::string encode_pong(std::string_view id_json, bool upper_case);
std::string encode_server_shutdown();
std::string encode_refreshed(std::string_view id_json, std::int64_t expires_at);
// users_json: a JSON array of {"userId":..,"connections":..,"info":{..}}.
std::string encode_presence(std::string_view id_json, std::string_view room,
                            std::string_view users_json);

// An event as every member receives it. `user_id` empty = no userId field. Rooms with history
// add their position: `offset` (> 0) and `epoch`.
std::string encode_event(std::string_view type, std::string_view room,
                         std::string_view payload_json, std::int64_t timestamp_ms,
                         std::string_view user_id, std::uint64_t offset = 0,
                         std::string_view epoch = {});

// After joining a room with history: where the room stands, and whether a requested recovery
// delivered everything missed (`recovered` absent when none was asked).
struct RoomPositionMessage {
    std::string_view room;
    std::string_view epoch;
    std::uint64_t offset = 0;
    bool recovery_requested = false;
    bool recovered = false;
    std::uint64_t missed = 0;
    std::string_view reason;  // why not recovered
};
std::string encode_room_position(const RoomPositionMessage& message);

}  // namespace huddle::endpoints
