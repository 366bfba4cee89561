#include "net/ws/message_reader.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>
#include <vector>

#include "net/ws/frame_writer.hpp"
#include "ws_test_helpers.hpp"

namespace huddle::ws {
namespace {

using test::client_frame;
using test::feed;
using test::FrameSpec;
using test::Outcome;

constexpr std::size_t kLimit = 1 << 20;

MessageReader plain_reader(std::size_t limit = kLimit) {
    return MessageReader(limit, false, false);
}
MessageReader deflate_reader(std::size_t limit = kLimit, bool no_context_takeover = false) {
    return MessageReader(limit, true, no_context_takeover);
}

void expect_error(const Outcome& outcome, std::uint16_t code) {
    ASSERT_TRUE(outcome.failed);
    EXPECT_EQ(outcome.error.close_code, code) << outcome.error.reason;
    EXPECT_FALSE(outcome.error.reason.empty());
}

std::string frame_with(unsigned opcode, std::string_view payload, bool fin = true,
                       bool rsv1 = false, bool rsv2 = false, bool rsv3 = false,
                       bool masked = true) {
    FrameSpec spec;
    spec.opcode = opcode;
    spec.fin = fin;
    spec.rsv1 = rsv1;
    spec.rsv2 = rsv2;
    spec.rsv3 = rsv3;
    spec.masked = masked;
    return client_frame(spec, payload);
}

std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
    std::string payload;
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xFF));
    payload.append(reason);
    return payload;
}

std::string text_of_size(std::size_t size) {
    std::string text(size, 'x');
    for (std::size_t i = 0; i < size; ++i) {
        text[i] = static_cast<char>('a' + (i * 7) % 26);
    }
    return text;
}

// ---- basics --------------------------------------------------------------------------------

TEST(MessageReader, StaysSmall) {
    EXPECT_LE(sizeof(MessageReader), 96U);
}

TEST(MessageReader, ReadsMaskedTextFrame) {
    auto reader = plain_reader();
    const Outcome outcome = feed(reader, client_frame(Opcode::text, "hello"));
    ASSERT_FALSE(outcome.failed);
    ASSERT_EQ(outcome.messages.size(), 1U);
    EXPECT_EQ(outcome.messages[0].first, Opcode::text);
    EXPECT_EQ(outcome.messages[0].second, "hello");
    EXPECT_EQ(outcome.leftover, 0U);
}

TEST(MessageReader, EmptyInputNeedsMore) {
    auto reader = plain_reader();
    std::string empty;
    std::size_t consumed = 7;
    Message message;
    ProtocolError error;
    EXPECT_EQ(reader.read(empty, consumed, message, error), MessageReader::Status::need_more);
    EXPECT_EQ(consumed, 0U);
    EXPECT_EQ(reader.bytes_needed_hint(), 2U);
}

TEST(MessageReader, UnfragmentedFrameIsReturnedInPlace) {
    auto reader = plain_reader();
    std::string wire = client_frame(Opcode::binary, "zero copy") + client_frame(Opcode::ping, "");
    std::size_t consumed = 0;
    Message message;
    ProtocolError error;
    ASSERT_EQ(reader.read(wire, consumed, message, error), MessageReader::Status::message);
    EXPECT_EQ(message.opcode, Opcode::binary);
    EXPECT_EQ(message.payload, "zero copy");
    EXPECT_GE(message.payload.data(), wire.data());
    EXPECT_LE(message.payload.data() + message.payload.size(), wire.data() + wire.size());
    EXPECT_EQ(consumed, 2U + 4U + 9U);
    EXPECT_EQ(reader.heap_bytes(), 0U);  // nothing copied, nothing allocated
    wire.erase(0, consumed);
    ASSERT_EQ(reader.read(wire, consumed, message, error), MessageReader::Status::message);
    EXPECT_EQ(message.opcode, Opcode::ping);
    wire.erase(0, consumed);
    ASSERT_EQ(reader.read(wire, consumed, message, error), MessageReader::Status::need_more);
    EXPECT_EQ(consumed, 0U);
}

TEST(MessageReader, RandomMasksRoundTrip) {
    std::mt19937 rng(7);
    for (const std::size_t size : {0U, 1U, 3U, 4U, 5U, 7U, 8U, 31U, 32U, 33U, 125U, 126U, 1000U}) {
        for (int round = 0; round < 8; ++round) {
            std::string payload(size, '\0');
            for (auto& c : payload) {
                c = static_cast<char>(rng());
            }
            FrameSpec spec;
            spec.opcode = 2;
            spec.key = static_cast<std::uint32_t>(rng());
            auto reader = plain_reader();
            const Outcome outcome = feed(reader, client_frame(spec, payload));
            ASSERT_FALSE(outcome.failed);
            ASSERT_EQ(outcome.messages.size(), 1U);
            EXPECT_EQ(outcome.messages[0].second, payload) << "size " << size;
        }
    }
}

TEST(MessageReader, SixteenAndSixtyFourBitLengths) {
    for (const std::size_t size : {126U, 127U, 65535U, 65536U, 70000U}) {
        const std::string payload = text_of_size(size);
        const std::string wire = client_frame(Opcode::text, payload);
        EXPECT_EQ(wire.size(), size + 4 + (size <= 65535 ? 4 : 10));
        for (const std::size_t chunk : {0U, 1000U, 3U}) {
            auto reader = plain_reader();
            const Outcome outcome = feed(reader, wire, chunk);
            ASSERT_FALSE(outcome.failed) << outcome.error.reason;
            ASSERT_EQ(outcome.messages.size(), 1U);
            EXPECT_EQ(outcome.messages[0].second, payload);
        }
    }
}

TEST(MessageReader, AcceptsNonMinimalLengthEncoding) {
    // A 5-byte payload announced with a 16-bit length: not minimal, but unambiguous.
    std::string wire = "\x82\xFE";
    wire += std::string("\x00\x05", 2);
    wire += std::string("\x00\x00\x00\x00", 4);
    wire += "abcde";
    auto reader = plain_reader();
    const Outcome outcome = feed(reader, wire);
    ASSERT_FALSE(outcome.failed);
    EXPECT_EQ(outcome.messages.at(0).second, "abcde");
}

// ---- protocol errors (1002) ----------------------------------------------------------------

TEST(MessageReader, UnmaskedClientFrameIsProtocolError) {
    auto reader = plain_reader();
    expect_error(feed(reader, frame_with(1, "hi", true, false, false, false, false)), 1002);
}

TEST(MessageReader, ErrorIsSticky) {
    auto reader = plain_reader();
    expect_error(feed(reader, frame_with(1, "hi", true, false, false, false, false)), 1002);
    expect_error(feed(reader, client_frame(Opcode::text, "fine")), 1002);
}

TEST(MessageReader, Rsv1WithoutDeflateIsProtocolError) {
    auto reader = plain_reader();
    expect_error(feed(reader, frame_with(1, "hi", true, true)), 1002);
}

TEST(MessageReader, Rsv2AndRsv3AreProtocolErrors) {
    auto a = deflate_reader();
    expect_error(feed(a, frame_with(1, "hi", true, false, true)), 1002);
    auto b = deflate_reader();
    expect_error(feed(b, frame_with(1, "hi", true, false, false, true)), 1002);
}

TEST(MessageReader, Rsv1OnContinuationIsProtocolError) {
    auto reader = deflate_reader();
    test::ClientDeflater deflater;
    const std::string compressed = deflater.compress("hello hello hello");
    const std::string wire = frame_with(1, compressed.substr(0, 4), false, true) +
                             frame_with(0, compressed.substr(4), true, true);
    expect_error(feed(reader, wire), 1002);
}

TEST(MessageReader, Rsv1OnControlFrameIsProtocolError) {
    auto reader = deflate_reader();
    expect_error(feed(reader, frame_with(9, "", true, true)), 1002);
}

TEST(MessageReader, ReservedOpcodesAreProtocolErrors) {
    for (const unsigned opcode : {3U, 4U, 5U, 6U, 7U, 11U, 12U, 13U, 14U, 15U}) {
        auto reader = plain_reader();
        expect_error(feed(reader, frame_with(opcode, "x")), 1002);
    }
}

TEST(MessageReader, ControlFrameOver125BytesIsProtocolError) {
    auto reader = plain_reader();
    expect_error(feed(reader, frame_with(9, std::string(126, 'p'))), 1002);
    auto ok = plain_reader();
    const Outcome outcome = feed(ok, frame_with(9, std::string(125, 'p')));
    ASSERT_FALSE(outcome.failed);
    EXPECT_EQ(outcome.messages.at(0).second.size(), 125U);
}

TEST(MessageReader, FragmentedControlFrameIsProtocolError) {
    auto reader = plain_reader();
    expect_error(feed(reader, frame_with(9, "ping", false)), 1002);
}

TEST(MessageReader, ContinuationWithoutMessageIsProtocolError) {
    auto reader = plain_reader();
    expect_error(feed(reader, frame_with(0, "orphan")), 1002);
}

TEST(MessageReader, NewDataFrameInsideFragmentedMessageIsProtocolError) {
    auto reader = plain_reader();
    expect_error(feed(reader, frame_with(1, "part", false) + frame_with(1, "new")), 1002);
    auto binary = plain_reader();
    expect_error(feed(binary, frame_with(2, "part", false) + frame_with(1, "new", false)), 1002);
}

TEST(MessageReader, SixtyFourBitLengthWithTopBitIsProtocolError) {
    std::string wire = "\x82\xFF";
    wire += std::string("\x80\x00\x00\x00\x00\x00\x00\x01", 8);
    wire += std::string("\x01\x02\x03\x04", 4);
    auto reader = MessageReader(std::numeric_limits<std::size_t>::max(), false, false);
    expect_error(feed(reader, wire), 1002);
}

TEST(MessageReader, ProtocolErrorsAreSeenFromTheFirstTwoBytes) {
    // An unmasked frame with a 64-bit length: the error comes before the length arrives.
    auto reader = plain_reader();
    std::string wire = "\x81\x7F";
    std::size_t consumed = 0;
    Message message;
    ProtocolError error;
    EXPECT_EQ(reader.read(wire, consumed, message, error), MessageReader::Status::error);
    EXPECT_EQ(error.close_code, 1002);
}

// ---- fragmentation and partial input -------------------------------------------------------

TEST(MessageReader, FragmentsWithInterleavedPing) {
    auto reader = plain_reader();
    const std::string wire = frame_with(1, "Hel", false) + frame_with(9, "are you there") +
                             frame_with(0, "lo, ", false) + frame_with(10, "pong") +
                             frame_with(0, "world");
    const Outcome outcome = feed(reader, wire);
    ASSERT_FALSE(outcome.failed) << outcome.error.reason;
    ASSERT_EQ(outcome.messages.size(), 3U);
    EXPECT_EQ(outcome.messages[0].first, Opcode::ping);
    EXPECT_EQ(outcome.messages[0].second, "are you there");
    EXPECT_EQ(outcome.messages[1].first, Opcode::pong);
    EXPECT_EQ(outcome.messages[2].first, Opcode::text);
    EXPECT_EQ(outcome.messages[2].second, "Hello, world");
}

TEST(MessageReader, EmptyFragments) {
    auto reader = plain_reader();
    const std::string wire =
        frame_with(2, "", false) + frame_with(0, "", false) + frame_with(0, "");
    const Outcome outcome = feed(reader, wire);
    ASSERT_FALSE(outcome.failed);
    ASSERT_EQ(outcome.messages.size(), 1U);
    EXPECT_EQ(outcome.messages[0].first, Opcode::binary);
    EXPECT_EQ(outcome.messages[0].second, "");
}

std::string mixed_stream() {
    test::ClientDeflater deflater;
    std::string wire;
    wire += client_frame(Opcode::text, "first");
    wire += frame_with(2, std::string(300, 'b'), false);
    wire += client_frame(Opcode::ping, "x");
    wire += frame_with(0, std::string(70000, 'c'));
    wire += client_frame(Opcode::text, text_of_size(200));
    wire += client_frame(Opcode::text, deflater.compress(text_of_size(5000)), true, true);
    const std::string compressed = deflater.compress("split compressed message");
    wire += frame_with(1, compressed.substr(0, 5), false, true);
    wire += client_frame(Opcode::pong, "");
    wire += frame_with(0, compressed.substr(5));
    wire += client_frame(Opcode::close, close_payload(1000, "bye"));
    return wire;
}

TEST(MessageReader, ByteByByteEqualsAllAtOnce) {
    const std::string wire = mixed_stream();
    auto whole_reader = deflate_reader();
    const Outcome whole = feed(whole_reader, wire);
    ASSERT_FALSE(whole.failed) << whole.error.reason;
    ASSERT_EQ(whole.messages.size(), 8U);
    EXPECT_EQ(whole.messages[3].second, text_of_size(200));
    EXPECT_EQ(whole.messages[4].second, text_of_size(5000));
    EXPECT_EQ(whole.messages[6].second, "split compressed message");
    EXPECT_EQ(whole.messages[7].first, Opcode::close);
    for (const std::size_t chunk : {1U, 2U, 3U, 7U, 13U, 100U, 4096U}) {
        auto reader = deflate_reader();
        const Outcome pieces = feed(reader, wire, chunk);
        ASSERT_FALSE(pieces.failed) << "chunk " << chunk << ": " << pieces.error.reason;
        EXPECT_EQ(pieces.messages, whole.messages) << "chunk " << chunk;
        EXPECT_EQ(pieces.leftover, 0U);
    }
}

TEST(MessageReader, RandomSplitsEqualAllAtOnce) {
    const std::string wire = mixed_stream();
    auto whole_reader = deflate_reader();
    const Outcome whole = feed(whole_reader, wire);
    std::mt19937 rng(99);
    for (int round = 0; round < 20; ++round) {
        auto reader = deflate_reader();
        Outcome outcome;
        std::string pending;
        std::size_t offset = 0;
        while (offset < wire.size()) {
            const std::size_t take = std::min<std::size_t>(1 + rng() % 2000, wire.size() - offset);
            pending.append(wire, offset, take);
            offset += take;
            for (;;) {
                std::size_t consumed = 0;
                Message message;
                ProtocolError error;
                const auto status = reader.read(pending, consumed, message, error);
                ASSERT_NE(status, MessageReader::Status::error) << error.reason;
                if (status == MessageReader::Status::message) {
                    outcome.messages.emplace_back(message.opcode, std::string(message.payload));
                }
                pending.erase(0, consumed);
                if (status == MessageReader::Status::need_more) {
                    // The caller never needs to hold more than a header or a control frame.
                    EXPECT_LT(pending.size(), 140U);
                    break;
                }
            }
        }
        EXPECT_EQ(outcome.messages, whole.messages);
    }
}

TEST(MessageReader, BytesNeededHint) {
    auto reader = plain_reader();
    const std::string wire = client_frame(Opcode::binary, std::string(1000, 'z'));
    std::string part = wire.substr(0, 3);  // 2 bytes + 1 of the 16-bit length
    std::size_t consumed = 0;
    Message message;
    ProtocolError error;
    ASSERT_EQ(reader.read(part, consumed, message, error), MessageReader::Status::need_more);
    EXPECT_EQ(consumed, 0U);
    EXPECT_EQ(reader.bytes_needed_hint(), 5U);  // 1 length byte + 4 key bytes
    part = wire.substr(0, 8 + 10);
    ASSERT_EQ(reader.read(part, consumed, message, error), MessageReader::Status::need_more);
    EXPECT_EQ(consumed, part.size());  // payload is taken as it arrives
    EXPECT_EQ(reader.bytes_needed_hint(), 990U);
    EXPECT_TRUE(reader.message_in_progress());
}

TEST(MessageReader, PartialControlFrameIsNotConsumed) {
    auto reader = plain_reader();
    const std::string wire = client_frame(Opcode::ping, "0123456789");
    std::string part = wire.substr(0, 10);
    std::size_t consumed = 0;
    Message message;
    ProtocolError error;
    ASSERT_EQ(reader.read(part, consumed, message, error), MessageReader::Status::need_more);
    EXPECT_EQ(consumed, 0U);
    EXPECT_EQ(reader.bytes_needed_hint(), wire.size() - 10);
}

// ---- limits (1009) -------------------------------------------------------------------------

TEST(MessageReader, DeclaredLengthOverLimitFailsBeforePayload) {
    auto reader = plain_reader(1000);
    const std::string wire = client_frame(Opcode::binary, std::string(1001, 'a'));
    std::string header = wire.substr(0, 8);  // header only
    std::size_t consumed = 0;
    Message message;
    ProtocolError error;
    ASSERT_EQ(reader.read(header, consumed, message, error), MessageReader::Status::error);
    EXPECT_EQ(error.close_code, 1009);
    EXPECT_EQ(reader.heap_bytes(), 0U);

    auto exact = plain_reader(1000);
    const Outcome ok = feed(exact, client_frame(Opcode::binary, std::string(1000, 'a')));
    ASSERT_FALSE(ok.failed);
}

TEST(MessageReader, HugeDeclaredLengthFailsWithoutAllocation) {
    std::string wire = "\x82\xFF";
    wire += std::string("\x00\x00\x01\x00\x00\x00\x00\x00", 8);  // 1 TiB
    wire += std::string("\x01\x02\x03\x04", 4);
    auto reader = plain_reader();
    expect_error(feed(reader, wire), 1009);
    EXPECT_EQ(reader.heap_bytes(), 0U);
}

TEST(MessageReader, AccumulatedFragmentsOverLimit) {
    auto reader = plain_reader(1000);
    const std::string wire = frame_with(2, std::string(600, 'a'), false) +
                             frame_with(0, std::string(300, 'b'), false) +
                             frame_with(0, std::string(101, 'c'));
    // The third frame header is enough to fail.
    const std::string upto = wire.substr(0, wire.size() - 101);
    expect_error(feed(reader, upto), 1009);

    auto ok = plain_reader(1000);
    const Outcome outcome = feed(
        ok, frame_with(2, std::string(600, 'a'), false) + frame_with(0, std::string(400, 'b')));
    ASSERT_FALSE(outcome.failed);
    EXPECT_EQ(outcome.messages.at(0).second.size(), 1000U);
}

TEST(MessageReader, LimitAppliesPerMessage) {
    auto reader = plain_reader(1000);
    std::string wire;
    for (int i = 0; i < 3; ++i) {
        wire += frame_with(2, std::string(600, 'a'), false) + frame_with(0, std::string(400, 'b'));
        wire += client_frame(Opcode::binary, std::string(1000, 'c'));
    }
    const Outcome outcome = feed(reader, wire);
    ASSERT_FALSE(outcome.failed) << outcome.error.reason;
    EXPECT_EQ(outcome.messages.size(), 6U);
}

TEST(MessageReader, DeclaredLengthDoesNotAllocateUpFront) {
    // A client announcing a big frame but sending little must not cost the server that much memory.
    auto reader = plain_reader(16 << 20);
    ASSERT_FALSE(feed(reader, frame_with(2, "x", false)).failed);  // make it a fragmented message
    const Outcome outcome = feed(reader, frame_with(0, std::string(8 << 20, 'a')).substr(0, 1014));
    ASSERT_FALSE(outcome.failed);
    EXPECT_LT(reader.heap_bytes(), 64U * 1024);
}

TEST(MessageReader, InflatedSizeOverLimit) {
    test::ClientDeflater deflater;
    const std::string compressed = deflater.compress(std::string(5000, 'a'));
    ASSERT_LT(compressed.size(), 100U);
    auto reader = deflate_reader(4096);
    expect_error(feed(reader, client_frame(Opcode::binary, compressed, true, true)), 1009);

    test::ClientDeflater again;
    auto exact = deflate_reader(5000);
    const Outcome ok = feed(
        exact, client_frame(Opcode::binary, again.compress(std::string(5000, 'a')), true, true));
    ASSERT_FALSE(ok.failed) << ok.error.reason;
    EXPECT_EQ(ok.messages.at(0).second, std::string(5000, 'a'));
}

TEST(MessageReader, DeflateBombStopsAtLimit) {
    // 64 MiB of zeros deflate to ~64 KiB; the reader must stop at its 1 MiB limit.
    const std::string zeros(64U << 20, '\0');
    test::ClientDeflater deflater;
    const std::string bomb = deflater.compress(zeros);
    ASSERT_LT(bomb.size(), 128U * 1024);
    auto reader = deflate_reader(1 << 20);
    const std::string wire = client_frame(Opcode::binary, bomb, true, true);
    std::string pending = wire;
    std::size_t consumed = 0;
    Message message;
    ProtocolError error;
    ASSERT_EQ(reader.read(pending, consumed, message, error), MessageReader::Status::error);
    EXPECT_EQ(error.close_code, 1009);
    // The message buffer never exceeds the limit (plus the byte that detects the overflow).
    EXPECT_LE(reader.heap_bytes(), (1U << 20) + 1 + 64 * 1024);
}

// ---- UTF-8 (1007) --------------------------------------------------------------------------

TEST(MessageReader, InvalidUtf8TextIs1007) {
    auto reader = plain_reader();
    expect_error(feed(reader, client_frame(Opcode::text, "bad \xC0\x80 overlong")), 1007);
    auto binary = plain_reader();
    EXPECT_FALSE(feed(binary, client_frame(Opcode::binary, "\xC0\x80")).failed);
}

TEST(MessageReader, Utf8SplitAcrossFragmentsIsValid) {
    // U+1F600 (F0 9F 98 80) split after each of its first three bytes.
    const std::string emoji = "\xF0\x9F\x98\x80";
    for (std::size_t cut = 1; cut < 4; ++cut) {
        auto reader = plain_reader();
        const std::string first = std::string("a").append(emoji, 0, cut);
        const std::string second = emoji.substr(cut).append("b");
        const Outcome outcome = feed(reader, frame_with(1, first, false) + frame_with(0, second));
        ASSERT_FALSE(outcome.failed) << cut;
        EXPECT_EQ(outcome.messages.at(0).second, std::string("a").append(emoji).append("b"));
    }
}

TEST(MessageReader, TruncatedSequenceAtMessageEndIs1007) {
    auto reader = plain_reader();
    expect_error(feed(reader, frame_with(1, "a\xE2\x82", false) + frame_with(0, "")), 1007);
    auto single = plain_reader();
    expect_error(feed(single, client_frame(Opcode::text, "a\xE2\x82")), 1007);
}

TEST(MessageReader, InvalidUtf8FailsFastOnFirstFragment) {
    auto reader = plain_reader();
    // The final fragment never arrives: the error comes from the first one.
    expect_error(feed(reader, frame_with(1, "ok\xFF", false)), 1007);
    auto surrogate = plain_reader();
    expect_error(feed(surrogate, frame_with(1, "\xED\xA0\x80", false)), 1007);
}

TEST(MessageReader, InvalidUtf8InCompressedTextIs1007) {
    test::ClientDeflater deflater;
    auto reader = deflate_reader();
    expect_error(feed(reader, client_frame(Opcode::text, deflater.compress("x\xF4\x90\x80\x80"),
                                           true, true)),
                 1007);
}

// ---- close frames --------------------------------------------------------------------------

TEST(MessageReader, CloseFrameWithOneBytePayloadIs1002) {
    auto reader = plain_reader();
    expect_error(feed(reader, client_frame(Opcode::close, "\x03")), 1002);
}

TEST(MessageReader, CloseFrameCodes) {
    for (const std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012,
                                     1013, 1014, 3000, 3999, 4000, 4999}) {
        auto reader = plain_reader();
        const Outcome outcome =
            feed(reader, client_frame(Opcode::close, close_payload(code, "ok")));
        ASSERT_FALSE(outcome.failed) << code;
        ASSERT_EQ(outcome.messages.size(), 1U);
        const ClosePayload close = parse_close_payload(outcome.messages[0].second);
        EXPECT_EQ(close.code, code);
        EXPECT_EQ(close.reason, "ok");
    }
    for (const std::uint16_t code :
         {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
        auto reader = plain_reader();
        expect_error(feed(reader, client_frame(Opcode::close, close_payload(code))), 1002);
    }
}

TEST(MessageReader, EmptyCloseFrame) {
    auto reader = plain_reader();
    const Outcome outcome = feed(reader, client_frame(Opcode::close, ""));
    ASSERT_FALSE(outcome.failed);
    EXPECT_EQ(parse_close_payload(outcome.messages.at(0).second).code, close_code::no_status);
}

TEST(MessageReader, CloseReasonMustBeUtf8) {
    auto reader = plain_reader();
    expect_error(feed(reader, client_frame(Opcode::close, close_payload(1000, "\xED\xBF\xBF"))),
                 1007);
}

// ---- permessage-deflate --------------------------------------------------------------------

TEST(MessageReader, Rfc7692HelloExamples) {
    // RFC 7692 §7.2.3.1/7.2.3.2: "Hello" compressed, then again with the shared sliding window.
    const std::string first("\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
    const std::string second("\xf2\x00\x11\x00\x00", 5);
    auto reader = deflate_reader();
    const Outcome outcome = feed(reader, client_frame(Opcode::text, first, true, true) +
                                             client_frame(Opcode::text, second, true, true));
    ASSERT_FALSE(outcome.failed) << outcome.error.reason;
    ASSERT_EQ(outcome.messages.size(), 2U);
    EXPECT_EQ(outcome.messages[0].second, "Hello");
    EXPECT_EQ(outcome.messages[1].second, "Hello");
}

TEST(MessageReader, Rfc7692FragmentedHello) {
    // RFC 7692 §7.2.3.1: the compressed "Hello" sent in two fragments.
    auto reader = deflate_reader();
    const Outcome outcome = feed(reader, frame_with(1, "\xf2\x48\xcd", false, true) +
                                             frame_with(0, std::string("\xc9\xc9\x07\x00", 4)));
    ASSERT_FALSE(outcome.failed) << outcome.error.reason;
    EXPECT_EQ(outcome.messages.at(0).second, "Hello");
}

TEST(MessageReader, FinalDeflateBlockIsAccepted) {
    // RFC 7692 §7.2.3.3: "Hello" in a BFINAL block followed by one 0x00 octet.
    const std::string rfc("\xf3\x48\xcd\xc9\xc9\x07\x00\x00", 8);
    // The same from zlib (Z_FINISH), once with the extra octet and once without it (lenient).
    test::ClientDeflater first;
    test::ClientDeflater second;
    const std::string a = first.compress("Hello again", Z_FINISH) + std::string(1, '\0');
    const std::string b = second.compress("Hello without the octet", Z_FINISH);
    for (const bool no_context_takeover : {false, true}) {
        auto reader = deflate_reader(kLimit, no_context_takeover);
        const Outcome outcome = feed(reader, client_frame(Opcode::text, rfc, true, true) +
                                                 client_frame(Opcode::text, a, true, true) +
                                                 client_frame(Opcode::text, b, true, true) +
                                                 client_frame(Opcode::text, rfc, true, true));
        ASSERT_FALSE(outcome.failed) << outcome.error.reason;
        ASSERT_EQ(outcome.messages.size(), 4U);
        EXPECT_EQ(outcome.messages[0].second, "Hello");
        EXPECT_EQ(outcome.messages[1].second, "Hello again");
        EXPECT_EQ(outcome.messages[2].second, "Hello without the octet");
        EXPECT_EQ(outcome.messages[3].second, "Hello");
    }
}

TEST(MessageReader, CompressedRoundTripFromMessageDeflater) {
    MessageDeflater deflater;
    for (const std::size_t size : {0U, 1U, 100U, 5000U, 70000U, 300000U}) {
        const std::string text = text_of_size(size);
        const std::string server_frame = deflater.encode_compressed_frame(Opcode::text, text);
        ASSERT_EQ(static_cast<unsigned char>(server_frame[0]), 0xC1);  // FIN + RSV1 + text
        auto reader = deflate_reader();
        const Outcome outcome = feed(reader, test::mask_server_frame(server_frame));
        ASSERT_FALSE(outcome.failed) << outcome.error.reason;
        ASSERT_EQ(outcome.messages.size(), 1U);
        EXPECT_EQ(outcome.messages[0].first, Opcode::text);
        EXPECT_EQ(outcome.messages[0].second, text) << size;
    }
}

TEST(MessageReader, ContextTakeoverAcrossMessages) {
    test::ClientDeflater deflater;  // one stream kept across messages
    const std::string message = "{\"type\":\"chat\",\"room\":\"general\",\"text\":\"hello there\"}";
    const std::string first = deflater.compress(message);
    const std::string second = deflater.compress(message);
    EXPECT_LT(second.size(), first.size());  // the second refers back to the first
    auto reader = deflate_reader();
    const Outcome outcome = feed(reader, client_frame(Opcode::text, first, true, true) +
                                             client_frame(Opcode::text, second, true, true));
    ASSERT_FALSE(outcome.failed) << outcome.error.reason;
    ASSERT_EQ(outcome.messages.size(), 2U);
    EXPECT_EQ(outcome.messages[0].second, message);
    EXPECT_EQ(outcome.messages[1].second, message);
    EXPECT_GT(reader.heap_bytes(), 0U);  // the inflater (window) is kept

    // Without context takeover, the reader starts each message from an empty window: the second
    // message, which refers back, cannot be decoded.
    auto fresh = deflate_reader(kLimit, true);
    expect_error(feed(fresh, client_frame(Opcode::text, first, true, true) +
                                 client_frame(Opcode::text, second, true, true)),
                 1007);
}

TEST(MessageReader, NoContextTakeoverReleasesInflater) {
    test::ClientDeflater deflater(15, true);
    auto reader = deflate_reader(kLimit, true);
    for (int i = 0; i < 3; ++i) {
        const Outcome outcome = feed(
            reader, client_frame(Opcode::text, deflater.compress(text_of_size(20000)), true, true));
        ASSERT_FALSE(outcome.failed) << outcome.error.reason;
        EXPECT_EQ(outcome.messages.at(0).second, text_of_size(20000));
        // feed() called read() until need_more: message buffer and inflater are gone.
        EXPECT_EQ(reader.heap_bytes(), 0U);
    }
}

TEST(MessageReader, BufferReleasedAfterLargeFragmentedMessage) {
    auto reader = plain_reader();
    const Outcome outcome = feed(reader, frame_with(2, std::string(200000, 'a'), false) +
                                             frame_with(0, std::string(200000, 'b')));
    ASSERT_FALSE(outcome.failed);
    EXPECT_EQ(outcome.messages.at(0).second.size(), 400000U);
    EXPECT_EQ(reader.heap_bytes(), 0U);
}

TEST(MessageReader, SmallClientWindow) {
    test::ClientDeflater deflater(9);
    const std::string text = text_of_size(10000);
    MessageReader reader(kLimit, true, false, 9);
    const Outcome outcome =
        feed(reader, client_frame(Opcode::text, deflater.compress(text), true, true));
    ASSERT_FALSE(outcome.failed) << outcome.error.reason;
    EXPECT_EQ(outcome.messages.at(0).second, text);
}

TEST(MessageReader, InvalidCompressedDataIs1007) {
    auto reader = deflate_reader();
    // BTYPE 11 (reserved) in the first block header.
    expect_error(feed(reader, client_frame(Opcode::binary, "\xff\xff\xff", true, true)), 1007);
}

TEST(MessageReader, EmptyCompressedMessage) {
    auto reader = deflate_reader();
    const Outcome outcome =
        feed(reader, client_frame(Opcode::text, std::string(1, '\0'), true, true) +
                         client_frame(Opcode::text, "", true, true));
    ASSERT_FALSE(outcome.failed) << outcome.error.reason;
    ASSERT_EQ(outcome.messages.size(), 2U);
    EXPECT_EQ(outcome.messages[0].second, "");
    EXPECT_EQ(outcome.messages[1].second, "");
}

TEST(MessageReader, UncompressedMessagesStillAllowedWithDeflate) {
    auto reader = deflate_reader();
    const Outcome outcome = feed(reader, client_frame(Opcode::text, "plain"));
    ASSERT_FALSE(outcome.failed);
    EXPECT_EQ(outcome.messages.at(0).second, "plain");
}

TEST(MessageReader, MoveKeepsState) {
    auto reader = plain_reader();
    ASSERT_FALSE(feed(reader, frame_with(1, "Hel", false)).failed);
    MessageReader moved = std::move(reader);
    const Outcome outcome = feed(moved, frame_with(0, "lo"));
    ASSERT_FALSE(outcome.failed);
    EXPECT_EQ(outcome.messages.at(0).second, "Hello");
}

}  // namespace
}  // namespace huddle::ws
