#include <gtest/gtest.h>

#include "broker/redis_names.hpp"

using namespace huddle::broker;

TEST(RedisNames, RoomKeysShareTheRoomAsHashTag) {
    const RedisNames names("hd");
    EXPECT_EQ(names.room_channel("chat:1"), "hd:room:chat:1");
    EXPECT_EQ(names.meta_key("chat:1"), "hd:{chat:1}:meta");
    EXPECT_EQ(names.log_key("chat:1"), "hd:{chat:1}:log");
    EXPECT_EQ(names.idempotency_key("chat:1", "k"), "hd:{chat:1}:idem:k");
    EXPECT_EQ(names.presence_users_key("r"), "hd:{r}:puser");
    EXPECT_EQ(names.node_channel("n1"), "hd:node:n1");
    EXPECT_EQ(names.alive_key("n1"), "hd:alive:n1");
    EXPECT_EQ(names.node_rooms_key("n1"), "hd:noderooms:n1");
}

TEST(RedisNames, RoomOfChannel) {
    const RedisNames names("hd");
    EXPECT_EQ(names.room_of_channel("hd:room:a:b"), "a:b");
    EXPECT_EQ(names.room_of_channel("hd:room:"), std::nullopt);
    EXPECT_EQ(names.room_of_channel("hd:nodes"), std::nullopt);
    EXPECT_EQ(names.room_of_channel("hd:node:x"), std::nullopt);
    EXPECT_EQ(names.room_of_channel("other:room:a"), std::nullopt);
    EXPECT_EQ(names.room_of_channel(names.room_channel("x")), "x");
}

TEST(RedisUrl, ParsesHostPortCredentialsAndDatabase) {
    auto plain = parse_redis_url("redis://10.0.0.5:6380");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->host, "10.0.0.5");
    EXPECT_EQ(plain->port, 6380u);
    EXPECT_EQ(plain->db, 0u);

    auto full = parse_redis_url("redis://user:p%40ss:x@localhost:7000/3");
    ASSERT_TRUE(full);
    EXPECT_EQ(full->user, "user");
    EXPECT_EQ(full->password, "p%40ss:x");
    EXPECT_EQ(full->host, "localhost");
    EXPECT_EQ(full->port, 7000u);
    EXPECT_EQ(full->db, 3u);

    auto defaults = parse_redis_url("redis://");
    ASSERT_TRUE(defaults);
    EXPECT_EQ(defaults->host, "127.0.0.1");
    EXPECT_EQ(defaults->port, 6379u);

    auto v6 = parse_redis_url("redis://[::1]:6390");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->port, 6390u);
}

TEST(RedisUrl, RefusesWhatItCannotUse) {
    std::string error;
    EXPECT_FALSE(parse_redis_url("rediss://h:1", &error));
    EXPECT_NE(error.find("TLS"), std::string::npos);
    for (const char* bad :
         {"http://h", "redis://h:0", "redis://h:65536", "redis://h:x", "redis://h/abc",
          "redis://nocolon@h", "redis://[::1", "redis://[::1]x", "redis://a b:1"}) {
        EXPECT_FALSE(parse_redis_url(bad)) << bad;
    }
}
