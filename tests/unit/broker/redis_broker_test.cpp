// The Redis broker against a real redis-server (scripts/test-redis.sh starts one and sets
// HUDDLE_TEST_REDIS_URL); two brokers on one io_context are two nodes of a cluster. Without the
// variable these tests are skipped, except the ones that need no server.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>

#include "broker/redis_broker.hpp"
#include "broker_test_util.hpp"

using namespace huddle::broker;
using namespace huddle::broker::testing;

namespace {

class RedisBrokerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* url = std::getenv("HUDDLE_TEST_REDIS_URL");
        if (url == nullptr || *url == '\0')
            GTEST_SKIP() << "HUDDLE_TEST_REDIS_URL is not set: run scripts/test-redis.sh "
                            "<broker_tests> to test against a real redis-server";
        url_ = url;
        // Each test its own key space, so tests never see each other's rooms or nodes.
        prefix_ = "t" + std::to_string(std::random_device{}());
    }

    RedisBrokerOptions options(const std::string& node) const {
        RedisBrokerOptions o;
        o.url = url_;
        o.key_prefix = prefix_;
        o.node_id = node;
        o.backoff_initial = 50ms;
        o.backoff_max = 400ms;
        return o;
    }
    std::unique_ptr<Node> node(const std::string& id) { return node(options(id)); }
    std::unique_ptr<Node> node(RedisBrokerOptions o) {
        return std::make_unique<Node>(std::make_unique<RedisBroker>(io_, std::move(o)));
    }
    bool connected(std::initializer_list<Node*> nodes, std::chrono::milliseconds timeout = 5000ms) {
        return run_until(
            io_,
            [&] {
                return std::all_of(nodes.begin(), nodes.end(), [](Node* n) {
                    return n->broker->state() == BrokerState::connected;
                });
            },
            timeout);
    }

    boost::asio::io_context io_;
    std::string url_;
    std::string prefix_;
};

PublishOptions with_history() {
    PublishOptions o;
    o.history = true;
    return o;
}

}  // namespace

TEST_F(RedisBrokerTest, PublishReachesOnlyNodesSubscribedToTheRoom) {
    auto a = node("a");
    auto b = node("b");
    a->broker->subscribe({"r1"});
    b->broker->subscribe({"r2"});
    ASSERT_TRUE(connected({a.get(), b.get()}));
    int done = 0;
    auto count = [&](PublishResult r) {
        EXPECT_TRUE(r.ok()) << r.error;
        ++done;
    };
    b->broker->publish("r1", "to-a", {}, count);
    a->broker->publish("r2", "to-b", {}, count);
    ASSERT_TRUE(run_until(
        io_, [&] { return done == 2 && a->messages.size() == 1 && b->messages.size() == 1; }));
    run_for(io_, 100ms);  // anything misrouted would arrive now
    EXPECT_EQ(a->payloads("r1"), std::vector<std::string>{"to-a"});
    EXPECT_EQ(a->messages[0].origin, "b");
    EXPECT_EQ(a->messages[0].offset, 0u);
    EXPECT_EQ(b->payloads("r2"), std::vector<std::string>{"to-b"});
    EXPECT_EQ(a->messages.size(), 1u);
    EXPECT_EQ(b->messages.size(), 1u);

    // Subscribed: the publisher gets its own message back through Redis, in the room's order.
    b->broker->subscribe({"r1"});
    ASSERT_TRUE(run_until(io_, [&] { return b->broker->stats().subscribed_rooms == 2; }));
    b->broker->publish("r1", "both", {}, {});
    ASSERT_TRUE(run_until(io_, [&] { return a->messages.size() == 2 && b->messages.size() == 2; }));
    EXPECT_EQ(b->payloads("r1"), std::vector<std::string>{"both"});
    EXPECT_GE(a->broker->stats().batches, 2u);
}

TEST_F(RedisBrokerTest, ConcurrentPublishersSeeOneOrderAndOneSetOfOffsets) {
    auto a = node("a");
    auto b = node("b");
    a->broker->subscribe({"h"});
    b->broker->subscribe({"h"});
    ASSERT_TRUE(connected({a.get(), b.get()}));
    constexpr int kEach = 300;
    std::map<std::string, std::uint64_t> acknowledged;  // payload -> offset from the completion
    std::string epoch;
    for (int i = 0; i < kEach; ++i) {
        for (Node* n : {a.get(), b.get()}) {
            std::string payload = n->broker->node_id() + "-" + std::to_string(i);
            n->broker->publish("h", payload, with_history(), [&, payload](PublishResult r) {
                ASSERT_EQ(r.status, PublishStatus::ok) << r.error;
                acknowledged[payload] = r.offset;
                epoch = r.epoch;
            });
        }
    }
    ASSERT_TRUE(run_until(
        io_,
        [&] {
            return a->messages.size() == 2 * kEach && b->messages.size() == 2 * kEach &&
                   acknowledged.size() == 2 * kEach;
        },
        15000ms));
    for (std::size_t i = 0; i < a->messages.size(); ++i) {
        const auto& ma = a->messages[i];
        const auto& mb = b->messages[i];
        ASSERT_EQ(ma.payload, mb.payload) << i;
        ASSERT_EQ(ma.offset, i + 1);
        ASSERT_EQ(mb.offset, i + 1);
        ASSERT_EQ(acknowledged[ma.payload], ma.offset);
        ASSERT_EQ(ma.epoch, epoch);
        ASSERT_EQ(mb.epoch, epoch);
    }
    // Each publisher's own messages keep the order it sent them in (one pipelined connection).
    int last_a = -1;
    for (const auto& m : a->messages) {
        if (m.origin != "a")
            continue;
        const int i = std::stoi(m.payload.substr(2));
        EXPECT_EQ(i, last_a + 1);
        last_a = i;
    }
}

TEST_F(RedisBrokerTest, UnsubscribeStopsTraffic) {
    auto a = node("a");
    auto b = node("b");
    a->broker->subscribe({"r", "control"});
    ASSERT_TRUE(connected({a.get(), b.get()}));
    b->broker->publish("r", "before", {}, {});
    ASSERT_TRUE(run_until(io_, [&] { return a->messages.size() == 1; }));
    a->broker->unsubscribe({"r"});
    // Even what is already on its way is not delivered once unsubscribe() returned.
    b->broker->publish("r", "after", {}, {});
    ASSERT_TRUE(run_until(io_, [&] { return a->broker->stats().subscribed_rooms == 1; }));
    b->broker->publish("r", "after-confirmed", {}, {});
    b->broker->publish("control", "end", {}, {});
    ASSERT_TRUE(run_until(io_, [&] { return !a->payloads("control").empty(); }));
    EXPECT_EQ(a->payloads("r"), std::vector<std::string>{"before"});
    EXPECT_EQ(a->broker->stats().wanted_rooms, 1u);
}

TEST_F(RedisBrokerTest, HistoryIsReadAfterAnOffsetOnAnyNode) {
    auto a = node("a");
    auto b = node("b");
    ASSERT_TRUE(connected({a.get(), b.get()}));
    std::vector<PublishResult> results;
    for (int i = 1; i <= 10; ++i)
        a->broker->publish("h", "e" + std::to_string(i), with_history(),
                           [&](PublishResult r) { results.push_back(std::move(r)); });
    ASSERT_TRUE(run_until(io_, [&] { return results.size() == 10; }));
    // A retry through another node (the client reconnected elsewhere) is recognised.
    PublishOptions keyed = with_history();
    keyed.idempotency_key = "client-7";
    a->broker->publish("h", "once", keyed, [&](PublishResult r) { results.push_back(r); });
    ASSERT_TRUE(run_until(io_, [&] { return results.size() == 11; }));
    b->broker->publish("h", "once", keyed, [&](PublishResult r) { results.push_back(r); });
    ASSERT_TRUE(run_until(io_, [&] { return results.size() == 12; }));
    EXPECT_EQ(results[10].status, PublishStatus::ok);
    EXPECT_EQ(results[10].offset, 11u);
    EXPECT_EQ(results[11].status, PublishStatus::duplicate);
    EXPECT_EQ(results[11].offset, 11u);

    HistoryRead read;
    bool done = false;
    b->broker->read_history("h", 4, 3, {}, [&](HistoryRead r) {
        read = std::move(r);
        done = true;
    });
    ASSERT_TRUE(run_until(io_, [&] { return done; }));
    ASSERT_TRUE(read.ok) << read.error;
    EXPECT_EQ(read.epoch, results[0].epoch);
    EXPECT_EQ(read.last_offset, 11u);
    EXPECT_EQ(read.oldest_offset, 1u);
    ASSERT_EQ(read.entries.size(), 3u);
    EXPECT_EQ(read.entries[0].offset, 5u);
    EXPECT_EQ(read.entries[0].payload, "e5");
    EXPECT_EQ(read.entries[2].offset, 7u);

    done = false;
    b->broker->read_history("h", 11, 100, {}, [&](HistoryRead r) {
        read = std::move(r);
        done = true;
    });
    ASSERT_TRUE(run_until(io_, [&] { return done; }));
    EXPECT_TRUE(read.entries.empty());
    EXPECT_EQ(read.last_offset, 11u);

    done = false;
    b->broker->read_history("never-used", 0, 100, {}, [&](HistoryRead r) {
        read = std::move(r);
        done = true;
    });
    ASSERT_TRUE(run_until(io_, [&] { return done; }));
    EXPECT_TRUE(read.ok);
    EXPECT_TRUE(read.epoch.empty());
    EXPECT_TRUE(read.entries.empty());
}

TEST_F(RedisBrokerTest, HistoryOlderThanMaxAgeIsDropped) {
    auto a = node("a");
    ASSERT_TRUE(connected({a.get()}));
    expect_history_max_age(io_, *a->broker);
}

TEST_F(RedisBrokerTest, HistoryIsBoundedPerRoom) {
    auto a = node("a");
    ASSERT_TRUE(connected({a.get()}));
    PublishOptions options = with_history();
    options.history_length = 10;
    int done = 0;
    for (int i = 1; i <= 1000; ++i)
        a->broker->publish("h", std::string(100, 'x'), options, [&](PublishResult) { ++done; });
    ASSERT_TRUE(run_until(
        io_, [&] { return done == 1000; }, 15000ms));
    HistoryRead read;
    bool finished = false;
    a->broker->read_history("h", 0, 5000, {}, [&](HistoryRead r) {
        read = std::move(r);
        finished = true;
    });
    ASSERT_TRUE(run_until(io_, [&] { return finished; }));
    EXPECT_EQ(read.last_offset, 1000u);
    // MAXLEN ~ trims whole stream nodes (100 entries by default): about, never far above.
    EXPECT_LE(read.entries.size(), 200u);
    EXPECT_GE(read.entries.size(), 10u);
    EXPECT_EQ(read.entries.back().offset, 1000u);
    EXPECT_EQ(read.oldest_offset, read.entries.front().offset);
}

TEST_F(RedisBrokerTest, NodeCommandsReachEveryNodeOrOne) {
    auto a = node("a");
    auto b = node("b");
    ASSERT_TRUE(connected({a.get(), b.get()}));
    a->broker->broadcast("all");
    a->broker->send_to_node("b", "only-b");
    ASSERT_TRUE(run_until(io_, [&] { return a->commands.size() == 1 && b->commands.size() == 2; }));
    EXPECT_EQ(a->commands[0], std::make_pair(std::string("a"), std::string("all")));
    EXPECT_EQ(b->commands[1], std::make_pair(std::string("a"), std::string("only-b")));
}

TEST_F(RedisBrokerTest, PresenceIsMergedAcrossNodes) {
    auto a = node("a");
    auto b = node("b");
    ASSERT_TRUE(connected({a.get(), b.get()}));
    std::vector<PresenceChange> changes;
    auto keep = [&](PresenceChange c) {
        EXPECT_TRUE(c.ok) << c.error;
        changes.push_back(c);
    };
    a->broker->presence_set("room", "ann", 2, R"({"name":"Ann"})", keep);
    ASSERT_TRUE(run_until(io_, [&] { return changes.size() == 1; }));
    b->broker->presence_set("room", "ann", 1, "", keep);
    b->broker->presence_set("room", "bob", 1, "", keep);
    ASSERT_TRUE(run_until(io_, [&] { return changes.size() == 3; }));
    EXPECT_EQ(changes[0].cluster_before, 0u);  // a join of the cluster
    EXPECT_EQ(changes[0].cluster_after, 2u);
    EXPECT_EQ(changes[1].cluster_before, 2u);  // not a join: Ann was there on a
    EXPECT_EQ(changes[1].cluster_after, 3u);

    std::vector<PresenceEntry> list;
    bool done = false;
    b->broker->presence_list("room", [&](bool ok, std::vector<PresenceEntry> e) {
        EXPECT_TRUE(ok);
        list = std::move(e);
        done = true;
    });
    ASSERT_TRUE(run_until(io_, [&] { return done; }));
    EXPECT_EQ(list, (std::vector<PresenceEntry>{{"ann", 3, R"({"name":"Ann"})"}, {"bob", 1, ""}}));

    a->broker->presence_set("room", "ann", 0, "", keep);
    ASSERT_TRUE(run_until(io_, [&] { return changes.size() == 4; }));
    b->broker->presence_set("room", "ann", 0, "", keep);
    ASSERT_TRUE(run_until(io_, [&] { return changes.size() == 5; }));
    EXPECT_EQ(changes[3].cluster_after, 1u);
    EXPECT_EQ(changes[4].cluster_before, 1u);  // the leave of the cluster
    EXPECT_EQ(changes[4].cluster_after, 0u);
}

TEST_F(RedisBrokerTest, DeadNodeLeavesPresenceWithinItsTtl) {
    auto fast = [&](const std::string& id) {
        auto o = options(id);
        o.heartbeat_interval = 100ms;
        o.node_ttl = 600ms;
        return o;
    };
    auto a = node(fast("a"));
    auto b = node(fast("b"));
    ASSERT_TRUE(connected({a.get(), b.get()}));
    int changes = 0;
    a->broker->presence_set("room", "ann", 1, "", [&](PresenceChange) { ++changes; });
    b->broker->presence_set("room", "ann", 1, "", [&](PresenceChange) { ++changes; });
    b->broker->presence_set("room", "cat", 1, "", [&](PresenceChange) { ++changes; });
    b->broker->presence_set("other", "cat", 1, "", [&](PresenceChange) { ++changes; });
    ASSERT_TRUE(run_until(io_, [&] { return changes == 4; }));

    // b stops heartbeating (as a node killed with -9 would) and does not clean up.
    b.reset();
    const auto stopped = std::chrono::steady_clock::now();
    ASSERT_TRUE(run_until(
        io_, [&] { return a->presence_lost.size() == 2; }, 3000ms));
    const auto took = std::chrono::steady_clock::now() - stopped;
    EXPECT_LE(took, 600ms + 2 * 100ms + 300ms);  // ttl + heartbeats + slack
    std::map<std::string, std::vector<std::string>> lost(a->presence_lost.begin(),
                                                         a->presence_lost.end());
    EXPECT_EQ(lost["room"], std::vector<std::string>{"cat"});  // ann is still on a
    EXPECT_EQ(lost["other"], std::vector<std::string>{"cat"});

    std::vector<PresenceEntry> list;
    bool done = false;
    a->broker->presence_list("room", [&](bool, std::vector<PresenceEntry> e) {
        list = std::move(e);
        done = true;
    });
    ASSERT_TRUE(run_until(io_, [&] { return done; }));
    EXPECT_EQ(list, (std::vector<PresenceEntry>{{"ann", 1, ""}}));
}

TEST_F(RedisBrokerTest, RedisRestartDegradesReconnectsResubscribesAndResumes) {
    const char* stop = std::getenv("HUDDLE_TEST_REDIS_STOP");
    const char* start = std::getenv("HUDDLE_TEST_REDIS_START");
    if (!stop || !start)
        GTEST_SKIP()
            << "HUDDLE_TEST_REDIS_STOP/_START are not set (scripts/test-redis.sh sets them)";
    auto a = node("a");
    auto b = node("b");
    a->broker->subscribe({"r", "h"});
    b->broker->subscribe({"r", "h"});
    a->broker->presence_set("r", "ann", 1, "", {});
    ASSERT_TRUE(connected({a.get(), b.get()}));
    PublishResult before;
    a->broker->publish("h", "before", with_history(), [&](PublishResult r) { before = r; });
    ASSERT_TRUE(run_until(io_, [&] { return b->payloads("h").size() == 1; }));

    ASSERT_EQ(std::system(stop), 0);
    ASSERT_TRUE(run_until(io_, [&] {
        return a->broker->state() == BrokerState::reconnecting &&
               b->broker->state() == BrokerState::reconnecting;
    }));
    // Local work goes on: publishes wait (bounded) for the connection.
    PublishResult during;
    bool during_done = false;
    a->broker->publish("h", "during", with_history(), [&](PublishResult r) {
        during = r;
        during_done = true;
    });
    EXPECT_EQ(a->broker->stats().pending, 1u);
    run_for(io_, 500ms);  // a few backoff rounds against a closed port
    EXPECT_FALSE(during_done);
    EXPECT_EQ(a->broker->state(), BrokerState::reconnecting);

    ASSERT_EQ(std::system(start), 0);
    ASSERT_TRUE(connected({a.get(), b.get()}, 5000ms));
    ASSERT_TRUE(run_until(io_, [&] { return during_done; }));
    EXPECT_EQ(during.status, PublishStatus::ok) << during.error;
    // This Redis kept nothing: the history starts again under a new epoch (clients resync).
    EXPECT_EQ(during.offset, 1u);
    EXPECT_NE(during.epoch, before.epoch);
    EXPECT_GE(a->broker->stats().reconnects, 1u);
    EXPECT_NE(std::find(a->states.begin(), a->states.end(), BrokerState::reconnecting),
              a->states.end());
    // b may have been subscribed again only after it went out; its history has it either way.
    HistoryRead read;
    bool read_done = false;
    b->broker->read_history("h", 0, 10, {}, [&](HistoryRead r) {
        read = std::move(r);
        read_done = true;
    });
    ASSERT_TRUE(run_until(io_, [&] { return read_done; }));
    ASSERT_EQ(read.entries.size(), 1u);
    EXPECT_EQ(read.entries[0].payload, "during");
    EXPECT_EQ(read.epoch, during.epoch);

    // Every room was subscribed again: traffic flows both ways.
    b->broker->publish("r", "after", {}, {});
    PublishResult after;
    b->broker->publish("h", "after", with_history(), [&](PublishResult r) { after = r; });
    ASSERT_TRUE(run_until(io_, [&] {
        return a->payloads("r") == std::vector<std::string>{"after"} && after.offset == 2 &&
               a->payloads("h").back() == "after" && b->payloads("h").back() == "after";
    }));
    // And a's presence was restored from what a remembers.
    std::vector<PresenceEntry> list;
    bool done = false;
    b->broker->presence_list("r", [&](bool, std::vector<PresenceEntry> e) {
        list = std::move(e);
        done = true;
    });
    ASSERT_TRUE(run_until(io_, [&] { return done; }));
    EXPECT_EQ(list, (std::vector<PresenceEntry>{{"ann", 1, ""}}));
}

// Needs no Redis: nothing listens on the port.
TEST(RedisBrokerOffline, PendingPublishesAreBoundedAndTimeOut) {
    boost::asio::io_context io;
    RedisBrokerOptions o;
    o.url = "redis://127.0.0.1:1";
    o.max_pending = 5;
    o.pending_timeout = 300ms;
    o.heartbeat_interval = 50ms;
    o.backoff_initial = 20ms;
    o.backoff_max = 100ms;
    Node node(std::make_unique<RedisBroker>(io, o));
    std::vector<PublishResult> results;
    for (int i = 0; i < 5; ++i)
        node.broker->publish("r", "x", {}, [&](PublishResult r) { results.push_back(r); });
    EXPECT_TRUE(results.empty());
    EXPECT_EQ(node.broker->stats().pending, 5u);
    // The sixth fails at once: the caller can tell its client.
    node.broker->publish("r", "x", {}, [&](PublishResult r) { results.push_back(r); });
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].status, PublishStatus::queue_full);
    EXPECT_FALSE(results[0].error.empty());
    ASSERT_TRUE(run_until(
        io, [&] { return results.size() == 6; }, 2000ms));
    for (int i = 1; i < 6; ++i)
        EXPECT_EQ(results[i].status, PublishStatus::timed_out);
    EXPECT_EQ(node.broker->state(), BrokerState::reconnecting);
    EXPECT_EQ(node.broker->stats().pending, 0u);
    EXPECT_EQ(node.broker->stats().publish_failures, 6u);

    // History reads and presence answer at once with an error instead of waiting.
    bool read_failed = false;
    node.broker->read_history("r", 0, 10, {}, [&](HistoryRead r) { read_failed = !r.ok; });
    ASSERT_TRUE(run_until(
        io, [&] { return read_failed; }, 1000ms));

    // close() completes what waits with `closed`.
    node.broker->publish("r", "x", {}, [&](PublishResult r) { results.push_back(r); });
    node.broker->close();
    ASSERT_EQ(results.size(), 7u);
    EXPECT_EQ(results.back().status, PublishStatus::closed);
}

TEST(RedisBrokerOffline, RefusesBadSettings) {
    boost::asio::io_context io;
    RedisBrokerOptions o;
    o.url = "http://x";
    EXPECT_THROW(RedisBroker(io, o), std::invalid_argument);
    o.url = "redis://127.0.0.1:1";
    o.node_id = "has space";
    EXPECT_THROW(RedisBroker(io, o), std::invalid_argument);
}
