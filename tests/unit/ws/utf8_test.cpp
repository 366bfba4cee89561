#include "net/ws/utf8.hpp"

#include <gtest/gtest.h>

#include <string>

namespace huddle::ws {
namespace {

TEST(Utf8, AcceptsValidText) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("plain ASCII text that is longer than sixteen bytes"));
    EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9"));                   // U+00E9
    EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));                  // U+20AC
    EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));              // U+1F600, 4 bytes
    EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));              // U+10FFFF, the largest
    EXPECT_TRUE(is_valid_utf8("\xED\x9F\xBF"));                  // U+D7FF, just below surrogates
    EXPECT_TRUE(is_valid_utf8("\xEE\x80\x80"));                  // U+E000, just above surrogates
    EXPECT_TRUE(is_valid_utf8("\xEF\xBF\xBF"));                  // U+FFFF
    EXPECT_TRUE(is_valid_utf8("\xC2\x80"));                      // U+0080, smallest 2-byte
    EXPECT_TRUE(is_valid_utf8("\xE0\xA0\x80"));                  // U+0800, smallest 3-byte
    EXPECT_TRUE(is_valid_utf8("\xF0\x90\x80\x80"));              // U+10000, smallest 4-byte
    EXPECT_TRUE(is_valid_utf8(std::string("nul\0inside", 10)));  // U+0000 is valid
}

TEST(Utf8, RejectsInvalidText) {
    EXPECT_FALSE(is_valid_utf8("\xC0\x80"));          // overlong U+0000
    EXPECT_FALSE(is_valid_utf8("\xC1\xBF"));          // overlong U+007F
    EXPECT_FALSE(is_valid_utf8("\xE0\x80\x80"));      // overlong 3-byte
    EXPECT_FALSE(is_valid_utf8("\xE0\x9F\xBF"));      // overlong U+07FF
    EXPECT_FALSE(is_valid_utf8("\xF0\x80\x80\x80"));  // overlong 4-byte
    EXPECT_FALSE(is_valid_utf8("\xF0\x8F\xBF\xBF"));  // overlong U+FFFF
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // U+D800, surrogate
    EXPECT_FALSE(is_valid_utf8("\xED\xBF\xBF"));      // U+DFFF, surrogate
    EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000, above the maximum
    EXPECT_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
    EXPECT_FALSE(is_valid_utf8("\xFF"));
    EXPECT_FALSE(is_valid_utf8("\xFE"));
    EXPECT_FALSE(is_valid_utf8("\x80"));  // stray continuation byte
    EXPECT_FALSE(is_valid_utf8("a\xBF"));
    EXPECT_FALSE(is_valid_utf8("\xC3"));          // truncated 2-byte
    EXPECT_FALSE(is_valid_utf8("\xE2\x82"));      // truncated 3-byte
    EXPECT_FALSE(is_valid_utf8("\xF0\x9F\x98"));  // truncated 4-byte
    EXPECT_FALSE(is_valid_utf8("\xE2\x28\xA1"));  // bad continuation
    EXPECT_FALSE(is_valid_utf8("\xC3\xA9\xA9"));  // one continuation too many
}

TEST(Utf8, BadByteFoundAtEveryOffset) {
    // Exercises the 16- and 8-byte ASCII paths and the tail.
    for (std::size_t length = 1; length < 70; ++length) {
        for (std::size_t at = 0; at < length; ++at) {
            std::string text(length, 'a');
            text[at] = '\xFF';
            EXPECT_FALSE(is_valid_utf8(text)) << length << " " << at;
            text[at] = '\x7F';
            EXPECT_TRUE(is_valid_utf8(text)) << length << " " << at;
        }
    }
}

TEST(Utf8, MultiByteAtEveryOffset) {
    for (std::size_t at = 0; at < 40; ++at) {
        std::string text(at, 'a');
        text += "\xF0\x9F\x98\x80";
        text += std::string(37, 'b');
        EXPECT_TRUE(is_valid_utf8(text)) << at;
        text = text.substr(0, at + 2) + 'z' + text.substr(at + 2);  // break the sequence
        EXPECT_FALSE(is_valid_utf8(text)) << at;
    }
}

TEST(Utf8, IncrementalAcrossEverySplit) {
    const std::string text =
        "ab\xC3\xA9"
        "cd\xE2\x82\xAC"
        "ef\xF0\x9F\x98\x80"
        "gh";
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        Utf8Validator validator;
        EXPECT_TRUE(validator.feed(std::string_view(text).substr(0, cut))) << cut;
        EXPECT_TRUE(validator.feed(std::string_view(text).substr(cut))) << cut;
        EXPECT_TRUE(validator.complete()) << cut;
    }
}

TEST(Utf8, IncrementalByteByByte) {
    const std::string text = "\xF4\x8F\xBF\xBF\xED\x9F\xBF";
    Utf8Validator validator;
    for (const char c : text) {
        EXPECT_TRUE(validator.feed(std::string_view(&c, 1)));
    }
    EXPECT_TRUE(validator.complete());
}

TEST(Utf8, IncrementalIncompleteAndFailures) {
    Utf8Validator validator;
    EXPECT_TRUE(validator.feed("a\xE2\x82"));
    EXPECT_FALSE(validator.complete());  // inside a code point
    EXPECT_TRUE(validator.feed("\xAC"));
    EXPECT_TRUE(validator.complete());

    // Surrogate split after its lead byte fails on the second piece.
    Utf8Validator surrogate;
    EXPECT_TRUE(surrogate.feed("\xED"));
    EXPECT_FALSE(surrogate.feed("\xA0\x80"));
    EXPECT_TRUE(surrogate.failed());
    EXPECT_FALSE(surrogate.feed("ok"));  // stays failed

    // Above U+10FFFF split after F4.
    Utf8Validator too_big;
    EXPECT_TRUE(too_big.feed("\xF4"));
    EXPECT_FALSE(too_big.feed("\x90"));

    // Overlong split after E0.
    Utf8Validator overlong;
    EXPECT_TRUE(overlong.feed("\xE0"));
    EXPECT_FALSE(overlong.feed("\x80\x80"));

    validator.reset();
    EXPECT_TRUE(validator.complete());
}

}  // namespace
}  // namespace huddle::ws
