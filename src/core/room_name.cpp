#include "core/room_name.hpp"

#include <array>

namespace huddle::core {
namespace {

// Letters, digits and the punctuation that ids, paths and e-mail-like names need; nothing that
// would need escaping in a log line, a URL path segment or a Redis channel name.
constexpr std::array<bool, 256> make_allowed_table() {
    std::array<bool, 256> allowed{};
    for (char c = 'a'; c <= 'z'; ++c)
        allowed[static_cast<unsigned char>(c)] = true;
    for (char c = 'A'; c <= 'Z'; ++c)
        allowed[static_cast<unsigned char>(c)] = true;
    for (char c = '0'; c <= '9'; ++c)
        allowed[static_cast<unsigned char>(c)] = true;
    for (char c : std::string_view("_-.:@/=+"))
        allowed[static_cast<unsigned char>(c)] = true;
    return allowed;
}

constexpr std::array<bool, 256> kAllowed = make_allowed_table();

}  // namespace

std::string_view room_name_problem(std::string_view room) {
    if (room.empty())
        return "room name is empty";
    if (room.size() > kMaxRoomNameBytes)
        return "room name is longer than 128 bytes";
    for (char c : room) {
        if (!kAllowed[static_cast<unsigned char>(c)]) {
            return "room name may only contain A-Z a-z 0-9 and _ - . : @ / = +";
        }
    }
    return {};
}

std::string_view user_id_problem(std::string_view user_id) {
    if (user_id.empty())
        return "user id is empty";
    if (user_id.size() > kMaxUserIdBytes)
        return "user id is longer than 256 bytes";
    for (char c : user_id) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f)
            return "user id contains control characters";
    }
    return {};
}

std::string_view namespace_of(std::string_view room) {
    const auto colon = room.find(':');
    return colon == std::string_view::npos ? std::string_view{} : room.substr(0, colon);
}

std::string_view room_id_of(std::string_view room) {
    const auto colon = room.find(':');
    return colon == std::string_view::npos ? room : room.substr(colon + 1);
}

}  // namespace huddle::core
