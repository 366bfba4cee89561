// UTF-8 validation for WebSocket text messages and close reasons (RFC 3629 as required by
// RFC 6455 §8.1): rejects overlong forms, UTF-16 surrogates (U+D800..U+DFFF) and code points above
// U+10FFFF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace huddle::ws {

// True when `text` is complete, valid UTF-8. ASCII runs are checked 16 bytes at a time.
bool is_valid_utf8(std::string_view text) noexcept;

// Validates text that arrives in pieces (fragments of a message, inflated chunks): a code point may
// be split between two calls. feed() returns false as soon as the bytes seen so far cannot be the
// start of valid UTF-8; complete() tells whether the text ends on a code point boundary.
class Utf8Validator {
  public:
    bool feed(std::string_view chunk) noexcept;
    bool complete() const noexcept { return state_ == kAccept; }
    bool failed() const noexcept { return state_ == kReject; }
    void reset() noexcept { state_ = kAccept; }

    // The raw state, for owners that keep it in a packed field.
    std::uint8_t state() const noexcept { return state_; }
    static constexpr std::uint8_t kAccept = 0;
    static constexpr std::uint8_t kReject = 8;

    // Advances `state` over `data`; returns the new state (kReject is absorbing).
    static std::uint8_t advance(std::uint8_t state, const unsigned char* data,
                                std::size_t size) noexcept;

  private:
    std::uint8_t state_ = kAccept;
};

}  // namespace huddle::ws
