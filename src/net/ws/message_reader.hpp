// Incremental parser of client-to-server WebSocket frames (RFC 6455 §5) with permessage-deflate
// (RFC 7692). Socket-free: the caller feeds received bytes and gets whole messages back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "net/ws/opcode.hpp"

namespace huddle::ws {

// A complete message: text or binary (reassembled from fragments and inflated), or one control
// frame (ping, pong, close; the close payload is still encoded: see parse_close_payload).
struct Message {
    Opcode opcode = Opcode::text;
    std::string_view payload;
};

// Why the connection must be failed: send a close frame with `close_code` (and `reason`, a static
// string) and close.
struct ProtocolError {
    std::uint16_t close_code = 0;
    std::string_view reason;
};

// The decoded payload of a close frame the reader returned (already validated): code 1005 (no
// status) when the payload is empty.
struct ClosePayload {
    std::uint16_t code = close_code::no_status;
    std::string_view reason;
};
ClosePayload parse_close_payload(std::string_view payload) noexcept;

class MessageReader {
  public:
    // `max_message_bytes` bounds a message's payload: the bytes on the wire and, for compressed
    // messages, the inflated bytes too. `permessage_deflate`: the extension was negotiated (RSV1
    // allowed). `client_no_context_takeover`: agreed, so the inflater is freed after each message.
    // `client_window_bits`: the agreed client_max_window_bits (8..15; the inflater uses at least 9,
    // and its memory is 2^bits bytes plus ~7 KiB while it exists). With fewer than 15 bits zlib may
    // let through a back-reference beyond the agreed window when the referenced bytes came in the
    // same read() call: harmless leniency towards a misbehaving client.
    MessageReader(std::size_t max_message_bytes, bool permessage_deflate,
                  bool client_no_context_takeover, int client_window_bits = 15);
    ~MessageReader();
    MessageReader(MessageReader&&) noexcept;
    MessageReader& operator=(MessageReader&&) noexcept;
    MessageReader(const MessageReader&) = delete;
    MessageReader& operator=(const MessageReader&) = delete;

    enum class Status { need_more, message, error };

    // Parses frames from the front of `data` (the bytes received and not yet consumed; unmasking is
    // done in place, so they are modified). Sets `consumed` to the number of bytes at the front of
    // `data` the caller must drop before the next call (once it is done with `out`). Returns:
    //  - message: `out` is set; its payload points into `data` (an unfragmented, uncompressed frame
    //    or a control frame: no copy) or into the reader (fragmented or compressed messages). It
    //    stays valid until the next read() call, as long as the caller keeps those bytes of `data`.
    //  - need_more: everything usable was consumed; call again when more bytes arrive. The payload
    //    of a data frame is consumed as it arrives, so the caller only ever holds at most one
    //    incomplete frame header or control frame (< 140 bytes) between calls.
    //  - error: `error` says how to close. The reader is then dead: further calls fail the same
    //  way.
    // At most one message per call: call again until need_more (this also releases the memory of
    // the previous message).
    Status read(std::span<char> data, std::size_t& consumed, Message& out, ProtocolError& error);

    // After need_more: the bytes still missing to complete the current frame header, control frame
    // or data frame (a hint for buffer sizing; data frame payload need not be buffered).
    std::size_t bytes_needed_hint() const noexcept;

    // True while a fragmented or partly received data message is being assembled.
    bool message_in_progress() const noexcept { return message_opcode_ != 0; }

    // Heap memory the reader holds now (message buffer capacity; the inflater counts as 1 byte per
    // window byte plus zlib's fixed state, approximately). For tests and metrics.
    std::size_t heap_bytes() const noexcept;

  private:
    struct Inflater;
    enum Failure : std::uint8_t;

    Status fail(Failure failure, ProtocolError& error) noexcept;
    Failure append_payload(const unsigned char* data, std::size_t size);
    Failure inflate_payload(const unsigned char* data, std::size_t size);
    Failure finish_message();
    void release_buffer() noexcept;

    std::string buffer_;                  // fragmented or inflated message being assembled
    std::unique_ptr<Inflater> inflater_;  // created with the first compressed message
    std::size_t max_message_bytes_;
    std::uint64_t frame_remaining_ = 0;  // payload bytes of the current data frame still to come
    std::size_t message_bytes_ = 0;      // payload bytes of the current message's frames (on wire)
    std::size_t out_size_ = 0;           // inflated bytes in buffer_ (compressed messages)
    std::uint8_t mask_[4] = {};
    std::uint8_t mask_pos_ = 0;        // offset into mask_ of the next payload byte
    std::uint8_t utf8_state_ = 0;      // Utf8Validator state of the text message being assembled
    std::uint8_t message_opcode_ = 0;  // 0 (none), 1 (text) or 2 (binary) while assembling
    std::uint8_t need_ = 2;            // bytes missing of a header or control frame (need_more)
    std::uint8_t window_bits_;
    std::uint8_t failure_ = 0;
    bool deflate_ : 1;
    bool no_context_takeover_ : 1;
    bool in_frame_ : 1 = false;         // inside the payload of a data frame
    bool frame_fin_ : 1 = false;        // the current data frame ends the message
    bool compressed_ : 1 = false;       // the message being assembled has RSV1
    bool release_pending_ : 1 = false;  // buffer_ held the last returned message
};

}  // namespace huddle::ws
