// A room event as it travels between nodes through the broker: everything a node needs to encode
// the event for its own members. The offset and epoch are not in it: the broker gives them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "endpoints/handler.hpp"

namespace huddle::endpoints {

struct ClusterEvent {
    std::string type;
    std::string user_id;
    std::int64_t timestamp_ms = 0;
    // Meaningful only on the node that published (connection ids are per process).
    std::uint64_t excluded_connection = 0;
    std::vector<std::string> excluded_users;
    std::string payload_json = "null";
    // The publishing node fanned it out itself (its subscription was not ready): it skips the copy
    // that comes back.
    bool delivered_at_origin = false;
};

std::string encode_cluster_event(const ClusterEvent& event);
// nullopt for anything that is not an encoded event (a probe, garbage).
std::optional<ClusterEvent> decode_cluster_event(std::string_view bytes);

// Node commands (Broker::broadcast): disconnect a user, or remove a user from rooms.
struct ClusterCommand {
    std::string kind;  // "disconnect" or "remove"
    std::string user;
    std::uint16_t code = 0;
    std::string pattern;
    std::string reason;
};
std::string encode_cluster_command(const ClusterCommand& command);
std::optional<ClusterCommand> decode_cluster_command(std::string_view bytes);

// A message about a Yjs document, published on the document's room by the node where it happened,
// for the other nodes with the document loaded.
struct DocumentCast {
    enum class Kind : char {
        update = 'U',     // a stored update (body: the update's bytes)
        awareness = 'A',  // a y-websocket awareness message (body: the whole message)
        relay = 'T',      // a client's text relayed to the document's clients of `format`
        send = 'S',       // the backend's text to the clients of `format` (`client`: only that one)
        deleted = 'D',    // the document was deleted: close its connections, drop it from memory
    };
    Kind kind = Kind::update;
    DocumentFormat format = DocumentFormat::none;  // relay and send
    std::string client;                            // send: "" for every client
    std::string body;
};
std::string encode_document_cast(const DocumentCast& cast);
// nullopt for anything else (a probe, garbage).
std::optional<DocumentCast> decode_document_cast(std::string_view bytes);

}  // namespace huddle::endpoints
