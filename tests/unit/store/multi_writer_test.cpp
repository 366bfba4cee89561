// Two stores on one database (two Huddle nodes sharing it): nothing is lost or overwritten.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store_test_util.hpp"

using namespace huddle::store;
using huddle::store::testing::append_update_wait;
using huddle::store::testing::make_event;
using huddle::store::testing::StoreTest;

namespace {

using MultiWriter = StoreTest;

}  // namespace

TEST_P(MultiWriter, DocumentUpdatesFromBothStoresSurvive) {
    auto a = db_->open();
    auto b = db_->open();
    constexpr int kEach = 300;
    auto produce = [](Store& store, std::uint8_t tag) {
        for (int i = 0; i < kEach; ++i)
            store.append_update(
                "d", {tag, static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i >> 8)},
                [](AppendResult r) { EXPECT_TRUE(r.ok()) << r.error; });
        store.flush();
    };
    std::thread ta(produce, std::ref(*a), std::uint8_t{1});
    std::thread tb(produce, std::ref(*b), std::uint8_t{2});
    ta.join();
    tb.join();
    std::set<std::vector<std::uint8_t>> seen;
    std::set<std::uint64_t> ids;
    for (const auto& u : a->load("d")) {
        seen.insert(u.data);
        ids.insert(u.id);
    }
    EXPECT_EQ(seen.size(), 2u * kEach);
    EXPECT_EQ(ids.size(), 2u * kEach);
}

TEST_P(MultiWriter, ConcurrentOffsetsConflictInsteadOfOverwriting) {
    auto a = db_->open();
    auto b = db_->open();
    constexpr std::uint64_t kOffsets = 300;
    std::mutex mutex;
    std::map<std::uint64_t, std::vector<std::string>> winners;  // offset -> stores that got ok
    int other_errors = 0;
    auto produce = [&](Store& store, const std::string& name) {
        for (std::uint64_t o = 1; o <= kOffsets; ++o) {
            RoomEvent e{"r", o, 1, {}, R"({"by":")" + name + "\"}"};
            store.append({std::move(e)}, [&, o, name](AppendResult r) {
                std::lock_guard lock(mutex);
                if (r.ok())
                    winners[o].push_back(name);
                else if (r.status != AppendStatus::offset_conflict)
                    ++other_errors;
            });
        }
        store.flush();
    };
    std::thread ta(produce, std::ref(*a), "a");
    std::thread tb(produce, std::ref(*b), "b");
    ta.join();
    tb.join();
    EXPECT_EQ(other_errors, 0);
    const auto stored = a->read_after("r", 0, 10 * kOffsets);
    std::map<std::uint64_t, std::string> stored_by;
    for (const auto& e : stored)
        stored_by[e.offset] = e.event_json;
    // Every stored event was acknowledged to exactly one store, and it is that store's event.
    for (const auto& [offset, json] : stored_by) {
        ASSERT_EQ(winners[offset].size(), 1u) << "offset " << offset;
        EXPECT_EQ(json, R"({"by":")" + winners[offset][0] + "\"}");
    }
    for (const auto& [offset, names] : winners)
        EXPECT_TRUE(stored_by.count(offset)) << "acknowledged offset " << offset << " missing";
    EXPECT_EQ(a->position("r"), b->position("r"));
    EXPECT_EQ(a->position("r").last_offset, stored.back().offset);
}

TEST_P(MultiWriter, CompactionDoesNotDropAnUpdateAppendedByTheOtherStore) {
    auto a = db_->open();
    auto b = db_->open();
    ASSERT_TRUE(append_update_wait(*a, "d", {1}).ok());
    ASSERT_TRUE(append_update_wait(*a, "d", {2}).ok());
    const auto loaded = a->load("d");
    // b appends between a's load and a's compaction.
    ASSERT_TRUE(append_update_wait(*b, "d", {3}).ok());
    ASSERT_TRUE(a->compact("d", loaded.back().id, loaded.size(), {1, 2}));
    std::set<std::vector<std::uint8_t>> after;
    for (const auto& u : b->load("d"))
        after.insert(u.data);
    EXPECT_EQ(after, (std::set<std::vector<std::uint8_t>>{{1, 2}, {3}}));
    // A stale compaction (its load missed an update now at or below up_to_id) is refused.
    const auto now = b->load("d");
    EXPECT_FALSE(b->compact("d", now.back().id, 1, {9}));
    EXPECT_EQ(b->load("d"), now);
}

TEST_P(MultiWriter, BothStoresAgreeOnANewRoomsEpoch) {
    auto a = db_->open();
    auto b = db_->open();
    for (int i = 0; i < 20; ++i) {
        const std::string room = "room:" + std::to_string(i);
        RoomPosition pa;
        RoomPosition pb;
        std::thread ta([&] { pa = a->position(room); });
        std::thread tb([&] { pb = b->position(room); });
        ta.join();
        tb.join();
        EXPECT_EQ(pa, pb) << room;
    }
}

HUDDLE_STORE_BACKENDS(MultiWriter);
