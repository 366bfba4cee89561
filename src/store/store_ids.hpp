// Small helpers shared by the store backends (private to src/store/*.cpp).
#pragma once

#include <cstdint>
#include <limits>
#include <string>

namespace huddle::store::detail {

// A new room epoch: 128 random bits from the OS, as 32 hex digits.
std::string new_epoch();

// Offsets and ids live in the databases' signed 64-bit integers.
inline std::int64_t to_db(std::uint64_t value) {
    return value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
               ? std::numeric_limits<std::int64_t>::max()
               : static_cast<std::int64_t>(value);
}

inline std::uint64_t from_db(std::int64_t value) {
    return value < 0 ? 0 : static_cast<std::uint64_t>(value);
}

inline constexpr std::uint64_t kMaxDbOffset =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

}  // namespace huddle::store::detail
