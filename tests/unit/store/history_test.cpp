#include <gtest/gtest.h>

#include <cstdint>
#include <future>
#include <limits>
#include <string>
#include <vector>

#include "store/open_store.hpp"
#include "store/sqlite_store.hpp"
#include "store_test_util.hpp"

using namespace huddle::store;
using huddle::store::testing::append_wait;
using huddle::store::testing::create_database;
using huddle::store::testing::durable;
using huddle::store::testing::make_event;
using huddle::store::testing::StoreTest;
using huddle::store::testing::TempDir;

namespace {

std::vector<std::uint64_t> offsets_of(const std::vector<RoomEvent>& events) {
    std::vector<std::uint64_t> offsets;
    for (const auto& e : events)
        offsets.push_back(e.offset);
    return offsets;
}

class History : public StoreTest {
  protected:
    void SetUp() override {
        StoreTest::SetUp();
        if (db_)
            store_ = db_->open();
    }
    std::unique_ptr<Store> store_;
};

using HistoryReopen = StoreTest;

}  // namespace

TEST_P(History, AppendThenReadRoundTrip) {
    RoomEvent e{"room:1", 1, 1234, "key-1", R"({"type":"CHAT_MESSAGE","text":"hé \u0000"})"};
    ASSERT_TRUE(append_wait(*store_, {e}).ok());
    const auto events = store_->read_after("room:1", 0, 100);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], e);
}

TEST_P(History, ReadAfterReturnsEventsInOffsetOrderWithLimit) {
    for (std::uint64_t o = 1; o <= 10; ++o)
        ASSERT_TRUE(append_wait(*store_, {make_event("r", o)}).ok());
    EXPECT_EQ(offsets_of(store_->read_after("r", 0, 3)), (std::vector<std::uint64_t>{1, 2, 3}));
    EXPECT_EQ(offsets_of(store_->read_after("r", 7, 100)), (std::vector<std::uint64_t>{8, 9, 10}));
    EXPECT_TRUE(store_->read_after("r", 10, 100).empty());
    EXPECT_TRUE(store_->read_after("r", 0, 0).empty());
    EXPECT_TRUE(store_->read_after("other", 0, 100).empty());
}

TEST_P(History, RoomsAreSeparate) {
    ASSERT_TRUE(
        append_wait(*store_, {make_event("a", 1), make_event("b", 1), make_event("a", 2)}).ok());
    EXPECT_EQ(offsets_of(store_->read_after("a", 0, 10)), (std::vector<std::uint64_t>{1, 2}));
    EXPECT_EQ(offsets_of(store_->read_after("b", 0, 10)), (std::vector<std::uint64_t>{1}));
    EXPECT_EQ(store_->position("a").last_offset, 2u);
    EXPECT_EQ(store_->position("b").last_offset, 1u);
    EXPECT_NE(store_->position("a").epoch, store_->position("b").epoch);
}

TEST_P(History, GapsAreAllowedButOffsetsMustIncrease) {
    ASSERT_TRUE(append_wait(*store_, {make_event("r", 5)}).ok());
    ASSERT_TRUE(append_wait(*store_, {make_event("r", 9)}).ok());
    for (std::uint64_t bad : {0u, 5u, 9u, 7u}) {
        const auto result = append_wait(*store_, {make_event("r", bad)});
        EXPECT_EQ(result.status, AppendStatus::offset_conflict) << bad;
        EXPECT_FALSE(result.error.empty());
    }
    EXPECT_EQ(offsets_of(store_->read_after("r", 0, 10)), (std::vector<std::uint64_t>{5, 9}));
}

TEST_P(History, AFailedRequestWritesNothingAndOthersInTheGroupSucceed) {
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

TEST_P(History, AppendEachQueuesIndependentAppendsInOneTransaction) {
    ASSERT_TRUE(append_wait(*store_, {make_event("r", 1)}).ok());
    const std::uint64_t commits_before = store_->stats().commits;
    std::vector<int> completed;
    std::vector<AppendStatus> statuses(4);
    std::promise<void> all_done;
    std::vector<HistoryStore::AppendRequest> requests;
    const auto record = [&](int i) {
        return [&, i](AppendResult r) {
            completed.push_back(i);
            statuses[i] = r.status;
            if (completed.size() == 4)
                all_done.set_value();
        };
    };
    requests.push_back({{make_event("r", 2)}, record(0)});
    requests.push_back({{make_event("r", 2)}, record(1)});  // offset conflict: refused alone
    requests.push_back({{make_event("other", 1)}, record(2)});
    requests.push_back({{make_event("r", 3)}, record(3)});
    store_->append_each(std::move(requests));
    all_done.get_future().get();
    EXPECT_EQ(completed, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(statuses, (std::vector<AppendStatus>{AppendStatus::ok, AppendStatus::offset_conflict,
                                                   AppendStatus::ok, AppendStatus::ok}));
    EXPECT_EQ(offsets_of(store_->read_after("r", 0, 10)), (std::vector<std::uint64_t>{1, 2, 3}));
    EXPECT_EQ(store_->stats().commits - commits_before, 1u) << "queued together, committed once";
}

// One-event requests queued together (PostgreSQL writes them in one statement): each is stored
// or refused on its own, in queue order, as if written one after the other.
TEST_P(History, OneEventRequestsQueuedTogetherAreEachStoredOrRefused) {
    ASSERT_TRUE(append_wait(*store_, {make_event("r", 1, 10, "old")}).ok());
    std::vector<AppendResult> results(8);
    std::promise<void> all_done;
    std::size_t remaining = results.size();
    std::vector<HistoryStore::AppendRequest> requests;
    const auto keep = [&](std::size_t i) {
        return [&, i](AppendResult r) {
            results[i] = std::move(r);
            if (--remaining == 0)
                all_done.set_value();
        };
    };
    requests.push_back({{make_event("r", 2, 11, "k")}, keep(0)});
    requests.push_back({{make_event("r", 3, 12, "k")}, keep(1)});    // key stored just before
    requests.push_back({{make_event("r", 3, 12, "old")}, keep(2)});  // key stored earlier
    requests.push_back({{make_event("r", 2, 13)}, keep(3)});         // offset taken just before
    requests.push_back({{make_event("new", 1, 14, "k")}, keep(4)});  // same key, another room
    requests.push_back({{make_event("r", 3, 15)}, keep(5)});
    requests.push_back({{make_event("r", std::numeric_limits<std::uint64_t>::max(), 16)}, keep(6)});
    requests.push_back({{make_event("r", 4, 17, "")}, keep(7)});  // no key
    store_->append_each(std::move(requests));
    all_done.get_future().get();
    const std::vector<AppendStatus> expected = {AppendStatus::ok,
                                                AppendStatus::duplicate_key,
                                                AppendStatus::duplicate_key,
                                                AppendStatus::offset_conflict,
                                                AppendStatus::ok,
                                                AppendStatus::ok,
                                                AppendStatus::offset_conflict,
                                                AppendStatus::ok};
    for (std::size_t i = 0; i < results.size(); ++i)
        EXPECT_EQ(results[i].status, expected[i]) << "request " << i << ": " << results[i].error;
    EXPECT_NE(results[3].error.find("not after offset 2"), std::string::npos) << results[3].error;
    const auto stored = store_->read_after("r", 0, 10);
    EXPECT_EQ(offsets_of(stored), (std::vector<std::uint64_t>{1, 2, 3, 4}));
    ASSERT_EQ(stored.size(), 4u);
    EXPECT_EQ(stored[1].timestamp_ms, 11);
    EXPECT_EQ(stored[2].timestamp_ms, 15);
    EXPECT_TRUE(stored[3].idempotency_key.empty());
    EXPECT_EQ(store_->find_by_idempotency_key("r", "k")->offset, 2u);
    EXPECT_EQ(store_->find_by_idempotency_key("new", "k")->offset, 1u);
    EXPECT_EQ(store_->position("r").last_offset, 4u);
}

TEST_P(History, IdempotencyKeyLookupAndDuplicateRefused) {
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

TEST_P(History, TrimByCountKeepsTheNewest) {
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

TEST_P(History, TrimByAge) {
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

TEST_P(History, NewRoomGetsANewEpochThatStays) {
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

TEST_P(HistoryReopen, EverythingPersistsAcrossReopen) {
    RoomPosition before;
    {
        auto store = db_->open(durable());
        before = store->position("r");
        ASSERT_TRUE(append_wait(*store, {make_event("r", 1, 5, "k"), make_event("r", 2)}).ok());
        EXPECT_EQ(store->position("empty").last_offset, 0u);
    }
    auto store = db_->open(durable());
    const auto after = store->position("r");
    EXPECT_EQ(after.epoch, before.epoch);
    EXPECT_EQ(after.last_offset, 2u);
    EXPECT_EQ(offsets_of(store->read_after("r", 0, 10)), (std::vector<std::uint64_t>{1, 2}));
    EXPECT_TRUE(store->find_by_idempotency_key("r", "k").has_value());
    EXPECT_EQ(store->position("empty").last_offset, 0u);
}

TEST_P(HistoryReopen, LostDatabaseMeansNewEpoch) {
    std::string first;
    {
        auto store = db_->open();
        first = store->position("r").epoch;
    }
    auto other = create_database(GetParam());
    auto store = other->open();
    EXPECT_NE(store->position("r").epoch, first);
}

TEST_P(HistoryReopen, RefusesANewerSchema) {
    { auto store = db_->open(); }
    db_->set_schema_version(99);
    EXPECT_THROW(db_->open(), StoreError);
}

// A PostgreSQL database written by a build of schema version 1 (before huddle_append_events)
// is brought to the current version when opened, and batches of events are written through it.
TEST_P(HistoryReopen, PostgresSchemaOneIsMigrated) {
    if (GetParam() != huddle::store::testing::Backend::postgres)
        GTEST_SKIP() << "PostgreSQL's migration";
    {
        auto store = db_->open();
        ASSERT_TRUE(append_wait(*store, {make_event("r", 1)}).ok());
    }
    db_->execute_sql("DROP FUNCTION huddle_append_events");
    db_->set_schema_version(1);
    auto store = db_->open();
    std::vector<std::promise<AppendResult>> done(2);
    std::vector<HistoryStore::AppendRequest> requests;
    requests.push_back({{make_event("r", 2)}, [&](AppendResult r) { done[0].set_value(r); }});
    requests.push_back({{make_event("r", 3)}, [&](AppendResult r) { done[1].set_value(r); }});
    store->append_each(std::move(requests));
    EXPECT_TRUE(done[0].get_future().get().ok());
    EXPECT_TRUE(done[1].get_future().get().ok());
    EXPECT_EQ(offsets_of(store->read_after("r", 0, 10)), (std::vector<std::uint64_t>{1, 2, 3}));
}

HUDDLE_STORE_BACKENDS(History);
HUDDLE_STORE_BACKENDS(HistoryReopen);

TEST(OpenStore, RefusesBadLocations) {
    TempDir dir;
    SqliteOptions fast;
    fast.fsync = false;
    EXPECT_THROW(open_sqlite_store(":memory:", fast), StoreError);
    EXPECT_THROW(open_sqlite_store(dir.file("no/such/dir/x.db"), fast), StoreError);
    EXPECT_THROW(open_store({"mysql://localhost/db", dir.file("x.db")}), StoreError);
    // Nothing listens on port 1: the error comes at once, without the password.
    try {
        open_store({"postgres://huddle:secret@127.0.0.1:1/huddle", ""});
        ADD_FAILURE() << "opened a store on a closed port";
    } catch (const StoreError& error) {
        EXPECT_EQ(std::string(error.what()).find("secret"), std::string::npos) << error.what();
        EXPECT_NE(std::string(error.what()).find("***"), std::string::npos) << error.what();
    }
    // Empty URL: SQLite at the path.
    auto store = open_store({"", dir.file("y.db")});
    EXPECT_TRUE(append_wait(*store, {make_event("r", 1)}).ok());
}
