#include "endpoints/rooms_endpoint.hpp"

#include <algorithm>

#include "core/room_name.hpp"
#include "endpoints/json_text.hpp"

namespace huddle::endpoints {

void RoomsEndpoint::on_text(std::string_view text, RoomsContext& context) const {
    const Request request = decode_request(text);
    // Pings are cheap and keep connections alive: they are not charged to the message budget.
    if (request.kind == RequestKind::ping || request.kind == RequestKind::ping_upper) {
        context.reply(encode_pong(request.id_json, request.kind == RequestKind::ping_upper));
        return;
    }
    if (const std::int64_t wait = context.message_budget().take(context.now_ms()); wait > 0) {
        context.count_rate_limited();
        context.reply(encode_error(request.id_json, "RATE_LIMIT_EXCEEDED",
                                   "too many messages; wait before sending more", wait));
        return;
    }
    switch (request.kind) {
        case RequestKind::subscribe:
            subscribe(request, context);
            return;
        case RequestKind::unsubscribe:
            unsubscribe(request, context);
            return;
        case RequestKind::publish:
            publish(request, context);
            return;
        case RequestKind::typing:
            typing(request, context);
            return;
        case RequestKind::refresh:
            refresh(request, context);
            return;
        case RequestKind::presence:
            presence(request, context);
            return;
        case RequestKind::invalid:
            context.reply(encode_error(request.id_json, request.error_code, request.error_message));
            return;
        case RequestKind::ping:
        case RequestKind::ping_upper:
            return;
    }
}

void RoomsEndpoint::on_binary(RoomsContext& context) const {
    context.reply(
        encode_error({}, "INVALID_MESSAGE", "binary messages are not part of this protocol"));
}

void RoomsEndpoint::subscribe(const Request& request, RoomsContext& context) const {
    std::vector<RoomResult> results;
    results.reserve(request.rooms.size());
    std::vector<RoomsContext::RoomCheck> checks;
    std::vector<std::size_t> checked;  // indexes in `results` waiting for `checks`
    for (const std::string& room : request.rooms) {
        RoomResult& result = results.emplace_back(RoomResult{room, {}, {}});
        // The private user room exists from the start, whatever characters the user id has.
        if (context.is_member(room))
            continue;
        if (const std::string_view problem = core::room_name_problem(room); !problem.empty()) {
            result.error_code = "INVALID_ROOM";
            result.error_message = problem;
            continue;
        }
        const core::AccessDecision access =
            namespaces_.may_subscribe(room, context.user_id(), context.claims());
        if (access.deferred) {
            std::string token;
            for (const auto& [token_room, value] : request.room_tokens) {
                if (token_room == room)
                    token = value;
            }
            checks.push_back({room, std::move(token)});
            checked.push_back(results.size() - 1);
            continue;
        }
        if (!access.allowed) {
            result.error_code = access.code;
            result.error_message = access.message;
        }
    }
    if (checks.empty()) {
        join_and_answer(request.id_json, std::move(results), request.recover, context);
        return;
    }
    context.authorize_rooms(
        std::move(checks),
        [this, id_json = request.id_json, recover = request.recover, results = std::move(results),
         checked = std::move(checked)](RoomsContext& later,
                                       std::vector<RoomsContext::Decision> decisions) mutable {
            for (std::size_t i = 0; i < checked.size() && i < decisions.size(); ++i) {
                if (decisions[i].allowed)
                    continue;
                results[checked[i]].error_code = std::move(decisions[i].code);
                results[checked[i]].error_message = std::move(decisions[i].message);
            }
            join_and_answer(id_json, std::move(results), recover, later);
        });
}

// Joins the allowed rooms in the order asked, within the room limit, and answers once.
void RoomsEndpoint::join_and_answer(std::string_view id_json, std::vector<RoomResult> results,
                                    const std::vector<Request::Resume>& recover,
                                    RoomsContext& context) const {
    std::vector<std::pair<std::string, std::optional<Request::Resume>>> history_joins;
    for (RoomResult& result : results) {
        if (!result.error_code.empty() || context.is_member(result.room))
            continue;
        const bool queued =
            std::any_of(history_joins.begin(), history_joins.end(),
                        [&](const auto& entry) { return entry.first == result.room; });
        if (queued)
            continue;  // the same room twice in one request
        if (context.joined_room_count() + history_joins.size() >=
            limits_.max_rooms_per_connection) {
            result.error_code = "TOO_MANY_ROOMS";
            result.error_message = "this connection is in as many rooms as allowed";
            continue;
        }
        if (namespaces_.rules_for(result.room).history == 0) {
            context.join(result.room);
            continue;
        }
        std::optional<Request::Resume> resume;
        for (const auto& entry : recover) {
            if (entry.room == result.room)
                resume = entry;
        }
        history_joins.emplace_back(result.room, std::move(resume));
    }
    context.reply(encode_room_results("subscribed", id_json, results));
    // After the answer: the replay and room.position of history rooms follow it.
    for (auto& [room, resume] : history_joins)
        context.join_with_history(room, std::move(resume));
}

void RoomsEndpoint::unsubscribe(const Request& request, RoomsContext& context) const {
    std::vector<RoomResult> results;
    results.reserve(request.rooms.size());
    for (const std::string& room : request.rooms) {
        RoomResult& result = results.emplace_back(RoomResult{room, {}, {}});
        // The private user room is for life; leaving it would silently cut the backend off.
        if (core::namespace_of(room) == "user" && core::room_id_of(room) == context.user_id()) {
            result.error_code = "FORBIDDEN";
            result.error_message = "the private user room cannot be left";
            continue;
        }
        if (const std::string_view problem = core::room_name_problem(room); !problem.empty()) {
            result.error_code = "INVALID_ROOM";
            result.error_message = problem;
            continue;
        }
        if (!context.is_member(room))
            continue;
        context.leave(room);
    }
    context.reply(encode_room_results("unsubscribed", request.id_json, results));
}

void RoomsEndpoint::publish(const Request& request, RoomsContext& context) const {
    if (const std::string_view problem = core::room_name_problem(request.room); !problem.empty()) {
        context.reply(encode_error(request.id_json, "INVALID_ROOM", problem));
        return;
    }
    const core::AccessDecision access =
        namespaces_.may_publish(request.room, context.user_id(), context.claims());
    // Rules decided elsewhere (subscription token, webhook) were decided when the connection
    // subscribed: membership, checked next, stands for them.
    if (!access.allowed && !access.deferred) {
        context.reply(encode_error(request.id_json, access.code, access.message));
        return;
    }
    if (!context.is_member(request.room)) {
        context.reply(
            encode_error(request.id_json, "FORBIDDEN", "subscribe to the room before publishing"));
        return;
    }
    const core::NamespaceSettings& rules = namespaces_.rules_for(request.room);
    if (rules.publish_per_minute != 0) {
        core::TokenBucket& budget = context.publish_budget(rules.name, rules.publish_per_minute);
        if (const std::int64_t wait = budget.take(context.now_ms()); wait > 0) {
            context.count_rate_limited();
            context.reply(encode_error(request.id_json, "RATE_LIMIT_EXCEEDED",
                                       "too many publishes to this namespace", wait));
            return;
        }
    }
    context.publish_answered(request.room, request.type, request.payload_json, request.id_json);
}

// Checks shared by typing and presence: a valid room the connection is a member of.
bool RoomsEndpoint::member_room(const Request& request, RoomsContext& context) const {
    if (const std::string_view problem = core::room_name_problem(request.room); !problem.empty()) {
        context.reply(encode_error(request.id_json, "INVALID_ROOM", problem));
        return false;
    }
    if (!context.is_member(request.room)) {
        context.reply(encode_error(request.id_json, "FORBIDDEN", "subscribe to the room first"));
        return false;
    }
    return true;
}

void RoomsEndpoint::typing(const Request& request, RoomsContext& context) const {
    if (!member_room(request, context))
        return;
    if (const std::int64_t wait = context.typing_budget().take(context.now_ms()); wait > 0) {
        context.count_rate_limited();
        context.reply(
            encode_error(request.id_json, "RATE_LIMIT_EXCEEDED", "too many typing notices", wait));
        return;
    }
    if (context.set_typing(request.room, request.typing)) {
        context.publish(request.room, "user.typing",
                        typing_payload(context.user_id(), request.typing));
    }
    if (!request.id_json.empty())
        context.reply(encode_published(request.id_json, request.room));
}

void RoomsEndpoint::refresh(const Request& request, RoomsContext& context) const {
    const RoomsContext::RefreshResult result = context.refresh_token(request.token);
    if (!result.ok) {
        context.reply(encode_error(request.id_json, "UNAUTHORIZED", result.error));
        return;
    }
    context.reply(encode_refreshed(request.id_json, result.expires_at));
}

void RoomsEndpoint::presence(const Request& request, RoomsContext& context) const {
    if (!member_room(request, context))
        return;
    if (!namespaces_.rules_for(request.room).presence_events) {
        context.reply(encode_error(request.id_json, "PRESENCE_NOT_ENABLED",
                                   "presence is not enabled for this namespace"));
        return;
    }
    context.request_presence(request.room, request.id_json);
}

std::string typing_payload(std::string_view user_id, bool typing) {
    std::string payload = "{\"userId\":";
    append_json_string(payload, user_id);
    payload += typing ? ",\"typing\":true}" : ",\"typing\":false}";
    return payload;
}

}  // namespace huddle::endpoints
