#include "endpoints/fabric_messages.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "endpoints/base64.hpp"
#include "endpoints/json_text.hpp"

namespace huddle::endpoints::fabric {
namespace {

Message invalid(std::string error) {
    Message message;
    message.error = std::move(error);
    return message;
}

}  // namespace

Message parse_message(std::string_view text, std::string_view document,
                      std::string_view client_id) {
    boost::system::error_code parse_error;
    boost::json::value root = boost::json::parse(text, parse_error);
    boost::json::object* object = parse_error ? nullptr : root.if_object();
    const boost::json::value* type = object ? object->if_contains("type") : nullptr;
    if (type == nullptr || !type->is_string())
        return invalid("messages are JSON objects with a string \"type\"");
    const std::string_view name = type->get_string();
    Message message;
    if (name == "sync") {
        message.kind = Kind::sync;
        const boost::json::value* vector = object->if_contains("stateVector");
        if (vector == nullptr || vector->is_null()) {
            message.bytes = {0};  // the empty state vector: send everything
            return message;
        }
        auto bytes = vector->is_string() ? decode_base64(vector->get_string()) : std::nullopt;
        if (!bytes || bytes->empty())
            return invalid("\"stateVector\" must be a base64 Yjs state vector");
        message.bytes = std::move(*bytes);
        return message;
    }
    if (name == "update") {
        const boost::json::value* update = object->if_contains("update");
        auto bytes =
            update && update->is_string() ? decode_base64(update->get_string()) : std::nullopt;
        if (!bytes || bytes->empty())
            return invalid("\"update\" must be a base64 Yjs update");
        message.kind = Kind::update;
        message.bytes = std::move(*bytes);
        return message;
    }
    if (name == "awareness" || name == "selection" || name == "steps") {
        // The sender's identity is the server's to say, not the client's.
        (*object)["documentId"] = document;
        (*object)["clientID"] = client_id;
        message.kind = Kind::relay;
        message.relay_text = boost::json::serialize(*object);
        return message;
    }
    if (name == "ping") {
        message.kind = Kind::ping;
        return message;
    }
    return invalid(
        "unknown message type; expected sync, update, awareness, selection, steps "
        "or ping");
}

std::string encode_server_steps(std::string_view document, std::string_view steps_json) {
    std::string out = R"({"type":"steps","documentId":)";
    append_json_string(out, document);
    out += R"(,"clientID":"server","steps":)";
    out += steps_json;
    out += '}';
    return out;
}

std::string encode_error(std::string_view code, std::string_view message) {
    std::string out = R"({"type":"error","code":)";
    append_json_string(out, code);
    out += ",\"message\":";
    append_json_string(out, message);
    out += '}';
    return out;
}

}  // namespace huddle::endpoints::fabric
