// kill -9 at a random moment loses nothing that was acknowledged (DESIGN.md §3, Durability).
//
// A forked child opens the store and appends as fast as it can (history events and document
// updates, many in flight); after each completion it writes what was acknowledged to a pipe. The
// parent kills the child with SIGKILL at a random moment, reopens the store and checks that
// every acknowledged event and update is there, and that the history has no hole. Meanwhile a
// second thread of the child compacts the document again and again (its merged update is the
// concatenation of the ones it replaces), so the kill also lands in the middle of compactions:
// no update may be lost or stored twice.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <semaphore>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store_test_util.hpp"

using namespace huddle::store;
using huddle::store::testing::durable;
using huddle::store::testing::StoreTest;
using huddle::store::testing::TestDatabase;

namespace {

constexpr std::uint64_t kUpdateFlag = std::uint64_t{1} << 63;
constexpr std::uint64_t kCompactionFlag = std::uint64_t{1} << 62;

void write_all(int fd, const void* data, std::size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            _exit(3);
        }
        p += n;
        size -= static_cast<std::size_t>(n);
    }
}

[[noreturn]] void child_main(TestDatabase& db, int ack_fd) {
    try {
        auto store = db.open(durable());  // fsync on: the real configuration
        std::thread([&store, ack_fd] {
            for (;;) {
                const auto updates = store->load("doc");
                if (updates.size() < 8) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                    continue;
                }
                std::vector<std::uint8_t> merged;
                for (const auto& update : updates)
                    merged.insert(merged.end(), update.data.begin(), update.data.end());
                if (store->compact("doc", updates.back().id, updates.size(), std::move(merged))) {
                    const std::uint64_t done = kCompactionFlag;
                    write_all(ack_fd, &done, sizeof done);
                }
            }
        }).detach();
        std::counting_semaphore<512> in_flight(512);
        for (std::uint64_t n = 1;; ++n) {
            in_flight.acquire();
            if (n % 4 == 0) {
                std::vector<std::uint8_t> update(8);
                std::memcpy(update.data(), &n, sizeof n);
                store->append_update("doc", std::move(update),
                                     [&in_flight, ack_fd, n](AppendResult r) {
                                         if (r.ok()) {
                                             const std::uint64_t ack = n | kUpdateFlag;
                                             write_all(ack_fd, &ack, sizeof ack);
                                         }
                                         in_flight.release();
                                     });
            } else {
                RoomEvent e{"room", n, 1000, "key-" + std::to_string(n),
                            R"({"n":)" + std::to_string(n) + "}"};
                store->append({std::move(e)}, [&in_flight, ack_fd, n](AppendResult r) {
                    if (r.ok())
                        write_all(ack_fd, &n, sizeof n);
                    else
                        _exit(4);  // must not happen: offsets increase, keys are unique
                    in_flight.release();
                });
            }
        }
    } catch (...) {
        _exit(2);
    }
}

struct RunResult {
    std::size_t acked_events = 0;
    std::size_t acked_updates = 0;
    std::size_t stored_events = 0;
    std::size_t compactions = 0;
};

RunResult crash_once(TestDatabase& db, std::chrono::milliseconds kill_after) {
    { auto store = db.open(durable()); }  // create the schema before the race starts

    int fds[2];
    if (pipe(fds) != 0)
        throw std::runtime_error("pipe failed");
    const pid_t child = fork();
    if (child < 0)
        throw std::runtime_error("fork failed");
    if (child == 0) {
        ::close(fds[0]);
        child_main(db, fds[1]);
    }
    ::close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);

    std::vector<std::uint64_t> acks;
    auto drain = [&] {
        std::uint64_t buffer[512];
        for (;;) {
            const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
            if (n <= 0)
                return n == 0;  // true at EOF
            // Acks are 8-byte writes to a pipe: atomic, never split.
            acks.insert(acks.end(), buffer, buffer + n / 8);
        }
    };
    // Wait for the first acknowledgement (the child is up), then let it run a random while.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (acks.empty() && std::chrono::steady_clock::now() < give_up) {
        drain();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto kill_at = std::chrono::steady_clock::now() + kill_after;
    while (std::chrono::steady_clock::now() < kill_at) {
        drain();
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ::kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    fcntl(fds[0], F_SETFL, 0);
    while (!drain()) {
    }
    ::close(fds[0]);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child ended by itself, status " << status;

    RunResult result;
    std::set<std::uint64_t> acked_events;
    std::set<std::uint64_t> acked_updates;
    for (auto a : acks) {
        if (a == kCompactionFlag)
            ++result.compactions;
        else if (a & kUpdateFlag)
            acked_updates.insert(a & ~kUpdateFlag);
        else
            acked_events.insert(a);
    }
    result.acked_events = acked_events.size();
    result.acked_updates = acked_updates.size();
    EXPECT_GT(acks.size(), 0u);

    auto store = db.open(durable());
    const auto events = store->read_after("room", 0, 1'000'000);
    result.stored_events = events.size();
    std::set<std::uint64_t> stored;
    for (const auto& e : events) {
        stored.insert(e.offset);
        EXPECT_EQ(e.event_json, R"({"n":)" + std::to_string(e.offset) + "}");
    }
    for (auto a : acked_events)
        EXPECT_TRUE(stored.count(a)) << "acknowledged event " << a << " lost";
    // Requests commit in queue order: what is stored is a prefix, without holes.
    std::uint64_t expected = 1;
    for (auto o : stored) {
        if (expected % 4 == 0)
            ++expected;
        EXPECT_EQ(o, expected) << "hole in the stored history";
        expected = o + 1;
    }
    EXPECT_EQ(store->position("room").last_offset, stored.empty() ? 0 : *stored.rbegin());

    std::set<std::uint64_t> stored_updates;
    for (const auto& u : store->load("doc")) {
        EXPECT_EQ(u.data.size() % 8, 0u);
        for (std::size_t at = 0; at + 8 <= u.data.size(); at += 8) {
            std::uint64_t n = 0;
            std::memcpy(&n, u.data.data() + at, 8);
            EXPECT_TRUE(stored_updates.insert(n).second) << "update " << n << " stored twice";
        }
    }
    for (auto a : acked_updates)
        EXPECT_TRUE(stored_updates.count(a)) << "acknowledged update " << a << " lost";
    // The reopened store keeps working after the crash.
    const std::uint64_t next = store->position("room").last_offset + 1;
    EXPECT_TRUE(
        huddle::store::testing::append_wait(*store, {RoomEvent{"room", next, 1, {}, "{}"}}).ok());
    return result;
}

using Crash = StoreTest;

}  // namespace

TEST_P(Crash, KillDashNineLosesNothingAcknowledged) {
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> delay_ms(5, 250);
    constexpr int kRuns = 5;
    for (int run = 0; run < kRuns; ++run) {
        const auto delay = std::chrono::milliseconds(delay_ms(random));
        auto db = huddle::store::testing::create_database(GetParam());
        const auto r = crash_once(*db, delay);
        std::printf(
            "[ crash run %d ] killed after %lld ms: %zu events + %zu updates acknowledged,"
            " %zu events stored, %zu compactions\n",
            run, static_cast<long long>(delay.count()), r.acked_events, r.acked_updates,
            r.stored_events, r.compactions);
        if (::testing::Test::HasFailure())
            break;
    }
}

HUDDLE_STORE_BACKENDS(Crash);
