#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/namespace_rules.hpp"
#include "core/token_bucket.hpp"
#include "endpoints/rooms_context.hpp"
#include "endpoints/rooms_endpoint.hpp"

namespace json = boost::json;
using huddle::core::AccessRule;
using huddle::core::NamespaceSettings;
using huddle::core::NamespaceTable;
using huddle::core::TokenBucket;
using huddle::endpoints::RoomsContext;
using huddle::endpoints::RoomsEndpoint;
using huddle::endpoints::RoomsLimits;

namespace {

struct Published {
    std::string room;
    std::string type;
    std::string payload_json;
};

// A connection as the endpoint sees it, recording everything the endpoint asks of it. Like the
// real session, it is a member of its private room `user:<id>` from the start, and that room does
// not count in joined_room_count().
struct FakeContext : RoomsContext {
    explicit FakeContext(std::string user_id, std::uint32_t messages_per_minute = 1000)
        : user(std::move(user_id)), message_bucket(messages_per_minute, 60'000, 0) {}

    std::string user;
    std::int64_t now = 0;
    std::vector<std::string> replies;
    std::vector<std::string> joined;  // by request, in join order
    std::vector<std::string> join_calls;
    std::vector<std::string> leave_calls;
    std::vector<Published> published;
    TokenBucket message_bucket;
    std::map<std::string, TokenBucket> publish_buckets;
    std::vector<std::pair<std::string, std::uint32_t>> publish_budget_calls;
    int rate_limited = 0;

    std::string_view user_id() const override { return user; }
    std::int64_t now_ms() const override { return now; }
    void reply(std::string json_text) override { replies.push_back(std::move(json_text)); }
    bool is_member(std::string_view room) const override {
        return (!user.empty() && room == "user:" + user) ||
               std::find(joined.begin(), joined.end(), room) != joined.end();
    }
    std::size_t joined_room_count() const override { return joined.size(); }
    void join(std::string_view room) override {
        join_calls.emplace_back(room);
        joined.emplace_back(room);
    }
    void leave(std::string_view room) override {
        leave_calls.emplace_back(room);
        joined.erase(std::find(joined.begin(), joined.end(), room));
    }
    void publish(std::string_view room, std::string_view type,
                 std::string_view payload_json) override {
        published.push_back({std::string(room), std::string(type), std::string(payload_json)});
    }
    // Taken at once: the endpoint's part is only to leave the answer to the context.
    void publish_answered(std::string_view room, std::string_view type,
                          std::string_view payload_json, std::string id_json) override {
        publish(room, type, payload_json);
        reply(huddle::endpoints::encode_published(id_json, room));
    }
    TokenBucket& message_budget() override { return message_bucket; }
    TokenBucket& publish_budget(std::string_view namespace_name,
                                std::uint32_t per_minute) override {
        publish_budget_calls.emplace_back(std::string(namespace_name), per_minute);
        auto it = publish_buckets.find(std::string(namespace_name));
        if (it == publish_buckets.end()) {
            it = publish_buckets
                     .emplace(std::string(namespace_name), TokenBucket(per_minute, 60'000, now))
                     .first;
        }
        return it->second;
    }
    void count_rate_limited() override { ++rate_limited; }

    // Deferred checks, typing, refresh, presence and history joins, recorded for the tests.
    json::object token_claims;
    std::vector<std::string> typing_rooms;
    TokenBucket typing_bucket{5, 60'000, 0};
    std::vector<std::string> refresh_tokens;
    std::vector<std::pair<std::string, std::string>> presence_requests;
    std::vector<std::pair<std::string, std::uint64_t>> history_joins;  // offset 0 = no resume
    std::vector<RoomCheck> checks;
    DecisionsDone pending_checks;

    const json::object& claims() const override { return token_claims; }
    bool set_typing(std::string_view room, bool typing) override {
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
        refresh_tokens.emplace_back(token);
        if (token == "good")
            return {true, {}, 1234};
        return {false, "token expired", 0};
    }
    void request_presence(std::string_view room, std::string id_json) override {
        presence_requests.emplace_back(std::string(room), std::move(id_json));
    }
    void authorize_rooms(std::vector<RoomCheck> asked, DecisionsDone done) override {
        checks = std::move(asked);
        pending_checks = std::move(done);
    }
    void join_with_history(std::string_view room,
                           std::optional<huddle::endpoints::Request::Resume> resume) override {
        history_joins.emplace_back(std::string(room), resume ? resume->offset : 0);
        joined.emplace_back(room);
    }

    // The only reply since the last call, parsed.
    json::object take_reply() {
        EXPECT_EQ(replies.size(), 1u) << "expected exactly one reply";
        if (replies.empty())
            return {};
        const std::string text = replies.back();
        replies.clear();
        boost::system::error_code ec;
        json::value value = json::parse(text, ec);
        EXPECT_FALSE(ec) << "reply is not JSON: " << text;
        if (ec || !value.is_object()) {
            ADD_FAILURE() << "reply is not an object: " << text;
            return {};
        }
        return std::move(value.get_object());
    }
};

NamespaceSettings ns(std::string name, AccessRule access, bool client_publish, bool presence_events,
                     std::uint32_t publish_per_minute = 0) {
    NamespaceSettings settings;
    settings.name = std::move(name);
    settings.access = access;
    settings.client_publish = client_publish;
    settings.presence_events = presence_events;
    settings.publish_per_minute = publish_per_minute;
    return settings;
}

class RoomsEndpointTest : public ::testing::Test {
  protected:
    NamespaceTable namespaces{{
        ns("user", AccessRule::own_user, false, false),
        ns("team", AccessRule::authenticated, true, true),      // publish + presence
        ns("board", AccessRule::authenticated, true, false),    // publish, no presence
        ns("chat", AccessRule::authenticated, true, false, 2),  // 2 publishes per minute
        ns("inbox", AccessRule::own_user, true, false),
        ns("*", AccessRule::authenticated, false, false),  // read-only
    }};
    RoomsEndpoint endpoint{namespaces, RoomsLimits{3}};
    FakeContext alice{"alice"};

    json::object send(FakeContext& context, std::string_view text) {
        endpoint.on_text(text, context);
        return context.take_reply();
    }
    json::object send(std::string_view text) { return send(alice, text); }

    // Subscribes without checking; clears what it recorded.
    void subscribed(FakeContext& context, std::string_view room) {
        send(context,
             std::string(R"({"action":"subscribe","rooms":[")") + std::string(room) + "\"]}");
        ASSERT_TRUE(context.is_member(room)) << room;
        context.published.clear();
        context.join_calls.clear();
    }
};

void expect_ok(const json::value& result, std::string_view room) {
    EXPECT_EQ(result.at("room"), json::value(room));
    EXPECT_EQ(result.at("ok"), true) << json::serialize(result);
    EXPECT_FALSE(result.as_object().contains("error"));
}

void expect_refused(const json::value& result, std::string_view room, std::string_view code) {
    EXPECT_EQ(result.at("room"), json::value(room));
    EXPECT_EQ(result.at("ok"), false);
    EXPECT_EQ(result.at("error").at("code"), json::value(code)) << json::serialize(result);
    EXPECT_FALSE(result.at("error").at("message").as_string().empty());
}

void expect_error(const json::object& reply, std::string_view code) {
    EXPECT_EQ(reply.at("type"), "error") << json::serialize(reply);
    EXPECT_EQ(reply.at("payload").at("code"), json::value(code)) << json::serialize(reply);
    EXPECT_FALSE(reply.at("payload").at("message").as_string().empty());
}

json::value parsed(std::string_view text) {
    boost::system::error_code ec;
    json::value value = json::parse(text, ec);
    EXPECT_FALSE(ec) << "not JSON: " << text;
    return value;
}

}  // namespace

// ---- subscribe ---------------------------------------------------------------------------------

TEST_F(RoomsEndpointTest, SubscribeAnswersEveryRoomInOrder) {
    const json::object reply = send(
        R"({"action":"subscribe","id":1,"rooms":["team:1","bad room","user:bob","user:alice","project:9"]})");
    EXPECT_EQ(reply.at("type"), "subscribed");
    EXPECT_EQ(reply.at("id"), 1);
    const json::array& rooms = reply.at("rooms").as_array();
    ASSERT_EQ(rooms.size(), 5u);
    expect_ok(rooms[0], "team:1");
    expect_refused(rooms[1], "bad room", "INVALID_ROOM");
    expect_refused(rooms[2], "user:bob", "FORBIDDEN");
    expect_ok(rooms[3], "user:alice");  // already a member from the start
    expect_ok(rooms[4], "project:9");
    EXPECT_EQ(alice.join_calls, (std::vector<std::string>{"team:1", "project:9"}));
}

TEST_F(RoomsEndpointTest, SubscribeEchoesStringId) {
    const json::object reply = send(R"({"action":"subscribe","id":"s-1","rooms":["team:1"]})");
    EXPECT_EQ(reply.at("id"), "s-1");
}

TEST_F(RoomsEndpointTest, SubscribeWithoutIdHasNoId) {
    const json::object reply = send(R"({"action":"subscribe","rooms":["team:1"]})");
    EXPECT_FALSE(reply.contains("id"));
}

TEST_F(RoomsEndpointTest, InvalidRoomNamesAreRefusedOneByOne) {
    const std::string long_name(129, 'a');
    const json::object reply =
        send(R"({"action":"subscribe","rooms":["", ")" + long_name + R"(", "a#b", "team:ok"]})");
    const json::array& rooms = reply.at("rooms").as_array();
    ASSERT_EQ(rooms.size(), 4u);
    expect_refused(rooms[0], "", "INVALID_ROOM");
    expect_refused(rooms[1], long_name, "INVALID_ROOM");
    expect_refused(rooms[2], "a#b", "INVALID_ROOM");
    expect_ok(rooms[3], "team:ok");
    EXPECT_EQ(alice.join_calls, std::vector<std::string>{"team:ok"});
}

TEST_F(RoomsEndpointTest, TooManyRoomsAfterTheLimit) {
    const json::object reply =
        send(R"({"action":"subscribe","rooms":["team:1","team:2","team:3","team:4","board:5"]})");
    const json::array& rooms = reply.at("rooms").as_array();
    ASSERT_EQ(rooms.size(), 5u);
    expect_ok(rooms[0], "team:1");
    expect_ok(rooms[1], "team:2");
    expect_ok(rooms[2], "team:3");
    expect_refused(rooms[3], "team:4", "TOO_MANY_ROOMS");
    expect_refused(rooms[4], "board:5", "TOO_MANY_ROOMS");
    EXPECT_EQ(alice.joined.size(), 3u);
    // At the limit, a room already joined is still ok, and the own user room too.
    const json::object again =
        send(R"({"action":"subscribe","rooms":["team:2","user:alice","team:9"]})");
    expect_ok(again.at("rooms").at(0), "team:2");
    expect_ok(again.at("rooms").at(1), "user:alice");
    expect_refused(again.at("rooms").at(2), "team:9", "TOO_MANY_ROOMS");
    // Leaving one makes room for another.
    send(R"({"action":"unsubscribe","rooms":["team:1"]})");
    expect_ok(send(R"({"action":"subscribe","rooms":["team:9"]})").at("rooms").at(0), "team:9");
}

TEST_F(RoomsEndpointTest, ResubscribeIsOkWithoutSecondJoin) {
    expect_ok(send(R"({"action":"subscribe","rooms":["team:1"]})").at("rooms").at(0), "team:1");
    expect_ok(send(R"({"action":"subscribe","rooms":["team:1"]})").at("rooms").at(0), "team:1");
    const json::object twice = send(R"({"action":"subscribe","rooms":["board:1","board:1"]})");
    expect_ok(twice.at("rooms").at(0), "board:1");
    expect_ok(twice.at("rooms").at(1), "board:1");
    EXPECT_EQ(alice.join_calls, (std::vector<std::string>{"team:1", "board:1"}));
}

TEST_F(RoomsEndpointTest, AnonymousConnectionCannotSubscribeToUserRooms) {
    FakeContext anonymous("");
    const json::object reply =
        send(anonymous, R"({"action":"subscribe","rooms":["user:","team:1"]})");
    expect_refused(reply.at("rooms").at(0), "user:", "FORBIDDEN");
    expect_ok(reply.at("rooms").at(1), "team:1");
}

TEST_F(RoomsEndpointTest, PrivateRoomOfAnyUserIdIsOkAndCannotBeLeft) {
    // Token subjects are not room names: "user:Jane Doe" is the private room of "Jane Doe".
    FakeContext jane("Jane Doe");
    expect_ok(send(jane, R"({"action":"subscribe","rooms":["user:Jane Doe"]})").at("rooms").at(0),
              "user:Jane Doe");
    EXPECT_TRUE(jane.join_calls.empty());
    expect_refused(
        send(jane, R"({"action":"unsubscribe","rooms":["user:Jane Doe"]})").at("rooms").at(0),
        "user:Jane Doe", "FORBIDDEN");
    EXPECT_TRUE(jane.leave_calls.empty());
}

// ---- unsubscribe -------------------------------------------------------------------------------

TEST_F(RoomsEndpointTest, UnsubscribeAnswersEveryRoomInOrder) {
    subscribed(alice, "team:1");
    const json::object reply = send(
        R"({"action":"unsubscribe","id":"u","rooms":["team:1","user:alice","board:7","no space"]})");
    EXPECT_EQ(reply.at("type"), "unsubscribed");
    EXPECT_EQ(reply.at("id"), "u");
    const json::array& rooms = reply.at("rooms").as_array();
    ASSERT_EQ(rooms.size(), 4u);
    expect_ok(rooms[0], "team:1");
    expect_refused(rooms[1], "user:alice", "FORBIDDEN");  // the private room is for life
    expect_ok(rooms[2], "board:7");                       // not a member: nothing to do
    expect_refused(rooms[3], "no space", "INVALID_ROOM");
    EXPECT_EQ(alice.leave_calls, std::vector<std::string>{"team:1"});
    EXPECT_TRUE(alice.is_member("user:alice"));
    EXPECT_FALSE(alice.is_member("team:1"));
}

TEST_F(RoomsEndpointTest, UnsubscribeFromAnotherUsersRoomIsJustNotAMember) {
    const json::object reply = send(R"({"action":"unsubscribe","rooms":["user:bob"]})");
    expect_ok(reply.at("rooms").at(0), "user:bob");
    EXPECT_TRUE(alice.leave_calls.empty());
}

TEST_F(RoomsEndpointTest, UnsubscribeTwice) {
    subscribed(alice, "team:1");
    send(R"({"action":"unsubscribe","rooms":["team:1"]})");
    expect_ok(send(R"({"action":"unsubscribe","rooms":["team:1"]})").at("rooms").at(0), "team:1");
    EXPECT_EQ(alice.leave_calls, std::vector<std::string>{"team:1"});
}

// ---- publish -----------------------------------------------------------------------------------

TEST_F(RoomsEndpointTest, PublishAfterSubscribing) {
    subscribed(alice, "team:42");
    const json::object reply = send(
        R"({"action":"publish","room":"team:42","type":"issue.typing","payload":{"issueId":"I-1"},"id":"p1"})");
    EXPECT_EQ(reply.at("type"), "published");
    EXPECT_EQ(reply.at("id"), "p1");
    EXPECT_EQ(reply.at("room"), "team:42");
    ASSERT_EQ(alice.published.size(), 1u);
    EXPECT_EQ(alice.published[0].room, "team:42");
    EXPECT_EQ(alice.published[0].type, "issue.typing");
    EXPECT_EQ(parsed(alice.published[0].payload_json), parsed(R"({"issueId":"I-1"})"));
}

TEST_F(RoomsEndpointTest, PublishWithoutPayloadSendsNull) {
    subscribed(alice, "board:1");
    send(R"({"action":"publish","room":"board:1","event":"moved"})");
    ASSERT_EQ(alice.published.size(), 1u);
    EXPECT_EQ(alice.published[0].type, "moved");
    EXPECT_EQ(alice.published[0].payload_json, "null");
}

TEST_F(RoomsEndpointTest, PublishNotAllowedInReadOnlyNamespace) {
    subscribed(alice, "project:1");
    const json::object reply = send(R"({"action":"publish","room":"project:1","type":"t","id":2})");
    expect_error(reply, "PUBLISH_NOT_ALLOWED");
    EXPECT_EQ(reply.at("id"), 2);
    EXPECT_TRUE(alice.published.empty());
}

TEST_F(RoomsEndpointTest, PublishToOwnUserRoomWhenNamespaceForbidsClientPublish) {
    const json::object reply = send(R"({"action":"publish","room":"user:alice","type":"t"})");
    expect_error(reply, "PUBLISH_NOT_ALLOWED");
    EXPECT_TRUE(alice.published.empty());
}

TEST_F(RoomsEndpointTest, PublishForbiddenWhenNotSubscribed) {
    const json::object reply = send(R"({"action":"publish","room":"team:42","type":"t","id":3})");
    expect_error(reply, "FORBIDDEN");
    EXPECT_EQ(reply.at("id"), 3);
    EXPECT_TRUE(alice.published.empty());
}

TEST_F(RoomsEndpointTest, PublishForbiddenByAccessRule) {
    const json::object reply = send(R"({"action":"publish","room":"inbox:bob","type":"t"})");
    expect_error(reply, "FORBIDDEN");
    EXPECT_TRUE(alice.published.empty());
    subscribed(alice, "inbox:alice");
    EXPECT_EQ(send(R"({"action":"publish","room":"inbox:alice","type":"t"})").at("type"),
              "published");
}

TEST_F(RoomsEndpointTest, PublishToInvalidRoom) {
    const json::object reply = send(R"({"action":"publish","room":"a b","type":"t","id":4})");
    expect_error(reply, "INVALID_ROOM");
    EXPECT_EQ(reply.at("id"), 4);
}

TEST_F(RoomsEndpointTest, PublishWithoutTypeOrRoomIsInvalidMessage) {
    subscribed(alice, "team:1");
    expect_error(send(R"({"action":"publish","room":"team:1","id":5})"), "INVALID_MESSAGE");
    expect_error(send(R"({"action":"publish","type":"t"})"), "INVALID_MESSAGE");
    EXPECT_TRUE(alice.published.empty());
}

TEST_F(RoomsEndpointTest, NamespacePublishBudget) {
    subscribed(alice, "chat:1");
    subscribed(alice, "team:1");
    alice.now = 1'000;
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(send(R"({"action":"publish","room":"chat:1","type":"msg"})").at("type"),
                  "published");
    }
    const json::object refused =
        send(R"({"action":"publish","room":"chat:1","type":"msg","id":9})");
    expect_error(refused, "RATE_LIMIT_EXCEEDED");
    EXPECT_EQ(refused.at("id"), 9);
    EXPECT_EQ(refused.at("payload").at("retryAfterMs"), 30'000);  // 2 per minute
    EXPECT_EQ(alice.rate_limited, 1);
    EXPECT_EQ(alice.published.size(), 2u);
    // The budget is asked for by namespace name with the namespace's limit.
    ASSERT_FALSE(alice.publish_budget_calls.empty());
    EXPECT_EQ(alice.publish_budget_calls.back(),
              (std::pair<std::string, std::uint32_t>{"chat", 2}));
    // Other namespaces are not limited by it, and namespaces without a limit ask for no budget.
    const std::size_t calls = alice.publish_budget_calls.size();
    EXPECT_EQ(send(R"({"action":"publish","room":"team:1","type":"msg"})").at("type"), "published");
    EXPECT_EQ(alice.publish_budget_calls.size(), calls);
    // A token comes back after 30 s.
    alice.now = 31'000;
    EXPECT_EQ(send(R"({"action":"publish","room":"chat:1","type":"msg"})").at("type"), "published");
}

TEST_F(RoomsEndpointTest, NamespaceBudgetIsSharedByTheRoomsOfTheNamespace) {
    subscribed(alice, "chat:1");
    subscribed(alice, "chat:2");
    EXPECT_EQ(send(R"({"action":"publish","room":"chat:1","type":"m"})").at("type"), "published");
    EXPECT_EQ(send(R"({"action":"publish","room":"chat:2","type":"m"})").at("type"), "published");
    expect_error(send(R"({"action":"publish","room":"chat:1","type":"m"})"), "RATE_LIMIT_EXCEEDED");
}

TEST_F(RoomsEndpointTest, RefusedPublishesDoNotSpendTheNamespaceBudget) {
    subscribed(alice, "chat:1");
    for (int i = 0; i < 5; ++i)
        expect_error(send(R"({"action":"publish","room":"chat:2","type":"m"})"), "FORBIDDEN");
    EXPECT_EQ(send(R"({"action":"publish","room":"chat:1","type":"m"})").at("type"), "published");
    EXPECT_EQ(send(R"({"action":"publish","room":"chat:1","type":"m"})").at("type"), "published");
}

// ---- message budget ----------------------------------------------------------------------------

TEST_F(RoomsEndpointTest, MessageBudgetExhausted) {
    FakeContext limited("carol", 3);  // 3 per minute: one every 20 s
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(send(limited, R"({"action":"subscribe","rooms":["board:1"]})").at("type"),
                  "subscribed");
    const json::object refused =
        send(limited, R"({"action":"subscribe","rooms":["board:2"],"id":8})");
    expect_error(refused, "RATE_LIMIT_EXCEEDED");
    EXPECT_EQ(refused.at("id"), 8);
    EXPECT_EQ(refused.at("payload").at("retryAfterMs"), 20'000);
    EXPECT_EQ(limited.rate_limited, 1);
    EXPECT_FALSE(limited.is_member("board:2"));
    // Every kind of request is charged, including invalid ones.
    expect_error(send(limited, R"({"action":"publish","room":"board:1","type":"t"})"),
                 "RATE_LIMIT_EXCEEDED");
    expect_error(send(limited, "not json"), "RATE_LIMIT_EXCEEDED");
    EXPECT_EQ(limited.rate_limited, 3);
    EXPECT_TRUE(limited.published.empty());
    limited.now = 20'000;
    EXPECT_EQ(send(limited, R"({"action":"subscribe","rooms":["board:2"]})").at("type"),
              "subscribed");
    EXPECT_TRUE(limited.is_member("board:2"));
}

TEST_F(RoomsEndpointTest, InvalidMessagesAreChargedToo) {
    FakeContext limited("carol", 1);
    expect_error(send(limited, "garbage"), "INVALID_MESSAGE");
    expect_error(send(limited, "garbage"), "RATE_LIMIT_EXCEEDED");
}

TEST_F(RoomsEndpointTest, PingsAreNeverCharged) {
    FakeContext limited("carol", 2);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(send(limited, R"({"type":"ping"})").at("type"), "pong");
    }
    EXPECT_EQ(send(limited, R"({"action":"subscribe","rooms":["team:1"]})").at("type"),
              "subscribed");
    EXPECT_EQ(send(limited, R"({"action":"subscribe","rooms":["team:2"]})").at("type"),
              "subscribed");
    expect_error(send(limited, R"({"action":"subscribe","rooms":["team:3"]})"),
                 "RATE_LIMIT_EXCEEDED");
    // Even with the budget gone, pings are answered.
    EXPECT_EQ(send(limited, R"({"action":"ping","id":1})").at("type"), "pong");
    EXPECT_EQ(send(limited, R"({"type":"PING"})").at("type"), "PONG");
    EXPECT_EQ(limited.rate_limited, 1);
}

// ---- ping, errors, binary ----------------------------------------------------------------------

TEST_F(RoomsEndpointTest, PingAnswers) {
    json::object pong = send(R"({"type":"ping"})");
    EXPECT_EQ(pong.at("type"), "pong");
    EXPECT_FALSE(pong.contains("id"));
    pong = send(R"({"action":"ping","id":"abc"})");
    EXPECT_EQ(pong.at("type"), "pong");
    EXPECT_EQ(pong.at("id"), "abc");
    pong = send(R"({"type":"PING","id":12})");
    EXPECT_EQ(pong.at("type"), "PONG");
    EXPECT_EQ(pong.at("id"), 12);
}

TEST_F(RoomsEndpointTest, MalformedRequestsAreAnsweredWithErrors) {
    expect_error(send("not json"), "INVALID_MESSAGE");
    expect_error(send("[1,2]"), "INVALID_MESSAGE");
    expect_error(send(R"({"action":"subscribe","rooms":[]})"), "INVALID_MESSAGE");
    const json::object unknown = send(R"({"action":"dance","id":"d"})");
    expect_error(unknown, "UNKNOWN_ACTION");
    EXPECT_EQ(unknown.at("id"), "d");
    expect_error(send(R"({"type":"issue.created"})"), "UNKNOWN_ACTION");
    EXPECT_TRUE(alice.join_calls.empty());
    EXPECT_TRUE(alice.published.empty());
}

TEST_F(RoomsEndpointTest, BinaryIsInvalidMessage) {
    endpoint.on_binary(alice);
    const json::object reply = alice.take_reply();
    expect_error(reply, "INVALID_MESSAGE");
    EXPECT_FALSE(reply.contains("id"));
    EXPECT_EQ(alice.rate_limited, 0);
}

TEST_F(RoomsEndpointTest, OutOfRangeNumericIdGetsAJsonReply) {
    // {"id":1e400} is valid JSON; whether the id is refused or echoed, the answer must be JSON
    // (take_reply checks that).
    const json::object reply = send(R"({"action":"ping","id":1e400})");
    if (reply.at("type") == "error") {
        expect_error(reply, "INVALID_MESSAGE");
    } else {
        EXPECT_EQ(reply.at("type"), "pong");
        EXPECT_TRUE(reply.at("id").is_number());
    }
}

TEST_F(RoomsEndpointTest, OutOfRangeNumberInPayloadReachesMembersAsJson) {
    subscribed(alice, "team:1");
    const json::object reply =
        send(R"({"action":"publish","room":"team:1","type":"t","payload":{"n":1e400}})");
    if (reply.at("type") == "error") {
        expect_error(reply, "INVALID_MESSAGE");
        EXPECT_TRUE(alice.published.empty());
        return;
    }
    ASSERT_EQ(alice.published.size(), 1u);
    boost::system::error_code ec;
    (void)json::parse(alice.published[0].payload_json, ec);
    EXPECT_FALSE(ec) << "members would receive the payload " << alice.published[0].payload_json;
}

// ---- typing, refresh, presence requests ------------------------------------------------------

TEST_F(RoomsEndpointTest, TypingIsPublishedOnlyWhenTheStateChanges) {
    subscribed(alice, "board:1");
    endpoint.on_text(R"({"action":"typing","room":"board:1","typing":true})", alice);
    endpoint.on_text(R"({"action":"typing","room":"board:1","typing":true})", alice);
    endpoint.on_text(R"({"action":"typing","room":"board:1","typing":false})", alice);
    EXPECT_TRUE(alice.replies.empty()) << "no answer without an id";
    ASSERT_EQ(alice.published.size(), 2u);
    EXPECT_EQ(alice.published[0].type, "user.typing");
    EXPECT_EQ(parsed(alice.published[0].payload_json),
              parsed(R"({"userId":"alice","typing":true})"));
    EXPECT_EQ(parsed(alice.published[1].payload_json),
              parsed(R"({"userId":"alice","typing":false})"));
}

TEST_F(RoomsEndpointTest, TypingNeedsMembershipAndIsRateLimited) {
    expect_error(send(R"({"action":"typing","room":"board:9","typing":true,"id":1})"), "FORBIDDEN");
    subscribed(alice, "board:1");
    for (int i = 0; i < 5; ++i) {
        const auto reply = send(std::string(R"({"action":"typing","room":"board:1","id":)") +
                                std::to_string(i) + "}");
        EXPECT_EQ(reply.at("type"), "published");
    }
    const auto limited = send(R"({"action":"typing","room":"board:1","id":9})");
    expect_error(limited, "RATE_LIMIT_EXCEEDED");
    EXPECT_GT(limited.at("payload").at("retryAfterMs").as_int64(), 0);
    expect_error(send(R"({"action":"typing","room":"board:1","typing":"yes"})"), "INVALID_MESSAGE");
}

TEST_F(RoomsEndpointTest, RefreshAnswersWithTheNewExpiryOrUnauthorized) {
    const auto ok = send(R"({"action":"refresh","token":"good","id":1})");
    EXPECT_EQ(ok.at("type"), "refreshed");
    EXPECT_EQ(ok.at("expiresAt"), 1234);
    expect_error(send(R"({"action":"refresh","token":"old"})"), "UNAUTHORIZED");
    expect_error(send(R"({"action":"refresh"})"), "INVALID_MESSAGE");
    EXPECT_EQ(alice.refresh_tokens, (std::vector<std::string>{"good", "old"}));
}

TEST_F(RoomsEndpointTest, PresenceRequestsGoToTheContextForMembersOfPresenceRooms) {
    subscribed(alice, "team:1");
    endpoint.on_text(R"({"action":"presence","room":"team:1","id":"p"})", alice);
    EXPECT_TRUE(alice.replies.empty());
    ASSERT_EQ(alice.presence_requests.size(), 1u);
    EXPECT_EQ(alice.presence_requests[0], (std::pair<std::string, std::string>{"team:1", "\"p\""}));
    subscribed(alice, "board:1");
    expect_error(send(R"({"action":"presence","room":"board:1"})"), "PRESENCE_NOT_ENABLED");
    expect_error(send(R"({"action":"presence","room":"team:2"})"), "FORBIDDEN");
}

// ---- deferred access checks and history ---------------------------------------------------------

TEST(RoomsEndpointDeferred, SubscribeWaitsForDeferredChecksAndKeepsTheOrder) {
    NamespaceSettings tokens = ns("doc", AccessRule::subscription_token, false, false);
    NamespaceTable namespaces{{tokens, ns("*", AccessRule::authenticated, false, false)}};
    RoomsEndpoint endpoint{namespaces, RoomsLimits{10}};
    FakeContext alice{"alice"};
    endpoint.on_text(
        R"({"action":"subscribe","rooms":["doc:1","team:1","doc:2"],"tokens":{"doc:1":"t1"},"id":3})",
        alice);
    EXPECT_TRUE(alice.replies.empty()) << "the answer waits for the checks";
    ASSERT_EQ(alice.checks.size(), 2u);
    EXPECT_EQ(alice.checks[0].room, "doc:1");
    EXPECT_EQ(alice.checks[0].token, "t1");
    EXPECT_EQ(alice.checks[1].room, "doc:2");
    EXPECT_EQ(alice.checks[1].token, "");
    alice.pending_checks(alice,
                         {{true, {}, {}}, {false, "SUBSCRIPTION_TOKEN_REQUIRED", "needs one"}});
    const auto reply = alice.take_reply();
    EXPECT_EQ(reply.at("id"), 3);
    const auto& rooms = reply.at("rooms").as_array();
    expect_ok(rooms[0], "doc:1");
    expect_ok(rooms[1], "team:1");
    expect_refused(rooms[2], "doc:2", "SUBSCRIPTION_TOKEN_REQUIRED");
    EXPECT_EQ(alice.joined, (std::vector<std::string>{"doc:1", "team:1"})) << "in the order asked";
}

TEST(RoomsEndpointDeferred, PublishInADeferredRoomNeedsMembershipOnly) {
    NamespaceSettings hooked = ns("project", AccessRule::webhook, true, false);
    NamespaceTable namespaces{{hooked, ns("*", AccessRule::authenticated, false, false)}};
    RoomsEndpoint endpoint{namespaces, RoomsLimits{10}};
    FakeContext alice{"alice"};
    endpoint.on_text(R"({"action":"publish","room":"project:1","type":"t","id":1})", alice);
    expect_error(alice.take_reply(), "FORBIDDEN");
    endpoint.on_text(R"({"action":"subscribe","rooms":["project:1"]})", alice);
    alice.pending_checks(alice, {{true, {}, {}}});
    alice.replies.clear();
    endpoint.on_text(R"({"action":"publish","room":"project:1","type":"t","id":2})", alice);
    EXPECT_EQ(alice.take_reply().at("type"), "published");
    ASSERT_EQ(alice.published.size(), 1u);
}

TEST(RoomsEndpointHistory, HistoryRoomsJoinThroughTheOwnerWithTheirResumePoint) {
    NamespaceSettings kept = ns("chat", AccessRule::authenticated, true, false);
    kept.history = 100;
    NamespaceTable namespaces{{kept, ns("*", AccessRule::authenticated, false, false)}};
    RoomsEndpoint endpoint{namespaces, RoomsLimits{10}};
    FakeContext alice{"alice"};
    endpoint.on_text(
        R"({"action":"subscribe","rooms":["chat:1","chat:2","team:1"],"recover":{"chat:2":{"offset":41,"epoch":"e"}}})",
        alice);
    const auto reply = alice.take_reply();
    EXPECT_EQ(reply.at("rooms").as_array().size(), 3u);
    EXPECT_EQ(alice.history_joins,
              (std::vector<std::pair<std::string, std::uint64_t>>{{"chat:1", 0}, {"chat:2", 41}}));
    EXPECT_EQ(alice.join_calls, (std::vector<std::string>{"team:1"}));
    endpoint.on_text(
        R"({"action":"subscribe","rooms":["chat:3"],"recover":{"chat:3":{"offset":-1,"epoch":"e"}}})",
        alice);
    expect_error(alice.take_reply(), "INVALID_MESSAGE");
}
