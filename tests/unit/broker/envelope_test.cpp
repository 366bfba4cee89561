#include <gtest/gtest.h>

#include "broker/envelope.hpp"

using namespace huddle::broker;

TEST(Envelope, RoundTripsHistoryAndPlainMessages) {
    const auto history = encode_envelope(42, "ep-1", "node.a", std::string("x\ny\0z", 5));
    EXPECT_EQ(history, std::string("h1 42 ep-1 node.a\nx\ny\0z", 23));
    const auto decoded = decode_envelope(history);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->offset, 42u);
    EXPECT_EQ(decoded->epoch, "ep-1");
    EXPECT_EQ(decoded->origin, "node.a");
    EXPECT_EQ(decoded->payload, std::string_view("x\ny\0z", 5));

    const auto plain = decode_envelope(encode_envelope(0, "", "n", ""));
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->offset, 0u);
    EXPECT_TRUE(plain->epoch.empty());
    EXPECT_TRUE(plain->payload.empty());
}

TEST(Envelope, RefusesMalformedHeaders) {
    for (const char* bad :
         {"", "h1", "h1 ", "h2 0 - n\n", "h1 0 - n", "h1 00 - n\n", "h1 01 e n\n", "h1 -1 e n\n",
          "h1 1 - n\n", "h1 0 e n\n", "h1 x - n\n", "h1 0 - \n", "h1 0 - n m\n", "h1 0 -  n\n",
          "h1 18446744073709551616 e n\n", "h1 1 e/x n\n", "h1 1 e n\xff\n"}) {
        EXPECT_FALSE(decode_envelope(bad)) << bad;
    }
    EXPECT_TRUE(decode_envelope("h1 18446744073709551615 e n\n"));
}

TEST(Envelope, TokensAreShortAndPlain) {
    EXPECT_TRUE(valid_token("a-Z_0.9"));
    EXPECT_FALSE(valid_token(""));
    EXPECT_FALSE(valid_token(std::string(65, 'a')));
    EXPECT_TRUE(valid_token(std::string(64, 'a')));
    EXPECT_FALSE(valid_token("a b"));
    EXPECT_FALSE(valid_token("a:b"));
}
