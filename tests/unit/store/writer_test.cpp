// The writer thread: group commit, the bounded queue, flush and close.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <future>
#include <mutex>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite_store.hpp"
#include "store_test_util.hpp"

using namespace huddle::store;
using huddle::store::testing::append_wait;
using huddle::store::testing::durable;
using huddle::store::testing::make_event;
using huddle::store::testing::StoreTest;
using huddle::store::testing::TestOptions;

namespace {

// Blocks the writer thread inside a completion until release() (so the queue fills up). The
// state is shared with the completion, which may still be running when the blocker is gone.
class WriterBlocker {
  public:
    explicit WriterBlocker(Store& store) {
        auto entered = state_->entered.get_future();
        store.append_update("blocker", {0}, [state = state_](AppendResult) {
            state->entered.set_value();
            state->released.wait();
        });
        entered.wait();
    }
    ~WriterBlocker() { release(); }
    void release() {
        if (!released_) {
            released_ = true;
            state_->release.set_value();
        }
    }

  private:
    struct State {
        std::promise<void> entered;
        std::promise<void> release;
        std::shared_future<void> released = release.get_future().share();
    };
    std::shared_ptr<State> state_ = std::make_shared<State>();
    bool released_ = false;
};

using Writer = StoreTest;

}  // namespace

TEST_P(Writer, GroupCommitPutsManyAppendsInOneTransaction) {
    auto store = db_->open(durable());  // fsync on: the real cost
    const auto before = store->stats();
    constexpr int kThreads = 4;
    constexpr int kPerThread = 250;
    std::atomic<int> ok{0};
    std::atomic<int> completed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            const std::string room = "room:" + std::to_string(t);
            for (int i = 1; i <= kPerThread; ++i) {
                if (i % 2 == 0) {
                    store->append({make_event(room, static_cast<std::uint64_t>(i))},
                                  [&](AppendResult r) {
                                      ok += r.ok() ? 1 : 0;
                                      ++completed;
                                  });
                } else {
                    store->append_update("doc:" + std::to_string(t), {std::uint8_t(i)},
                                         [&](AppendResult r) {
                                             ok += r.ok() ? 1 : 0;
                                             ++completed;
                                         });
                }
            }
        });
    }
    for (auto& t : threads)
        t.join();
    store->flush();
    EXPECT_EQ(completed.load(), kThreads * kPerThread);
    EXPECT_EQ(ok.load(), kThreads * kPerThread);
    const auto after = store->stats();
    const auto commits = after.commits - before.commits;
    const auto appends = after.appends - before.appends;
    EXPECT_EQ(appends, static_cast<std::uint64_t>(kThreads * kPerThread));
    // One fsync per commit: grouping must make commits far fewer than appends.
    EXPECT_LE(commits * 5, appends) << commits << " commits for " << appends << " appends";
    std::printf("[ group commit ] %llu appends in %llu commits (%.1f appends per commit)\n",
                static_cast<unsigned long long>(appends), static_cast<unsigned long long>(commits),
                static_cast<double>(appends) / static_cast<double>(commits));
    for (int t = 0; t < kThreads; ++t) {
        EXPECT_EQ(store->read_after("room:" + std::to_string(t), 0, 1000).size(),
                  static_cast<std::size_t>(kPerThread / 2));
        EXPECT_EQ(store->load("doc:" + std::to_string(t)).size(),
                  static_cast<std::size_t>(kPerThread / 2));
    }
}

TEST_P(Writer, GroupCommitUnderSteadyLoad) {
    // Closer to the server: 4 producers (event loops), each with a window of 32 appends in
    // flight, keep appending as completions come back. Every commit pays one fsync.
    auto store = db_->open(durable());  // fsync on: the real cost
    const auto before = store->stats();
    constexpr int kThreads = 4;
    constexpr int kPerThread = 1500;
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            std::counting_semaphore<32> window(32);
            const std::string room = "room:" + std::to_string(t);
            for (int i = 1; i <= kPerThread; ++i) {
                window.acquire();
                store->append({make_event(room, static_cast<std::uint64_t>(i))},
                              [&window](AppendResult r) {
                                  EXPECT_TRUE(r.ok()) << r.error;
                                  window.release();
                              });
            }
            for (int i = 0; i < 32; ++i)
                window.acquire();  // all of this thread's appends completed
        });
    }
    for (auto& t : threads)
        t.join();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto after = store->stats();
    const auto commits = after.commits - before.commits;
    const auto appends = after.appends - before.appends;
    EXPECT_EQ(appends, static_cast<std::uint64_t>(kThreads * kPerThread));
    EXPECT_LE(commits * 4, appends) << commits << " commits for " << appends << " appends";
    std::printf(
        "[ group commit ] steady load: %llu appends in %llu commits (%.1f per commit),"
        " %.0f appends/s\n",
        static_cast<unsigned long long>(appends), static_cast<unsigned long long>(commits),
        static_cast<double>(appends) / static_cast<double>(commits),
        static_cast<double>(appends) / seconds);
}

TEST_P(Writer, CompletionsRunInQueueOrderAfterTheDataIsReadable) {
    auto store = db_->open();
    std::vector<std::uint64_t> order;
    for (std::uint64_t o = 1; o <= 200; ++o) {
        store->append({make_event("r", o)}, [&, o](AppendResult r) {
            EXPECT_TRUE(r.ok());
            order.push_back(o);  // writer thread only
        });
    }
    store->flush();
    ASSERT_EQ(order.size(), 200u);
    for (std::size_t i = 0; i < order.size(); ++i)
        EXPECT_EQ(order[i], i + 1);
}

TEST_P(Writer, BoundedQueueRefusesWhenFullThenRecovers) {
    TestOptions options;
    options.max_queued_requests = 10;
    auto store = db_->open(options);
    WriterBlocker blocker(*store);  // holds 1 of the 10

    std::vector<AppendResult> results;
    std::mutex mutex;
    auto record = [&](AppendResult r) {
        std::lock_guard lock(mutex);
        results.push_back(std::move(r));
    };
    for (std::uint64_t o = 1; o <= 9; ++o)
        store->append({make_event("r", o)}, record);
    AppendResult refused;
    bool called_inline = false;
    store->append({make_event("r", 10)}, [&](AppendResult r) {
        refused = std::move(r);
        called_inline = true;
    });
    // The refusal is known at once: completed before append returned.
    EXPECT_TRUE(called_inline);
    EXPECT_EQ(refused.status, AppendStatus::queue_full);
    EXPECT_FALSE(refused.error.empty());
    EXPECT_EQ(store->stats().queued, 9u);

    blocker.release();
    store->flush();
    ASSERT_EQ(results.size(), 9u);
    for (const auto& r : results)
        EXPECT_TRUE(r.ok()) << r.error;
    // Room again once drained.
    EXPECT_TRUE(append_wait(*store, {make_event("r", 10)}).ok());
    EXPECT_GE(store->stats().failed_appends, 1u);
}

TEST_P(Writer, BoundedQueueCountsBytes) {
    TestOptions options;
    options.max_queued_bytes = 64 * 1024;
    auto store = db_->open(options);
    WriterBlocker blocker(*store);
    int accepted = 0;
    AppendResult last;
    for (int i = 0; i < 10; ++i) {
        bool refused = false;
        store->append_update("d", std::vector<std::uint8_t>(20 * 1024, 1), [&](AppendResult r) {
            if (r.status == AppendStatus::queue_full)
                refused = true;
        });
        if (!refused)
            ++accepted;
    }
    EXPECT_EQ(accepted, 3);  // 3 x 20 KiB fit in 64 KiB, the 4th does not
    blocker.release();
    store->flush();
    EXPECT_EQ(store->load("d").size(), 3u);
}

TEST_P(Writer, CloseDrainsTheQueueAndRefusesLaterAppends) {
    std::atomic<int> ok{0};
    {
        auto store = db_->open();
        for (std::uint64_t o = 1; o <= 500; ++o)
            store->append({make_event("r", o)}, [&](AppendResult r) { ok += r.ok() ? 1 : 0; });
        store->close();
        EXPECT_EQ(ok.load(), 500);
        AppendResult late;
        store->append({make_event("r", 501)}, [&](AppendResult r) { late = std::move(r); });
        EXPECT_EQ(late.status, AppendStatus::closed);
        EXPECT_THROW(store->trim("r", 1, 0), StoreError);
        store->close();  // idempotent
    }
    auto store = db_->open();
    EXPECT_EQ(store->read_after("r", 0, 1000).size(), 500u);
}

TEST_P(Writer, SynchronousCallFromACompletionIsRefusedNotDeadlocked) {
    auto store = db_->open();
    std::promise<bool> threw;
    store->append({make_event("r", 1)}, [&](AppendResult) {
        try {
            store->trim("r", 0, 0);
            threw.set_value(false);
        } catch (const StoreError&) {
            threw.set_value(true);
        }
    });
    EXPECT_TRUE(threw.get_future().get());
    // Appending from a completion is fine.
    std::promise<AppendResult> chained;
    store->append({make_event("r", 2)}, [&](AppendResult) {
        store->append({make_event("r", 3)}, [&](AppendResult r) { chained.set_value(r); });
    });
    EXPECT_TRUE(chained.get_future().get().ok());
}

TEST_P(Writer, ReadsRunWhileTheWriterIsBusy) {
    auto store = db_->open();
    ASSERT_TRUE(append_wait(*store, {make_event("r", 1)}).ok());
    WriterBlocker blocker(*store);
    // The writer is stuck; reads do not need it.
    EXPECT_EQ(store->read_after("r", 0, 10).size(), 1u);
    EXPECT_EQ(store->position("r").last_offset, 1u);
    EXPECT_EQ(store->load("blocker").size(), 1u);
    blocker.release();
}

TEST_P(Writer, ConcurrentReadersAndWriters) {
    auto store = db_->open();
    std::atomic<bool> stop{false};
    std::atomic<int> bad{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t) {
        readers.emplace_back([&] {
            while (!stop) {
                const auto events = store->read_after("r", 0, 10'000);
                for (std::size_t i = 0; i < events.size(); ++i)
                    if (events[i].offset != i + 1)
                        ++bad;
                (void)store->position("r");
            }
        });
    }
    for (std::uint64_t o = 1; o <= 300; ++o)
        store->append({make_event("r", o)}, [](AppendResult) {});
    store->flush();
    stop = true;
    for (auto& t : readers)
        t.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_EQ(store->read_after("r", 0, 10'000).size(), 300u);
}

HUDDLE_STORE_BACKENDS(Writer);

// Document updates are written without a savepoint each (SQLite) or all in one statement
// (PostgreSQL). One that fails makes the writer write the batch again request by request, so that
// it fails alone and the others still commit together.
TEST_P(Writer, AFailedUpdateFailsAloneAndTheRestOfItsBatchCommits) {
    auto store = db_->open();
    // The update 0xDE 0xAD is refused by the database itself, the way an I/O error would be.
    if (GetParam() == huddle::store::testing::Backend::sqlite) {
        db_->execute_sql(
            "CREATE TRIGGER refuse_dead BEFORE INSERT ON document_updates "
            "WHEN NEW.data = x'dead' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
    } else {
        db_->execute_sql(
            "CREATE FUNCTION refuse_dead() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.data = '\\xdead'::bytea THEN RAISE EXCEPTION 'refused by the test'; END IF; "
            "RETURN NEW; END $$; "
            "CREATE TRIGGER refuse_dead BEFORE INSERT ON huddle_document_updates "
            "FOR EACH ROW EXECUTE FUNCTION refuse_dead()");
    }
    std::vector<AppendResult> results(6);
    std::promise<void> all_done;
    int remaining = 6;  // completions run on the writer thread, one at a time
    auto keep = [&](std::size_t i) {
        return [&, i](AppendResult r) {
            results[i] = std::move(r);
            if (--remaining == 0)
                all_done.set_value();
        };
    };
    std::uint64_t commits_before = 0;
    {
        WriterBlocker blocker(*store);  // what follows is queued into one batch
        commits_before = store->stats().commits;
        store->append_update("a", {1}, keep(0));
        // A new document written twice before the failure: the writer must not remember an id
        // that the rollback took away.
        store->append_update("n", {3}, keep(4));
        store->append_update("n", {4}, keep(5));
        store->append_update("b", {0xde, 0xad}, keep(1));
        store->append({make_event("room", 1)}, keep(2));
        store->append_update("c", {2}, keep(3));
    }
    all_done.get_future().wait();
    EXPECT_TRUE(results[0].ok()) << results[0].error;
    EXPECT_FALSE(results[1].ok());
    EXPECT_NE(results[1].error.find("refused by the test"), std::string::npos) << results[1].error;
    EXPECT_EQ(results[1].update, (std::vector<std::uint8_t>{0xde, 0xad}));  // handed back
    EXPECT_TRUE(results[2].ok()) << results[2].error;
    EXPECT_TRUE(results[3].ok()) << results[3].error;
    EXPECT_TRUE(results[4].ok() && results[5].ok());
    EXPECT_EQ(store->stats().commits - commits_before, 1U);
    EXPECT_TRUE(huddle::store::testing::append_update_wait(*store, "n", {5}).ok());
    ASSERT_EQ(store->load("n").size(), 3U);
    EXPECT_EQ(store->load("n")[2].data, (std::vector<std::uint8_t>{5}));
    ASSERT_EQ(store->load("a").size(), 1U);
    EXPECT_EQ(store->load("a")[0].data, (std::vector<std::uint8_t>{1}));
    EXPECT_TRUE(store->load("b").empty());
    EXPECT_EQ(store->load("c").size(), 1U);
    EXPECT_EQ(store->read_after("room", 0, 10).size(), 1U);
    // Each update is stored once, though the batch was written twice.
    // b's document row went with its savepoint.
    std::vector<std::string> names;
    for (const auto& info : store->list())
        names.push_back(info.name);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"a", "blocker", "c", "n"}));
}
