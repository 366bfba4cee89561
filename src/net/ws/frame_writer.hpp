// Server-to-client frames (RFC 6455 §5.2, unmasked) and permessage-deflate compression of a whole
// message (RFC 7692 §7.2.1). A published message is encoded once; the resulting bytes can be
// written unchanged to every subscriber.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/ws/opcode.hpp"

namespace huddle::ws {

// The largest header of a server frame (2 + 8-byte extended length, no mask).
inline constexpr std::size_t kMaxServerHeaderSize = 10;
// The largest control frame payload (RFC 6455 §5.5).
inline constexpr std::size_t kMaxControlPayload = 125;

// 2, 4 or 10: the size of an unmasked frame header for a payload of `payload_size` bytes.
constexpr std::size_t frame_header_size(std::size_t payload_size) noexcept {
    if (payload_size <= 125) {
        return 2;
    }
    if (payload_size <= 0xFFFF) {
        return 4;
    }
    return 10;
}

// Writes an unmasked frame header to `out` (room for kMaxServerHeaderSize bytes) and returns its
// size. `compressed` sets RSV1 (permessage-deflate; only on the first frame of a data message).
std::size_t write_frame_header(char* out, Opcode opcode, std::size_t payload_size, bool fin = true,
                               bool compressed = false) noexcept;

// A whole unfragmented frame: header + payload in one string.
std::string encode_frame(Opcode opcode, std::string_view payload);
// The same with the payload given in two parts (e.g. a message's own header, then its body),
// joined in the frame's one allocation.
std::string encode_frame(Opcode opcode, std::string_view payload_head,
                         std::string_view payload_rest);

// A close frame with `code` and `reason`. The reason is truncated to fit the 125-byte control frame
// payload without cutting a UTF-8 sequence; a reason that is not valid UTF-8 is dropped. Codes 0
// and 1005 (no status) produce a close frame with an empty payload.
std::string encode_close_frame(std::uint16_t code, std::string_view reason);

// Compresses whole messages for permessage-deflate. Every message starts from an empty window
// (server_no_context_takeover), so one compressed frame is valid for every client that negotiated
// the extension, whatever it received before. Keeps one zlib deflate stream (about 256 KiB with the
// defaults) that is reset between messages: use one per thread, not one per connection.
class MessageDeflater {
  public:
    // `level`: zlib level 0-9 (or -1, zlib's default). `window_bits`: 9-15, must not exceed the
    // server_max_window_bits agreed with the client. `mem_level`: zlib memLevel 1-9.
    explicit MessageDeflater(int level = 6, int window_bits = 15, int mem_level = 8);
    ~MessageDeflater();
    MessageDeflater(MessageDeflater&&) noexcept;
    MessageDeflater& operator=(MessageDeflater&&) noexcept;
    MessageDeflater(const MessageDeflater&) = delete;
    MessageDeflater& operator=(const MessageDeflater&) = delete;

    // One unfragmented frame with RSV1 set whose payload is the message compressed with a sync
    // flush and the trailing 00 00 ff ff removed (RFC 7692 §7.2.1). Throws std::bad_alloc, or
    // std::runtime_error if zlib fails.
    std::string encode_compressed_frame(Opcode opcode, std::string_view payload);

    // The compressed payload alone (no frame header), for callers that frame it themselves.
    std::string compress(std::string_view payload);

    int window_bits() const noexcept { return window_bits_; }

  private:
    struct Stream;
    // Compresses `payload` into `out` starting at offset `offset`; returns the compressed size.
    std::size_t compress_into(std::string& out, std::size_t offset, std::string_view payload);

    std::unique_ptr<Stream> stream_;
    int window_bits_;
};

}  // namespace huddle::ws
