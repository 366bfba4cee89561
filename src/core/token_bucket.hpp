// A token bucket that refills continuously: `capacity` tokens per `period`. Time is passed in, so
// the logic is testable without clocks.
#pragma once

#include <algorithm>
#include <cstdint>

namespace huddle::core {

class TokenBucket {
  public:
    TokenBucket() = default;
    // Starts full: a fresh client may burst up to `capacity`. capacity 0 = unlimited.
    TokenBucket(std::uint32_t capacity, std::int64_t period_ms, std::int64_t now_ms)
        : capacity_(capacity),
          period_ms_(std::max<std::int64_t>(period_ms, 1)),
          credit_(static_cast<std::int64_t>(capacity) * period_ms_),
          last_ms_(now_ms) {}

    bool unlimited() const { return capacity_ == 0; }

    // Takes one token; returns 0 when granted, else the milliseconds until one is available.
    std::int64_t take(std::int64_t now_ms) {
        if (unlimited())
            return 0;
        refill(now_ms);
        if (credit_ >= period_ms_) {
            credit_ -= period_ms_;
            return 0;
        }
        // Each millisecond adds `capacity` credit; a token costs `period_ms` credit.
        return (period_ms_ - credit_ + capacity_ - 1) / capacity_;
    }

    // True when the bucket is full again (a tracker may forget it).
    bool full(std::int64_t now_ms) {
        refill(now_ms);
        return credit_ >= static_cast<std::int64_t>(capacity_) * period_ms_;
    }

  private:
    // Credit is counted in token-milliseconds so refilling is exact in integers: calling often
    // loses nothing to rounding.
    void refill(std::int64_t now_ms) {
        if (now_ms <= last_ms_)
            return;
        const std::int64_t max_credit = static_cast<std::int64_t>(capacity_) * period_ms_;
        const std::int64_t elapsed = std::min(now_ms - last_ms_, period_ms_);
        credit_ = std::min(max_credit, credit_ + elapsed * capacity_);
        last_ms_ = now_ms;
    }

    std::uint32_t capacity_ = 0;
    std::int64_t period_ms_ = 60'000;
    std::int64_t credit_ = 0;
    std::int64_t last_ms_ = 0;
};

}  // namespace huddle::core
