#include "store/store_ids.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <system_error>

namespace huddle::store::detail {

std::string new_epoch() {
    // getrandom(2) directly: std::random_device's default source on this CPU is RDSEED, which
    // runs dry when a batch creates many rooms at once and then spins (its retry loop took 70 %
    // of a core in a many-rooms benchmark).
    std::array<std::uint8_t, 16> bytes{};
    std::size_t filled = 0;
    while (filled < bytes.size()) {
        const ssize_t got = getrandom(bytes.data() + filled, bytes.size() - filled, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            throw std::system_error(errno, std::generic_category(), "getrandom");
        }
        filled += static_cast<std::size_t>(got);
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string epoch;
    epoch.reserve(2 * bytes.size());
    for (const std::uint8_t byte : bytes) {
        epoch.push_back(kHex[byte >> 4]);
        epoch.push_back(kHex[byte & 0xF]);
    }
    return epoch;
}

}  // namespace huddle::store::detail
