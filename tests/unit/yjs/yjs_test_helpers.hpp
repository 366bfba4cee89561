#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "yjs/yjs.hpp"

namespace huddle::yjs {

inline Bytes from_hex(const std::string& s) {
    if (s.size() % 2 != 0) {
        throw std::invalid_argument("odd hex length");
    }
    Bytes out;
    for (std::size_t i = 0; i < s.size(); i += 2) {
        out.push_back(static_cast<std::uint8_t>(std::stoi(s.substr(i, 2), nullptr, 16)));
    }
    return out;
}

inline std::string to_hex(std::span<const std::uint8_t> b) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (std::uint8_t c : b) {
        out.push_back(kHex[c >> 4U]);
        out.push_back(kHex[c & 15U]);
    }
    return out;
}

inline std::string dump_of(std::span<const std::uint8_t> update) {
    auto d = decode_update(update);
    return d ? dump_update(*d) : "error: " + d.error().message;
}

}  // namespace huddle::yjs
