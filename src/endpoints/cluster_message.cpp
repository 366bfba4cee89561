#include "endpoints/cluster_message.hpp"

#include "endpoints/length_prefixed.hpp"

namespace huddle::endpoints {
namespace {

constexpr std::string_view kEventTag = "E1";
constexpr std::string_view kCommandTag = "C1";

}  // namespace

std::string encode_cluster_event(const ClusterEvent& event) {
    std::string out(kEventTag);
    put_field(out, event.type);
    put_field(out, event.user_id);
    put_number_field(out, event.timestamp_ms);
    put_number_field(out, event.excluded_connection);
    put_number_field(out, event.excluded_users.size());
    for (const auto& user : event.excluded_users)
        put_field(out, user);
    put_field(out, event.payload_json);
    put_field(out, event.delivered_at_origin ? "1" : "0");
    return out;
}

std::optional<ClusterEvent> decode_cluster_event(std::string_view bytes) {
    if (!bytes.starts_with(kEventTag))
        return std::nullopt;
    FieldReader in(bytes.substr(kEventTag.size()));
    ClusterEvent event;
    const auto type = in.field();
    const auto user = in.field();
    const auto timestamp = in.number<std::int64_t>();
    const auto excluded = in.number<std::uint64_t>();
    const auto users = in.number<std::size_t>();
    if (!type || !user || !timestamp || !excluded || !users || *users > bytes.size())
        return std::nullopt;
    event.type = *type;
    event.user_id = *user;
    event.timestamp_ms = *timestamp;
    event.excluded_connection = *excluded;
    for (std::size_t i = 0; i < *users; ++i) {
        const auto excluded_user = in.field();
        if (!excluded_user)
            return std::nullopt;
        event.excluded_users.emplace_back(*excluded_user);
    }
    const auto payload = in.field();
    const auto delivered = in.field();
    if (!payload || !delivered || !in.done())
        return std::nullopt;
    event.payload_json = *payload;
    event.delivered_at_origin = *delivered == "1";
    return event;
}

std::string encode_cluster_command(const ClusterCommand& command) {
    std::string out(kCommandTag);
    put_field(out, command.kind);
    put_field(out, command.user);
    put_number_field(out, command.code);
    put_field(out, command.pattern);
    put_field(out, command.reason);
    return out;
}

std::optional<ClusterCommand> decode_cluster_command(std::string_view bytes) {
    if (!bytes.starts_with(kCommandTag))
        return std::nullopt;
    FieldReader in(bytes.substr(kCommandTag.size()));
    const auto kind = in.field();
    const auto user = in.field();
    const auto code = in.number<std::uint16_t>();
    const auto pattern = in.field();
    const auto reason = in.field();
    if (!kind || !user || !code || !pattern || !reason || !in.done())
        return std::nullopt;
    return ClusterCommand{std::string(*kind), std::string(*user), *code, std::string(*pattern),
                          std::string(*reason)};
}

std::string encode_document_cast(const DocumentCast& cast) {
    // Updates and awareness are the bulk of the traffic: the kind and the bytes, nothing else.
    std::string out(1, static_cast<char>(cast.kind));
    if (cast.kind == DocumentCast::Kind::relay || cast.kind == DocumentCast::Kind::send)
        out += static_cast<char>('0' + static_cast<int>(cast.format));
    if (cast.kind == DocumentCast::Kind::send)
        put_field(out, cast.client);
    out += cast.body;
    return out;
}

std::optional<DocumentCast> decode_document_cast(std::string_view bytes) {
    if (bytes.empty())
        return std::nullopt;
    DocumentCast cast;
    cast.kind = static_cast<DocumentCast::Kind>(bytes.front());
    bytes.remove_prefix(1);
    switch (cast.kind) {
        case DocumentCast::Kind::update:
        case DocumentCast::Kind::awareness:
            if (bytes.empty())
                return std::nullopt;
            break;
        case DocumentCast::Kind::deleted:
            if (!bytes.empty())
                return std::nullopt;
            break;
        case DocumentCast::Kind::relay:
        case DocumentCast::Kind::send: {
            if (bytes.empty() || bytes.front() <= '0' ||
                bytes.front() >= '0' + static_cast<int>(kDocumentFormatCount))
                return std::nullopt;
            cast.format = static_cast<DocumentFormat>(bytes.front() - '0');
            bytes.remove_prefix(1);
            if (cast.kind == DocumentCast::Kind::send) {
                FieldReader in(bytes);
                const auto client = in.field();
                if (!client)
                    return std::nullopt;
                cast.client = *client;
                bytes.remove_prefix(bytes.size() - in.rest().size());
            }
            break;
        }
        default:
            return std::nullopt;
    }
    cast.body = bytes;
    return cast;
}

}  // namespace huddle::endpoints
