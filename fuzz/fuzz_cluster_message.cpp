// libFuzzer target for the messages nodes exchange through the broker (endpoints/cluster_message).
//
// Input: any bytes, decoded as an event, a command, a document message and a node's stats. Checks:
// whatever decodes encodes back to something that decodes to the same fields (the codec is its own
// inverse on what it accepts).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "endpoints/cluster_message.hpp"
#include "endpoints/node_stats.hpp"

namespace {

void check(bool condition) {
    if (!condition)
        std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace ep = huddle::endpoints;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    if (const auto event = ep::decode_cluster_event(bytes)) {
        const auto again = ep::decode_cluster_event(ep::encode_cluster_event(*event));
        check(again.has_value());
        check(again->type == event->type && again->user_id == event->user_id &&
              again->timestamp_ms == event->timestamp_ms &&
              again->excluded_connection == event->excluded_connection &&
              again->excluded_users == event->excluded_users &&
              again->payload_json == event->payload_json &&
              again->delivered_at_origin == event->delivered_at_origin);
    }
    if (const auto command = ep::decode_cluster_command(bytes)) {
        const auto again = ep::decode_cluster_command(ep::encode_cluster_command(*command));
        check(again.has_value());
        check(again->kind == command->kind && again->user == command->user &&
              again->code == command->code && again->pattern == command->pattern &&
              again->reason == command->reason);
    }
    if (const auto cast = ep::decode_document_cast(bytes)) {
        const auto again = ep::decode_document_cast(ep::encode_document_cast(*cast));
        check(again.has_value());
        check(again->kind == cast->kind && again->format == cast->format &&
              again->client == cast->client && again->body == cast->body);
    }
    if (const auto reply = ep::decode_node_stats(bytes)) {
        const auto again =
            ep::decode_node_stats(ep::encode_node_stats(reply->request_id, reply->stats));
        check(again.has_value());
        check(again->request_id == reply->request_id && again->stats.node == reply->stats.node &&
              again->stats.users == reply->stats.users &&
              again->stats.rooms == reply->stats.rooms &&
              again->stats.connections == reply->stats.connections &&
              again->stats.accepting == reply->stats.accepting);
        (void)ep::render_cluster_stats({reply->stats}, {reply->request_id});
    }
    return 0;
}
