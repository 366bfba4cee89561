// PostgreSQL stopped (immediate shutdown: a crash) and started again in the middle of appends:
// writes wait and resume, nothing acknowledged is lost or written twice. Needs the server that
// scripts/test-postgres.sh starts (it sets HUDDLE_TEST_POSTGRES_STOP and _START).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <semaphore>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store_test_util.hpp"

using namespace huddle::store;
using huddle::store::testing::append_wait;
using huddle::store::testing::Backend;
using huddle::store::testing::create_database;
using huddle::store::testing::durable;
using huddle::store::testing::make_event;
using huddle::store::testing::postgres_url;
using huddle::store::testing::TestOptions;

namespace {

using Clock = std::chrono::steady_clock;

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr ? value : "";
}

class PostgresRestart : public ::testing::Test {
  protected:
    void SetUp() override {
        if (postgres_url().empty() || env("HUDDLE_TEST_POSTGRES_STOP").empty() ||
            env("HUDDLE_TEST_POSTGRES_START").empty())
            GTEST_SKIP() << "PostgreSQL restart not tested: run scripts/test-postgres.sh (it sets "
                            "HUDDLE_TEST_POSTGRES_URL, _STOP and _START)";
    }
    void stop_server() { ASSERT_EQ(std::system(env("HUDDLE_TEST_POSTGRES_STOP").c_str()), 0); }
    void start_server() { ASSERT_EQ(std::system(env("HUDDLE_TEST_POSTGRES_START").c_str()), 0); }
};

// Appends events (offsets 1, 2, ...) and, every 4th, a document update, with a window of
// requests in flight, until stopped; records what was acknowledged.
class Producer {
  public:
    explicit Producer(Store& store) : store_(store), thread_([this] { run(); }) {}
    ~Producer() { stop(); }
    void stop() {
        stop_ = true;
        if (thread_.joinable())
            thread_.join();
        store_.flush();
    }
    std::size_t acked() {
        std::lock_guard lock(mutex_);
        return events_.size() + updates_.size();
    }
    std::set<std::uint64_t> events() {
        std::lock_guard lock(mutex_);
        return events_;
    }
    std::multiset<std::uint64_t> updates() {
        std::lock_guard lock(mutex_);
        return updates_;
    }
    std::vector<std::string> failures() {
        std::lock_guard lock(mutex_);
        return failures_;
    }

  private:
    void run() {
        std::uint64_t offset = 0;
        for (std::uint64_t n = 1; !stop_; ++n) {
            window_.acquire();
            auto done = [this, n](AppendResult r) {
                {
                    std::lock_guard lock(mutex_);
                    if (!r.ok())
                        failures_.push_back(r.error);
                    else if (n % 4 == 0)
                        updates_.insert(n);
                    else
                        events_.insert(n);
                }
                window_.release();
            };
            if (n % 4 == 0) {
                std::vector<std::uint8_t> data(8);
                std::memcpy(data.data(), &n, sizeof n);
                store_.append_update("doc", std::move(data), done);
            } else {
                offset = n;
                store_.append({make_event("room", offset, 1, "key-" + std::to_string(n))}, done);
            }
        }
    }

    Store& store_;
    std::counting_semaphore<64> window_{64};
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::set<std::uint64_t> events_;
    std::multiset<std::uint64_t> updates_;
    std::vector<std::string> failures_;
    std::thread thread_;
};

bool wait_for(const std::function<bool()>& condition, std::chrono::seconds limit) {
    const auto give_up = Clock::now() + limit;
    while (!condition()) {
        if (Clock::now() > give_up)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

}  // namespace

TEST_F(PostgresRestart, WritesWaitForTheServerAndLoseNothingAcknowledged) {
    auto db = create_database(Backend::postgres);
    auto store = db->open(durable());
    Producer producer(*store);
    ASSERT_TRUE(wait_for([&] { return producer.acked() >= 300; }, std::chrono::seconds(30)));
    stop_server();
    const std::size_t acked_before_restart = producer.acked();
    std::this_thread::sleep_for(std::chrono::milliseconds(700));  // writes wait meanwhile
    start_server();
    // Writes resume on their own.
    EXPECT_TRUE(wait_for([&] { return producer.acked() >= acked_before_restart + 300; },
                         std::chrono::seconds(30)));
    producer.stop();
    EXPECT_TRUE(producer.failures().empty())
        << producer.failures().size() << " failed, first: " << producer.failures().front();

    std::set<std::uint64_t> stored_events;
    for (const auto& e : store->read_after("room", 0, 1'000'000))
        EXPECT_TRUE(stored_events.insert(e.offset).second);
    EXPECT_EQ(stored_events, producer.events());  // all acknowledged, none written twice
    std::multiset<std::uint64_t> stored_updates;
    for (const auto& u : store->load("doc")) {
        std::uint64_t n = 0;
        std::memcpy(&n, u.data.data(), std::min<std::size_t>(sizeof n, u.data.size()));
        stored_updates.insert(n);
    }
    EXPECT_EQ(stored_updates, producer.updates());
    std::printf("[ restart ] %zu acknowledged before the stop, %zu in all\n", acked_before_restart,
                stored_events.size() + stored_updates.size());
}

TEST_F(PostgresRestart, AppendsFailAfterTheReconnectTimeoutThenRecover) {
    auto db = create_database(Backend::postgres);
    TestOptions options = durable();  // an immediate shutdown loses unflushed commits otherwise
    options.reconnect_timeout = std::chrono::milliseconds(500);
    auto store = db->open(options);
    ASSERT_TRUE(append_wait(*store, {make_event("r", 1)}).ok());
    stop_server();
    const auto start = Clock::now();
    const auto failed = append_wait(*store, {make_event("r", 2)});
    const auto waited = Clock::now() - start;
    EXPECT_EQ(failed.status, AppendStatus::failed);
    EXPECT_GE(waited, std::chrono::milliseconds(450));
    EXPECT_LT(waited, std::chrono::seconds(10));
    // Past the deadline, later appends fail without waiting the whole timeout again.
    const auto again = Clock::now();
    EXPECT_EQ(append_wait(*store, {make_event("r", 2)}).status, AppendStatus::failed);
    EXPECT_LT(Clock::now() - again, std::chrono::milliseconds(450));
    start_server();
    EXPECT_TRUE(append_wait(*store, {make_event("r", 2)}).ok());
    EXPECT_EQ(store->read_after("r", 0, 10).size(), 2u);
    EXPECT_EQ(store->position("r").last_offset, 2u);
}
