// libFuzzer target for the native rooms protocol: decode_request and RoomsEndpoint::on_text.
//
// Input: the whole input is one client message for decode_request. It is then split at 0x00
// bytes into up to 16 messages fed in turn to RoomsEndpoint::on_text on one connection (so that a
// subscribe can be followed by a publish), the clock moving by the first byte of each message.
// Invariants:
//   - a decoded request is consistent with its kind (error code, rooms, type, payload, id);
//   - every reply is one JSON object whose "type" is one the protocol defines;
//   - every event the connection publishes, as encoded for the other members, is valid JSON;
//   - the connection never joins more rooms than allowed, nor a room with an invalid name.
#include <algorithm>
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/namespace_rules.hpp"
#include "core/room_name.hpp"
#include "core/token_bucket.hpp"
#include "endpoints/rooms_context.hpp"
#include "endpoints/rooms_endpoint.hpp"
#include "endpoints/rooms_messages.hpp"

namespace {

namespace json = boost::json;
using huddle::core::AccessRule;
using huddle::core::NamespaceSettings;
using huddle::core::NamespaceTable;
using huddle::core::TokenBucket;
using huddle::endpoints::Request;
using huddle::endpoints::RequestKind;

constexpr std::uint32_t kMaxRooms = 4;

void check(bool condition) {
    if (!condition)
        std::abort();
}

// Parses `text` or aborts.
json::value parse_or_abort(std::string_view text) {
    boost::system::error_code ec;
    json::value value = json::parse(text, ec);
    check(!ec);
    return value;
}

NamespaceSettings ns(std::string name, AccessRule access, bool client_publish, bool presence,
                     std::uint32_t per_minute) {
    NamespaceSettings settings;
    settings.name = std::move(name);
    settings.access = access;
    settings.client_publish = client_publish;
    settings.presence_events = presence;
    settings.publish_per_minute = per_minute;
    return settings;
}

const NamespaceTable& namespaces() {
    static const NamespaceTable table({
        ns("user", AccessRule::own_user, true, false, 0),
        ns("team", AccessRule::authenticated, true, true, 0),
        ns("chat", AccessRule::authenticated, true, false, 3),
        ns("doc", AccessRule::subscription_token, false, false, 0),
        [] {
            NamespaceSettings kept = ns("log", AccessRule::authenticated, true, false, 0);
            kept.history = 10;
            return kept;
        }(),
        ns("*", AccessRule::authenticated, false, true, 0),
    });
    return table;
}

struct FuzzContext : huddle::endpoints::RoomsContext {
    std::int64_t now = 1'000'000;
    std::vector<std::string> joined;
    TokenBucket messages{8, 60'000, 1'000'000};
    std::vector<std::pair<std::string, TokenBucket>> budgets;

    std::string_view user_id() const override { return "fuzz\"user"; }
    std::int64_t now_ms() const override { return now; }

    void reply(std::string json_text) override {
        const json::value value = parse_or_abort(json_text);
        check(value.is_object());
        const json::value* type = value.as_object().if_contains("type");
        check(type != nullptr && type->is_string());
        const std::string_view name = type->get_string();
        check(name == "subscribed" || name == "unsubscribed" || name == "published" ||
              name == "pong" || name == "PONG" || name == "error" || name == "refreshed");
        if (name == "error") {
            const json::value& code = value.at("payload").at("code");
            check(code.is_string() && !code.get_string().empty());
        }
    }

    bool is_member(std::string_view room) const override {
        return room == "user:fuzz\"user" ||
               std::find(joined.begin(), joined.end(), room) != joined.end();
    }
    std::size_t joined_room_count() const override { return joined.size(); }
    void join(std::string_view room) override {
        check(huddle::core::room_name_problem(room).empty());
        check(!is_member(room));
        joined.emplace_back(room);
        check(joined.size() <= kMaxRooms);
    }
    void leave(std::string_view room) override {
        const auto it = std::find(joined.begin(), joined.end(), room);
        check(it != joined.end());
        joined.erase(it);
    }
    void publish(std::string_view room, std::string_view type,
                 std::string_view payload_json) override {
        check(is_member(room));
        const std::string event =
            huddle::endpoints::encode_event(type, room, payload_json, now, user_id());
        check(parse_or_abort(event).is_object());
    }
    void publish_answered(std::string_view room, std::string_view type,
                          std::string_view payload_json, std::string id_json) override {
        publish(room, type, payload_json);
        reply(huddle::endpoints::encode_published(id_json, room));
    }
    TokenBucket& message_budget() override { return messages; }
    TokenBucket& publish_budget(std::string_view namespace_name,
                                std::uint32_t per_minute) override {
        for (auto& [name, bucket] : budgets) {
            if (name == namespace_name)
                return bucket;
        }
        return budgets
            .emplace_back(std::string(namespace_name), TokenBucket(per_minute, 60'000, now))
            .second;
    }
    void count_rate_limited() override {}

    const json::object& claims() const override { return token_claims; }
    bool set_typing(std::string_view room, bool typing) override {
        check(is_member(room));
        const auto it = std::find(typing_rooms.begin(), typing_rooms.end(), room);
        if ((it != typing_rooms.end()) == typing)
            return false;
        if (typing) {
            typing_rooms.emplace_back(room);
        } else {
            typing_rooms.erase(it);
        }
        return true;
    }
    TokenBucket& typing_budget() override { return typing_bucket; }
    RefreshResult refresh_token(std::string_view token) override {
        check(!token.empty());
        return {token.size() % 2 == 0, "refused", 1};
    }
    void request_presence(std::string_view room, std::string id_json) override {
        check(is_member(room));
        if (!id_json.empty())
            check(parse_or_abort(id_json).is_primitive());
    }
    // Deferred rooms: allow every other one, answering at once.
    void authorize_rooms(std::vector<RoomCheck> asked, DecisionsDone done) override {
        check(!asked.empty());
        std::vector<Decision> decisions;
        for (std::size_t i = 0; i < asked.size(); ++i)
            decisions.push_back({i % 2 == 0, i % 2 == 0 ? "" : "FORBIDDEN", "no"});
        done(*this, std::move(decisions));
    }
    void join_with_history(std::string_view room, std::optional<Request::Resume>) override {
        join(room);
    }

    json::object token_claims;
    std::vector<std::string> typing_rooms;
    TokenBucket typing_bucket{4, 60'000, 1'000'000};
};

void check_request(std::string_view text) {
    const huddle::endpoints::Request request = huddle::endpoints::decode_request(text);
    if (!request.id_json.empty()) {
        const json::value id = parse_or_abort(request.id_json);
        check(id.is_string() || id.is_number());
    }
    switch (request.kind) {
        case RequestKind::invalid:
            check(request.error_code == "INVALID_MESSAGE" ||
                  request.error_code == "UNKNOWN_ACTION");
            check(!request.error_message.empty());
            break;
        case RequestKind::subscribe:
        case RequestKind::unsubscribe:
            check(!request.rooms.empty());
            check(request.error_code.empty());
            break;
        case RequestKind::publish:
            check(!request.type.empty());
            (void)parse_or_abort(request.payload_json);
            break;
        case RequestKind::typing:
        case RequestKind::presence:
            check(request.rooms.empty());
            break;
        case RequestKind::refresh:
            check(!request.token.empty());
            break;
        case RequestKind::ping:
        case RequestKind::ping_upper:
            check(request.rooms.empty());
            break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_request(input);

    static const huddle::endpoints::RoomsEndpoint endpoint(
        namespaces(), huddle::endpoints::RoomsLimits{kMaxRooms});
    FuzzContext context;
    std::string_view rest = input;
    for (int message = 0; message < 16 && !rest.empty(); ++message) {
        const auto cut = rest.find('\0');
        const std::string_view text = rest.substr(0, cut);
        rest = cut == std::string_view::npos ? std::string_view{} : rest.substr(cut + 1);
        context.now += text.empty() ? 0 : static_cast<unsigned char>(text.front()) * 100;
        endpoint.on_text(text, context);
    }
    return 0;
}
