// huddle-loadgen: a WebSocket load generator for Huddle and its peers.
//
// Plain POSIX (epoll, non-blocking sockets) and OpenSSL (SHA-1/base64 for the handshake key check,
// RAND for seeding). No allocation per received message: every connection keeps reusable buffers
// and a worker thread parses frames in place in one shared receive buffer.
#pragma once

#include <netinet/in.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace loadgen {

inline std::uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

// Sequence numbers carry their room: seq = room * kSeqRoomBase + n (n = 1, 2, ...), so a receiver
// can tell a message of another room (a routing error) from a gap in its own room.
inline constexpr std::uint64_t kSeqRoomBase = 1'000'000'000ULL;

enum class Scenario { Fanout, Rate, Rooms, Idle, Connect, Documents };
enum class Protocol { WebSocket, SocketIo, Hocuspocus };
enum class CloseMode { Wait, Immediate, Reset };

const char* scenario_name(Scenario s);

// A text with placeholders: {token} {i} {room} {ts} {seq}. Any other brace is literal (JSON).
class Template {
  public:
    enum class Var : std::uint8_t { None, Index, Room, Ts, Seq };
    struct Vars {
        std::uint64_t index = 0;
        std::uint64_t room = 0;
        std::uint64_t ts = 0;
        std::uint64_t seq = 0;
    };

    Template() = default;
    Template(std::string_view text, std::string_view token, std::string_view room_prefix);

    bool empty() const { return parts_.empty(); }
    bool uses(Var v) const;
    // Appends the expansion to out (capacity is reused by the caller).
    void render(std::string& out, const Vars& vars) const;

  private:
    struct Part {
        std::string literal;  // emitted before var
        Var var = Var::None;
    };
    std::vector<Part> parts_;
    std::string room_prefix_;
};

// One server address, parsed from a --url.
struct Target {
    std::string host;
    std::uint16_t port = 0;
    sockaddr_in addr{};
    std::string path_template;
};

struct Options {
    Scenario scenario = Scenario::Fanout;
    Protocol protocol = Protocol::WebSocket;
    // Several --url: connection i goes to urls[i % size] (a cluster of nodes); the fanout/rate
    // publisher always to the first.
    std::vector<std::string> urls = {"ws://127.0.0.1:3000/ws?token={token}"};
    std::string token;
    std::string subscribe;
    std::string publish;
    std::string ready_check;
    std::vector<std::string> headers;
    std::string room_prefix = "bench:";
    std::string label;

    int connections = -1;  // scenario default when -1
    int rooms = -1;
    double rate = -1;  // scenario default when < 0
    int window = 16;
    bool window_set = false;  // documents: closed loop (a window per editor) instead of --rate
    int editors = 10;         // documents: connections per document
    double duration_s = 10;
    double warmup_s = 2;
    int settle_ms = 1000;
    int drain_ms = 3000;
    double hold_s = 30;
    int concurrency = 200;
    double connect_rate = 0;  // 0: unlimited (bounded by concurrency)
    double connect_timeout_s = 120;
    int handshake_timeout_ms = 10000;
    int close_wait_ms = 1000;
    int coalesce_us = 0;
    int retries = 2;
    int threads = 1;
    bool idle_shared_room = false;
    bool publisher_subscribes = false;  // fanout/rate: some servers only take members' publishes
    bool check_accept = true;
    bool progress = true;
    CloseMode close_mode = CloseMode::Wait;
    std::size_t max_message = 16u << 20;
    // The server's processes (several nodes and their broker): CPU and RSS are summed.
    std::vector<pid_t> server_pids;
    // The core the server is pinned to: its busy time counts the kernel's work done there for
    // the server outside the process's own CPU time (softirq in ksoftirqd). -1: not read.
    int server_core = -1;
    std::vector<in_addr> source_ips;

    // Filled in by parse_options, one per url.
    std::vector<Target> targets;
};

// Parses argv; prints usage and exits on --help or on error.
Options parse_options(int argc, char** argv);

// Log-linear histogram of nanosecond values: 64 sub-buckets per power of two (~1.6% error), fixed
// size, no allocation per sample.
class Histogram {
  public:
    static constexpr int kSubBits = 6;
    static constexpr int kSub = 1 << kSubBits;
    static constexpr int kBuckets = (64 - kSubBits + 1) * kSub;

    void record(std::uint64_t v) {
        ++counts_[index(v)];
        ++count_;
        sum_ += v;
        if (v > max_)
            max_ = v;
        if (v < min_)
            min_ = v;
    }
    void merge(const Histogram& o);
    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return count_ ? max_ : 0; }
    std::uint64_t min() const { return count_ ? min_ : 0; }
    double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }
    // Upper bound of the bucket that holds quantile q (0..1), clamped to the observed max.
    std::uint64_t quantile(double q) const;

    static int index(std::uint64_t v) {
        if (v < static_cast<std::uint64_t>(2 * kSub))
            return static_cast<int>(v);
        const int msb = 63 - __builtin_clzll(v);
        const int shift = msb - kSubBits;
        return (shift + 1) * kSub + static_cast<int>((v >> shift) - kSub);
    }
    static std::uint64_t upper_bound(int idx);

  private:
    std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(kBuckets, 0);
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
    std::uint64_t min_ = UINT64_MAX;
};

// A counter written by one worker thread and read live by the main thread.
class Counter {
  public:
    void add(std::uint64_t n = 1) {
        v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void set_max(std::uint64_t n) {
        if (n > v_.load(std::memory_order_relaxed))
            v_.store(n, std::memory_order_relaxed);
    }
    std::uint64_t get() const { return v_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> v_{0};
};

// Small code -> count table (close codes, HTTP statuses, errno values).
struct CodeCounts {
    std::vector<std::pair<int, std::uint64_t>> items;
    void add(int code, std::uint64_t n = 1);
    void merge(const CodeCounts& o);
    std::uint64_t total() const;
};

struct WorkerStats {
    Counter started;          // connection attempts (including retries)
    Counter retried;          // attempts that were retried after a failure
    Counter opened;           // WebSocket (and Socket.IO namespace) open
    Counter ready;            // subscribed (or open when nothing to subscribe)
    Counter failed;           // gave up after retries
    Counter handshake_fail;   // non-101 answer or bad accept key
    Counter disconnects;      // EOF/reset/close frame not initiated by us on a ready connection
    Counter protocol_errors;  // malformed frames from the server
    Counter published;
    Counter published_window;
    Counter received_data;  // messages carrying "t": (all, valid or not)
    Counter delivered;      // valid deliveries (unique, in the right room)
    Counter delivered_window;
    Counter unexpected;  // "t": messages that should not have arrived there
    Counter gap_messages;
    Counter gap_events;
    Counter out_of_order;
    Counter echoes;  // a publisher receiving its own message
    Counter other_messages;
    Counter pings;
    Counter engine_pings;
    Counter window_stalls;
    Counter cycles;  // connect scenario: full connect/subscribe/close cycles
    Counter bytes_in;
    Counter bytes_out;
    Counter publish_lag_max_ns;
    // Read only after the worker has joined.
    Histogram latency;
    Histogram handshake;
    CodeCounts close_codes;
    CodeCounts http_status;
    CodeCounts connect_errno;
};

enum class Phase : int { Connecting = 0, Settle, Warmup, Measure, Drain, Hold, Stop };

struct Shared {
    const Options* opt = nullptr;
    int total_rooms = 1;
    std::atomic<int> phase{static_cast<int>(Phase::Connecting)};
    std::atomic<std::uint64_t> measure_start{UINT64_MAX};
    std::atomic<std::uint64_t> measure_end{UINT64_MAX};
    std::atomic<std::uint64_t> publish_start{UINT64_MAX};
    std::uint64_t run_start = 0;
    // Messages published so far per room (released before the frame is written).
    std::unique_ptr<std::atomic<std::uint64_t>[]> room_published;
    // Documents: updates sent so far per editor (by connection index).
    std::unique_ptr<std::atomic<std::uint64_t>[]> editor_published;
};

enum class Role : std::uint8_t {
    Subscriber,  // subscribes, counts deliveries
    Probe,       // a subscriber whose arrivals open the publisher's window (fanout)
    Publisher,   // publishes, does not subscribe (fanout, rate)
    Member,      // subscribes and publishes at a fixed rate (rooms)
    Idle,        // subscribes and holds (idle)
    Cycle,       // connect, subscribe, close (connect)
    Editor,      // documents: syncs, sends Yjs updates and receives the other editors'
};

struct ConnSpec {
    std::uint32_t index = 0;
    std::uint32_t room = 0;
    Role role = Role::Subscriber;
};

class Worker;
struct WorkerDeleter {
    void operator()(Worker* w) const;
};
using WorkerPtr = std::unique_ptr<Worker, WorkerDeleter>;
WorkerPtr make_worker(int id, Shared& shared, std::vector<ConnSpec> specs);
void run_worker(Worker& w);
void wake_worker(Worker& w);
WorkerStats& worker_stats(Worker& w);
// Sum of (published in room - unique deliveries) over the worker's ready subscribers.
std::uint64_t worker_missing(Worker& w);

}  // namespace loadgen
