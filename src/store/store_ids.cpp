#include "store/store_ids.hpp"

#include <random>

namespace huddle::store::detail {

std::string new_epoch() {
    thread_local std::random_device device;  // getrandom
    static constexpr char kHex[] = "0123456789abcdef";
    std::string epoch;
    epoch.reserve(32);
    for (int word = 0; word < 4; ++word) {
        std::uint32_t bits = device();
        for (int nibble = 0; nibble < 8; ++nibble) {
            epoch.push_back(kHex[bits & 0xF]);
            bits >>= 4;
        }
    }
    return epoch;
}

}  // namespace huddle::store::detail
