#include "net/ws/message_reader.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <vector>

#include "net/ws/utf8.hpp"

namespace huddle::ws {

enum MessageReader::Failure : std::uint8_t {
    kNone = 0,
    kUnmasked,
    kReservedBits,
    kReservedOpcode,
    kFragmentedControl,
    kControlTooLong,
    kBadLength,
    kUnexpectedContinuation,
    kExpectedContinuation,
    kTooBig,
    kBadUtf8,
    kCloseOneByte,
    kBadCloseCode,
    kBadCloseReason,
    kBadDeflate,
    kInflateFailed,
    kFailureCount,
};

namespace {

struct FailureInfo {
    std::uint16_t code;
    std::string_view reason;
};

constexpr FailureInfo kFailures[] = {
    {0, ""},
    {close_code::protocol_error, "client frame not masked"},
    {close_code::protocol_error, "reserved bits set"},
    {close_code::protocol_error, "reserved opcode"},
    {close_code::protocol_error, "fragmented control frame"},
    {close_code::protocol_error, "control frame payload over 125 bytes"},
    {close_code::protocol_error, "invalid payload length"},
    {close_code::protocol_error, "continuation frame without a message"},
    {close_code::protocol_error, "data frame inside a fragmented message"},
    {close_code::message_too_big, "message too big"},
    {close_code::invalid_payload, "invalid UTF-8 in text message"},
    {close_code::protocol_error, "close frame payload of 1 byte"},
    {close_code::protocol_error, "invalid close code"},
    {close_code::invalid_payload, "invalid UTF-8 in close reason"},
    {close_code::invalid_payload, "invalid compressed data"},
    {close_code::internal_error, "decompression failed"},
};

constexpr std::size_t kMaxInflateChunk = std::size_t{1} << 30;  // fits zlib's uInt
constexpr std::size_t kMinBuffer = 256;

// XORs `size` bytes with the masking key, starting at key offset `offset` (RFC 6455 §5.3).
void unmask(unsigned char* data, std::size_t size, const std::uint8_t* key,
            unsigned offset) noexcept {
    unsigned char pattern[8];
    for (unsigned i = 0; i < 8; ++i) {
        pattern[i] = key[(offset + i) & 3U];
    }
    std::uint64_t word_key;
    std::memcpy(&word_key, pattern, sizeof word_key);
    std::size_t i = 0;
    for (; i + 32 <= size; i += 32) {
        std::uint64_t words[4];
        std::memcpy(words, data + i, sizeof words);
        words[0] ^= word_key;
        words[1] ^= word_key;
        words[2] ^= word_key;
        words[3] ^= word_key;
        std::memcpy(data + i, words, sizeof words);
    }
    for (; i + 8 <= size; i += 8) {
        std::uint64_t word;
        std::memcpy(&word, data + i, sizeof word);
        word ^= word_key;
        std::memcpy(data + i, &word, sizeof word);
    }
    for (; i < size; ++i) {
        data[i] ^=
            pattern[i & 7U];  // the pattern repeats every 4 bytes and i is past a multiple of 8
    }
}

constexpr bool is_reserved_opcode(unsigned opcode) noexcept {
    return (opcode >= 3 && opcode <= 7) || opcode >= 11;
}

}  // namespace

ClosePayload parse_close_payload(std::string_view payload) noexcept {
    ClosePayload close;
    if (payload.size() >= 2) {
        close.code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                                static_cast<unsigned char>(payload[1]));
        close.reason = payload.substr(2);
    }
    return close;
}

struct MessageReader::Inflater {
    z_stream z{};
    bool initialized = false;
    // The last input ended a DEFLATE stream (a BFINAL block) and nothing followed yet.
    bool stream_ended = false;
    ~Inflater() {
        if (initialized) {
            inflateEnd(&z);
        }
    }
};

MessageReader::MessageReader(std::size_t max_message_bytes, bool permessage_deflate,
                             bool client_no_context_takeover, int client_window_bits)
    : max_message_bytes_(
          std::min<std::size_t>(max_message_bytes, std::numeric_limits<std::size_t>::max() / 2)),
      window_bits_(static_cast<std::uint8_t>(std::clamp(client_window_bits, 9, 15))),
      deflate_(permessage_deflate),
      no_context_takeover_(client_no_context_takeover) {}

MessageReader::~MessageReader() = default;
MessageReader::MessageReader(MessageReader&&) noexcept = default;
MessageReader& MessageReader::operator=(MessageReader&&) noexcept = default;

std::size_t MessageReader::bytes_needed_hint() const noexcept {
    if (in_frame_) {
        return static_cast<std::size_t>(std::max<std::uint64_t>(frame_remaining_, 1));
    }
    return std::max<std::size_t>(need_, 1);
}

std::size_t MessageReader::heap_bytes() const noexcept {
    std::size_t bytes = buffer_.capacity() > 15 ? buffer_.capacity() : 0;
    if (inflater_) {
        bytes += sizeof(Inflater) + 7160 + (std::size_t{1} << window_bits_);
    }
    return bytes;
}

MessageReader::Status MessageReader::fail(Failure failure, ProtocolError& error) noexcept {
    static_assert(std::size(kFailures) == kFailureCount);
    failure_ = failure;
    error.close_code = kFailures[failure].code;
    error.reason = kFailures[failure].reason;
    return Status::error;
}

namespace {

// Replaces the storage of `buffer` with exactly `capacity` bytes (std::string's own growth may
// double, which would let a message buffer reach twice the limit), keeping its first `keep` bytes.
void reallocate(std::string& buffer, std::size_t capacity, std::size_t keep) {
    std::string bigger;
    bigger.reserve(capacity);
    bigger.append(buffer.data(), keep);
    buffer.swap(bigger);
}

}  // namespace

void MessageReader::release_buffer() noexcept {
    std::string().swap(buffer_);
    out_size_ = 0;
}

MessageReader::Failure MessageReader::append_payload(const unsigned char* data, std::size_t size) {
    const std::size_t needed = buffer_.size() + size;
    if (needed > buffer_.capacity()) {
        // Grow geometrically, but never past what the frames announced so far: memory follows the
        // bytes that actually arrived, not a length a client merely declared.
        const std::size_t doubled = std::max(buffer_.capacity() * 2, kMinBuffer);
        reallocate(buffer_, std::max(needed, std::min(doubled, message_bytes_)), buffer_.size());
    }
    buffer_.append(reinterpret_cast<const char*>(data), size);
    if (message_opcode_ == static_cast<std::uint8_t>(Opcode::text)) {
        utf8_state_ = Utf8Validator::advance(utf8_state_, data, size);
        if (utf8_state_ == Utf8Validator::kReject) {
            return kBadUtf8;
        }
    }
    return kNone;
}

MessageReader::Failure MessageReader::inflate_payload(const unsigned char* data, std::size_t size) {
    if (!inflater_) {
        inflater_ = std::make_unique<Inflater>();
        // Negative window bits: raw DEFLATE (no zlib header), as RFC 7692 §7.2.2 requires.
        if (inflateInit2(&inflater_->z, -static_cast<int>(window_bits_)) != Z_OK) {
            inflater_.reset();
            return kInflateFailed;
        }
        inflater_->initialized = true;
    }
    z_stream& z = inflater_->z;
    if (size > 0) {
        inflater_->stream_ended = false;
    }
    const bool text = message_opcode_ == static_cast<std::uint8_t>(Opcode::text);
    // Output may grow to one byte past the limit: that byte proves the message is too big.
    const std::size_t cap = max_message_bytes_ + 1;
    for (;;) {
        const std::size_t in_chunk = std::min(size, kMaxInflateChunk);
        z.next_in = const_cast<Bytef*>(data);
        z.avail_in = static_cast<uInt>(in_chunk);
        for (;;) {
            if (out_size_ == buffer_.size()) {
                if (buffer_.size() >= cap) {
                    return kTooBig;
                }
                const std::size_t grow =
                    buffer_.empty() ? std::max(kMinBuffer, in_chunk * 4) : buffer_.size();
                const std::size_t new_size = std::min(cap, buffer_.size() + std::min(grow, cap));
                reallocate(buffer_, new_size, out_size_);
                buffer_.resize(new_size);
            }
            const auto room =
                static_cast<uInt>(std::min(buffer_.size() - out_size_, kMaxInflateChunk));
            auto* out = reinterpret_cast<unsigned char*>(buffer_.data()) + out_size_;
            z.next_out = out;
            z.avail_out = room;
            const uInt in_before = z.avail_in;
            const int rc = inflate(&z, Z_SYNC_FLUSH);
            const std::size_t produced = room - z.avail_out;
            if (produced > 0) {
                out_size_ += produced;
                if (out_size_ > max_message_bytes_) {
                    return kTooBig;
                }
                if (text) {
                    utf8_state_ = Utf8Validator::advance(utf8_state_, out, produced);
                    if (utf8_state_ == Utf8Validator::kReject) {
                        return kBadUtf8;
                    }
                }
            }
            if (rc == Z_STREAM_END) {
                // The sender ended the DEFLATE stream with a BFINAL block (RFC 7692 §7.2.3.3). What
                // follows (normally one 0x00 octet that, with the appended 00 00 ff ff, forms an
                // empty stored block) starts a new stream; the window is kept when the context is
                // taken over.
                inflater_->stream_ended = z.avail_in == 0;
                if (no_context_takeover_) {
                    inflateReset(&z);
                } else {
                    std::vector<Bytef> window(std::size_t{1} << window_bits_);
                    uInt window_size = static_cast<uInt>(window.size());
                    inflateGetDictionary(&z, window.data(), &window_size);
                    inflateReset(&z);
                    inflateSetDictionary(&z, window.data(), window_size);
                }
                if (z.avail_in == 0) {
                    break;
                }
                continue;
            }
            if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
                return kBadDeflate;
            }
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                return kInflateFailed;
            }
            if (z.avail_in == 0 && z.avail_out != 0) {
                break;  // all input used and all output it allows flushed
            }
            if (produced == 0 && z.avail_in == in_before && z.avail_out != 0) {
                return kBadDeflate;  // no progress with input and room: cannot happen with zlib
            }
        }
        data += in_chunk;
        size -= in_chunk;
        if (size == 0) {
            return kNone;
        }
    }
}

MessageReader::Failure MessageReader::finish_message() {
    if (compressed_) {
        // RFC 7692 §7.2.2: append 00 00 ff ff to the message before the last inflate.
        static constexpr unsigned char kTail[4] = {0x00, 0x00, 0xFF, 0xFF};
        // A message that ends right at the end of a BFINAL block, without the extra 0x00 octet
        // §7.2.3.3 asks for, is complete: the tail would be garbage after it, so it is not fed.
        const bool ended = inflater_ && inflater_->stream_ended;
        if (!ended) {
            if (const Failure failure = inflate_payload(kTail, sizeof kTail); failure != kNone) {
                return failure;
            }
        }
        buffer_.resize(out_size_);
        if (no_context_takeover_) {
            inflater_.reset();
        } else {
            inflater_->stream_ended = false;
        }
    }
    if (message_opcode_ == static_cast<std::uint8_t>(Opcode::text) &&
        utf8_state_ != Utf8Validator::kAccept) {
        return kBadUtf8;  // ends inside a code point
    }
    return kNone;
}

MessageReader::Status MessageReader::read(std::span<char> data, std::size_t& consumed, Message& out,
                                          ProtocolError& error) {
    consumed = 0;
    if (failure_ != kNone) {
        return fail(static_cast<Failure>(failure_), error);
    }
    if (release_pending_) {
        release_pending_ = false;
        release_buffer();
    }
    auto* const bytes = reinterpret_cast<unsigned char*>(data.data());
    const std::size_t size = data.size();
    std::size_t pos = 0;
    for (;;) {
        if (in_frame_) {
            // Payload of a data frame that is assembled in buffer_ (fragmented or compressed).
            const auto available =
                static_cast<std::size_t>(std::min<std::uint64_t>(frame_remaining_, size - pos));
            if (available > 0) {
                unsigned char* payload = bytes + pos;
                unmask(payload, available, mask_, mask_pos_);
                mask_pos_ = static_cast<std::uint8_t>((mask_pos_ + available) & 3U);
                const Failure failure = compressed_ ? inflate_payload(payload, available)
                                                    : append_payload(payload, available);
                if (failure != kNone) {
                    consumed = pos;
                    return fail(failure, error);
                }
                frame_remaining_ -= available;
                pos += available;
            }
            consumed = pos;
            if (frame_remaining_ > 0) {
                return Status::need_more;
            }
            in_frame_ = false;
            if (!frame_fin_) {
                continue;
            }
            if (const Failure failure = finish_message(); failure != kNone) {
                return fail(failure, error);
            }
            out.opcode = static_cast<Opcode>(message_opcode_);
            out.payload = buffer_;
            message_opcode_ = 0;
            message_bytes_ = 0;
            compressed_ = false;
            release_pending_ = true;
            need_ = 2;
            return Status::message;
        }

        // Frame header (RFC 6455 §5.2).
        consumed = pos;
        const std::size_t available = size - pos;
        if (available < 2) {
            need_ = static_cast<std::uint8_t>(2 - available);
            return Status::need_more;
        }
        const unsigned b0 = bytes[pos];
        const unsigned b1 = bytes[pos + 1];
        const bool fin = (b0 & 0x80U) != 0;
        const bool rsv1 = (b0 & 0x40U) != 0;
        const unsigned opcode = b0 & 0x0FU;
        const unsigned length_code = b1 & 0x7FU;
        const bool control = (opcode & 0x08U) != 0;
        if ((b0 & 0x30U) != 0) {
            return fail(kReservedBits, error);  // RSV2/RSV3: no extension defines them
        }
        if (is_reserved_opcode(opcode)) {
            return fail(kReservedOpcode, error);
        }
        if ((b1 & 0x80U) == 0) {
            return fail(kUnmasked, error);
        }
        if (control) {
            if (!fin) {
                return fail(kFragmentedControl, error);
            }
            if (length_code > 125) {
                return fail(kControlTooLong, error);
            }
            if (rsv1) {
                return fail(kReservedBits, error);
            }
        } else if (opcode == 0) {
            if (message_opcode_ == 0) {
                return fail(kUnexpectedContinuation, error);
            }
            if (rsv1) {
                return fail(kReservedBits, error);  // RSV1 only on a message's first frame
            }
        } else {
            if (message_opcode_ != 0) {
                return fail(kExpectedContinuation, error);
            }
            if (rsv1 && !deflate_) {
                return fail(kReservedBits, error);
            }
        }
        const std::size_t length_size = length_code == 126 ? 2 : (length_code == 127 ? 8 : 0);
        const std::size_t header_size = 2 + length_size + 4;
        if (available < header_size) {
            need_ = static_cast<std::uint8_t>(header_size - available);
            return Status::need_more;
        }
        std::uint64_t length = length_code;
        if (length_size != 0) {
            length = 0;
            for (std::size_t i = 0; i < length_size; ++i) {
                length = (length << 8) | bytes[pos + 2 + i];
            }
            if ((length >> 63) != 0) {
                return fail(kBadLength, error);
            }
        }
        const unsigned char* key = bytes + pos + 2 + length_size;
        unsigned char* payload = bytes + pos + header_size;

        if (control) {
            if (available - header_size < length) {
                need_ = static_cast<std::uint8_t>(header_size + length - available);
                return Status::need_more;
            }
            const auto payload_size = static_cast<std::size_t>(length);
            unmask(payload, payload_size, key, 0);
            const std::string_view view(reinterpret_cast<const char*>(payload), payload_size);
            if (opcode == static_cast<unsigned>(Opcode::close) && payload_size > 0) {
                if (payload_size == 1) {
                    return fail(kCloseOneByte, error);
                }
                const ClosePayload close = parse_close_payload(view);
                if (!is_valid_close_code(close.code)) {
                    return fail(kBadCloseCode, error);
                }
                if (!is_valid_utf8(close.reason)) {
                    return fail(kBadCloseReason, error);
                }
            }
            consumed = pos + header_size + payload_size;
            out.opcode = static_cast<Opcode>(opcode);
            out.payload = view;
            need_ = 2;
            return Status::message;
        }

        // Data frame. The limit applies before anything is buffered.
        const std::size_t so_far = opcode == 0 ? message_bytes_ : 0;
        if (length > max_message_bytes_ - so_far) {
            return fail(kTooBig, error);
        }
        const auto frame_size = static_cast<std::size_t>(length);
        if (opcode != 0) {
            if (fin && !rsv1 && available - header_size >= frame_size) {
                // Fast path: a whole unfragmented, uncompressed message, returned in place.
                unmask(payload, frame_size, key, 0);
                const std::string_view view(reinterpret_cast<const char*>(payload), frame_size);
                if (opcode == static_cast<unsigned>(Opcode::text) && !is_valid_utf8(view)) {
                    return fail(kBadUtf8, error);
                }
                consumed = pos + header_size + frame_size;
                out.opcode = static_cast<Opcode>(opcode);
                out.payload = view;
                need_ = 2;
                return Status::message;
            }
            message_opcode_ = static_cast<std::uint8_t>(opcode);
            compressed_ = rsv1;
            utf8_state_ = Utf8Validator::kAccept;
            message_bytes_ = 0;
            out_size_ = 0;
        }
        message_bytes_ += frame_size;
        std::memcpy(mask_, key, 4);
        mask_pos_ = 0;
        frame_remaining_ = length;
        frame_fin_ = fin;
        in_frame_ = true;
        pos += header_size;
    }
}

}  // namespace huddle::ws
