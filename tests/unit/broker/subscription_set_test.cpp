#include <gtest/gtest.h>

#include <algorithm>

#include "broker/subscription_set.hpp"

using huddle::broker::SubscriptionSet;
using Rooms = std::vector<std::string>;

namespace {
Rooms sorted(Rooms rooms) {
    std::sort(rooms.begin(), rooms.end());
    return rooms;
}
}  // namespace

TEST(SubscriptionSet, CollectsChangesIntoBatches) {
    SubscriptionSet set;
    set.want("a");
    set.want("b");
    set.want("a");  // idempotent
    set.want("c");
    set.unwant("c");  // cancelled before it was sent: no command at all
    auto batch = set.take_batch(100);
    EXPECT_EQ(sorted(batch.subscribe), (Rooms{"a", "b"}));
    EXPECT_TRUE(batch.unsubscribe.empty());
    EXPECT_FALSE(set.settled());
    EXPECT_TRUE(set.take_batch(100).empty());  // in flight: nothing twice
    set.subscribed("a");
    set.subscribed("b");
    EXPECT_TRUE(set.settled());
    EXPECT_EQ(set.subscribed_count(), 2u);
    set.unwant("a");
    batch = set.take_batch(100);
    EXPECT_EQ(batch.unsubscribe, Rooms{"a"});
    set.unsubscribed("a");
    EXPECT_TRUE(set.settled());
    EXPECT_EQ(set.wanted_count(), 1u);
}

TEST(SubscriptionSet, BoundsTheBatch) {
    SubscriptionSet set;
    for (int i = 0; i < 10; ++i)
        set.want("r" + std::to_string(i));
    EXPECT_EQ(set.take_batch(4).subscribe.size(), 4u);
    EXPECT_EQ(set.take_batch(4).subscribe.size(), 4u);
    EXPECT_EQ(set.take_batch(4).subscribe.size(), 2u);
    EXPECT_FALSE(set.has_work());
}

TEST(SubscriptionSet, NeverOverlapsCommandsOfOneRoom) {
    SubscriptionSet set;
    set.want("a");
    set.take_batch(10);
    set.unwant("a");  // SUBSCRIBE still in flight: the UNSUBSCRIBE waits for its answer
    EXPECT_TRUE(set.take_batch(10).empty());
    EXPECT_FALSE(set.wanted("a"));  // but messages stop at once
    set.subscribed("a");
    auto batch = set.take_batch(10);
    EXPECT_EQ(batch.unsubscribe, Rooms{"a"});
    set.want("a");  // and back again while the UNSUBSCRIBE is in flight
    EXPECT_TRUE(set.take_batch(10).empty());
    EXPECT_TRUE(set.wanted("a"));
    set.unsubscribed("a");
    batch = set.take_batch(10);
    EXPECT_EQ(batch.subscribe, Rooms{"a"});
    set.subscribed("a");
    EXPECT_TRUE(set.settled());
}

TEST(SubscriptionSet, ConnectionLostMakesEveryWantedRoomWorkAgain) {
    SubscriptionSet set;
    set.want("a");
    set.want("b");
    set.want("gone");
    set.take_batch(10);
    set.subscribed("a");
    set.subscribed("b");
    set.subscribed("gone");
    set.unwant("gone");
    set.take_batch(10);  // UNSUBSCRIBE gone in flight
    set.connection_lost();
    EXPECT_EQ(set.subscribed_count(), 0u);
    EXPECT_FALSE(set.settled());
    auto batch = set.take_batch(10);
    EXPECT_EQ(sorted(batch.subscribe), (Rooms{"a", "b"}));
    EXPECT_TRUE(batch.unsubscribe.empty());
    set.subscribed("a");
    set.subscribed("b");
    set.unsubscribed("gone");  // a late reply of the old connection changes nothing
    EXPECT_TRUE(set.settled());
}

TEST(SubscriptionSet, RepliesForUnknownRoomsAreIgnored) {
    SubscriptionSet set;
    set.subscribed("x");
    set.unsubscribed("x");
    EXPECT_TRUE(set.settled());
    EXPECT_EQ(set.subscribed_count(), 0u);
}
