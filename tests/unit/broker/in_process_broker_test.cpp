#include <gtest/gtest.h>

#include "broker/in_process_broker.hpp"
#include "broker_test_util.hpp"

using namespace huddle::broker;
using namespace huddle::broker::testing;

TEST(InProcessBroker, DeliversOnlySubscribedRoomsInOrder) {
    boost::asio::io_context io;
    Node node(std::make_unique<InProcessBroker>(io, "solo"));
    EXPECT_EQ(node.broker->state(), BrokerState::connected);
    node.broker->subscribe({"a"});
    node.broker->publish("a", "1", {}, {});
    node.broker->publish("b", "x", {}, {});
    node.broker->publish("a", "2", {}, {});
    run_for(io, 20ms);
    EXPECT_EQ(node.payloads("a"), (std::vector<std::string>{"1", "2"}));
    EXPECT_TRUE(node.payloads("b").empty());
    EXPECT_EQ(node.messages.front().origin, "solo");
    node.broker->unsubscribe({"a"});
    node.broker->publish("a", "3", {}, {});
    run_for(io, 20ms);
    EXPECT_EQ(node.payloads("a").size(), 2u);
}

TEST(InProcessBroker, HistoryOffsetsIdempotencyAndBound) {
    boost::asio::io_context io;
    Node node(std::make_unique<InProcessBroker>(io));
    node.broker->subscribe({"h"});
    std::vector<PublishResult> results;
    PublishOptions options;
    options.history = true;
    options.history_length = 3;
    for (int i = 1; i <= 5; ++i)
        node.broker->publish("h", "e" + std::to_string(i), options,
                             [&](PublishResult r) { results.push_back(std::move(r)); });
    options.idempotency_key = "k";
    node.broker->publish("h", "once", options, [&](PublishResult r) { results.push_back(r); });
    node.broker->publish("h", "once", options, [&](PublishResult r) { results.push_back(r); });
    ASSERT_TRUE(run_until(io, [&] { return results.size() == 7; }));
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(results[i].status, PublishStatus::ok);
        EXPECT_EQ(results[i].offset, static_cast<std::uint64_t>(i + 1));
    }
    EXPECT_EQ(results[6].status, PublishStatus::duplicate);
    EXPECT_EQ(results[6].offset, 6u);
    EXPECT_EQ(node.messages.size(), 6u);
    EXPECT_EQ(node.messages.back().epoch, results[0].epoch);

    HistoryRead read;
    bool done = false;
    node.broker->read_history("h", 3, 10, {}, [&](HistoryRead r) {
        read = std::move(r);
        done = true;
    });
    ASSERT_TRUE(run_until(io, [&] { return done; }));
    EXPECT_EQ(read.epoch, results[0].epoch);
    EXPECT_EQ(read.last_offset, 6u);
    EXPECT_EQ(read.oldest_offset, 4u);  // bounded to 3 entries
    ASSERT_EQ(read.entries.size(), 3u);
    EXPECT_EQ(read.entries[0].payload, "e4");
    EXPECT_EQ(read.entries[2].payload, "once");
}

TEST(InProcessBroker, HistoryOlderThanMaxAgeIsDropped) {
    boost::asio::io_context io;
    InProcessBroker broker(io);
    expect_history_max_age(io, broker);
}

TEST(InProcessBroker, PresenceCountsAndClose) {
    boost::asio::io_context io;
    Node node(std::make_unique<InProcessBroker>(io));
    std::vector<PresenceChange> changes;
    auto keep = [&](PresenceChange c) { changes.push_back(c); };
    node.broker->presence_set("r", "ann", 2, R"({"n":1})", keep);
    node.broker->presence_set("r", "ann", 0, "", keep);
    node.broker->presence_set("r", "bob", 1, "", keep);
    std::vector<PresenceEntry> list;
    node.broker->presence_list("r", [&](bool ok, std::vector<PresenceEntry> e) {
        EXPECT_TRUE(ok);
        list = std::move(e);
    });
    ASSERT_TRUE(run_until(io, [&] { return changes.size() == 3 && !list.empty(); }));
    EXPECT_EQ(changes[0].cluster_before, 0u);
    EXPECT_EQ(changes[0].cluster_after, 2u);
    EXPECT_EQ(changes[1].cluster_after, 0u);
    EXPECT_EQ(list, (std::vector<PresenceEntry>{{"bob", 1, ""}}));

    node.broker->close();
    EXPECT_EQ(node.states.back(), BrokerState::closed);
    PublishResult result;
    node.broker->publish("r", "x", {}, [&](PublishResult r) { result = r; });
    EXPECT_EQ(result.status, PublishStatus::closed);
}
