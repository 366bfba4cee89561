// Standard base64 (RFC 4648 §4, with padding), for binary carried in JSON text messages.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace huddle::endpoints {

void append_base64(std::string& out, std::span<const std::uint8_t> bytes);

// nullopt for anything but canonical padded base64 (no whitespace, no URL alphabet).
std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text);

}  // namespace huddle::endpoints
