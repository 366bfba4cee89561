// Client-side helpers for the WebSocket codec tests: masked client frames, a feeding loop that
// behaves like a session (keeps the unconsumed bytes, appends new ones), and zlib streams standing
// in for a client's permessage-deflate.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "net/ws/message_reader.hpp"
#include "net/ws/opcode.hpp"

namespace huddle::ws::test {

inline std::uint32_t random_key() {
    static std::mt19937 rng(12345);
    return static_cast<std::uint32_t>(rng());
}

// Frame header bytes as a client would write them (masked unless `masked` is false), with an
// explicit 7-bit length code so tests can craft invalid headers.
struct FrameSpec {
    unsigned opcode = 1;
    bool fin = true;
    bool rsv1 = false;
    bool rsv2 = false;
    bool rsv3 = false;
    bool masked = true;
    std::uint32_t key = 0x37FA213D;
};

inline std::string client_frame(const FrameSpec& spec, std::string_view payload) {
    std::string out;
    out.push_back(static_cast<char>((spec.fin ? 0x80 : 0) | (spec.rsv1 ? 0x40 : 0) |
                                    (spec.rsv2 ? 0x20 : 0) | (spec.rsv3 ? 0x10 : 0) |
                                    (spec.opcode & 0x0F)));
    const char mask_bit = spec.masked ? static_cast<char>(0x80) : 0;
    const std::uint64_t size = payload.size();
    if (size <= 125) {
        out.push_back(static_cast<char>(mask_bit | static_cast<char>(size)));
    } else if (size <= 0xFFFF) {
        out.push_back(static_cast<char>(mask_bit | 126));
        out.push_back(static_cast<char>(size >> 8));
        out.push_back(static_cast<char>(size & 0xFF));
    } else {
        out.push_back(static_cast<char>(mask_bit | 127));
        for (int i = 7; i >= 0; --i) {
            out.push_back(static_cast<char>((size >> (8 * i)) & 0xFF));
        }
    }
    unsigned char key[4] = {
        static_cast<unsigned char>(spec.key >> 24), static_cast<unsigned char>(spec.key >> 16),
        static_cast<unsigned char>(spec.key >> 8), static_cast<unsigned char>(spec.key)};
    if (spec.masked) {
        out.append(reinterpret_cast<const char*>(key), 4);
    }
    const std::size_t start = out.size();
    out.append(payload);
    if (spec.masked) {
        for (std::size_t i = 0; i < payload.size(); ++i) {
            out[start + i] = static_cast<char>(out[start + i] ^ key[i % 4]);
        }
    }
    return out;
}

inline std::string client_frame(Opcode opcode, std::string_view payload, bool fin = true,
                                bool rsv1 = false) {
    FrameSpec spec;
    spec.opcode = static_cast<unsigned>(opcode);
    spec.fin = fin;
    spec.rsv1 = rsv1;
    spec.key = random_key();
    return client_frame(spec, payload);
}

// Turns a server frame (unmasked) into the same frame sent by a client: mask bit, key, masked
// payload.
inline std::string mask_server_frame(std::string_view frame, std::uint32_t key = random_key()) {
    if (frame.size() < 2 || (static_cast<unsigned char>(frame[1]) & 0x80) != 0) {
        throw std::invalid_argument("not an unmasked frame");
    }
    const unsigned code = static_cast<unsigned char>(frame[1]) & 0x7F;
    const std::size_t header = 2 + (code == 126 ? 2 : code == 127 ? 8 : 0);
    FrameSpec spec;
    const auto b0 = static_cast<unsigned char>(frame[0]);
    spec.opcode = b0 & 0x0F;
    spec.fin = (b0 & 0x80) != 0;
    spec.rsv1 = (b0 & 0x40) != 0;
    spec.key = key;
    return client_frame(spec, frame.substr(header));
}

// What a sequence of read() calls produced.
struct Outcome {
    std::vector<std::pair<Opcode, std::string>> messages;
    bool failed = false;
    ProtocolError error;
    std::size_t leftover = 0;  // bytes the caller still holds at the end
};

// Feeds `wire` to `reader` in chunks of `chunk` bytes (0: all at once), like a session does: keeps
// the bytes not consumed, appends the next chunk, and calls read() until need_more or error.
inline Outcome feed(MessageReader& reader, std::string_view wire, std::size_t chunk = 0) {
    Outcome outcome;
    std::string pending;
    std::size_t offset = 0;
    if (chunk == 0) {
        chunk = wire.size();
    }
    do {
        const std::size_t take = std::min(chunk, wire.size() - offset);
        pending.append(wire.substr(offset, take));
        offset += take;
        for (;;) {
            std::size_t consumed = 0;
            Message message;
            ProtocolError error;
            const auto status = reader.read(pending, consumed, message, error);
            if (consumed > pending.size()) {
                throw std::logic_error("consumed more than given");
            }
            if (status == MessageReader::Status::error) {
                outcome.failed = true;
                outcome.error = error;
                outcome.leftover = pending.size();
                return outcome;
            }
            if (status == MessageReader::Status::message) {
                outcome.messages.emplace_back(message.opcode, std::string(message.payload));
            }
            pending.erase(0, consumed);
            if (status == MessageReader::Status::need_more) {
                break;
            }
        }
    } while (offset < wire.size());
    outcome.leftover = pending.size();
    return outcome;
}

// Raw DEFLATE inflate of a permessage-deflate payload (appends 00 00 ff ff), as a client does.
inline std::string inflate_message(std::string_view compressed, int window_bits = 15) {
    z_stream z{};
    if (inflateInit2(&z, -window_bits) != Z_OK) {
        throw std::runtime_error("inflateInit2");
    }
    std::string input(compressed);
    input.append("\x00\x00\xff\xff", 4);
    std::string out;
    z.next_in = reinterpret_cast<Bytef*>(input.data());
    z.avail_in = static_cast<uInt>(input.size());
    char buffer[4096];
    int rc = Z_OK;
    do {
        z.next_out = reinterpret_cast<Bytef*>(buffer);
        z.avail_out = sizeof buffer;
        rc = inflate(&z, Z_SYNC_FLUSH);
        if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) {
            inflateEnd(&z);
            throw std::runtime_error("inflate failed");
        }
        out.append(buffer, sizeof buffer - z.avail_out);
    } while (z.avail_out == 0);
    inflateEnd(&z);
    return out;
}

// A client's compressor: one raw DEFLATE stream kept across messages (context takeover), each
// message ended with a sync flush whose 00 00 ff ff is removed.
class ClientDeflater {
  public:
    explicit ClientDeflater(int window_bits = 15, bool no_context_takeover = false)
        : no_context_takeover_(no_context_takeover) {
        if (deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -window_bits, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            throw std::runtime_error("deflateInit2");
        }
    }
    ~ClientDeflater() { deflateEnd(&z_); }
    ClientDeflater(const ClientDeflater&) = delete;
    ClientDeflater& operator=(const ClientDeflater&) = delete;

    std::string compress(std::string_view message, int flush = Z_SYNC_FLUSH) {
        if (no_context_takeover_) {
            deflateReset(&z_);
        }
        std::string out;
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
        z_.avail_in = static_cast<uInt>(message.size());
        char buffer[4096];
        do {
            z_.next_out = reinterpret_cast<Bytef*>(buffer);
            z_.avail_out = sizeof buffer;
            const int rc = deflate(&z_, flush);
            if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) {
                throw std::runtime_error("deflate failed");
            }
            out.append(buffer, sizeof buffer - z_.avail_out);
        } while (z_.avail_out == 0 || z_.avail_in != 0);
        if (flush == Z_SYNC_FLUSH) {
            if (out.size() < 4 || out.compare(out.size() - 4, 4, "\x00\x00\xff\xff", 4) != 0) {
                throw std::runtime_error("no sync flush marker");
            }
            out.resize(out.size() - 4);
        }
        return out;
    }

  private:
    z_stream z_{};
    bool no_context_takeover_;
};

}  // namespace huddle::ws::test
