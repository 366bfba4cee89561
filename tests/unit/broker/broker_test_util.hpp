// Helpers for the broker tests: running an io_context until something happened, and a "node"
// (a broker with what it received).
#pragma once

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "broker/broker.hpp"

namespace huddle::broker::testing {

using namespace std::chrono_literals;

template <typename Predicate>
bool run_until(boost::asio::io_context& io, Predicate done,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        io.restart();
        io.run_one_for(std::chrono::milliseconds(10));
    }
    return true;
}

inline void run_for(boost::asio::io_context& io, std::chrono::milliseconds time) {
    run_until(
        io, [] { return false; }, time);
}

struct Received {
    std::string room;
    std::uint64_t offset = 0;
    std::string epoch;
    std::string origin;
    std::string payload;
};

// A broker with everything it reported kept for the test to look at.
struct Node {
    std::vector<Received> messages;
    std::vector<std::pair<std::string, std::string>> commands;  // origin, payload
    std::vector<BrokerState> states;
    std::vector<std::pair<std::string, std::vector<std::string>>> presence_lost;
    std::unique_ptr<Broker> broker;  // last: destroyed first

    explicit Node(std::unique_ptr<Broker> b) : broker(std::move(b)) {
        broker->start({
            [this](const Message& m) {
                messages.push_back({std::string(m.room), m.offset, std::string(m.epoch),
                                    std::string(m.origin), std::string(m.payload)});
            },
            [this](std::string_view origin, std::string_view payload) {
                commands.emplace_back(origin, payload);
            },
            [this](BrokerState state) { states.push_back(state); },
            [this](std::string room, std::vector<std::string> users) {
                presence_lost.emplace_back(std::move(room), std::move(users));
            },
        });
    }
    std::vector<std::string> payloads(const std::string& room) const {
        std::vector<std::string> out;
        for (const auto& m : messages)
            if (m.room == room)
                out.push_back(m.payload);
        return out;
    }
};

// The same checks for every broker: history older than max_age is dropped on publish and on read,
// the offsets go on, and a room without an age limit keeps its entries.
inline void expect_history_max_age(boost::asio::io_context& io, Broker& broker) {
    PublishOptions aged;
    aged.history = true;
    aged.history_max_age = 300ms;
    PublishOptions forever = aged;
    forever.history_max_age = 0ms;
    int published = 0;
    for (int i = 0; i < 3; ++i) {
        broker.publish("aged", "old", aged, [&](PublishResult) { ++published; });
        broker.publish("kept", "old", forever, [&](PublishResult) { ++published; });
    }
    ASSERT_TRUE(run_until(io, [&] { return published == 6; }));
    run_for(io, 400ms);
    const auto read = [&](const std::string& room, std::chrono::milliseconds max_age) {
        HistoryRead result;
        bool done = false;
        broker.read_history(room, 0, 100, max_age, [&](HistoryRead r) {
            result = std::move(r);
            done = true;
        });
        EXPECT_TRUE(run_until(io, [&] { return done; }));
        return result;
    };
    HistoryRead quiet = read("aged", 300ms);  // nothing published since: the read drops them
    ASSERT_TRUE(quiet.ok) << quiet.error;
    EXPECT_EQ(quiet.last_offset, 3u);
    EXPECT_EQ(quiet.oldest_offset, 0u);
    EXPECT_TRUE(quiet.entries.empty());
    EXPECT_EQ(read("kept", 0ms).entries.size(), 3u);

    broker.publish("aged", "old", aged, [&](PublishResult) { ++published; });
    ASSERT_TRUE(run_until(io, [&] { return published == 7; }));
    run_for(io, 400ms);
    broker.publish("aged", "new", aged, [&](PublishResult) { ++published; });
    ASSERT_TRUE(run_until(io, [&] { return published == 8; }));
    const HistoryRead after = read("aged", 0ms);  // the publish dropped the old entry itself
    EXPECT_EQ(after.last_offset, 5u);
    EXPECT_EQ(after.oldest_offset, 5u);
    ASSERT_EQ(after.entries.size(), 1u);
    EXPECT_EQ(after.entries[0].payload, "new");
}

}  // namespace huddle::broker::testing
