// Opening handshake helpers (RFC 6455 §4.2.2) and permessage-deflate negotiation (RFC 7692 §7.1).
// The HTTP request itself is parsed elsewhere; these functions take header values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace huddle::ws {

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + 258EAFA5-...)).
std::string websocket_accept_key(std::string_view sec_websocket_key);

// True when the Sec-WebSocket-Key value is base64 of 16 bytes (24 characters ending in "==").
bool is_valid_websocket_key(std::string_view sec_websocket_key) noexcept;

// Server preferences for permessage-deflate.
struct DeflateOptions {
    // Answer client_no_context_takeover even when the client did not offer it (RFC 7692 §7.1.1.2
    // allows it). The server then frees its inflater after every message instead of keeping ~40 KiB
    // of zlib state per connection.
    bool require_client_no_context_takeover = false;
    // The largest client window (8..15) the server wants to inflate with. Only applied when the
    // offer carries client_max_window_bits (a response may only contain it then, §7.1.2.2).
    std::uint8_t client_max_window_bits = 15;
    // Offers asking the server to compress with a window below this (server_max_window_bits) are
    // declined. The default, 15, keeps every client able to take the one shared compressed frame.
    // Lower it (down to 9; zlib cannot produce raw DEFLATE with an 8-bit window, so 8 is always
    // declined) only if the sender honours DeflateAgreement::server_max_window_bits.
    std::uint8_t min_server_max_window_bits = 15;
};

// The outcome of negotiation.
struct DeflateAgreement {
    bool enabled = false;
    // The client resets its compression context after each message: the reader may drop its
    // inflater between messages.
    bool client_no_context_takeover = false;
    // The Sec-WebSocket-Extensions value to send in the 101 response (empty when not enabled).
    std::string response_header_value;
    // The window (bits) the client may compress with: what the reader must inflate with.
    std::uint8_t client_max_window_bits = 15;
    // The largest window the server may compress with for this client. Frames from a
    // MessageDeflater with a larger window must not be sent to it (send uncompressed frames, which
    // are always allowed, or use a deflater with this window).
    std::uint8_t server_max_window_bits = 15;
};

// Parses a Sec-WebSocket-Extensions request value (comma-separated offers in the client's order of
// preference, ';'-separated parameters, token or quoted-string values; join repeated header lines
// with ", ") and accepts the first acceptable permessage-deflate offer. The answer always contains
// server_no_context_takeover: the server compresses each message once for all of its clients.
// Offers with unknown, duplicate or invalid parameters are declined (§7); malformed offers are
// skipped. Returns enabled = false when the server does not allow compression or no offer fits.
DeflateAgreement negotiate_permessage_deflate(std::string_view sec_websocket_extensions,
                                              bool server_allows);
DeflateAgreement negotiate_permessage_deflate(std::string_view sec_websocket_extensions,
                                              bool server_allows, const DeflateOptions& options);

}  // namespace huddle::ws
