#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "endpoints/rooms_messages.hpp"

namespace json = boost::json;
using namespace huddle::endpoints;

namespace {

// Parses `text`, which must be one JSON object.
json::object object_of(const std::string& text) {
    boost::system::error_code ec;
    json::value value = json::parse(text, ec);
    EXPECT_FALSE(ec) << "not valid JSON: " << text;
    if (ec || !value.is_object()) {
        ADD_FAILURE() << "not a JSON object: " << text;
        return {};
    }
    return std::move(value.get_object());
}

std::vector<std::string> keys(const json::object& object) {
    std::vector<std::string> out;
    for (const auto& entry : object)
        out.emplace_back(entry.key());
    return out;
}

}  // namespace

TEST(EncodeConnectionAck, AllFields) {
    const std::string text = encode_connection_ack("1-42", "alice", 1'764'100'000'000);
    EXPECT_EQ(
        text,
        R"({"type":"connection.ack","payload":{"connectionId":"1-42","userId":"alice"},"timestamp":1764100000000})");
    const json::object ack = object_of(text);
    EXPECT_EQ(ack.at("type"), "connection.ack");
    EXPECT_EQ(ack.at("payload").at("connectionId"), "1-42");
    EXPECT_EQ(ack.at("payload").at("userId"), "alice");
    EXPECT_EQ(ack.at("timestamp").to_number<std::int64_t>(), 1'764'100'000'000);
}

TEST(EncodeConnectionAck, AnonymousUserIsNull) {
    const json::object ack = object_of(encode_connection_ack("3-1", "", 5));
    EXPECT_TRUE(ack.at("payload").at("userId").is_null());
    EXPECT_EQ(ack.at("payload").at("connectionId"), "3-1");
}

TEST(EncodeConnectionAck, SpecialCharactersInUserId) {
    const std::string user = "a\"b\\c\nd\x01\xC3\xA9";
    const json::object ack = object_of(encode_connection_ack("1-1", user, 0));
    EXPECT_EQ(ack.at("payload").at("userId"), json::value(user));
}

TEST(EncodeRoomResults, OkAndErrorEntriesInOrder) {
    const std::vector<RoomResult> results = {
        {"workspace:w1", {}, {}},
        {"team:42", "FORBIDDEN", "this room belongs to another user"},
        {"bad room", "INVALID_ROOM", "room name may only contain ..."},
    };
    const json::object reply = object_of(encode_room_results("subscribed", "1", results));
    EXPECT_EQ(keys(reply), (std::vector<std::string>{"type", "id", "rooms"}));
    EXPECT_EQ(reply.at("type"), "subscribed");
    EXPECT_EQ(reply.at("id"), 1);
    const json::array& rooms = reply.at("rooms").as_array();
    ASSERT_EQ(rooms.size(), 3u);

    const json::object& ok = rooms[0].as_object();
    EXPECT_EQ(keys(ok), (std::vector<std::string>{"room", "ok"}));
    EXPECT_EQ(ok.at("room"), "workspace:w1");
    EXPECT_EQ(ok.at("ok"), true);

    const json::object& forbidden = rooms[1].as_object();
    EXPECT_EQ(keys(forbidden), (std::vector<std::string>{"room", "ok", "error"}));
    EXPECT_EQ(forbidden.at("room"), "team:42");
    EXPECT_EQ(forbidden.at("ok"), false);
    EXPECT_EQ(forbidden.at("error").at("code"), "FORBIDDEN");
    EXPECT_EQ(forbidden.at("error").at("message"), "this room belongs to another user");

    EXPECT_EQ(rooms[2].at("room"), "bad room");
    EXPECT_EQ(rooms[2].at("error").at("code"), "INVALID_ROOM");
}

TEST(EncodeRoomResults, WithoutIdAndWithStringId) {
    const std::vector<RoomResult> results = {{"a", {}, {}}};
    const json::object no_id = object_of(encode_room_results("unsubscribed", "", results));
    EXPECT_EQ(keys(no_id), (std::vector<std::string>{"type", "rooms"}));
    EXPECT_EQ(no_id.at("type"), "unsubscribed");
    const json::object string_id = object_of(encode_room_results("subscribed", "\"s-1\"", results));
    EXPECT_EQ(string_id.at("id"), "s-1");
}

TEST(EncodeRoomResults, EmptyListAndSpecialRoomNames) {
    EXPECT_EQ(object_of(encode_room_results("subscribed", "", {})).at("rooms").as_array().size(),
              0u);
    const std::string room = "we\"ird\\ room\n\xC3\xA9";
    const json::object reply =
        object_of(encode_room_results("subscribed", "", {{room, "INVALID_ROOM", "m\"sg"}}));
    EXPECT_EQ(reply.at("rooms").at(0).at("room"), json::value(room));
    EXPECT_EQ(reply.at("rooms").at(0).at("error").at("message"), "m\"sg");
}

TEST(EncodeError, WithoutRetryAfter) {
    const std::string text = encode_error("\"p1\"", "FORBIDDEN", "subscribe first");
    EXPECT_EQ(
        text,
        R"({"type":"error","id":"p1","payload":{"code":"FORBIDDEN","message":"subscribe first"}})");
    const json::object error = object_of(text);
    EXPECT_EQ(error.at("type"), "error");
    EXPECT_EQ(error.at("id"), "p1");
    EXPECT_EQ(keys(error.at("payload").as_object()), (std::vector<std::string>{"code", "message"}));
}

TEST(EncodeError, WithRetryAfter) {
    const json::object error =
        object_of(encode_error("\"p1\"", "RATE_LIMIT_EXCEEDED", "too many messages", 600));
    EXPECT_EQ(error.at("payload").at("code"), "RATE_LIMIT_EXCEEDED");
    EXPECT_EQ(error.at("payload").at("message"), "too many messages");
    EXPECT_EQ(error.at("payload").at("retryAfterMs"), 600);
}

TEST(EncodeError, ZeroOrNegativeRetryAfterIsLeftOut) {
    for (std::int64_t retry : {std::int64_t{0}, std::int64_t{-5}}) {
        const json::object error = object_of(encode_error("", "X", "y", retry));
        EXPECT_FALSE(error.at("payload").as_object().contains("retryAfterMs")) << retry;
    }
}

TEST(EncodeError, WithoutIdAndWithNumericId) {
    EXPECT_FALSE(object_of(encode_error("", "INVALID_MESSAGE", "m")).contains("id"));
    EXPECT_EQ(object_of(encode_error("12", "INVALID_MESSAGE", "m")).at("id"), 12);
}

TEST(EncodeError, SpecialCharactersInMessage) {
    const json::object error = object_of(encode_error("", "C", "a \"quoted\"\tpart\\"));
    EXPECT_EQ(error.at("payload").at("message"), "a \"quoted\"\tpart\\");
}

TEST(EncodePublished, IdAndRoom) {
    const std::string text = encode_published("\"p1\"", "team:42");
    EXPECT_EQ(text, R"({"type":"published","id":"p1","room":"team:42"})");
    const json::object published = object_of(text);
    EXPECT_EQ(published.at("type"), "published");
    EXPECT_EQ(published.at("id"), "p1");
    EXPECT_EQ(published.at("room"), "team:42");
    EXPECT_FALSE(object_of(encode_published("", "r")).contains("id"));
    EXPECT_FALSE(published.contains("offset"));
    EXPECT_EQ(object_of(encode_published("\"p2\"", "chat:1", 42)).at("offset"), 42);
}

TEST(EncodePong, LowerAndUpperCase) {
    EXPECT_EQ(encode_pong("", false), R"({"type":"pong"})");
    EXPECT_EQ(encode_pong("", true), R"({"type":"PONG"})");
    const json::object pong = object_of(encode_pong("7", false));
    EXPECT_EQ(keys(pong), (std::vector<std::string>{"type", "id"}));
    EXPECT_EQ(pong.at("type"), "pong");
    EXPECT_EQ(pong.at("id"), 7);
    const json::object upper = object_of(encode_pong("\"x\"", true));
    EXPECT_EQ(upper.at("type"), "PONG");
    EXPECT_EQ(upper.at("id"), "x");
}

TEST(EncodeServerShutdown, Fields) {
    const json::object shutdown = object_of(encode_server_shutdown());
    EXPECT_EQ(keys(shutdown), (std::vector<std::string>{"type", "payload"}));
    EXPECT_EQ(shutdown.at("type"), "server_shutdown");
    EXPECT_EQ(shutdown.at("payload").at("message"), "server is shutting down");
}

TEST(EncodeEvent, WithUserId) {
    const std::string text =
        encode_event("issue.created", "team:42", R"({"id":"I-7"})", 1'764'100'000'000, "alice");
    EXPECT_EQ(
        text,
        R"({"type":"issue.created","room":"team:42","payload":{"id":"I-7"},"timestamp":1764100000000,"userId":"alice"})");
    const json::object event = object_of(text);
    EXPECT_EQ(event.at("type"), "issue.created");
    EXPECT_EQ(event.at("room"), "team:42");
    EXPECT_EQ(event.at("payload"), json::parse(R"({"id":"I-7"})"));
    EXPECT_EQ(event.at("timestamp").to_number<std::int64_t>(), 1'764'100'000'000);
    EXPECT_EQ(event.at("userId"), "alice");
}

TEST(EncodeEvent, WithoutUserId) {
    const json::object event = object_of(encode_event("notice", "user:bob", "null", 1, ""));
    EXPECT_EQ(keys(event), (std::vector<std::string>{"type", "room", "payload", "timestamp"}));
    EXPECT_TRUE(event.at("payload").is_null());
}

TEST(EncodeEvent, PayloadOfEveryJsonKind) {
    for (const char* payload :
         {"null", "true", "0", "-1.5", R"("text")", "[]", R"([1,{"a":[]}])", "{}"}) {
        const json::object event = object_of(encode_event("t", "r", payload, 0, "u"));
        EXPECT_EQ(event.at("payload"), json::parse(payload)) << payload;
    }
}

TEST(EncodeEvent, SpecialCharactersInTypeRoomAndUserId) {
    const std::string type = "type \"with\" quotes\\ and\nnewline\x02";
    const std::string room = "room/\"x\"";
    const std::string user = "\xE2\x82\xAC\"user\"\t";
    const json::object event = object_of(encode_event(type, room, "{}", -1, user));
    EXPECT_EQ(event.at("type"), json::value(type));
    EXPECT_EQ(event.at("room"), json::value(room));
    EXPECT_EQ(event.at("userId"), json::value(user));
    EXPECT_EQ(event.at("timestamp"), -1);
}

TEST(EncodeEvent, TimestampExtremes) {
    const json::object event =
        object_of(encode_event("t", "r", "{}", std::numeric_limits<std::int64_t>::max(), ""));
    EXPECT_EQ(event.at("timestamp").to_number<std::int64_t>(),
              std::numeric_limits<std::int64_t>::max());
}

// What decode_request hands over goes through the encoders unchanged.
TEST(EncodeDecode, PublishedEventCarriesTheDecodedPayload) {
    const Request request = decode_request(
        R"({"action":"publish","room":"team:42","type":"issue.typing","payload":{"k":["v",1,null]},"id":"p"})");
    ASSERT_EQ(request.kind, RequestKind::publish);
    const json::object event =
        object_of(encode_event(request.type, request.room, request.payload_json, 10, "alice"));
    EXPECT_EQ(event.at("payload"), json::parse(R"({"k":["v",1,null]})"));
    EXPECT_EQ(object_of(encode_published(request.id_json, request.room)).at("id"), "p");
}
