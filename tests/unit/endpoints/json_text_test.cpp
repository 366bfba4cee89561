#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdint>
#include <limits>
#include <string>

#include "endpoints/json_text.hpp"

using huddle::endpoints::append_json_int;
using huddle::endpoints::append_json_string;

namespace {

std::string json_string(std::string_view value) {
    std::string out;
    append_json_string(out, value);
    return out;
}

std::string integer(std::int64_t value) {
    std::string out;
    append_json_int(out, value);
    return out;
}

// The text parses as a JSON string equal to the original bytes.
void expect_round_trip(std::string_view value) {
    const std::string text = json_string(value);
    boost::system::error_code ec;
    const boost::json::value parsed = boost::json::parse(text, ec);
    ASSERT_FALSE(ec) << text << ": " << ec.message();
    ASSERT_TRUE(parsed.is_string()) << text;
    EXPECT_EQ(std::string_view(parsed.get_string()), value) << text;
}

}  // namespace

TEST(JsonText, PlainStringIsQuoted) {
    EXPECT_EQ(json_string("hello"), "\"hello\"");
    EXPECT_EQ(json_string(""), "\"\"");
}

TEST(JsonText, AppendsToExistingText) {
    std::string out = "{\"a\":";
    append_json_string(out, "b");
    out += ",\"n\":";
    append_json_int(out, 7);
    out += '}';
    EXPECT_EQ(out, R"({"a":"b","n":7})");
}

TEST(JsonText, QuoteAndBackslashAreEscaped) {
    EXPECT_EQ(json_string("say \"hi\""), R"("say \"hi\"")");
    EXPECT_EQ(json_string("a\\b"), R"("a\\b")");
    EXPECT_EQ(json_string("\"\\\""), R"("\"\\\"")");
    expect_round_trip("say \"hi\" \\ back");
}

TEST(JsonText, NewlineTabAndCarriageReturnUseShortEscapes) {
    EXPECT_EQ(json_string("a\nb"), R"("a\nb")");
    EXPECT_EQ(json_string("a\tb"), R"("a\tb")");
    EXPECT_EQ(json_string("a\rb"), R"("a\rb")");
    expect_round_trip("line1\nline2\r\n\tindented");
}

TEST(JsonText, OtherControlCharactersUseUnicodeEscapes) {
    EXPECT_EQ(json_string("\x01"), R"("\u0001")");
    EXPECT_EQ(json_string("\x1f"), R"("\u001f")");
    EXPECT_EQ(json_string("\x08\x0c"), R"("\u0008\u000c")");
    EXPECT_EQ(json_string(std::string_view("a\0b", 3)), R"("a\u0000b")");
    std::string all_controls;
    for (int c = 0; c < 0x20; ++c)
        all_controls.push_back(static_cast<char>(c));
    expect_round_trip(all_controls);
}

TEST(JsonText, NoRawControlCharacterInOutput) {
    std::string all_bytes;
    for (int c = 0; c < 0x80; ++c)
        all_bytes.push_back(static_cast<char>(c));
    const std::string text = json_string(all_bytes);
    for (char c : text)
        EXPECT_GE(static_cast<unsigned char>(c), 0x20u);
    expect_round_trip(all_bytes);
}

TEST(JsonText, DelAndSlashPassThrough) {
    EXPECT_EQ(json_string("\x7f"), "\"\x7f\"");
    EXPECT_EQ(json_string("a/b"), "\"a/b\"");
}

TEST(JsonText, Utf8PassesThroughUnchanged) {
    const std::string text = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC";
    EXPECT_EQ(json_string(text), "\"" + text + "\"");
    expect_round_trip(text);
}

TEST(JsonText, EscapesInsideLongRuns) {
    const std::string value = std::string(100, 'x') + "\"" + std::string(100, 'y') + "\n";
    EXPECT_EQ(json_string(value),
              "\"" + std::string(100, 'x') + "\\\"" + std::string(100, 'y') + "\\n\"");
}

TEST(JsonText, Integers) {
    EXPECT_EQ(integer(0), "0");
    EXPECT_EQ(integer(7), "7");
    EXPECT_EQ(integer(-1), "-1");
    EXPECT_EQ(integer(-600), "-600");
    EXPECT_EQ(integer(1'764'100'000'000), "1764100000000");
}

TEST(JsonText, Int64Extremes) {
    EXPECT_EQ(integer(std::numeric_limits<std::int64_t>::max()), "9223372036854775807");
    EXPECT_EQ(integer(std::numeric_limits<std::int64_t>::min()), "-9223372036854775808");
    const boost::json::value parsed =
        boost::json::parse(integer(std::numeric_limits<std::int64_t>::min()));
    ASSERT_TRUE(parsed.is_int64());
    EXPECT_EQ(parsed.get_int64(), std::numeric_limits<std::int64_t>::min());
}
