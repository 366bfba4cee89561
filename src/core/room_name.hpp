// Room names: "namespace:id", validated before a room is created or looked up.
#pragma once

#include <cstddef>
#include <string_view>

namespace huddle::core {

inline constexpr std::size_t kMaxRoomNameBytes = 128;

// Empty when valid, else a message that says why (for INVALID_ROOM).
std::string_view room_name_problem(std::string_view room);

inline constexpr std::size_t kMaxUserIdBytes = 256;

// Empty when `user_id` (a token's subject) can name a user: private rooms "user:{id}" accept any
// printable id (e.g. "auth0|5f7c", "Jane Doe", non-ASCII), unlike client-chosen room names.
std::string_view user_id_problem(std::string_view user_id);

// "team" for "team:42"; "" for a room without a colon.
std::string_view namespace_of(std::string_view room);

// "42" for "team:42"; the whole name for a room without a colon.
std::string_view room_id_of(std::string_view room);

}  // namespace huddle::core
