#include "endpoints/rooms_messages.hpp"

#include <algorithm>
#include <cmath>

#include <boost/json.hpp>

#include "endpoints/json_checks.hpp"
#include "endpoints/json_text.hpp"

namespace huddle::endpoints {
namespace json = boost::json;
namespace {

Request invalid(std::string id_json, std::string_view code, std::string message) {
    Request request;
    request.id_json = std::move(id_json);
    request.error_code = code;
    request.error_message = std::move(message);
    return request;
}

std::optional<std::string> string_field(const json::object& object, std::string_view key) {
    const json::value* value = object.if_contains(key);
    if (value == nullptr || !value->is_string())
        return std::nullopt;
    return std::string(value->get_string());
}

Request decode_rooms_request(const json::object& object, RequestKind kind, std::string id_json) {
    const json::value* rooms = object.if_contains("rooms");
    if (rooms == nullptr)
        return invalid(std::move(id_json), "INVALID_MESSAGE", "missing \"rooms\"");
    if (!rooms->is_array()) {
        return invalid(std::move(id_json), "INVALID_MESSAGE",
                       "\"rooms\" must be an array of strings");
    }
    Request request;
    request.kind = kind;
    request.id_json = std::move(id_json);
    for (const json::value& room : rooms->get_array()) {
        if (!room.is_string()) {
            return invalid(std::move(request.id_json), "INVALID_MESSAGE",
                           "\"rooms\" must be an array of strings");
        }
        request.rooms.emplace_back(room.get_string());
    }
    if (request.rooms.empty()) {
        return invalid(std::move(request.id_json), "INVALID_MESSAGE", "\"rooms\" is empty");
    }
    if (const json::value* recover = object.if_contains("recover"); recover != nullptr) {
        if (!recover->is_object()) {
            return invalid(std::move(request.id_json), "INVALID_MESSAGE",
                           "\"recover\" must map room names to {\"offset\",\"epoch\"}");
        }
        for (const auto& entry : recover->get_object()) {
            const json::object* from = entry.value().if_object();
            const json::value* offset = from ? from->if_contains("offset") : nullptr;
            const json::value* epoch = from ? from->if_contains("epoch") : nullptr;
            const bool offset_ok =
                offset && ((offset->is_int64() && offset->get_int64() >= 0) || offset->is_uint64());
            if (!offset_ok || !epoch || !epoch->is_string()) {
                return invalid(std::move(request.id_json), "INVALID_MESSAGE",
                               "recover entries need a non-negative integer \"offset\" and a "
                               "string \"epoch\"");
            }
            request.recover.push_back({std::string(entry.key()),
                                       offset->is_uint64()
                                           ? offset->get_uint64()
                                           : static_cast<std::uint64_t>(offset->get_int64()),
                                       std::string(epoch->get_string())});
        }
    }
    if (const json::value* tokens = object.if_contains("tokens"); tokens != nullptr) {
        const bool valid = tokens->is_object() &&
                           std::all_of(tokens->get_object().begin(), tokens->get_object().end(),
                                       [](const auto& entry) { return entry.value().is_string(); });
        if (!valid) {
            return invalid(std::move(request.id_json), "INVALID_MESSAGE",
                           "\"tokens\" must map room names to token strings");
        }
        for (const auto& entry : tokens->get_object()) {
            request.room_tokens.emplace_back(std::string(entry.key()),
                                             std::string(entry.value().get_string()));
        }
    }
    return request;
}

Request decode_publish(const json::object& object, std::string id_json) {
    auto room = string_field(object, "room");
    if (!room)
        return invalid(std::move(id_json), "INVALID_MESSAGE", "publish needs a string \"room\"");
    // The event name may come as "type" or "event"; "type" is what the server sends back.
    auto type = string_field(object, "type");
    if (!type)
        type = string_field(object, "event");
    if (!type || type->empty()) {
        return invalid(std::move(id_json), "INVALID_MESSAGE", "publish needs a string \"type\"");
    }
    Request request;
    request.kind = RequestKind::publish;
    request.id_json = std::move(id_json);
    request.room = std::move(*room);
    request.type = std::move(*type);
    const json::value* payload = object.if_contains("payload");
    if (payload != nullptr && holds_non_finite_number(*payload)) {
        return invalid(std::move(request.id_json), "INVALID_MESSAGE",
                       "payload holds a number too large for a double");
    }
    request.payload_json = payload == nullptr ? "null" : json::serialize(*payload);
    return request;
}

// typing and presence: {"action":..., "room":..., "typing": bool (typing only)}.
Request decode_room_request(const json::object& object, RequestKind kind, std::string id_json) {
    auto room = string_field(object, "room");
    if (!room)
        return invalid(std::move(id_json), "INVALID_MESSAGE", "needs a string \"room\"");
    Request request;
    request.kind = kind;
    request.id_json = std::move(id_json);
    request.room = std::move(*room);
    if (const json::value* typing = object.if_contains("typing");
        kind == RequestKind::typing && typing) {
        if (!typing->is_bool()) {
            return invalid(std::move(request.id_json), "INVALID_MESSAGE",
                           "\"typing\" must be true or false");
        }
        request.typing = typing->get_bool();
    }
    return request;
}

}  // namespace

Request decode_request(std::string_view text) {
    // Small requests parse without touching the heap.
    unsigned char stack_buffer[4096];
    json::monotonic_resource resource(stack_buffer, sizeof stack_buffer);
    boost::system::error_code ec;
    json::value root = json::parse(text, ec, &resource);
    if (ec)
        return invalid({}, "INVALID_MESSAGE", "message is not valid JSON");
    if (!root.is_object())
        return invalid({}, "INVALID_MESSAGE", "message must be a JSON object");
    const json::object& object = root.get_object();

    std::string id_json;
    if (const json::value* id = object.if_contains("id")) {
        const bool finite = !id->is_double() || std::isfinite(id->get_double());
        if ((!id->is_string() && !id->is_number()) || !finite) {
            return invalid({}, "INVALID_MESSAGE", "\"id\" must be a string or a finite number");
        }
        id_json = json::serialize(*id);
    }

    const json::value* action = object.if_contains("action");
    if (action != nullptr) {
        if (!action->is_string()) {
            return invalid(std::move(id_json), "INVALID_MESSAGE", "\"action\" must be a string");
        }
        const std::string_view name = action->get_string();
        if (name == "subscribe")
            return decode_rooms_request(object, RequestKind::subscribe, id_json);
        if (name == "unsubscribe") {
            return decode_rooms_request(object, RequestKind::unsubscribe, id_json);
        }
        if (name == "publish")
            return decode_publish(object, std::move(id_json));
        if (name == "ping") {
            Request request;
            request.kind = RequestKind::ping;
            request.id_json = std::move(id_json);
            return request;
        }
        if (name == "typing" || name == "presence") {
            return decode_room_request(
                object, name == "typing" ? RequestKind::typing : RequestKind::presence,
                std::move(id_json));
        }
        if (name == "refresh") {
            auto token = string_field(object, "token");
            if (!token || token->empty()) {
                return invalid(std::move(id_json), "INVALID_MESSAGE",
                               "refresh needs a string \"token\"");
            }
            Request request;
            request.kind = RequestKind::refresh;
            request.id_json = std::move(id_json);
            request.token = std::move(*token);
            return request;
        }
        return invalid(std::move(id_json), "UNKNOWN_ACTION", "unknown action");
    }
    const json::value* type = object.if_contains("type");
    if (type != nullptr && type->is_string()) {
        const std::string_view name = type->get_string();
        if (name == "ping" || name == "PING") {
            Request request;
            request.kind = name == "PING" ? RequestKind::ping_upper : RequestKind::ping;
            request.id_json = std::move(id_json);
            return request;
        }
        return invalid(std::move(id_json), "UNKNOWN_ACTION", "unknown message type");
    }
    return invalid(std::move(id_json), "INVALID_MESSAGE", "message needs an \"action\"");
}

namespace {
void append_id(std::string& out, std::string_view id_json) {
    if (id_json.empty())
        return;
    out += ",\"id\":";
    out += id_json;
}
}  // namespace

std::string encode_connection_ack(std::string_view connection_id, std::string_view user_id,
                                  std::int64_t now_ms) {
    std::string out = R"({"type":"connection.ack","payload":{"connectionId":)";
    append_json_string(out, connection_id);
    out += ",\"userId\":";
    if (user_id.empty()) {
        out += "null";
    } else {
        append_json_string(out, user_id);
    }
    out += "},\"timestamp\":";
    append_json_int(out, now_ms);
    out += '}';
    return out;
}

std::string encode_room_results(std::string_view type, std::string_view id_json,
                                const std::vector<RoomResult>& results) {
    std::string out = "{\"type\":";
    append_json_string(out, type);
    append_id(out, id_json);
    out += ",\"rooms\":[";
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (i != 0)
            out += ',';
        out += "{\"room\":";
        append_json_string(out, results[i].room);
        if (results[i].error_code.empty()) {
            out += ",\"ok\":true}";
        } else {
            out += ",\"ok\":false,\"error\":{\"code\":";
            append_json_string(out, results[i].error_code);
            out += ",\"message\":";
            append_json_string(out, results[i].error_message);
            out += "}}";
        }
    }
    out += "]}";
    return out;
}

std::string encode_error(std::string_view id_json, std::string_view code, std::string_view message,
                         std::int64_t retry_after_ms) {
    std::string out = "{\"type\":\"error\"";
    append_id(out, id_json);
    out += ",\"payload\":{\"code\":";
    append_json_string(out, code);
    out += ",\"message\":";
    append_json_string(out, message);
    if (retry_after_ms > 0) {
        out += ",\"retryAfterMs\":";
        append_json_int(out, retry_after_ms);
    }
    out += "}}";
    return out;
}

std::string encode_published(std::string_view id_json, std::string_view room,
                             std::uint64_t offset) {
    std::string out = "{\"type\":\"published\"";
    append_id(out, id_json);
    out += ",\"room\":";
    append_json_string(out, room);
    if (offset != 0) {
        out += ",\"offset\":";
        append_json_int(out, static_cast<std::int64_t>(offset));
    }
    out += '}';
    return out;
}

std::string encode_pong(std::string_view id_json, bool upper_case) {
    std::string out = upper_case ? "{\"type\":\"PONG\"" : "{\"type\":\"pong\"";
    append_id(out, id_json);
    out += '}';
    return out;
}

std::string encode_server_shutdown() {
    return R"({"type":"server_shutdown","payload":{"message":"server is shutting down"}})";
}

std::string encode_refreshed(std::string_view id_json, std::int64_t expires_at) {
    std::string out = "{\"type\":\"refreshed\"";
    append_id(out, id_json);
    out += ",\"expiresAt\":";
    append_json_int(out, expires_at);
    out += '}';
    return out;
}

std::string encode_presence(std::string_view id_json, std::string_view room,
                            std::string_view users_json) {
    std::string out = "{\"type\":\"presence\"";
    append_id(out, id_json);
    out += ",\"room\":";
    append_json_string(out, room);
    out += ",\"users\":";
    out += users_json;
    out += '}';
    return out;
}

std::string encode_event(std::string_view type, std::string_view room,
                         std::string_view payload_json, std::int64_t timestamp_ms,
                         std::string_view user_id, std::uint64_t offset, std::string_view epoch) {
    std::string out;
    out.reserve(96 + type.size() + room.size() + payload_json.size() + user_id.size());
    out += "{\"type\":";
    append_json_string(out, type);
    out += ",\"room\":";
    append_json_string(out, room);
    out += ",\"payload\":";
    out += payload_json;
    out += ",\"timestamp\":";
    append_json_int(out, timestamp_ms);
    if (!user_id.empty()) {
        out += ",\"userId\":";
        append_json_string(out, user_id);
    }
    if (offset != 0) {
        out += ",\"offset\":";
        append_json_int(out, static_cast<std::int64_t>(offset));
        out += ",\"epoch\":";
        append_json_string(out, epoch);
    }
    out += '}';
    return out;
}

std::string encode_room_position(const RoomPositionMessage& message) {
    std::string out = "{\"type\":\"room.position\",\"room\":";
    append_json_string(out, message.room);
    out += ",\"epoch\":";
    append_json_string(out, message.epoch);
    out += ",\"offset\":";
    append_json_int(out, static_cast<std::int64_t>(message.offset));
    if (message.recovery_requested) {
        out += message.recovered ? ",\"recovered\":true" : ",\"recovered\":false";
        out += ",\"missed\":";
        append_json_int(out, static_cast<std::int64_t>(message.missed));
        if (!message.reason.empty()) {
            out += ",\"reason\":";
            append_json_string(out, message.reason);
        }
    }
    out += '}';
    return out;
}

}  // namespace huddle::endpoints
