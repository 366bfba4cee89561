// libFuzzer target for huddle::ws::MessageReader.
//
// Input: byte 0 chooses the options, byte 1 the split pattern, the rest is the client's byte
// stream. The stream is fed once whole and once split into chunks; both runs must agree, and every
// message must respect the reader's guarantees (limits, UTF-8, control frame size, bounded input
// kept by the caller). With bit 7 of byte 0 set, every data message also makes a round trip through
// MessageDeflater and a second reader.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "net/ws/frame_writer.hpp"
#include "net/ws/message_reader.hpp"
#include "net/ws/utf8.hpp"

namespace {

using huddle::ws::Message;
using huddle::ws::MessageReader;
using huddle::ws::Opcode;
using huddle::ws::ProtocolError;

void check(bool condition) {
    if (!condition) {
        __builtin_trap();
    }
}

struct Options {
    bool deflate;
    bool no_context_takeover;
    std::size_t limit;
    int window_bits;
    bool round_trip;
};

struct Outcome {
    std::vector<std::pair<Opcode, std::string>> messages;
    std::uint16_t error = 0;
};

MessageReader make_reader(const Options& options) {
    return MessageReader(options.limit, options.deflate, options.no_context_takeover,
                         options.window_bits);
}

void check_message(const Options& options, const Message& message) {
    if (huddle::ws::is_control(message.opcode)) {
        check(message.payload.size() <= 125);
    } else {
        check(message.opcode == Opcode::text || message.opcode == Opcode::binary);
        check(message.payload.size() <= options.limit);
    }
    if (message.opcode == Opcode::text) {
        check(huddle::ws::is_valid_utf8(message.payload));
    }
}

// Masks a server frame as a client would, with a fixed key.
std::string to_client_frame(const std::string& frame) {
    const unsigned code = static_cast<unsigned char>(frame[1]) & 0x7FU;
    const std::size_t header = code == 126 ? 4 : (code == 127 ? 10 : 2);
    static constexpr unsigned char kKey[4] = {0xA1, 0x5C, 0x03, 0xFE};
    std::string out = frame.substr(0, header);
    out[1] = static_cast<char>(out[1] | 0x80);
    out.append(reinterpret_cast<const char*>(kKey), 4);
    for (std::size_t i = header; i < frame.size(); ++i) {
        out.push_back(static_cast<char>(frame[i] ^ kKey[(i - header) & 3U]));
    }
    return out;
}

void round_trip(const Options& options, const Message& message) {
    static huddle::ws::MessageDeflater deflater;
    std::string wire =
        to_client_frame(deflater.encode_compressed_frame(message.opcode, message.payload));
    // Incompressible payloads grow a little when deflated: the frame on the wire may exceed a
    // limit that the payload itself fits, and the reader rightly refuses that (1009).
    MessageReader reader(std::max(options.limit, wire.size()), true, false);
    std::size_t consumed = 0;
    Message out;
    ProtocolError error;
    check(reader.read(wire, consumed, out, error) == MessageReader::Status::message);
    check(consumed == wire.size());
    check(out.opcode == message.opcode && out.payload == message.payload);
}

Outcome run(const Options& options, const std::uint8_t* data, std::size_t size,
            std::uint32_t split_seed, bool split) {
    MessageReader reader = make_reader(options);
    Outcome outcome;
    std::string pending;
    std::size_t offset = 0;
    std::uint32_t state = split_seed * 2654435761U + 1;
    const std::uint32_t max_chunk = (split_seed & 0x80U) != 0 ? 8 : 600;
    do {
        std::size_t take = size - offset;
        if (split) {
            state = state * 1103515245U + 12345U;
            take = std::min<std::size_t>(take, 1 + (state >> 16) % max_chunk);
        }
        pending.append(reinterpret_cast<const char*>(data) + offset, take);
        offset += take;
        for (;;) {
            std::size_t consumed = 0;
            Message message;
            ProtocolError error;
            const auto status = reader.read(pending, consumed, message, error);
            check(consumed <= pending.size());
            if (status == MessageReader::Status::error) {
                check(error.close_code != 0 && !error.reason.empty());
                outcome.error = error.close_code;
                // The reader stays failed.
                ProtocolError again;
                check(reader.read(pending, consumed, message, again) ==
                          MessageReader::Status::error &&
                      again.close_code == error.close_code);
                return outcome;
            }
            if (status == MessageReader::Status::message) {
                check_message(options, message);
                if (options.round_trip && !huddle::ws::is_control(message.opcode)) {
                    round_trip(options, message);
                }
                outcome.messages.emplace_back(message.opcode, std::string(message.payload));
            }
            pending.erase(0, consumed);
            if (status == MessageReader::Status::need_more) {
                // Data payload is consumed as it arrives: only a header or a control frame waits.
                check(pending.size() < 140);
                check(reader.bytes_needed_hint() >= 1);
                break;
            }
        }
    } while (offset < size);
    return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) {
        return 0;
    }
    static constexpr std::size_t kLimits[4] = {16, 1024, 65536, 1 << 20};
    Options options{};
    options.deflate = (data[0] & 0x01U) != 0;
    options.no_context_takeover = (data[0] & 0x02U) != 0;
    options.limit = kLimits[(data[0] >> 2) & 0x03U];
    const unsigned window = (data[0] >> 4) & 0x07U;
    options.window_bits = window < 2 ? 15 : static_cast<int>(7 + window);  // 15, or 9..14
    options.round_trip = (data[0] & 0x80U) != 0;
    const std::uint32_t split_seed = data[1];
    data += 2;
    size -= 2;

    const Outcome whole = run(options, data, size, split_seed, false);
    const Outcome pieces = run(options, data, size, split_seed, true);
    if (options.deflate && options.window_bits < 15) {
        // zlib checks DEFLATE distances against its window plus the output of the current call, so
        // a client that refers back further than the agreed window (invalid) may be caught or not
        // depending on where the input was cut. Only a 15-bit window (the DEFLATE maximum) makes
        // the outcome independent of the cuts.
        return 0;
    }
    check(whole.messages == pieces.messages);
    if (whole.error != pieces.error) {
        // With a compressed message, where the input is cut decides which of two problems zlib
        // reaches first: output over the limit (1009), or bad data / invalid UTF-8 (1007).
        const auto inflate_error = [](std::uint16_t code) { return code == 1007 || code == 1009; };
        check(options.deflate && inflate_error(whole.error) && inflate_error(pieces.error));
    }
    return 0;
}
