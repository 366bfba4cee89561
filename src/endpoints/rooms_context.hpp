// What the rooms endpoint needs from the connection it serves. The net layer implements it on
// each WebSocket session; unit tests implement it with a fake.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/token_bucket.hpp"
#include "endpoints/rooms_messages.hpp"

namespace huddle::endpoints {

class RoomsContext {
  public:
    virtual ~RoomsContext() = default;

    virtual std::string_view user_id() const = 0;
    virtual std::int64_t now_ms() const = 0;

    // Sends JSON text to this connection only.
    virtual void reply(std::string json_text) = 0;

    virtual bool is_member(std::string_view room) const = 0;
    // Rooms joined by request (the private user room does not count).
    virtual std::size_t joined_room_count() const = 0;
    virtual void join(std::string_view room) = 0;
    virtual void leave(std::string_view room) = 0;

    // Sends an event to every member of `room` but this connection.
    virtual void publish(std::string_view room, std::string_view type,
                         std::string_view payload_json) = 0;
    // The same for a client's publish request, answered (`published`, or PUBLISH_FAILED) only once
    // the event is stored (history rooms) or taken by the broker: an acknowledged publish is
    // never lost with the node. Without an id (`id_json` empty) only a failure is answered.
    virtual void publish_answered(std::string_view room, std::string_view type,
                                  std::string_view payload_json, std::string id_json) = 0;

    // The connection-wide message budget, and a per-namespace publish budget (created on first
    // use).
    virtual core::TokenBucket& message_budget() = 0;
    virtual core::TokenBucket& publish_budget(std::string_view namespace_name,
                                              std::uint32_t per_minute) = 0;

    // Counters for /metrics and /stats.
    virtual void count_rate_limited() = 0;

    // The token's claims, for claim-based rules (empty for anonymous connections).
    virtual const boost::json::object& claims() const = 0;

    // Records whether this connection is typing in `room`; true when that changed. The
    // connection clears it (typing = false to the room) when it leaves or closes.
    virtual bool set_typing(std::string_view room, bool typing) = 0;
    virtual core::TokenBucket& typing_budget() = 0;

    // Replaces the connection's token by a fresh one of the same user (in-band refresh).
    struct RefreshResult {
        bool ok = false;
        std::string error;
        std::int64_t expires_at = 0;  // seconds since the epoch; 0 = no expiry
    };
    virtual RefreshResult refresh_token(std::string_view token) = 0;

    // Rules that need an answer from elsewhere (subscription tokens, the app's webhook). `done`
    // runs later (or at once) with one decision per room, in order, and only while the
    // connection is still open; it gets the context again because the caller's may be gone.
    struct RoomCheck {
        std::string room;
        std::string token;  // the subscription token the client gave for the room, if any
    };
    struct Decision {
        bool allowed = false;
        std::string code;
        std::string message;
    };
    using DecisionsDone = std::function<void(RoomsContext&, std::vector<Decision>)>;
    virtual void authorize_rooms(std::vector<RoomCheck> checks, DecisionsDone done) = 0;

    // Joins a room whose namespace keeps history. The room's owner replays what was missed since
    // `resume` (if given), then the connection joins and gets a room.position message.
    virtual void join_with_history(std::string_view room,
                                   std::optional<Request::Resume> resume) = 0;

    // Asks the room's owner for its presence list; the answer (encode_presence) comes later.
    virtual void request_presence(std::string_view room, std::string id_json) = 0;
};

}  // namespace huddle::endpoints
