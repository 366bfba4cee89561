// Counters for /metrics and /stats. Each event loop owns a LoopCounters that only its thread
// writes (relaxed atomics, no contention); readers sum them.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace huddle::observability {

// Upper bounds (microseconds) of the fan-out latency histogram buckets; the last is +Inf.
inline constexpr std::array<std::uint64_t, 12> kFanoutBucketsUs{
    50, 100, 250, 500, 1000, 2500, 5000, 10'000, 25'000, 50'000, 100'000, 250'000};

struct alignas(64) LoopCounters {
    std::atomic<std::uint64_t> connections{0};
    std::atomic<std::uint64_t> messages_in{0};
    std::atomic<std::uint64_t> messages_out{0};
    std::atomic<std::uint64_t> bytes_in{0};
    std::atomic<std::uint64_t> bytes_out{0};
    std::atomic<std::uint64_t> slow_consumer_drops{0};
    std::atomic<std::uint64_t> rate_limited_messages{0};
    std::atomic<std::uint64_t> protocol_errors{0};
    std::array<std::atomic<std::uint64_t>, kFanoutBucketsUs.size() + 1> fanout_buckets{};
    std::atomic<std::uint64_t> fanout_sum_us{0};

    void add(std::atomic<std::uint64_t>& counter, std::uint64_t amount = 1) {
        counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
    }
    void observe_fanout_us(std::uint64_t micros);
};

// Counters touched at connect time from any thread.
struct ServerCounters {
    std::atomic<std::uint64_t> connections_total{0};
    std::atomic<std::uint64_t> auth_failures{0};
    std::atomic<std::uint64_t> rate_limited_handshakes{0};
    std::atomic<std::uint64_t> connection_limit_refusals{0};
    std::atomic<std::uint64_t> origin_refusals{0};
    std::atomic<std::uint64_t> api_requests{0};
};

struct MetricsSnapshot {
    std::uint64_t connections = 0;
    std::uint64_t messages_in = 0;
    std::uint64_t messages_out = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    std::uint64_t slow_consumer_drops = 0;
    std::uint64_t rate_limited_messages = 0;
    std::uint64_t protocol_errors = 0;
    std::array<std::uint64_t, kFanoutBucketsUs.size() + 1> fanout_buckets{};
    std::uint64_t fanout_sum_us = 0;
};

MetricsSnapshot sum_counters(const std::vector<const LoopCounters*>& loops);

struct GaugeValues {
    std::uint64_t rooms = 0;
    std::uint64_t users = 0;
    bool ready = true;
    // The store's writer (store::StoreStats).
    std::uint64_t store_commits = 0;
    std::uint64_t store_appends = 0;
    std::uint64_t store_failed_appends = 0;
    std::uint64_t store_queued = 0;
    bool store_realtime_writer = false;
    bool store_reachable = true;
};

std::string render_prometheus(const MetricsSnapshot& loops, const ServerCounters& server,
                              const GaugeValues& gauges);

}  // namespace huddle::observability
