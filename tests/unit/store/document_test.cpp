#include <gtest/gtest.h>

#include <cstdint>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include "store_test_util.hpp"

using namespace huddle::store;
using huddle::store::testing::append_update_wait;
using huddle::store::testing::durable;
using huddle::store::testing::StoreTest;

namespace {

using Bytes = std::vector<std::uint8_t>;

std::vector<Bytes> data_of(const std::vector<StoredUpdate>& updates) {
    std::vector<Bytes> out;
    for (const auto& u : updates)
        out.push_back(u.data);
    return out;
}

class Documents : public StoreTest {
  protected:
    void SetUp() override {
        StoreTest::SetUp();
        if (db_)
            store_ = db_->open();
    }
    std::unique_ptr<Store> store_;
};

using DocumentsReopen = StoreTest;

}  // namespace

TEST_P(Documents, AppendThenLoadInOrder) {
    EXPECT_TRUE(store_->load("d").empty());
    ASSERT_TRUE(append_update_wait(*store_, "d", {1, 2, 3}).ok());
    ASSERT_TRUE(append_update_wait(*store_, "d", {0, 255}).ok());
    ASSERT_TRUE(append_update_wait(*store_, "other", {9}).ok());
    ASSERT_TRUE(append_update_wait(*store_, "d", {}).ok());  // empty blob stays empty, not NULL
    const auto updates = store_->load("d");
    EXPECT_EQ(data_of(updates), (std::vector<Bytes>{{1, 2, 3}, {0, 255}, {}}));
    EXPECT_LT(updates[0].id, updates[1].id);
    EXPECT_LT(updates[1].id, updates[2].id);
    EXPECT_EQ(data_of(store_->load("other")), (std::vector<Bytes>{{9}}));
}

// The caller applies and relays the update once durable: it gets the bytes back rather than
// keeping a copy meanwhile, refused or not.
TEST_P(Documents, AppendHandsTheUpdateBack) {
    const AppendResult stored = append_update_wait(*store_, "d", {7, 0, 255});
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored.update, (Bytes{7, 0, 255}));
    store_->close();
    const AppendResult refused = append_update_wait(*store_, "d", {8, 9});
    EXPECT_EQ(refused.status, AppendStatus::closed);
    EXPECT_EQ(refused.update, (Bytes{8, 9}));
}

TEST_P(Documents, AppendReportsTheIdThatLoadGives) {
    const AppendResult first = append_update_wait(*store_, "d", {1});
    const AppendResult other = append_update_wait(*store_, "e", {2});
    const AppendResult second = append_update_wait(*store_, "d", {3});
    ASSERT_TRUE(first.ok() && other.ok() && second.ok());
    const auto updates = store_->load("d");
    ASSERT_EQ(updates.size(), 2u);
    EXPECT_EQ(updates[0].id, first.update_id);
    EXPECT_EQ(updates[1].id, second.update_id);
    EXPECT_EQ(store_->load("e").at(0).id, other.update_id);
    // what the server does with it: compact up to the last id it applied
    EXPECT_TRUE(store_->compact("d", second.update_id, 2, {1, 3}));
    EXPECT_EQ(data_of(store_->load("d")), (std::vector<Bytes>{{1, 3}}));
}

// What a loop hands over at the end of its turn: several documents' updates in one call, stored
// in the order given, in one transaction, each completed with its own id and bytes.
TEST_P(Documents, AppendUpdatesStoresEachInOrderInOneCommit) {
    const auto commits_before = store_->stats().commits;
    std::vector<AppendResult> results(4);
    std::promise<void> all_done;
    int remaining = 4;  // completions run on the writer thread, one at a time
    std::vector<DocumentStore::UpdateRequest> requests;
    const std::vector<std::pair<std::string, Bytes>> updates = {
        {"d", {1}}, {"e", {2}}, {"d", {3, 4}}, {"d", {}}};
    for (std::size_t i = 0; i < updates.size(); ++i) {
        requests.push_back({updates[i].first, updates[i].second, [&, i](AppendResult r) {
                                results[i] = std::move(r);
                                if (--remaining == 0)
                                    all_done.set_value();
                            }});
    }
    store_->append_updates(std::move(requests));
    all_done.get_future().wait();
    for (std::size_t i = 0; i < results.size(); ++i) {
        ASSERT_TRUE(results[i].ok()) << results[i].error;
        EXPECT_EQ(results[i].update, updates[i].second);
    }
    EXPECT_EQ(store_->stats().commits - commits_before, 1u);
    const auto stored = store_->load("d");
    EXPECT_EQ(data_of(stored), (std::vector<Bytes>{{1}, {3, 4}, {}}));
    ASSERT_EQ(stored.size(), 3u);
    EXPECT_EQ(stored[0].id, results[0].update_id);
    EXPECT_EQ(stored[1].id, results[2].update_id);
    EXPECT_EQ(stored[2].id, results[3].update_id);
    EXPECT_EQ(data_of(store_->load("e")), (std::vector<Bytes>{{2}}));
}

TEST_P(Documents, CompactReplacesTheLoadedPrefixAndKeepsLaterUpdates) {
    for (std::uint8_t i = 1; i <= 5; ++i)
        ASSERT_TRUE(append_update_wait(*store_, "d", {i}).ok());
    const auto loaded = store_->load("d");
    ASSERT_EQ(loaded.size(), 5u);
    // Appended after the load, before the compaction: must stay, after the merged update.
    ASSERT_TRUE(append_update_wait(*store_, "d", {6}).ok());
    ASSERT_TRUE(store_->compact("d", loaded.back().id, loaded.size(), {1, 2, 3, 4, 5}));
    const auto after = store_->load("d");
    EXPECT_EQ(data_of(after), (std::vector<Bytes>{{1, 2, 3, 4, 5}, {6}}));
    EXPECT_EQ(after[0].id, loaded.back().id);

    // A second compaction with stale figures (another compactor got there first) is refused.
    EXPECT_FALSE(store_->compact("d", loaded.back().id, loaded.size(), {0}));
    EXPECT_FALSE(store_->compact("d", after[1].id, 3, {0}));
    EXPECT_FALSE(store_->compact("d", after[0].id - 1, 1, {0}));  // nothing left at or below
    EXPECT_FALSE(store_->compact("missing", 1, 1, {0}));
    EXPECT_FALSE(store_->compact("d", after[1].id, 0, {0}));
    EXPECT_EQ(data_of(store_->load("d")), data_of(after));

    // Compacting everything again, then appending: ids keep increasing.
    ASSERT_TRUE(store_->compact("d", after[1].id, 2, {7}));
    ASSERT_TRUE(append_update_wait(*store_, "d", {8}).ok());
    const auto last = store_->load("d");
    EXPECT_EQ(data_of(last), (std::vector<Bytes>{{7}, {8}}));
    EXPECT_LT(last[0].id, last[1].id);
}

TEST_P(Documents, CompactDoesNotTouchOtherDocuments) {
    ASSERT_TRUE(append_update_wait(*store_, "a", {1}).ok());
    ASSERT_TRUE(append_update_wait(*store_, "b", {2}).ok());
    ASSERT_TRUE(append_update_wait(*store_, "a", {3}).ok());
    const auto a = store_->load("a");
    const auto b = store_->load("b");
    // b's id lies between a's: counting a's updates up to it finds 1, but the id is not a's.
    EXPECT_FALSE(store_->compact("a", b[0].id, 1, {0}));
    ASSERT_TRUE(store_->compact("a", a.back().id, 2, {1, 3}));
    EXPECT_EQ(data_of(store_->load("a")), (std::vector<Bytes>{{1, 3}}));
    EXPECT_EQ(data_of(store_->load("b")), (std::vector<Bytes>{{2}}));
}

TEST_P(Documents, RemoveAndList) {
    ASSERT_TRUE(append_update_wait(*store_, "b", {1, 2}).ok());
    ASSERT_TRUE(append_update_wait(*store_, "a", {1}).ok());
    ASSERT_TRUE(append_update_wait(*store_, "b", {3, 4, 5}).ok());
    EXPECT_EQ(store_->list(), (std::vector<DocumentInfo>{{"a", 1, 1}, {"b", 2, 5}}));
    EXPECT_TRUE(store_->remove("b"));
    EXPECT_FALSE(store_->remove("b"));
    EXPECT_FALSE(store_->remove("never"));
    EXPECT_TRUE(store_->load("b").empty());
    EXPECT_EQ(store_->list(), (std::vector<DocumentInfo>{{"a", 1, 1}}));
    // A removed document can start again.
    ASSERT_TRUE(append_update_wait(*store_, "b", {6}).ok());
    EXPECT_EQ(data_of(store_->load("b")), (std::vector<Bytes>{{6}}));
}

TEST_P(DocumentsReopen, UpdatesAndCompactionPersist) {
    {
        auto store = db_->open(durable());
        ASSERT_TRUE(append_update_wait(*store, "d", {1}).ok());
        ASSERT_TRUE(append_update_wait(*store, "d", {2}).ok());
        const auto loaded = store->load("d");
        ASSERT_TRUE(store->compact("d", loaded.back().id, 2, {1, 2}));
        ASSERT_TRUE(append_update_wait(*store, "d", {3}).ok());
    }
    auto store = db_->open(durable());
    EXPECT_EQ(data_of(store->load("d")), (std::vector<Bytes>{{1, 2}, {3}}));
}

HUDDLE_STORE_BACKENDS(Documents);
HUDDLE_STORE_BACKENDS(DocumentsReopen);
