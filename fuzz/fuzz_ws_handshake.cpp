// libFuzzer target for the WebSocket handshake helpers: the input is a Sec-WebSocket-Extensions
// value (negotiated with several server preferences) and a Sec-WebSocket-Key.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/ws/handshake.hpp"

namespace {

void check(bool condition) {
    if (!condition) {
        __builtin_trap();
    }
}

constexpr std::string_view kPrefix = "permessage-deflate; server_no_context_takeover";

void check_agreement(const huddle::ws::DeflateAgreement& agreement,
                     const huddle::ws::DeflateOptions& options) {
    if (!agreement.enabled) {
        check(agreement.response_header_value.empty());
        return;
    }
    check(agreement.response_header_value.substr(0, kPrefix.size()) == kPrefix);
    check(agreement.client_max_window_bits >= 8 && agreement.client_max_window_bits <= 15);
    check(agreement.server_max_window_bits >= options.min_server_max_window_bits &&
          agreement.server_max_window_bits <= 15 && agreement.server_max_window_bits >= 9);
    if (options.require_client_no_context_takeover) {
        check(agreement.client_no_context_takeover);
    }
    // Our answer, read as an offer, must be accepted with the same outcome.
    huddle::ws::DeflateOptions lenient;
    lenient.min_server_max_window_bits = 9;
    const auto again =
        huddle::ws::negotiate_permessage_deflate(agreement.response_header_value, true, lenient);
    check(again.enabled);
    check(again.response_header_value == agreement.response_header_value);
    check(again.client_no_context_takeover == agreement.client_no_context_takeover);
    check(again.server_max_window_bits == agreement.server_max_window_bits);
    check(again.client_max_window_bits == agreement.client_max_window_bits);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view header(reinterpret_cast<const char*>(data), size);

    check(!huddle::ws::negotiate_permessage_deflate(header, false).enabled);

    huddle::ws::DeflateOptions defaults;
    check_agreement(huddle::ws::negotiate_permessage_deflate(header, true), defaults);

    huddle::ws::DeflateOptions small;
    small.require_client_no_context_takeover = true;
    small.client_max_window_bits = 9;
    small.min_server_max_window_bits = 9;
    check_agreement(huddle::ws::negotiate_permessage_deflate(header, true, small), small);

    const std::string accept = huddle::ws::websocket_accept_key(header);
    check(accept.size() == 28);
    (void)huddle::ws::is_valid_websocket_key(header);
    return 0;
}
