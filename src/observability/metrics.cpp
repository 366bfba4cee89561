#include "observability/metrics.hpp"

#include <spdlog/fmt/fmt.h>

namespace huddle::observability {

void LoopCounters::observe_fanout_us(std::uint64_t micros) {
    std::size_t bucket = 0;
    while (bucket < kFanoutBucketsUs.size() && micros > kFanoutBucketsUs[bucket])
        ++bucket;
    add(fanout_buckets[bucket]);
    add(fanout_sum_us, micros);
}

MetricsSnapshot sum_counters(const std::vector<const LoopCounters*>& loops) {
    MetricsSnapshot total;
    const auto get = [](const std::atomic<std::uint64_t>& value) {
        return value.load(std::memory_order_relaxed);
    };
    for (const LoopCounters* loop : loops) {
        total.connections += get(loop->connections);
        total.messages_in += get(loop->messages_in);
        total.messages_out += get(loop->messages_out);
        total.bytes_in += get(loop->bytes_in);
        total.bytes_out += get(loop->bytes_out);
        total.slow_consumer_drops += get(loop->slow_consumer_drops);
        total.rate_limited_messages += get(loop->rate_limited_messages);
        total.protocol_errors += get(loop->protocol_errors);
        for (std::size_t i = 0; i < total.fanout_buckets.size(); ++i) {
            total.fanout_buckets[i] += get(loop->fanout_buckets[i]);
        }
        total.fanout_sum_us += get(loop->fanout_sum_us);
    }
    return total;
}

namespace {
void metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            std::uint64_t value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
}
}  // namespace

std::string render_prometheus(const MetricsSnapshot& loops, const ServerCounters& server,
                              const GaugeValues& gauges) {
    const auto get = [](const std::atomic<std::uint64_t>& value) {
        return value.load(std::memory_order_relaxed);
    };
    std::string out;
    out.reserve(4096);
    metric(out, "huddle_connections", "gauge", "Open WebSocket connections.", loops.connections);
    metric(out, "huddle_rooms", "gauge", "Rooms with at least one member.", gauges.rooms);
    metric(out, "huddle_users", "gauge", "Distinct users connected.", gauges.users);
    metric(out, "huddle_ready", "gauge", "1 while accepting connections.", gauges.ready ? 1 : 0);
    metric(out, "huddle_store_commits_total", "counter",
           "Store transactions committed (one fsync each, many appends).", gauges.store_commits);
    metric(out, "huddle_store_appends_total", "counter",
           "History events and document updates made durable.", gauges.store_appends);
    metric(out, "huddle_store_failed_appends_total", "counter",
           "Appends refused or failed by the store.", gauges.store_failed_appends);
    metric(out, "huddle_store_queued", "gauge", "Appends waiting for the store's writer.",
           gauges.store_queued);
    metric(out, "huddle_store_realtime_writer", "gauge",
           "1 when the store's writer thread runs with real-time priority (SCHED_FIFO).",
           gauges.store_realtime_writer ? 1 : 0);
    metric(out, "huddle_store_reachable", "gauge",
           "1 when the store's writer reached its database on its last try (0: retrying).",
           gauges.store_reachable ? 1 : 0);
    metric(out, "huddle_connections_total", "counter", "WebSocket connections accepted.",
           get(server.connections_total));
    metric(out, "huddle_messages_in_total", "counter", "Messages received from clients.",
           loops.messages_in);
    metric(out, "huddle_messages_out_total", "counter", "Messages delivered to clients.",
           loops.messages_out);
    metric(out, "huddle_bytes_in_total", "counter", "WebSocket bytes received.", loops.bytes_in);
    metric(out, "huddle_bytes_out_total", "counter", "WebSocket bytes written.", loops.bytes_out);
    metric(out, "huddle_slow_consumer_drops_total", "counter",
           "Connections closed because their unsent bytes exceeded the limit.",
           loops.slow_consumer_drops);
    metric(out, "huddle_protocol_errors_total", "counter",
           "Connections closed for WebSocket protocol violations.", loops.protocol_errors);
    metric(out, "huddle_auth_failures_total", "counter", "Refused tokens.",
           get(server.auth_failures));
    metric(out, "huddle_rate_limited_messages_total", "counter",
           "Client messages refused by a rate limit.", loops.rate_limited_messages);
    metric(out, "huddle_rate_limited_handshakes_total", "counter",
           "Handshakes refused by a per-address limit.", get(server.rate_limited_handshakes));
    metric(out, "huddle_connection_limit_refusals_total", "counter",
           "Connections refused by a per-user or per-address limit.",
           get(server.connection_limit_refusals));
    metric(out, "huddle_origin_refusals_total", "counter", "Upgrades refused for their Origin.",
           get(server.origin_refusals));

    out +=
        "# HELP huddle_fanout_latency_seconds Time from accepting an event to writing it on a "
        "loop.\n";
    out += "# TYPE huddle_fanout_latency_seconds histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kFanoutBucketsUs.size(); ++i) {
        cumulative += loops.fanout_buckets[i];
        out += fmt::format("huddle_fanout_latency_seconds_bucket{{le=\"{}\"}} {}\n",
                           static_cast<double>(kFanoutBucketsUs[i]) / 1e6, cumulative);
    }
    cumulative += loops.fanout_buckets.back();
    out += fmt::format("huddle_fanout_latency_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
    out += fmt::format("huddle_fanout_latency_seconds_sum {}\n",
                       static_cast<double>(loops.fanout_sum_us) / 1e6);
    out += fmt::format("huddle_fanout_latency_seconds_count {}\n", cumulative);
    return out;
}

}  // namespace huddle::observability
