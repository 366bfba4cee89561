#include "net/loop_inbox.hpp"

#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

namespace huddle::net {
namespace {

TEST(LoopInbox, ItemsFromAnotherThreadAreDrainedInOrderOnTheLoop) {
    boost::asio::io_context io;
    LoopInbox<int> inbox;
    std::vector<int> drained;
    constexpr int kItems = 10'000;
    std::thread writer([&] {
        for (int i = 0; i < kItems; ++i)
            inbox.add(io, i, [&drained](int& item) { drained.push_back(item); });
    });
    writer.join();
    // Everything added before the loop ran is taken by the one drain the first item posted.
    EXPECT_EQ(io.poll_one(), 1u);
    ASSERT_EQ(drained.size(), static_cast<std::size_t>(kItems));
    for (int i = 0; i < kItems; ++i)
        ASSERT_EQ(drained[static_cast<std::size_t>(i)], i);
    EXPECT_EQ(io.poll(), 0u);  // nothing else was posted
}

TEST(LoopInbox, AnItemAddedAfterADrainPostsAnotherOne) {
    boost::asio::io_context io;
    LoopInbox<int> inbox;
    std::vector<int> drained;
    auto keep = [&drained](int& item) { drained.push_back(item); };
    inbox.add(io, 1, keep);
    inbox.add(io, 2, keep);
    EXPECT_EQ(io.poll(), 1u);
    io.restart();
    inbox.add(io, 3, keep);
    EXPECT_EQ(io.poll(), 1u);
    EXPECT_EQ(drained, (std::vector<int>{1, 2, 3}));
}

}  // namespace
}  // namespace huddle::net
