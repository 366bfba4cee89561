#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "core/room_name.hpp"

using huddle::core::kMaxRoomNameBytes;
using huddle::core::namespace_of;
using huddle::core::room_id_of;
using huddle::core::room_name_problem;

namespace {

bool valid(std::string_view room) {
    return room_name_problem(room).empty();
}

}  // namespace

TEST(RoomName, NamespacedNamesAreValid) {
    EXPECT_TRUE(valid("team:42"));
    EXPECT_TRUE(valid("workspace:w1"));
    EXPECT_TRUE(valid("user:alice@example.com"));
    EXPECT_TRUE(valid("doc:path/to/file.md"));
}

TEST(RoomName, NamesWithoutNamespaceAreValid) {
    EXPECT_TRUE(valid("lobby"));
    EXPECT_TRUE(valid("x"));
    EXPECT_TRUE(valid("0"));
}

TEST(RoomName, EveryAllowedCharacterIsAccepted) {
    EXPECT_TRUE(valid("abcdefghijklmnopqrstuvwxyz"));
    EXPECT_TRUE(valid("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
    EXPECT_TRUE(valid("0123456789"));
    EXPECT_TRUE(valid("_-.:@/=+"));
    for (char c : std::string_view("_-.:@/=+")) {
        EXPECT_TRUE(valid(std::string(1, c))) << "character '" << c << "'";
    }
}

TEST(RoomName, ExactlyMaxBytesIsValid) {
    ASSERT_EQ(kMaxRoomNameBytes, 128u);
    const std::string room = "ns:" + std::string(125, 'a');
    ASSERT_EQ(room.size(), 128u);
    EXPECT_TRUE(valid(room));
}

TEST(RoomName, OneByteOverMaxIsInvalid) {
    const std::string room(129, 'a');
    EXPECT_EQ(room_name_problem(room), "room name is longer than 128 bytes");
}

TEST(RoomName, EmptyIsInvalid) {
    EXPECT_EQ(room_name_problem(""), "room name is empty");
}

TEST(RoomName, ForbiddenCharactersAreRefusedWithTheCharsetMessage) {
    const std::string_view charset_message =
        "room name may only contain A-Z a-z 0-9 and _ - . : @ / = +";
    for (std::string_view room :
         {"team 42", "team#42", "team?42", "team\"42", "a\\b", "a,b", "a;b",
          "a%20",    "a*",      "a&b",     "a'b",      "<a>",  "a~b", "a!b",
          "a$b",     "(a)",     "[a]",     "{a}",      "a|b",  "a`b", "a^b"}) {
        EXPECT_EQ(room_name_problem(room), charset_message) << "room '" << room << "'";
    }
}

TEST(RoomName, NonAsciiBytesAreRefused) {
    EXPECT_FALSE(valid("caf\xC3\xA9"));        // é in UTF-8
    EXPECT_FALSE(valid("\xE2\x82\xAC"));       // €
    EXPECT_FALSE(valid("a\xF0\x9F\x98\x80"));  // emoji
    EXPECT_FALSE(valid("\xFF"));
    EXPECT_FALSE(valid("\x80"));
}

TEST(RoomName, ControlCharactersAreRefused) {
    EXPECT_FALSE(valid(std::string_view("a\0b", 3)));
    EXPECT_FALSE(valid("a\nb"));
    EXPECT_FALSE(valid("a\tb"));
    EXPECT_FALSE(valid("a\rb"));
    EXPECT_FALSE(valid("\x01"));
    EXPECT_FALSE(valid("a\x1F"));
    EXPECT_FALSE(valid("a\x7F"));
}

TEST(RoomName, EveryByteMatchesTheDocumentedCharset) {
    const std::string_view punctuation = "_-.:@/=+";
    for (int b = 0; b < 256; ++b) {
        const char c = static_cast<char>(b);
        const bool expected = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') ||
                              punctuation.find(c) != std::string_view::npos;
        EXPECT_EQ(valid(std::string(1, c)), expected) << "byte " << b;
        EXPECT_EQ(valid("x" + std::string(1, c) + "y"), expected) << "byte " << b;
    }
}

TEST(RoomName, NamespaceAndIdOfNamespacedRoom) {
    EXPECT_EQ(namespace_of("team:42"), "team");
    EXPECT_EQ(room_id_of("team:42"), "42");
}

TEST(RoomName, NamespaceAndIdWithoutColon) {
    EXPECT_EQ(namespace_of("lobby"), "");
    EXPECT_EQ(room_id_of("lobby"), "lobby");
    EXPECT_EQ(namespace_of(""), "");
    EXPECT_EQ(room_id_of(""), "");
}

TEST(RoomName, LeadingColonMeansEmptyNamespace) {
    EXPECT_EQ(namespace_of(":x"), "");
    EXPECT_EQ(room_id_of(":x"), "x");
}

TEST(RoomName, TrailingColonMeansEmptyId) {
    EXPECT_EQ(namespace_of("x:"), "x");
    EXPECT_EQ(room_id_of("x:"), "");
}

TEST(RoomName, OnlyTheFirstColonSplits) {
    EXPECT_EQ(namespace_of("a:b:c"), "a");
    EXPECT_EQ(room_id_of("a:b:c"), "b:c");
    EXPECT_EQ(namespace_of("::"), "");
    EXPECT_EQ(room_id_of("::"), ":");
}

// Token subjects name private rooms "user:{id}"; they are checked more loosely than room names.
TEST(UserId, PrintableIdsAreValid) {
    using huddle::core::user_id_problem;
    for (std::string_view id : {"alice", "auth0|5f7c", "Jane Doe", "caf\xC3\xA9", "a#b?c\"d",
                                "user:nested", "\xE2\x82\xAC"}) {
        EXPECT_EQ(user_id_problem(id), "") << id;
    }
}

TEST(UserId, EmptyTooLongAndControlCharactersAreRefused) {
    using huddle::core::kMaxUserIdBytes;
    using huddle::core::user_id_problem;
    ASSERT_EQ(kMaxUserIdBytes, 256u);
    EXPECT_EQ(user_id_problem(""), "user id is empty");
    EXPECT_EQ(user_id_problem(std::string(256, 'u')), "");
    EXPECT_EQ(user_id_problem(std::string(257, 'u')), "user id is longer than 256 bytes");
    for (std::string_view id :
         {std::string_view("a\nb"), std::string_view("\t"), std::string_view("a\0b", 3),
          std::string_view("x\x1f"), std::string_view("x\x7f")}) {
        EXPECT_EQ(user_id_problem(id), "user id contains control characters");
    }
}
