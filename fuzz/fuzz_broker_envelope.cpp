// The broker's own decoding: the envelope of every message received from Redis (written by other
// nodes and by the Lua scripts) and the broker URL from the configuration. Whatever the bytes,
// no crash; what decodes re-encodes to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "broker/envelope.hpp"
#include "broker/redis_names.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    if (const auto envelope = huddle::broker::decode_envelope(input)) {
        const auto again = huddle::broker::encode_envelope(envelope->offset, envelope->epoch,
                                                           envelope->origin, envelope->payload);
        if (again != input)
            std::abort();
    }
    std::string error;
    if (const auto address = huddle::broker::parse_redis_url(input, &error)) {
        if (address->port == 0 || address->port > 65535 || address->host.empty())
            std::abort();
    } else if (error.empty()) {
        std::abort();
    }
    return 0;
}
