#include "endpoints/cluster_message.hpp"

#include <gtest/gtest.h>

namespace huddle::endpoints {
namespace {

TEST(ClusterMessage, EventsRoundTripWithAnyBytes) {
    ClusterEvent event;
    event.type = "CHAT_MESSAGE";
    event.user_id = std::string("a:b\0c", 5);
    event.timestamp_ms = 1795651740825;
    event.excluded_connection = 42;
    event.excluded_users = {"bob", "", "x:y"};
    event.payload_json = R"({"text":"12:colons:and\nnewlines"})";
    event.delivered_at_origin = true;
    const auto decoded = decode_cluster_event(encode_cluster_event(event));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->type, event.type);
    EXPECT_EQ(decoded->user_id, event.user_id);
    EXPECT_EQ(decoded->timestamp_ms, event.timestamp_ms);
    EXPECT_EQ(decoded->excluded_connection, 42u);
    EXPECT_EQ(decoded->excluded_users, event.excluded_users);
    EXPECT_EQ(decoded->payload_json, event.payload_json);
    EXPECT_TRUE(decoded->delivered_at_origin);
}

TEST(ClusterMessage, CommandsRoundTrip) {
    const ClusterCommand command{"remove", "alice", 4403, "team:*", "left the team"};
    const auto decoded = decode_cluster_command(encode_cluster_command(command));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->kind, "remove");
    EXPECT_EQ(decoded->user, "alice");
    EXPECT_EQ(decoded->code, 4403);
    EXPECT_EQ(decoded->pattern, "team:*");
    EXPECT_EQ(decoded->reason, "left the team");
}

TEST(ClusterMessage, GarbageAndTruncationAreRefused) {
    ClusterEvent event;
    event.type = "t";
    const std::string encoded = encode_cluster_event(event);
    for (std::size_t cut = 0; cut < encoded.size(); ++cut)
        EXPECT_FALSE(decode_cluster_event(encoded.substr(0, cut)).has_value()) << cut;
    for (const char* bad : {"", "probe", "99999999999:x", "3:ab", "-1:x", ":", "1:"}) {
        EXPECT_FALSE(decode_cluster_event(bad).has_value()) << bad;
        EXPECT_FALSE(decode_cluster_command(bad).has_value()) << bad;
    }
    EXPECT_FALSE(decode_cluster_command(encoded).has_value()) << "an event is not a command";
}

TEST(DocumentCast, EveryKindRoundTrips) {
    const std::string binary("\x01\x00\xff\n", 4);
    const DocumentCast casts[] = {
        {DocumentCast::Kind::update, DocumentFormat::none, "", binary},
        {DocumentCast::Kind::awareness, DocumentFormat::none, "", binary},
        {DocumentCast::Kind::relay, DocumentFormat::fabric_json, "", R"({"type":"steps"})"},
        {DocumentCast::Kind::send, DocumentFormat::fabric_json, "42", R"({"type":"steps"})"},
        {DocumentCast::Kind::send, DocumentFormat::drafts_json, "", "{}"},
        {DocumentCast::Kind::deleted, DocumentFormat::none, "", ""},
    };
    for (const DocumentCast& cast : casts) {
        const auto decoded = decode_document_cast(encode_document_cast(cast));
        ASSERT_TRUE(decoded.has_value()) << static_cast<char>(cast.kind);
        EXPECT_EQ(decoded->kind, cast.kind);
        EXPECT_EQ(decoded->format, cast.format);
        EXPECT_EQ(decoded->client, cast.client);
        EXPECT_EQ(decoded->body, cast.body);
    }
}

TEST(DocumentCast, UpdatesTravelAsKindAndBytes) {
    // The format other nodes of an older build read: one kind byte, then the update.
    EXPECT_EQ(encode_document_cast({DocumentCast::Kind::update, DocumentFormat::none, "", "xyz"}),
              "Uxyz");
}

TEST(DocumentCast, GarbageIsRefused) {
    for (const char* bad : {"", "U", "A", "P1", "Dx", "T", "T0{}", "T9{}", "S3", "S39:ab", "X1"})
        EXPECT_FALSE(decode_document_cast(bad).has_value()) << bad;
}

}  // namespace
}  // namespace huddle::endpoints
