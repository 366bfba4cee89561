#include "endpoints/base64.hpp"

#include <gtest/gtest.h>

namespace huddle::endpoints {
namespace {

std::string encode(std::string_view raw) {
    std::string out;
    append_base64(out, std::span(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()));
    return out;
}

TEST(Base64, EncodesTheRfc4648Vectors) {
    EXPECT_EQ(encode(""), "");
    EXPECT_EQ(encode("f"), "Zg==");
    EXPECT_EQ(encode("fo"), "Zm8=");
    EXPECT_EQ(encode("foo"), "Zm9v");
    EXPECT_EQ(encode("foob"), "Zm9vYg==");
    EXPECT_EQ(encode("fooba"), "Zm9vYmE=");
    EXPECT_EQ(encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, DecodesWhatItEncodes) {
    std::vector<std::uint8_t> all(256);
    for (std::size_t i = 0; i < all.size(); ++i)
        all[i] = static_cast<std::uint8_t>(i);
    for (std::size_t length = 0; length <= all.size(); length += 37) {
        std::string text;
        append_base64(text, std::span(all.data(), length));
        const auto back = decode_base64(text);
        ASSERT_TRUE(back.has_value()) << text;
        EXPECT_EQ(*back, std::vector<std::uint8_t>(all.begin(), all.begin() + length));
    }
}

TEST(Base64, RefusesWhatIsNotCanonicalBase64) {
    EXPECT_FALSE(decode_base64("Zm9"));       // length not a multiple of 4
    EXPECT_FALSE(decode_base64("Zm9v!A=="));  // outside the alphabet
    EXPECT_FALSE(decode_base64("Zm-_"));      // URL alphabet
    EXPECT_FALSE(decode_base64("Zh=="));      // padding bits set ("Zg==" is canonical)
    EXPECT_FALSE(decode_base64("Z==="));
    EXPECT_FALSE(decode_base64("Zg==Zg=="));  // padding in the middle
    EXPECT_TRUE(decode_base64("").has_value());
}

}  // namespace
}  // namespace huddle::endpoints
