#include "endpoints/fabric_messages.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace huddle::endpoints::fabric {
namespace {

TEST(FabricMessages, SyncWithAndWithoutStateVector) {
    Message plain = parse_message(R"({"type":"sync"})", "d", "c");
    EXPECT_EQ(plain.kind, Kind::sync);
    EXPECT_EQ(plain.bytes, std::vector<std::uint8_t>{0});
    Message with = parse_message(R"({"type":"sync","stateVector":"AQID"})", "d", "c");
    EXPECT_EQ(with.kind, Kind::sync);
    EXPECT_EQ(with.bytes, (std::vector<std::uint8_t>{1, 2, 3}));
    EXPECT_EQ(parse_message(R"({"type":"sync","stateVector":7})", "d", "c").kind, Kind::invalid);
}

TEST(FabricMessages, UpdateNeedsBase64Bytes) {
    Message update = parse_message(R"({"type":"update","update":"AAA="})", "d", "c");
    EXPECT_EQ(update.kind, Kind::update);
    EXPECT_EQ(update.bytes, (std::vector<std::uint8_t>{0, 0}));
    for (const char* bad :
         {R"({"type":"update"})", R"({"type":"update","update":""})",
          R"({"type":"update","update":[1,2]})", R"({"type":"update","update":"%%%="})"}) {
        const Message message = parse_message(bad, "d", "c");
        EXPECT_EQ(message.kind, Kind::invalid) << bad;
        EXPECT_NE(message.error, "") << bad;
    }
}

TEST(FabricMessages, RelayedMessagesCarryTheServersIdentityOfTheSender) {
    const Message relay = parse_message(
        R"({"type":"selection","clientID":"someone-else","documentId":"x","range":[1,4]})", "doc/1",
        "alice-tab");
    ASSERT_EQ(relay.kind, Kind::relay);
    const auto object = boost::json::parse(relay.relay_text).as_object();
    EXPECT_EQ(object.at("type"), "selection");
    EXPECT_EQ(object.at("clientID"), "alice-tab");
    EXPECT_EQ(object.at("documentId"), "doc/1");
    EXPECT_EQ(object.at("range").as_array().size(), 2u);
    EXPECT_EQ(parse_message(R"({"type":"awareness"})", "d", "c").kind, Kind::relay);
    EXPECT_EQ(parse_message(R"({"type":"steps","steps":[]})", "d", "c").kind, Kind::relay);
}

TEST(FabricMessages, BadInputIsRefusedWithAReason) {
    for (const char* bad :
         {"", "not json", "[]", R"({"type":5})", R"({"type":"unknown"})", R"({"no":"type"})"}) {
        const Message message = parse_message(bad, "d", "c");
        EXPECT_EQ(message.kind, Kind::invalid) << bad;
        EXPECT_NE(message.error, "") << bad;
    }
    EXPECT_EQ(parse_message(R"({"type":"ping"})", "d", "c").kind, Kind::ping);
}

TEST(FabricMessages, ServerStepsAndErrorsAreJson) {
    const auto steps = boost::json::parse(encode_server_steps("d\"1", R"([{"op":1}])"));
    EXPECT_EQ(steps.at("clientID"), "server");
    EXPECT_EQ(steps.at("documentId"), "d\"1");
    EXPECT_EQ(steps.at("steps").as_array().size(), 1u);
    const auto error = boost::json::parse(encode_error("INVALID_UPDATE", "bad \"bytes\""));
    EXPECT_EQ(error.at("code"), "INVALID_UPDATE");
    EXPECT_EQ(error.at("message"), "bad \"bytes\"");
}

}  // namespace
}  // namespace huddle::endpoints::fabric
