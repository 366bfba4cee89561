#include "endpoints/cluster_message.hpp"

#include <charconv>

namespace huddle::endpoints {
namespace {

// Length-prefixed fields ("<bytes>:<text>"): user ids and payloads may hold any byte.
void put(std::string& out, std::string_view field) {
    out += std::to_string(field.size());
    out += ':';
    out += field;
}

template <typename Number>
void put_number(std::string& out, Number value) {
    put(out, std::to_string(value));
}

class Reader {
  public:
    explicit Reader(std::string_view bytes) : rest_(bytes) {}

    std::optional<std::string_view> field() {
        const std::size_t colon = rest_.find(':');
        if (colon == std::string_view::npos || colon == 0 || colon > 10)
            return std::nullopt;
        std::size_t size = 0;
        const auto [end, error] = std::from_chars(rest_.data(), rest_.data() + colon, size);
        if (error != std::errc{} || end != rest_.data() + colon || size > rest_.size() - colon - 1)
            return std::nullopt;
        const std::string_view value = rest_.substr(colon + 1, size);
        rest_.remove_prefix(colon + 1 + size);
        return value;
    }

    template <typename Number>
    std::optional<Number> number() {
        const auto text = field();
        if (!text)
            return std::nullopt;
        Number value{};
        const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
        if (error != std::errc{} || end != text->data() + text->size())
            return std::nullopt;
        return value;
    }

    bool done() const { return rest_.empty(); }
    std::string_view rest() const { return rest_; }

  private:
    std::string_view rest_;
};

constexpr std::string_view kEventTag = "E1";
constexpr std::string_view kCommandTag = "C1";

}  // namespace

std::string encode_cluster_event(const ClusterEvent& event) {
    std::string out(kEventTag);
    put(out, event.type);
    put(out, event.user_id);
    put_number(out, event.timestamp_ms);
    put_number(out, event.excluded_connection);
    put_number(out, event.excluded_users.size());
    for (const auto& user : event.excluded_users)
        put(out, user);
    put(out, event.payload_json);
    put(out, event.delivered_at_origin ? "1" : "0");
    return out;
}

std::optional<ClusterEvent> decode_cluster_event(std::string_view bytes) {
    if (!bytes.starts_with(kEventTag))
        return std::nullopt;
    Reader in(bytes.substr(kEventTag.size()));
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
    put(out, command.kind);
    put(out, command.user);
    put_number(out, command.code);
    put(out, command.pattern);
    put(out, command.reason);
    return out;
}

std::optional<ClusterCommand> decode_cluster_command(std::string_view bytes) {
    if (!bytes.starts_with(kCommandTag))
        return std::nullopt;
    Reader in(bytes.substr(kCommandTag.size()));
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
        put(out, cast.client);
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
                Reader in(bytes);
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
