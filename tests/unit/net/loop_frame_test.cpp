#include "net/loop_frame.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace huddle::net {
namespace {

TEST(FramePool, CopiesShareOneSlotAndOneSharedReference) {
    FramePool pool;
    SharedFrame frame = make_text_frame("hello");
    {
        FrameRef held = pool.hold(frame);
        std::vector<FrameRef> queues(1000, held);
        EXPECT_EQ(pool.in_use(), 1u);
        // One atomic reference for the loop, whatever the number of queued copies.
        EXPECT_EQ(frame.use_count(), 2);
        EXPECT_EQ(queues.back().bytes(), *frame);
        EXPECT_EQ(queues.front().size(), frame->size());
    }
    EXPECT_EQ(pool.in_use(), 0u);
    EXPECT_EQ(frame.use_count(), 1);
}

TEST(FramePool, LastHolderReleasesTheBytesWhicheverItIs) {
    FramePool pool;
    std::weak_ptr<const std::string> watched;
    FrameRef survivor;
    {
        SharedFrame frame = make_text_frame("payload");
        watched = frame;
        FrameRef first = pool.hold(std::move(frame));
        survivor = first;
    }
    EXPECT_FALSE(watched.expired());
    EXPECT_EQ(pool.in_use(), 1u);
    survivor.reset();
    EXPECT_TRUE(watched.expired());
    EXPECT_FALSE(survivor);
    EXPECT_EQ(pool.in_use(), 0u);
}

TEST(FramePool, CountsStayRightAcrossChunksAndReleases) {
    FramePool pool;
    std::vector<FrameRef> held;
    for (int i = 0; i < 600; ++i)
        held.push_back(pool.hold(make_text_frame(std::to_string(i))));
    EXPECT_EQ(pool.in_use(), 600u);
    for (int i = 0; i < 600; ++i)
        EXPECT_EQ(held[static_cast<std::size_t>(i)].bytes(), *make_text_frame(std::to_string(i)));
    held.erase(held.begin(), held.begin() + 300);
    EXPECT_EQ(pool.in_use(), 300u);
    for (int i = 0; i < 300; ++i)
        held.push_back(pool.hold(make_text_frame("again")));
    EXPECT_EQ(pool.in_use(), 600u);
    held.clear();
    EXPECT_EQ(pool.in_use(), 0u);
}

TEST(FramePool, MoveAndAssignKeepCountsRight) {
    FramePool pool;
    FrameRef a = pool.hold(make_text_frame("a"));
    FrameRef b = pool.hold(make_text_frame("b"));
    FrameRef moved = std::move(a);
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): a moved-from ref is empty
    b = moved;        // b's frame goes, a's is now held twice
    EXPECT_EQ(pool.in_use(), 1u);
    EXPECT_EQ(b.bytes(), moved.bytes());
    moved = FrameRef();
    EXPECT_EQ(pool.in_use(), 1u);
    b = FrameRef();
    EXPECT_EQ(pool.in_use(), 0u);
}

TEST(LoopDelivery, HoldsOnlyTheVariantsADeliveryHas) {
    FramePool pool;
    RoomDelivery delivery;
    delivery.frame = make_text_frame("event");
    delivery.document_frames[1] = make_text_frame("doc");
    {
        const LoopDelivery frames(pool, delivery);
        EXPECT_TRUE(frames.frame);
        EXPECT_FALSE(frames.compressed);
        EXPECT_FALSE(frames.document_frames[0]);
        EXPECT_TRUE(frames.document_frames[1]);
        EXPECT_EQ(pool.in_use(), 2u);
    }
    EXPECT_EQ(pool.in_use(), 0u);
}

}  // namespace
}  // namespace huddle::net
