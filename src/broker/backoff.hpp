// Delays between reconnection attempts: doubling from `initial` up to `max`, with "equal jitter"
// (half fixed, half random) so that nodes that lost Redis together do not come back together.
#pragma once

#include <chrono>
#include <cstdint>

namespace huddle::broker {

class Backoff {
  public:
    using Duration = std::chrono::milliseconds;

    Backoff(Duration initial, Duration max)
        : initial_(initial), max_(max < initial ? initial : max) {}

    // The delay before the next attempt; `random` is any random number (tests pass fixed ones).
    Duration next(std::uint64_t random) {
        Duration ceiling = max_;
        if (attempts_ < 32) {
            const auto scaled = initial_.count() << attempts_;
            if (scaled < max_.count())
                ceiling = Duration(scaled);
        }
        ++attempts_;
        const auto half = ceiling.count() / 2;
        const auto span = static_cast<std::uint64_t>(ceiling.count() - half) + 1;
        return Duration(half + static_cast<Duration::rep>(random % span));
    }
    void reset() { attempts_ = 0; }
    unsigned attempts() const { return attempts_; }

  private:
    Duration initial_;
    Duration max_;
    unsigned attempts_ = 0;
};

}  // namespace huddle::broker
