#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <future>
#include <limits>
#include <string>
#include <vector>

#include "store/sqlite_store.hpp"
#include "store_test_util.hpp"

using namespace huddle::store;
using huddle::store::testing::append_wait;
using huddle::store::testing::fast_options;
using huddle::store::testing::make_event;
using huddle::store::testing::TempDir;

namespace {

std::vector<std::uint64_t> offsets_of(const std::vector<RoomEvent>& events) {
    std::vector<std::uint64_t> offsets;
    for (const auto& e : events)
        offsets.push_back(e.offset);
    return offsets;
}

class History : public ::testing::Test {
  protected:
    TempDir dir_;
    std::unique_ptr<Store> store_ = open_sqlite_store(dir_.file("huddle.db"), fast_options());
};

}  // namespace

TEST_F(History, AppendThenReadRoundTrip) {
    RoomEvent e{"room:1", 1, 1234, "key-1", R"({"type":"CHAT_MESSAGE","text":"hé \u0000"})"};
    ASSERT_TRUE(append_wait(*store_, {e}).ok());
    const auto events = store_->read_after("room:1", 0, 100);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], e);
}

TEST_F(History, ReadAfterReturnsEventsInOffsetOrderWithLimit) {
    for (std::uint64_t o = 1; o <= 10; ++o)
        ASSERT_TRUE(append_wait(*store_, {make_event("r", o)}).ok());
    EXPECT_EQ(offsets_of(store_->read_after("r", 0, 3)), (std::vector<std::uint64_t>{1, 2, 3}));
    EXPECT_EQ(offsets_of(store_->read_after("r", 7, 100)), (std::vector<std::uint64_t>{8, 9, 10}));
    EXPECT_TRUE(store_->read_after("r", 10, 100).empty());
    EXPECT_TRUE(store_->read_after("r", 0, 0).empty());
    EXPECT_TRUE(store_->read_after("other", 0, 100).empty());
}

TEST_F(History, RoomsAreSeparate) {
    ASSERT_TRUE(
        append_wait(*store_, {make_event("a", 1), make_event("b", 1), make_event("a", 2)}).ok());
    EXPECT_EQ(offsets_of(store_->read_after("a", 0, 10)), (std::vector<std::uint64_t>{1, 2}));
    EXPECT_EQ(offsets_of(store_->read_after("b", 0, 10)), (std::vector<std::uint64_t>{1}));
    EXPECT_EQ(store_->position("a").last_offset, 2u);
    EXPECT_EQ(store_->position("b").last_offset, 1u);
    EXPECT_NE(store_->position("a").epoch, store_->position("b").epoch);
}

TEST_F(History, GapsAreAllowedButOffsetsMustIncrease) {
    ASSERT_TRUE(append_wait(*store_, {make_event("r", 5)}).ok());
    ASSERT_TRUE(append_wait(*store_, {make_event("r", 9)}).ok());
    for (std::uint64_t bad : {0u, 5u, 9u, 7u}) {
        const auto result = append_wait(*store_, {make_event("r", bad)});
        EXPECT_EQ(result.status, AppendStatus::offset_conflict) << bad;
        EXPECT_FALSE(result.error.empty());
    }
    EXPECT_EQ(offsets_of(store_->read_after("r", 0, 10)), (std::vector<std::uint64_t>{5, 9}));
}

TEST_F(History, AFailedRequestWritesNothingAndOthersInTheGroupSucceed) {
    ASSERT_TRUE(append_wait(*store_, {make_event("r", 1)}).ok());
    std::vector<std::promise<AppendResult>> promises(3);
    // Queued together: the middle one is refused (its second event conflicts), the others stay.
    store_->append({make_event("r", 2)}, [&](AppendResult r) { promises[0].set_value(r); });
    store_->append({make_event("r", 3), make_event("r", 3)},
                   [&](AppendResult r) { promises[1].set_value(r); });
    store_->append({make_event("r", 3)}, [&](AppendResult r) { promises[2].set_value(r); });
    EXPECT_TRUE(promises[0].get_future().get().ok());
    EXPECT_EQ(promises[1].get_future().get().status, AppendStatus::offset_conflict);
    EXPECT_TRUE(promises[2].get_future().get().ok());
    EXPECT_EQ(offsets_of(store_->read_after("r", 0, 10)), (std::vector<std::uint64_t>{1, 2, 3}));
    EXPECT_EQ(store_->position("r").last_offset, 3u);
}

TEST_F(History, IdempotencyKeyLookupAndDuplicateRefused) {
    ASSERT_TRUE(append_wait(*store_, {make_event("r", 1, 10, "k1"), make_event("r", 2, 11)}).ok());
    const auto found = store_->find_by_idempotency_key("r", "k1");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->offset, 1u);
    EXPECT_EQ(found->idempotency_key, "k1");
    EXPECT_FALSE(store_->find_by_idempotency_key("r", "k2").has_value());
    EXPECT_FALSE(store_->find_by_idempotency_key("other", "k1").has_value());
    EXPECT_FALSE(store_->find_by_idempotency_key("r", "").has_value());

    const auto dup = append_wait(*store_, {make_event("r", 3, 12, "k1")});
    EXPECT_EQ(dup.status, AppendStatus::duplicate_key);
    // Same key in another room is fine; events without a key never collide.
    EXPECT_TRUE(append_wait(*store_, {make_event("other", 1, 12, "k1")}).ok());
    EXPECT_TRUE(append_wait(*store_, {make_event("r", 3), make_event("r", 4)}).ok());
    EXPECT_EQ(store_->position("r").last_offset, 4u);
}

TEST_F(History, TrimByCountKeepsTheNewest) {
    for (std::uint64_t o = 1; o <= 20; ++o)
        ASSERT_TRUE(append_wait(*store_, {make_event("r", o)}).ok());
    EXPECT_EQ(store_->oldest_offset("r"), 1u);
    EXPECT_EQ(store_->trim("r", 5, 0), 15u);
    EXPECT_EQ(offsets_of(store_->read_after("r", 0, 100)),
              (std::vector<std::uint64_t>{16, 17, 18, 19, 20}));
    EXPECT_EQ(store_->oldest_offset("r"), 16u);
    EXPECT_EQ(store_->trim("r", 5, 0), 0u);
    // Last offset survives trimming: the next offset still goes up.
    EXPECT_EQ(store_->trim("r", 0, 0), 5u);
    EXPECT_EQ(store_->oldest_offset("r"), 0u);
    EXPECT_EQ(store_->position("r").last_offset, 20u);
    EXPECT_EQ(append_wait(*store_, {make_event("r", 20)}).status, AppendStatus::offset_conflict);
    EXPECT_TRUE(append_wait(*store_, {make_event("r", 21)}).ok());
}

TEST_F(History, TrimByAge) {
    for (std::uint64_t o = 1; o <= 10; ++o)
        ASSERT_TRUE(
            append_wait(*store_, {make_event("r", o, static_cast<std::int64_t>(o) * 100)}).ok());
    ASSERT_TRUE(append_wait(*store_, {make_event("keep", 1, 100)}).ok());
    // Drops timestamps < 450, i.e. offsets 1..4; no count bound.
    EXPECT_EQ(store_->trim("r", std::numeric_limits<std::size_t>::max(), 450), 4u);
    EXPECT_EQ(store_->oldest_offset("r"), 5u);
    // Both bounds at once.
    EXPECT_EQ(store_->trim("r", 3, 600), 3u);  // 5 by age, 6 and 7 by count
    EXPECT_EQ(offsets_of(store_->read_after("r", 0, 100)), (std::vector<std::uint64_t>{8, 9, 10}));
    EXPECT_EQ(store_->read_after("keep", 0, 10).size(), 1u);
    EXPECT_EQ(store_->trim("unknown", 0, 1000), 0u);
}

TEST_F(History, NewRoomGetsANewEpochThatStays) {
    const auto a = store_->position("a");
    EXPECT_EQ(a.last_offset, 0u);
    EXPECT_EQ(a.epoch.size(), 32u);
    EXPECT_EQ(store_->position("a"), a);
    const auto b = store_->position("b");
    EXPECT_NE(a.epoch, b.epoch);
    ASSERT_TRUE(append_wait(*store_, {make_event("a", 1)}).ok());
    EXPECT_EQ(store_->position("a").epoch, a.epoch);
    // A room first seen through append gets an epoch too.
    ASSERT_TRUE(append_wait(*store_, {make_event("c", 1)}).ok());
    EXPECT_EQ(store_->position("c").epoch.size(), 32u);
}

TEST(HistoryReopen, EverythingPersistsAcrossReopen) {
    TempDir dir;
    const auto path = dir.file("h.db");
    RoomPosition before;
    {
        auto store = open_sqlite_store(path);  // default options: fsync on
        before = store->position("r");
        ASSERT_TRUE(append_wait(*store, {make_event("r", 1, 5, "k"), make_event("r", 2)}).ok());
        EXPECT_EQ(store->position("empty").last_offset, 0u);
    }
    auto store = open_sqlite_store(path);
    const auto after = store->position("r");
    EXPECT_EQ(after.epoch, before.epoch);
    EXPECT_EQ(after.last_offset, 2u);
    EXPECT_EQ(offsets_of(store->read_after("r", 0, 10)), (std::vector<std::uint64_t>{1, 2}));
    EXPECT_TRUE(store->find_by_idempotency_key("r", "k").has_value());
    EXPECT_EQ(store->position("empty").last_offset, 0u);
}

TEST(HistoryReopen, LostDatabaseMeansNewEpoch) {
    TempDir dir;
    std::string first;
    {
        auto store = open_sqlite_store(dir.file("one.db"), fast_options());
        first = store->position("r").epoch;
    }
    auto store = open_sqlite_store(dir.file("two.db"), fast_options());
    EXPECT_NE(store->position("r").epoch, first);
}

TEST(HistoryReopen, RefusesANewerSchemaAndBadPaths) {
    TempDir dir;
    const auto path = dir.file("v.db");
    { auto store = open_sqlite_store(path, fast_options()); }
    {
        // Simulate a database written by a future version.
        auto store = open_sqlite_store(path, fast_options());
        store.reset();
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        ASSERT_EQ(
            sqlite3_exec(db, "UPDATE huddle_schema SET version = 99", nullptr, nullptr, nullptr),
            SQLITE_OK);
        sqlite3_close(db);
    }
    EXPECT_THROW(open_sqlite_store(path, fast_options()), StoreError);
    EXPECT_THROW(open_sqlite_store(":memory:", fast_options()), StoreError);
    EXPECT_THROW(open_sqlite_store(dir.file("no/such/dir/x.db"), fast_options()), StoreError);
}
