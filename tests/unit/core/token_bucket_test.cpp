#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>

#include "core/token_bucket.hpp"

using huddle::core::TokenBucket;

namespace {

// Takes `n` tokens at `now_ms`; returns how many were granted.
int take_n(TokenBucket& bucket, int n, std::int64_t now_ms) {
    int granted = 0;
    for (int i = 0; i < n; ++i) {
        if (bucket.take(now_ms) == 0)
            ++granted;
    }
    return granted;
}

}  // namespace

TEST(TokenBucket, StartsFullAndBurstsToCapacity) {
    TokenBucket bucket(5, 1000, 10'000);
    EXPECT_TRUE(bucket.full(10'000));
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(bucket.take(10'000), 0) << "token " << i;
    }
    EXPECT_GT(bucket.take(10'000), 0);
}

TEST(TokenBucket, RetryAfterIsTheTimeOfOneToken) {
    // 100 per minute: one token every 600 ms.
    TokenBucket bucket(100, 60'000, 0);
    EXPECT_EQ(take_n(bucket, 100, 0), 100);
    EXPECT_EQ(bucket.take(0), 600);
    EXPECT_EQ(bucket.take(0), 600);  // a refusal spends nothing
}

TEST(TokenBucket, TokenIsAvailableExactlyAfterRetryAfter) {
    TokenBucket bucket(100, 60'000, 0);
    ASSERT_EQ(take_n(bucket, 100, 0), 100);
    const std::int64_t wait = bucket.take(0);
    ASSERT_EQ(wait, 600);
    TokenBucket early = bucket;
    EXPECT_GT(early.take(wait - 1), 0);
    EXPECT_EQ(bucket.take(wait), 0);
    EXPECT_GT(bucket.take(wait), 0);  // and only one
}

TEST(TokenBucket, RetryAfterRoundsUp) {
    // 3 per second: one token every 333.3 ms, so the answer must be 334, not 333.
    TokenBucket bucket(3, 1000, 0);
    ASSERT_EQ(take_n(bucket, 3, 0), 3);
    EXPECT_EQ(bucket.take(0), 334);
    TokenBucket early = bucket;
    EXPECT_GT(early.take(333), 0);
    EXPECT_EQ(bucket.take(334), 0);
}

TEST(TokenBucket, RetryAfterIsNeverZeroWhenRefused) {
    // A very fast bucket: 1000 per 1 ms would give a wait below 1 ms.
    TokenBucket bucket(1000, 1, 0);
    ASSERT_EQ(take_n(bucket, 1000, 0), 1000);
    EXPECT_EQ(bucket.take(0), 1);
}

TEST(TokenBucket, RetryAfterIsExactForRandomBuckets) {
    std::mt19937 rng(20240611);
    std::uniform_int_distribution<std::uint32_t> capacity_dist(1, 10'000);
    std::uniform_int_distribution<std::int64_t> period_dist(1, 3'600'000);
    for (int round = 0; round < 2'000; ++round) {
        const std::uint32_t capacity = capacity_dist(rng);
        const std::int64_t period = period_dist(rng);
        const std::int64_t start = 1'000'000;
        TokenBucket bucket(capacity, period, start);
        ASSERT_EQ(take_n(bucket, static_cast<int>(capacity), start), static_cast<int>(capacity));
        const std::int64_t wait = bucket.take(start);
        ASSERT_GT(wait, 0);
        if (wait > 1) {
            TokenBucket early = bucket;
            EXPECT_GT(early.take(start + wait - 1), 0)
                << "capacity " << capacity << " period " << period << " wait " << wait;
        }
        EXPECT_EQ(bucket.take(start + wait), 0)
            << "capacity " << capacity << " period " << period << " wait " << wait;
    }
}

TEST(TokenBucket, RefillsOverTime) {
    TokenBucket bucket(10, 1000, 0);
    ASSERT_EQ(take_n(bucket, 10, 0), 10);
    EXPECT_EQ(take_n(bucket, 10, 500), 5);  // half a period: half the tokens
    EXPECT_EQ(take_n(bucket, 10, 1500), 10);
}

TEST(TokenBucket, NeverHoldsMoreThanCapacity) {
    TokenBucket bucket(4, 1000, 0);
    ASSERT_EQ(take_n(bucket, 1, 0), 1);
    // A long idle period refills up to capacity, not beyond.
    EXPECT_EQ(take_n(bucket, 100, 1'000'000), 4);
}

TEST(TokenBucket, UnlimitedWhenCapacityIsZero) {
    TokenBucket bucket(0, 60'000, 0);
    EXPECT_TRUE(bucket.unlimited());
    EXPECT_EQ(take_n(bucket, 100'000, 0), 100'000);
    EXPECT_TRUE(bucket.full(0));
    EXPECT_EQ(bucket.take(-5), 0);
}

TEST(TokenBucket, DefaultConstructedIsUnlimited) {
    TokenBucket bucket;
    EXPECT_TRUE(bucket.unlimited());
    EXPECT_EQ(bucket.take(123), 0);
}

TEST(TokenBucket, LimitedIsNotUnlimited) {
    EXPECT_FALSE(TokenBucket(1, 1000, 0).unlimited());
}

TEST(TokenBucket, ClockGoingBackwardsGivesNoTokens) {
    TokenBucket bucket(100, 60'000, 100'000);
    ASSERT_EQ(take_n(bucket, 100, 100'000), 100);
    // Earlier times neither refill nor break the bucket.
    EXPECT_EQ(bucket.take(50'000), 600);
    EXPECT_EQ(bucket.take(0), 600);
    EXPECT_EQ(bucket.take(-1'000'000), 600);
    EXPECT_FALSE(bucket.full(0));
    // Time measured from the latest point seen: one token 600 ms after it.
    EXPECT_GT(TokenBucket(bucket).take(100'599), 0);
    EXPECT_EQ(bucket.take(100'600), 0);
}

TEST(TokenBucket, ClockGoingBackwardsKeepsTokensThatWereThere) {
    TokenBucket bucket(3, 60'000, 1'000);
    EXPECT_EQ(take_n(bucket, 2, 1'000), 2);
    EXPECT_EQ(bucket.take(500), 0);  // the third token is still there
    EXPECT_GT(bucket.take(500), 0);
}

TEST(TokenBucket, FullReportsWhenRefilled) {
    TokenBucket bucket(2, 1000, 0);
    EXPECT_TRUE(bucket.full(0));
    ASSERT_EQ(bucket.take(0), 0);
    EXPECT_FALSE(bucket.full(0));
    EXPECT_FALSE(bucket.full(499));
    EXPECT_TRUE(bucket.full(500));
    EXPECT_TRUE(bucket.full(10'000));
    EXPECT_EQ(take_n(bucket, 3, 10'000), 2);
}

TEST(TokenBucket, FullDoesNotSpend) {
    TokenBucket bucket(1, 1000, 0);
    for (int i = 0; i < 10; ++i)
        ASSERT_TRUE(bucket.full(0));
    EXPECT_EQ(bucket.take(0), 0);
}

// The bucket promises `capacity` tokens per `period`. A client that keeps trying (and is refused)
// must not get fewer: each refill may not throw away the fraction of a milli-token it did not
// credit.
TEST(TokenBucket, RefusedTakeInBetweenDoesNotDelayTheNextToken) {
    TokenBucket bucket(100, 60'000, 0);
    ASSERT_EQ(take_n(bucket, 100, 0), 100);
    ASSERT_EQ(bucket.take(0), 600);
    EXPECT_GT(bucket.take(1), 0);  // refused, as it should be
    EXPECT_EQ(bucket.take(600), 0) << "the token promised for t=600 ms is not there";
}

TEST(TokenBucket, FrequentCallsStillRefillAtTheConfiguredRate) {
    // 100 per minute, asked every millisecond for a minute after being emptied: a token every
    // 600 ms, so 100 grants (the one at t=60000 included).
    TokenBucket bucket(100, 60'000, 0);
    ASSERT_EQ(take_n(bucket, 100, 0), 100);
    int granted = 0;
    for (std::int64_t t = 1; t <= 60'000; ++t) {
        if (bucket.take(t) == 0)
            ++granted;
    }
    EXPECT_GE(granted, 99) << "the bucket refilled at " << granted << " tokens per minute";
}

// limits.messages_per_minute accepts up to 2^32-1 (the way to say "practically unlimited", since 0
// is not allowed there). The refill arithmetic must not overflow after a long idle time. Run in a
// child process: with UBSan an overflow aborts.
TEST(TokenBucketDeathTest, HugeCapacityRefillsAfterLongIdleTime) {
    EXPECT_EXIT(
        {
            TokenBucket bucket(std::numeric_limits<std::uint32_t>::max(), 60'000, 0);
            (void)bucket.take(0);
            const bool refilled = bucket.full(3'600'000);  // one hour later
            std::exit(refilled ? 0 : 3);                   // UBSan exits with 1
        },
        ::testing::ExitedWithCode(0), "");
}
