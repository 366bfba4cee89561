#include "net/ws/frame_writer.hpp"

#include <gtest/gtest.h>

#include <string>

#include "net/ws/utf8.hpp"
#include "ws_test_helpers.hpp"

namespace huddle::ws {
namespace {

std::string bytes(std::initializer_list<unsigned> values) {
    std::string out;
    for (const unsigned v : values) {
        out.push_back(static_cast<char>(v));
    }
    return out;
}

TEST(FrameWriter, HeaderSizes) {
    EXPECT_EQ(frame_header_size(0), 2U);
    EXPECT_EQ(frame_header_size(125), 2U);
    EXPECT_EQ(frame_header_size(126), 4U);
    EXPECT_EQ(frame_header_size(65535), 4U);
    EXPECT_EQ(frame_header_size(65536), 10U);
}

TEST(FrameWriter, WritesHeaders) {
    char out[kMaxServerHeaderSize];
    ASSERT_EQ(write_frame_header(out, Opcode::text, 5), 2U);
    EXPECT_EQ(std::string(out, 2), bytes({0x81, 0x05}));
    ASSERT_EQ(write_frame_header(out, Opcode::binary, 300, false), 4U);
    EXPECT_EQ(std::string(out, 4), bytes({0x02, 0x7E, 0x01, 0x2C}));
    ASSERT_EQ(write_frame_header(out, Opcode::continuation, 0x1'0000'0001ULL, true), 10U);
    EXPECT_EQ(std::string(out, 10), bytes({0x80, 0x7F, 0, 0, 0, 0x01, 0, 0, 0, 0x01}));
    ASSERT_EQ(write_frame_header(out, Opcode::text, 1, true, true), 2U);
    EXPECT_EQ(std::string(out, 2), bytes({0xC1, 0x01}));
}

TEST(FrameWriter, EncodesFrames) {
    EXPECT_EQ(encode_frame(Opcode::text, "Hello"), bytes({0x81, 0x05}) + "Hello");
    EXPECT_EQ(encode_frame(Opcode::ping, ""), bytes({0x89, 0x00}));
    const std::string big(70000, 'q');
    const std::string frame = encode_frame(Opcode::binary, big);
    EXPECT_EQ(frame.substr(0, 10), bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70}));
    EXPECT_EQ(frame.substr(10), big);
}

TEST(FrameWriter, APayloadInTwoPartsIsOnePayload) {
    EXPECT_EQ(encode_frame(Opcode::binary, "He", "llo"), encode_frame(Opcode::binary, "Hello"));
    EXPECT_EQ(encode_frame(Opcode::binary, "", "Hello"), encode_frame(Opcode::binary, "Hello"));
    const std::string head(100, 'h');
    const std::string rest(70000, 'r');
    // The header counts both parts: 70,100 bytes take the 8-byte length.
    EXPECT_EQ(encode_frame(Opcode::binary, head, rest), encode_frame(Opcode::binary, head + rest));
}

TEST(FrameWriter, EncodedFrameReadsBack) {
    for (const std::size_t size : {0U, 125U, 126U, 65535U, 65536U}) {
        const std::string payload(size, 'r');
        MessageReader reader(1 << 20, false, false);
        const auto outcome =
            test::feed(reader, test::mask_server_frame(encode_frame(Opcode::binary, payload)));
        ASSERT_FALSE(outcome.failed);
        EXPECT_EQ(outcome.messages.at(0).second, payload);
    }
}

TEST(FrameWriter, CloseFrame) {
    EXPECT_EQ(encode_close_frame(1000, "bye"), bytes({0x88, 0x05, 0x03, 0xE8}) + "bye");
    EXPECT_EQ(encode_close_frame(4401, ""), bytes({0x88, 0x02, 0x11, 0x31}));
    EXPECT_EQ(encode_close_frame(0, "ignored"), bytes({0x88, 0x00}));
    EXPECT_EQ(encode_close_frame(close_code::no_status, ""), bytes({0x88, 0x00}));
}

TEST(FrameWriter, CloseReasonTruncatedOnUtf8Boundary) {
    // 122 ASCII bytes then a 3-byte euro sign: 125 bytes of reason, 2 more than fit.
    const std::string reason = std::string(122, 'a') + "\xE2\x82\xAC" + "tail";
    const std::string frame = encode_close_frame(1008, reason);
    ASSERT_EQ(static_cast<unsigned char>(frame[1]), 2U + 122U);
    EXPECT_EQ(frame.substr(4), std::string(122, 'a'));

    const std::string fits = std::string(120, 'a') + "\xE2\x82\xAC" + "tail";
    const std::string frame2 = encode_close_frame(1008, fits);
    ASSERT_EQ(frame2.size(), 2U + 125U);
    EXPECT_EQ(frame2.substr(4), std::string(120, 'a') + "\xE2\x82\xAC");
    EXPECT_TRUE(is_valid_utf8(frame2.substr(4)));

    // A reason that is not UTF-8 is dropped rather than sent.
    EXPECT_EQ(encode_close_frame(1000, "\xFF"), bytes({0x88, 0x02, 0x03, 0xE8}));
}

TEST(MessageDeflater, Rfc7692HelloFrame) {
    MessageDeflater deflater;
    // RFC 7692 §7.2.3.1: an unfragmented compressed "Hello".
    EXPECT_EQ(deflater.encode_compressed_frame(Opcode::text, "Hello"),
              bytes({0xC1, 0x07, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00}));
    // No context takeover: the same message compresses to the same bytes every time.
    EXPECT_EQ(deflater.encode_compressed_frame(Opcode::text, "Hello"),
              bytes({0xC1, 0x07, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00}));
}

TEST(MessageDeflater, EmptyMessage) {
    MessageDeflater deflater;
    EXPECT_EQ(deflater.encode_compressed_frame(Opcode::binary, ""), bytes({0xC2, 0x01, 0x00}));
    EXPECT_EQ(test::inflate_message(deflater.compress("")), "");
}

TEST(MessageDeflater, RoundTripThroughClientInflate) {
    MessageDeflater deflater;
    for (const std::size_t size : {1U, 50U, 1000U, 100000U, 1000000U}) {
        std::string text(size, ' ');
        for (std::size_t i = 0; i < size; ++i) {
            text[i] = static_cast<char>('A' + (i * i + i / 7) % 50);
        }
        const std::string frame = deflater.encode_compressed_frame(Opcode::text, text);
        const unsigned code = static_cast<unsigned char>(frame[1]) & 0x7FU;
        const std::size_t header = code == 126 ? 4 : (code == 127 ? 10 : 2);
        EXPECT_EQ(static_cast<unsigned char>(frame[0]), 0xC1);
        EXPECT_EQ(test::inflate_message(frame.substr(header)), text) << size;
    }
}

TEST(MessageDeflater, SmallWindow) {
    MessageDeflater deflater(6, 9);
    std::string text;
    for (int i = 0; i < 3000; ++i) {
        text += std::to_string(i * 7919 % 1000);
    }
    EXPECT_EQ(test::inflate_message(deflater.compress(text), 9), text);
    EXPECT_THROW(MessageDeflater(6, 8), std::invalid_argument);
}

TEST(MessageDeflater, MovedDeflaterStillWorks) {
    MessageDeflater first;
    MessageDeflater second = std::move(first);
    EXPECT_EQ(test::inflate_message(second.compress("moved")), "moved");
}

}  // namespace
}  // namespace huddle::ws
