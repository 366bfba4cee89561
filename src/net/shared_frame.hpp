// A WebSocket frame encoded once and shared, immutable, by every connection that sends it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "endpoints/handler.hpp"

namespace huddle::net {

using SharedFrame = std::shared_ptr<const std::string>;

SharedFrame make_text_frame(std::string_view text);
SharedFrame make_close_frame(std::uint16_t code, std::string_view reason);

// An event on its way to the members of a room, on every loop. `compressed` is set only when
// permessage-deflate is enabled and the message is worth compressing.
struct RoomDelivery {
    std::string room;
    SharedFrame frame;
    SharedFrame compressed;
    // Document rooms: the message as each document protocol sends it, indexed by
    // endpoints::DocumentFormat (null: nothing for that protocol's clients, e.g. awareness for
    // JSON clients). `frame` is unused there.
    std::array<SharedFrame, endpoints::kDocumentFormatCount> document_frames;
    std::uint64_t excluded_connection = 0;    // the publisher, which does not get its own event
    std::vector<std::string> excluded_users;  // e.g. users who blocked the sender (backend API)
    std::int64_t accepted_at_us = 0;          // steady clock, for the fan-out latency histogram
};

}  // namespace huddle::net
