#include "net/ws/frame_writer.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "net/ws/utf8.hpp"

namespace huddle::ws {

std::size_t write_frame_header(char* out, Opcode opcode, std::size_t payload_size, bool fin,
                               bool compressed) noexcept {
    auto* p = reinterpret_cast<unsigned char*>(out);
    p[0] = static_cast<unsigned char>((fin ? 0x80U : 0U) | (compressed ? 0x40U : 0U) |
                                      static_cast<unsigned>(opcode));
    if (payload_size <= 125) {
        p[1] = static_cast<unsigned char>(payload_size);
        return 2;
    }
    if (payload_size <= 0xFFFF) {
        p[1] = 126;
        p[2] = static_cast<unsigned char>(payload_size >> 8);
        p[3] = static_cast<unsigned char>(payload_size);
        return 4;
    }
    p[1] = 127;
    const auto size = static_cast<std::uint64_t>(payload_size);
    for (int i = 0; i < 8; ++i) {
        p[2 + i] = static_cast<unsigned char>(size >> (56 - 8 * i));
    }
    return 10;
}

std::string encode_frame(Opcode opcode, std::string_view payload) {
    return encode_frame(opcode, payload, {});
}

std::string encode_frame(Opcode opcode, std::string_view payload_head,
                         std::string_view payload_rest) {
    const std::size_t payload = payload_head.size() + payload_rest.size();
    const std::size_t header = frame_header_size(payload);
    std::string frame(header + payload, '\0');
    write_frame_header(frame.data(), opcode, payload);
    if (!payload_head.empty()) {
        std::memcpy(frame.data() + header, payload_head.data(), payload_head.size());
    }
    if (!payload_rest.empty()) {
        std::memcpy(frame.data() + header + payload_head.size(), payload_rest.data(),
                    payload_rest.size());
    }
    return frame;
}

std::string encode_close_frame(std::uint16_t code, std::string_view reason) {
    if (code == 0 || code == close_code::no_status) {
        return encode_frame(Opcode::close, {});
    }
    constexpr std::size_t kMaxReason = kMaxControlPayload - 2;
    if (reason.size() > kMaxReason) {
        std::size_t cut = kMaxReason;
        // Back up to the first byte of the code point that straddles the limit.
        while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0U) == 0x80U) {
            --cut;
        }
        reason = reason.substr(0, cut);
    }
    if (!is_valid_utf8(reason)) {
        reason = {};
    }
    char payload[kMaxControlPayload];
    payload[0] = static_cast<char>(code >> 8);
    payload[1] = static_cast<char>(code & 0xFFU);
    if (!reason.empty()) {
        std::memcpy(payload + 2, reason.data(), reason.size());
    }
    return encode_frame(Opcode::close, std::string_view(payload, 2 + reason.size()));
}

struct MessageDeflater::Stream {
    z_stream z{};
    ~Stream() { deflateEnd(&z); }
};

MessageDeflater::MessageDeflater(int level, int window_bits, int mem_level)
    : stream_(std::make_unique<Stream>()), window_bits_(window_bits) {
    if (window_bits < 9 || window_bits > 15) {
        throw std::invalid_argument("MessageDeflater: window_bits must be 9..15");
    }
    // Negative window bits: raw DEFLATE, no zlib header or trailer (RFC 7692 §7.2.1).
    if (deflateInit2(&stream_->z, level, Z_DEFLATED, -window_bits, mem_level, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
        // deflateInit2 left nothing to free; keep ~Stream's deflateEnd harmless.
        stream_->z.state = nullptr;
        throw std::runtime_error("MessageDeflater: deflateInit2 failed");
    }
}

MessageDeflater::~MessageDeflater() = default;
MessageDeflater::MessageDeflater(MessageDeflater&&) noexcept = default;
MessageDeflater& MessageDeflater::operator=(MessageDeflater&&) noexcept = default;

std::size_t MessageDeflater::compress_into(std::string& out, std::size_t offset,
                                           std::string_view payload) {
    if (!stream_) {
        throw std::logic_error("MessageDeflater: used after move");
    }
    if (payload.size() > (std::numeric_limits<uInt>::max() >> 1)) {
        throw std::length_error("MessageDeflater: message too large");
    }
    z_stream& z = stream_->z;
    deflateReset(&z);  // every message starts with an empty window (no context takeover)

    // Room for the worst case plus the sync flush marker; grown below if zlib still wants more.
    out.resize(offset + deflateBound(&z, static_cast<uLong>(payload.size())) + 16);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
    z.avail_in = static_cast<uInt>(payload.size());
    std::size_t produced = 0;
    for (;;) {
        std::size_t room = out.size() - offset - produced;
        if (room < 64) {
            out.resize(out.size() + out.size() / 2 + 1024);
            room = out.size() - offset - produced;
        }
        const auto avail = static_cast<uInt>(std::min<std::size_t>(room, 1U << 30));
        z.next_out = reinterpret_cast<Bytef*>(out.data() + offset + produced);
        z.avail_out = avail;
        const int rc = deflate(&z, Z_SYNC_FLUSH);
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            throw std::runtime_error("MessageDeflater: deflate failed");
        }
        produced += avail - z.avail_out;
        // With Z_SYNC_FLUSH, all output is out once deflate returns with output space left over.
        if (z.avail_in == 0 && z.avail_out != 0) {
            break;
        }
    }
    // A sync flush ends with an empty stored block 00 00 ff ff, which the receiver appends back.
    static constexpr unsigned char kTail[4] = {0x00, 0x00, 0xFF, 0xFF};
    if (produced < 4 || std::memcmp(out.data() + offset + produced - 4, kTail, 4) != 0) {
        throw std::runtime_error("MessageDeflater: missing sync flush marker");
    }
    produced -= 4;
    out.resize(offset + produced);
    return produced;
}

std::string MessageDeflater::compress(std::string_view payload) {
    std::string out;
    compress_into(out, 0, payload);
    return out;
}

std::string MessageDeflater::encode_compressed_frame(Opcode opcode, std::string_view payload) {
    std::string frame;
    const std::size_t size = compress_into(frame, kMaxServerHeaderSize, payload);
    const std::size_t header = frame_header_size(size);
    const std::size_t start = kMaxServerHeaderSize - header;
    write_frame_header(frame.data() + start, opcode, size, true, true);
    frame.erase(0, start);
    return frame;
}

}  // namespace huddle::ws
