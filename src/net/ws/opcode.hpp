// WebSocket opcodes and close codes (RFC 6455 §5.2, §7.4).
#pragma once

#include <cstdint>

namespace huddle::ws {

enum class Opcode : std::uint8_t {
    continuation = 0,
    text = 1,
    binary = 2,
    close = 8,
    ping = 9,
    pong = 10,
};

// Control frames are the opcodes with the high bit of the 4-bit opcode set (close, ping, pong).
constexpr bool is_control(Opcode opcode) noexcept {
    return (static_cast<std::uint8_t>(opcode) & 0x08U) != 0;
}

// Close status codes used by the server (RFC 6455 §7.4.1). Values 1005, 1006 and 1015 are never
// sent on the wire.
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;
inline constexpr std::uint16_t no_status = 1005;  // only in APIs, never in a close frame
inline constexpr std::uint16_t abnormal = 1006;   // only in APIs, never in a close frame
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t message_too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
}  // namespace close_code

// True when `code` may appear in a close frame received from a peer: 1000-1003, 1007-1014
// (1012-1014 are IANA-registered: service restart, try again later, bad gateway) and the
// application/library ranges 3000-4999.
constexpr bool is_valid_close_code(std::uint16_t code) noexcept {
    if (code >= 3000 && code <= 4999) {
        return true;
    }
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

}  // namespace huddle::ws
