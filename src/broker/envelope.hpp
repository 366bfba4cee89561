// The bytes published on a room's channel and on node channels: a one-line text header, then the
// payload as it is. Redis scripts build the same header (redis_scripts.cpp), so the format is
// small on purpose:
//
//   h1 <offset> <epoch> <origin>\n<payload>
//
// offset is decimal (0: no history), epoch and origin are tokens (see valid_token), epoch "-" when
// the room has no history.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace huddle::broker {

struct Envelope {
    std::uint64_t offset = 0;
    std::string_view epoch;  // empty when the header says "-"
    std::string_view origin;
    std::string_view payload;
};

// Node ids and epochs: 1 to 64 of [A-Za-z0-9._-], so they never need escaping.
bool valid_token(std::string_view token);

// `origin` must be a valid token, `epoch` a valid token or empty.
std::string encode_envelope(std::uint64_t offset, std::string_view epoch, std::string_view origin,
                            std::string_view payload);

// Views into `bytes`; nullopt when the header is malformed.
std::optional<Envelope> decode_envelope(std::string_view bytes);

}  // namespace huddle::broker
