// Clocks in milliseconds/microseconds as plain integers, the unit the core logic takes.
#pragma once

#include <chrono>
#include <cstdint>

namespace huddle::net {

// Wall clock, for timestamps that clients see.
inline std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Monotonic clock, for budgets, timeouts and latency.
inline std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

inline std::int64_t steady_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace huddle::net
