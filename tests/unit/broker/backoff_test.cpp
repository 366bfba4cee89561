#include <gtest/gtest.h>

#include "broker/backoff.hpp"

using huddle::broker::Backoff;
using std::chrono::milliseconds;

TEST(Backoff, DoublesUpToTheMaximumWithHalfJitter) {
    Backoff backoff(milliseconds(100), milliseconds(1000));
    // random 0 gives the lower half, a large one the ceiling.
    EXPECT_EQ(backoff.next(0), milliseconds(50));
    EXPECT_EQ(backoff.next(0), milliseconds(100));
    EXPECT_EQ(backoff.next(0), milliseconds(200));
    EXPECT_EQ(backoff.next(400), milliseconds(800));
    EXPECT_EQ(backoff.next(0), milliseconds(500));  // capped at 1000
    for (int i = 0; i < 100; ++i) {
        const auto delay = backoff.next(static_cast<std::uint64_t>(i) * 7919);
        EXPECT_GE(delay, milliseconds(500));
        EXPECT_LE(delay, milliseconds(1000));
    }
    EXPECT_EQ(backoff.attempts(), 105u);
    backoff.reset();
    EXPECT_EQ(backoff.next(0), milliseconds(50));
}

TEST(Backoff, MaximumBelowInitialIsTheInitial) {
    Backoff backoff(milliseconds(300), milliseconds(10));
    for (std::uint64_t random : {0u, 150u, 1000u, 7u}) {
        EXPECT_GE(backoff.next(random), milliseconds(150));
        EXPECT_LE(backoff.next(random), milliseconds(300));
    }
    EXPECT_EQ(backoff.next(150), milliseconds(300));
}
