// A token bucket that refills continuously: `capacity` tokens per `period`. Time is passed in, so
// the logic is testable without clocks.
#pragma once

#include <algorithm>
#include <cstdint>

namespace huddle::core {

class TokenBucket {
  public:
    TokenBucket() = default;
    // Starts full: a fresh client may burst up to `capacity`.
    TokenBucket(std::uint32_t capacity, std::int64_t period_ms, std::int64_t now_ms)
        : capacity_(capacity),
          period_ms_(period_ms),
          tokens_milli_(capacity * 1000LL),
          last_ms_(now_ms) {}

    bool unlimited() const { return capacity_ == 0; }

    // Takes one token; returns 0 when granted, else the milliseconds until one is available.
    std::int64_t take(std::int64_t now_ms) {
        if (unlimited())
            return 0;
        refill(now_ms);
        if (tokens_milli_ >= 1000) {
            tokens_milli_ -= 1000;
            return 0;
        }
        // One token is 1000 milli-tokens; refill rate is capacity*1000 per period.
        const std::int64_t missing = 1000 - tokens_milli_;
        const std::int64_t rate_den = static_cast<std::int64_t>(capacity_) * 1000;
        return std::max<std::int64_t>(1, (missing * period_ms_ + rate_den - 1) / rate_den);
    }

    // True when the bucket is full again (a tracker may forget it).
    bool full(std::int64_t now_ms) {
        refill(now_ms);
        return tokens_milli_ >= static_cast<std::int64_t>(capacity_) * 1000;
    }

  private:
    void refill(std::int64_t now_ms) {
        if (now_ms <= last_ms_)
            return;
        const std::int64_t cap = static_cast<std::int64_t>(capacity_) * 1000;
        const std::int64_t gained =
            (now_ms - last_ms_) * cap / std::max<std::int64_t>(period_ms_, 1);
        if (gained > 0) {
            tokens_milli_ = std::min(cap, tokens_milli_ + gained);
            last_ms_ = now_ms;
        }
    }

    std::uint32_t capacity_ = 0;
    std::int64_t period_ms_ = 60'000;
    std::int64_t tokens_milli_ = 0;
    std::int64_t last_ms_ = 0;
};

}  // namespace huddle::core
