#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "endpoints/rooms_messages.hpp"

using huddle::endpoints::decode_request;
using huddle::endpoints::Request;
using huddle::endpoints::RequestKind;

namespace {

// The JSON text parsed, or a failure naming the text.
boost::json::value parse(std::string_view text) {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(text, ec);
    EXPECT_FALSE(ec) << "not valid JSON: " << text;
    return value;
}

void expect_invalid(const Request& request, std::string_view code, std::string_view id_json = {}) {
    EXPECT_EQ(request.kind, RequestKind::invalid);
    EXPECT_EQ(request.error_code, code);
    EXPECT_FALSE(request.error_message.empty());
    EXPECT_EQ(request.id_json, id_json);
}

}  // namespace

// ---- each kind of request ----------------------------------------------------------------------

TEST(DecodeRequest, Subscribe) {
    const Request request =
        decode_request(R"({"action":"subscribe","rooms":["workspace:w1","team:42"],"id":1})");
    EXPECT_EQ(request.kind, RequestKind::subscribe);
    EXPECT_EQ(request.rooms, (std::vector<std::string>{"workspace:w1", "team:42"}));
    EXPECT_EQ(request.id_json, "1");
    EXPECT_TRUE(request.error_code.empty());
}

TEST(DecodeRequest, Unsubscribe) {
    const Request request = decode_request(R"({"action":"unsubscribe","rooms":["team:42"]})");
    EXPECT_EQ(request.kind, RequestKind::unsubscribe);
    EXPECT_EQ(request.rooms, std::vector<std::string>{"team:42"});
    EXPECT_EQ(request.id_json, "");
}

TEST(DecodeRequest, RoomsKeepOrderAndDuplicatesAndAreNotValidatedHere) {
    const Request request =
        decode_request(R"({"action":"subscribe","rooms":["b","a","b","bad room",""]})");
    EXPECT_EQ(request.kind, RequestKind::subscribe);
    EXPECT_EQ(request.rooms, (std::vector<std::string>{"b", "a", "b", "bad room", ""}));
}

TEST(DecodeRequest, Publish) {
    const Request request = decode_request(
        R"({"action":"publish","room":"team:42","type":"issue.typing","payload":{"issueId":"I-1"},"id":"p1"})");
    EXPECT_EQ(request.kind, RequestKind::publish);
    EXPECT_EQ(request.room, "team:42");
    EXPECT_EQ(request.type, "issue.typing");
    EXPECT_EQ(parse(request.payload_json), parse(R"({"issueId":"I-1"})"));
    EXPECT_EQ(request.id_json, "\"p1\"");
}

TEST(DecodeRequest, PublishAcceptsEventInsteadOfType) {
    const Request request =
        decode_request(R"({"action":"publish","room":"team:42","event":"issue.typing"})");
    EXPECT_EQ(request.kind, RequestKind::publish);
    EXPECT_EQ(request.type, "issue.typing");
}

TEST(DecodeRequest, PublishPrefersTypeOverEvent) {
    const Request request = decode_request(
        R"({"action":"publish","room":"r","type":"from.type","event":"from.event"})");
    EXPECT_EQ(request.type, "from.type");
}

TEST(DecodeRequest, PublishTypeMayBeAnyStringEvenPing) {
    // With an action, "type" is the event name, not a ping.
    const Request request = decode_request(R"({"action":"publish","room":"r","type":"ping"})");
    EXPECT_EQ(request.kind, RequestKind::publish);
    EXPECT_EQ(request.type, "ping");
}

TEST(DecodeRequest, PublishPayloadObjectIsKeptAsJsonText) {
    const Request request = decode_request(
        R"({"action":"publish","room":"r","type":"t","payload":{"a":[1,2,{"b":null}],"c":"d\"e"}})");
    EXPECT_EQ(parse(request.payload_json), parse(R"({"a":[1,2,{"b":null}],"c":"d\"e"})"));
}

TEST(DecodeRequest, PublishPayloadScalarsAndArrays) {
    EXPECT_EQ(decode_request(R"({"action":"publish","room":"r","type":"t","payload":"hello"})")
                  .payload_json,
              "\"hello\"");
    EXPECT_EQ(
        decode_request(R"({"action":"publish","room":"r","type":"t","payload":42})").payload_json,
        "42");
    EXPECT_EQ(
        decode_request(R"({"action":"publish","room":"r","type":"t","payload":true})").payload_json,
        "true");
    EXPECT_EQ(
        parse(decode_request(R"({"action":"publish","room":"r","type":"t","payload":[1,"x"]})")
                  .payload_json),
        parse(R"([1,"x"])"));
}

TEST(DecodeRequest, PublishPayloadAbsentOrNullIsNull) {
    EXPECT_EQ(decode_request(R"({"action":"publish","room":"r","type":"t"})").payload_json, "null");
    EXPECT_EQ(
        decode_request(R"({"action":"publish","room":"r","type":"t","payload":null})").payload_json,
        "null");
}

TEST(DecodeRequest, PublishPayloadNumbersStayValidJson) {
    // Whatever number the client sends, the payload text goes verbatim into every member's event,
    // so it must be JSON.
    for (const char* number : {"1.5", "-0", "1e308", "18446744073709551616", "-2E-7"}) {
        const std::string text =
            std::string(R"({"action":"publish","room":"r","type":"t","payload":)") + number + "}";
        const Request request = decode_request(text);
        ASSERT_EQ(request.kind, RequestKind::publish) << number;
        boost::system::error_code ec;
        (void)boost::json::parse(request.payload_json, ec);
        EXPECT_FALSE(ec) << "payload " << number << " became " << request.payload_json;
    }
}

TEST(DecodeRequest, PublishPayloadOutOfRangeNumbersAreRefusedOrValidJson) {
    // No double holds 1e400: refusing the publish is fine, forwarding "Infinity" is not.
    for (const char* payload : {"1e400", "-1e400", R"({"a":[1,{"b":1e400}]})"}) {
        const std::string text =
            std::string(R"({"action":"publish","room":"r","type":"t","id":3,"payload":)") +
            payload + "}";
        const Request request = decode_request(text);
        if (request.kind == RequestKind::invalid) {
            EXPECT_EQ(request.error_code, "INVALID_MESSAGE") << payload;
            EXPECT_EQ(request.id_json, "3") << payload;
            continue;
        }
        ASSERT_EQ(request.kind, RequestKind::publish) << payload;
        boost::system::error_code ec;
        (void)boost::json::parse(request.payload_json, ec);
        EXPECT_FALSE(ec) << "payload " << payload << " became " << request.payload_json;
    }
}

TEST(DecodeRequest, PingForms) {
    EXPECT_EQ(decode_request(R"({"type":"ping"})").kind, RequestKind::ping);
    EXPECT_EQ(decode_request(R"({"action":"ping"})").kind, RequestKind::ping);
    EXPECT_EQ(decode_request(R"({"type":"PING"})").kind, RequestKind::ping_upper);
    const Request with_id = decode_request(R"({"type":"PING","id":"x"})");
    EXPECT_EQ(with_id.kind, RequestKind::ping_upper);
    EXPECT_EQ(with_id.id_json, "\"x\"");
    EXPECT_EQ(decode_request(R"({"action":"ping","id":9})").id_json, "9");
}

TEST(DecodeRequest, PingSpellingsAreExact) {
    expect_invalid(decode_request(R"({"type":"Ping"})"), "UNKNOWN_ACTION");
    expect_invalid(decode_request(R"({"action":"PING"})"), "UNKNOWN_ACTION");
    expect_invalid(decode_request(R"({"type":"ping "})"), "UNKNOWN_ACTION");
}

TEST(DecodeRequest, ActionWinsOverType) {
    const Request request = decode_request(R"({"type":"ping","action":"subscribe","rooms":["a"]})");
    EXPECT_EQ(request.kind, RequestKind::subscribe);
}

// ---- ids ---------------------------------------------------------------------------------------

TEST(DecodeRequest, IntegerIdsAreEchoedVerbatim) {
    for (const char* id : {"0", "1", "42", "-7", "9007199254740993", "-9223372036854775808",
                           "18446744073709551615"}) {
        const Request request = decode_request(std::string(R"({"action":"ping","id":)") + id + "}");
        EXPECT_EQ(request.id_json, id);
    }
}

TEST(DecodeRequest, StringIdsAreEchoedVerbatim) {
    EXPECT_EQ(decode_request(R"({"action":"ping","id":"p1"})").id_json, "\"p1\"");
    EXPECT_EQ(decode_request(R"({"action":"ping","id":""})").id_json, "\"\"");
    EXPECT_EQ(decode_request(R"({"action":"ping","id":"a\"b\\c"})").id_json, R"("a\"b\\c")");
    EXPECT_EQ(decode_request(R"({"action":"ping","id":"caf)"
                             "\xC3\xA9"
                             R"("})")
                  .id_json,
              "\"caf\xC3\xA9\"");
}

TEST(DecodeRequest, EscapedStringIdIsEchoedAsTheSameString) {
    const Request request = decode_request(R"({"action":"ping","id":"\u00e9\n\u0001"})");
    EXPECT_EQ(parse(request.id_json), boost::json::value("\xC3\xA9\n\x01"));
}

TEST(DecodeRequest, FractionalIdIsEchoedAsTheSameNumber) {
    const Request request = decode_request(R"({"action":"ping","id":1.5})");
    EXPECT_EQ(parse(request.id_json), boost::json::value(1.5));
}

TEST(DecodeRequest, OutOfRangeNumericIdIsRefusedOrEchoedAsJson) {
    // 1e400 is valid JSON (RFC 8259 puts no limit on numbers) but no double holds it. Refusing
    // the id is fine; echoing something that is not JSON (e.g. "Infinity") is not.
    for (const char* id : {"1e400", "-1e400"}) {
        const Request request = decode_request(std::string(R"({"action":"ping","id":)") + id + "}");
        if (request.kind == RequestKind::invalid) {
            EXPECT_EQ(request.error_code, "INVALID_MESSAGE") << id;
            EXPECT_EQ(request.id_json, "") << id;
            continue;
        }
        EXPECT_EQ(request.kind, RequestKind::ping) << id;
        boost::system::error_code ec;
        const boost::json::value echoed = boost::json::parse(request.id_json, ec);
        EXPECT_FALSE(ec) << "id " << id << " echoed as " << request.id_json;
        EXPECT_TRUE(echoed.is_number()) << request.id_json;
    }
}

TEST(DecodeRequest, IdIsEchoedOnErrors) {
    expect_invalid(decode_request(R"({"action":"dance","id":5})"), "UNKNOWN_ACTION", "5");
    expect_invalid(decode_request(R"({"action":"subscribe","id":"s"})"), "INVALID_MESSAGE",
                   "\"s\"");
    expect_invalid(decode_request(R"({"action":"publish","id":3,"room":"r"})"), "INVALID_MESSAGE",
                   "3");
    expect_invalid(decode_request(R"({"type":"nope","id":4})"), "UNKNOWN_ACTION", "4");
}

TEST(DecodeRequest, IdOfWrongTypeIsInvalid) {
    for (const char* id : {"{}", R"({"a":1})", "[1]", "true", "false", "null"}) {
        const Request request =
            decode_request(std::string(R"({"action":"subscribe","rooms":["a"],"id":)") + id + "}");
        expect_invalid(request, "INVALID_MESSAGE");
        EXPECT_NE(request.error_message.find("\"id\""), std::string::npos)
            << id << ": " << request.error_message;
    }
}

// ---- malformed messages ------------------------------------------------------------------------

TEST(DecodeRequest, InvalidJsonIsInvalidMessage) {
    for (std::string_view text :
         {std::string_view(""), std::string_view("{"), std::string_view("not json"),
          std::string_view(R"({"action":"ping",})"), std::string_view(R"({'action':'ping'})"),
          std::string_view(R"({"action":"ping"} {"action":"ping"})"),
          std::string_view("{\"action\":\"ping\",\"x\":\"\xFF\"}"),
          std::string_view("{\"action\":\"ping\"}\0", 18)}) {
        const Request request = decode_request(text);
        expect_invalid(request, "INVALID_MESSAGE");
        EXPECT_EQ(request.error_message, "message is not valid JSON") << text;
    }
}

TEST(DecodeRequest, NonObjectTopLevelIsInvalidMessage) {
    for (std::string_view text : {R"([{"action":"ping"}])", "42", R"("ping")", "null", "true"}) {
        const Request request = decode_request(text);
        expect_invalid(request, "INVALID_MESSAGE");
        EXPECT_EQ(request.error_message, "message must be a JSON object") << text;
    }
}

TEST(DecodeRequest, WhitespaceAroundTheObjectIsFine) {
    EXPECT_EQ(decode_request(" \n\t{\"action\" : \"ping\"}\r\n ").kind, RequestKind::ping);
}

TEST(DecodeRequest, UnknownActionAndType) {
    expect_invalid(decode_request(R"({"action":"dance"})"), "UNKNOWN_ACTION");
    expect_invalid(decode_request(R"({"action":"Subscribe","rooms":["a"]})"), "UNKNOWN_ACTION");
    expect_invalid(decode_request(R"({"action":""})"), "UNKNOWN_ACTION");
    expect_invalid(decode_request(R"({"type":"issue.created"})"), "UNKNOWN_ACTION");
}

TEST(DecodeRequest, ActionOfWrongTypeIsInvalidMessage) {
    expect_invalid(decode_request(R"({"action":1})"), "INVALID_MESSAGE");
    expect_invalid(decode_request(R"({"action":null,"type":"ping"})"), "INVALID_MESSAGE");
    expect_invalid(decode_request(R"({"action":["ping"]})"), "INVALID_MESSAGE");
}

TEST(DecodeRequest, NeitherActionNorTypeIsInvalidMessage) {
    expect_invalid(decode_request("{}"), "INVALID_MESSAGE");
    expect_invalid(decode_request(R"({"rooms":["a"]})"), "INVALID_MESSAGE");
    expect_invalid(decode_request(R"({"type":7})"), "INVALID_MESSAGE");
}

TEST(DecodeRequest, RoomsProblemsAreInvalidMessage) {
    for (const char* text : {
             R"({"action":"subscribe"})",
             R"({"action":"subscribe","rooms":"team:42"})",
             R"({"action":"subscribe","rooms":{"0":"team:42"}})",
             R"({"action":"subscribe","rooms":null})",
             R"({"action":"subscribe","rooms":["team:42",7]})",
             R"({"action":"subscribe","rooms":[["team:42"]]})",
             R"({"action":"subscribe","rooms":[null]})",
             R"({"action":"subscribe","rooms":[]})",
             R"({"action":"unsubscribe"})",
             R"({"action":"unsubscribe","rooms":[]})",
             R"({"action":"unsubscribe","rooms":[1]})",
         }) {
        const Request request = decode_request(text);
        expect_invalid(request, "INVALID_MESSAGE");
        EXPECT_TRUE(request.rooms.empty()) << text;
    }
}

TEST(DecodeRequest, PublishProblemsAreInvalidMessage) {
    for (const char* text : {
             R"({"action":"publish","type":"t"})",
             R"({"action":"publish","room":5,"type":"t"})",
             R"({"action":"publish","room":null,"type":"t"})",
             R"({"action":"publish","room":"r"})",
             R"({"action":"publish","room":"r","type":""})",
             R"({"action":"publish","room":"r","type":3})",
             R"({"action":"publish","room":"r","event":{"name":"x"}})",
             R"({"action":"publish","room":"r","event":""})",
         }) {
        expect_invalid(decode_request(text), "INVALID_MESSAGE");
    }
}

TEST(DecodeRequest, LargeRequestBeyondTheStackBuffer) {
    std::string text = R"({"action":"subscribe","id":77,"rooms":[)";
    std::vector<std::string> expected;
    for (int i = 0; i < 500; ++i) {
        expected.push_back("room:" + std::to_string(i) + std::string(20, 'x'));
        if (i != 0)
            text += ',';
        text += '"' + expected.back() + '"';
    }
    text += "]}";
    ASSERT_GT(text.size(), 8192u);
    const Request request = decode_request(text);
    EXPECT_EQ(request.kind, RequestKind::subscribe);
    EXPECT_EQ(request.rooms, expected);
    EXPECT_EQ(request.id_json, "77");
}

TEST(DecodeRequest, EscapedRoomNamesAreDecoded) {
    const Request request = decode_request(R"({"action":"subscribe","rooms":["team\u003a42"]})");
    EXPECT_EQ(request.rooms, std::vector<std::string>{"team:42"});
}
