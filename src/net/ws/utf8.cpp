#include "net/ws/utf8.hpp"

#include <array>
#include <cstring>

namespace huddle::ws {
namespace {

// DFA states. The state says what the next byte must be.
enum : std::uint8_t {
    kAccept = 0,    // at a code point boundary
    kTail1 = 1,     // one continuation byte (80..BF) left
    kTail2 = 2,     // two continuation bytes left
    kTail3 = 3,     // three continuation bytes left
    kAfterE0 = 4,   // next A0..BF (no overlong 3-byte form), then one more
    kAfterED = 5,   // next 80..9F (no surrogates), then one more
    kAfterF0 = 6,   // next 90..BF (no overlong 4-byte form), then two more
    kAfterF4 = 7,   // next 80..8F (nothing above U+10FFFF), then two more
    kRejected = 8,  // invalid; absorbing
    kStateCount = 9,
};

constexpr std::uint8_t step(std::uint8_t state, unsigned byte) {
    const bool continuation = (byte & 0xC0U) == 0x80U;
    switch (state) {
        case kAccept:
            if (byte < 0x80U) {
                return kAccept;
            }
            if (byte < 0xC2U) {  // stray continuation byte, or C0/C1 (overlong 2-byte form)
                return kRejected;
            }
            if (byte < 0xE0U) {
                return kTail1;
            }
            if (byte == 0xE0U) {
                return kAfterE0;
            }
            if (byte == 0xEDU) {
                return kAfterED;
            }
            if (byte < 0xF0U) {
                return kTail2;
            }
            if (byte == 0xF0U) {
                return kAfterF0;
            }
            if (byte < 0xF4U) {
                return kTail3;
            }
            if (byte == 0xF4U) {
                return kAfterF4;
            }
            return kRejected;  // F5..FF
        case kTail1:
            return continuation ? kAccept : kRejected;
        case kTail2:
            return continuation ? kTail1 : kRejected;
        case kTail3:
            return continuation ? kTail2 : kRejected;
        case kAfterE0:
            return (byte >= 0xA0U && byte <= 0xBFU) ? kTail1 : kRejected;
        case kAfterED:
            return (byte >= 0x80U && byte <= 0x9FU) ? kTail1 : kRejected;
        case kAfterF0:
            return (byte >= 0x90U && byte <= 0xBFU) ? kTail2 : kRejected;
        case kAfterF4:
            return (byte >= 0x80U && byte <= 0x8FU) ? kTail2 : kRejected;
        default:
            return kRejected;
    }
}

using Table = std::array<std::array<std::uint8_t, 256>, kStateCount>;

constexpr Table make_table() {
    Table table{};
    for (unsigned state = 0; state < kStateCount; ++state) {
        for (unsigned byte = 0; byte < 256; ++byte) {
            table[state][byte] = step(static_cast<std::uint8_t>(state), byte);
        }
    }
    return table;
}

constexpr Table kTable = make_table();

static_assert(Utf8Validator::kAccept == kAccept && Utf8Validator::kReject == kRejected);

constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

inline std::uint64_t load64(const unsigned char* p) noexcept {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);
    return word;
}

}  // namespace

std::uint8_t Utf8Validator::advance(std::uint8_t state, const unsigned char* data,
                                    std::size_t size) noexcept {
    std::size_t i = 0;
    while (i < size) {
        if (state == kAccept) {
            // ASCII fast path: skip 16, then 8 bytes at a time while no byte has its high bit set.
            while (i + 16 <= size && ((load64(data + i) | load64(data + i + 8)) & kHighBits) == 0) {
                i += 16;
            }
            if (i + 8 <= size && (load64(data + i) & kHighBits) == 0) {
                i += 8;
            }
            // Then byte by byte until the next non-ASCII byte (at most 7 bytes here).
            while (i < size && data[i] < 0x80U) {
                ++i;
            }
            if (i == size) {
                break;
            }
        }
        state = kTable[state][data[i]];
        ++i;
        if (state == kRejected) {
            return kRejected;
        }
    }
    return state;
}

bool Utf8Validator::feed(std::string_view chunk) noexcept {
    state_ = advance(state_, reinterpret_cast<const unsigned char*>(chunk.data()), chunk.size());
    return state_ != kRejected;
}

bool is_valid_utf8(std::string_view text) noexcept {
    return Utf8Validator::advance(kAccept, reinterpret_cast<const unsigned char*>(text.data()),
                                  text.size()) == kAccept;
}

}  // namespace huddle::ws
