// One event loop (epoll, level-triggered, non-blocking sockets) that owns a set of connections.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "loadgen.hpp"
#include "ywire.hpp"

namespace loadgen {

namespace {

constexpr std::uint64_t kWakeTag = ~0ULL;
constexpr std::size_t kRecvBuffer = 256 * 1024;
constexpr std::size_t kMaxHandshake = 16 * 1024;
constexpr std::size_t kMaxPending = 4u << 20;  // publisher backlog above which a publish is skipped
constexpr std::uint64_t kMs = 1'000'000ULL;
constexpr char kGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

enum class State : std::uint8_t {
    Queued,
    Connecting,
    Handshake,
    EngineOpen,     // Socket.IO: waiting for the Engine.IO open packet "0{...}"
    NamespaceOpen,  // Socket.IO: "40" sent, waiting for "40{...}"
    Subscribing,    // subscribe sent, waiting for the ready check
    Ready,
    Closing,  // close frame sent, waiting for the server to close
    Done,
    Failed,
};

bool before_ready(State s) {
    return s == State::Connecting || s == State::Handshake || s == State::EngineOpen ||
           s == State::NamespaceOpen || s == State::Subscribing;
}

bool is_subscriber(Role r) {
    return r == Role::Subscriber || r == Role::Probe || r == Role::Editor;
}

struct Conn {
    int fd = -1;
    std::uint32_t index = 0;
    std::uint32_t room = 0;
    Role role = Role::Subscriber;
    State state = State::Queued;
    std::uint8_t attempts = 0;
    std::uint8_t frag_op = 0;  // opcode of a fragmented message in progress, 0 when none
    bool want_out = false;
    bool close_sent = false;
    bool we_closed = false;
    bool inflight = false;  // counted against the concurrency bound
    bool was_ready = false;
    bool cycle_close = false;  // connect scenario: this close completes a cycle
    std::uint64_t started = 0;
    std::uint64_t deadline = 0;
    std::uint64_t last_n = 0;  // last sequence number (within the room) seen
    std::uint64_t unique = 0;  // in-order or later messages seen (duplicates excluded)
    char accept[32] = {};
    std::vector<char> in;    // unparsed input (partial frame or handshake answer)
    std::vector<char> out;   // unsent output
    std::vector<char> frag;  // fragmented message being assembled
    std::size_t out_off = 0;
    // Documents: per editor of the document (by slot), the last update number seen from it.
    std::vector<std::uint64_t> seen;
    std::uint32_t doc_base = 0;   // local index of the document's first editor
    std::uint64_t ack_floor = 0;  // window reopened after a stall: count this many as seen
    std::uint64_t progress = 0;   // last time the window moved
    std::string doc_prefix;       // Hocuspocus: the document name as a varstring, else empty
};

bool starts_with_ci(const char* p, const char* end, const char* lit) {
    for (; *lit; ++p, ++lit) {
        if (p >= end)
            return false;
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
        if (c != *lit)
            return false;
    }
    return true;
}

// Finds a 4-byte needle with one unaligned 32-bit compare per position: cheaper than memmem for
// the short messages a load test receives (no per-call preprocessing).
const char* find4(const char* p, const char* end, const char* needle) {
    std::uint32_t want = 0;
    std::memcpy(&want, needle, 4);
    for (; end - p >= 4; ++p) {
        std::uint32_t got = 0;
        std::memcpy(&got, p, 4);
        if (got == want)
            return p;
    }
    return nullptr;
}

// Parses an unsigned decimal at p (after optional spaces or a quote); false if there is none.
bool parse_number(const char* q, const char* end, std::uint64_t& out) {
    while (q < end && (*q == ' ' || *q == '"'))
        ++q;
    if (q >= end || *q < '0' || *q > '9')
        return false;
    std::uint64_t v = 0;
    while (q < end && *q >= '0' && *q <= '9') {
        v = v * 10 + static_cast<std::uint64_t>(*q - '0');
        ++q;
    }
    out = v;
    return true;
}

}  // namespace

class Worker {
  public:
    Worker(int id, Shared& shared, std::vector<ConnSpec> specs);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    void run();
    void wake();
    std::uint64_t missing() const;

    WorkerStats stats;

  private:
    Phase phase() const { return static_cast<Phase>(sh_.phase.load(std::memory_order_acquire)); }
    // Round robin over the targets by connection index; the fanout/rate publisher on the first,
    // so that with several nodes its messages reach the others' subscribers across nodes.
    std::size_t target_of(const Conn& c) const {
        return c.role == Role::Publisher ? 0 : c.index % opt_.targets.size();
    }

    void start_connections(std::uint64_t now);
    void start(Conn& c, std::uint64_t now);
    void handle(const epoll_event& ev, std::uint64_t now);
    void on_connected(Conn& c, std::uint64_t now);
    void on_readable(Conn& c, std::uint64_t now);
    void process_input(Conn& c, char* data, std::size_t n, std::uint64_t now);
    bool check_handshake(Conn& c, const char* p, std::size_t len);
    std::size_t parse_frames(Conn& c, char* data, std::size_t len, std::uint64_t now);
    void on_frame(Conn& c, bool fin, int op, char* p, std::size_t n, std::uint64_t now);
    void on_message(Conn& c, const char* p, std::size_t n, std::uint64_t now);
    void on_data(Conn& c, const char* p, std::size_t n, const char* t, std::uint64_t now);
    void on_doc_message(Conn& c, const char* p, std::size_t n, std::uint64_t now);
    void on_doc_update(Conn& c, const ywire::Update& u, std::uint64_t now);
    void on_ws_open(Conn& c, std::uint64_t now);
    void app_open(Conn& c, std::uint64_t now);
    void mark_ready(Conn& c, std::uint64_t now);
    void on_lost(Conn& c, int err, std::uint64_t now);
    void fail(Conn& c, int err, bool retry, std::uint64_t now);
    void begin_close(Conn& c, int code, std::uint64_t now);
    void finish_close(Conn& c);
    void close_fd(Conn& c, bool reset);
    void release_inflight(Conn& c);

    void append_frame(std::string& dst, int op, const char* p, std::size_t n);
    void send_frame(Conn& c, int op, const char* p, std::size_t n);
    void send_raw(Conn& c, const char* p, std::size_t n);
    void flush(Conn& c);
    void update_events(Conn& c);

    void pump_window(std::uint64_t now);
    void pump_rate(std::uint64_t now);
    bool publish_one(Conn& c, std::uint64_t now);
    bool publish_doc(Conn& c, std::uint64_t now);
    void append_doc_update(Conn& c, std::uint64_t now);
    void pump_doc_window(std::uint64_t now);
    void housekeeping(std::uint64_t now);
    void begin_shutdown(std::uint64_t now);

    std::uint64_t rand64() {
        rng_ ^= rng_ << 13;
        rng_ ^= rng_ >> 7;
        rng_ ^= rng_ << 17;
        return rng_;
    }

    Shared& sh_;
    const Options& opt_;
    int ep_ = -1;
    int wake_fd_ = -1;
    std::vector<Conn> conns_;
    std::vector<std::uint32_t> queue_;
    std::vector<std::uint32_t> retry_;  // waiting for their back-off to pass
    std::size_t qhead_ = 0;
    int inflight_ = 0;
    int concurrency_ = 1;
    double connect_rate_ = 0;
    double tokens_ = 0;
    std::uint64_t last_refill_ = 0;
    int closing_ = 0;
    bool shutting_down_ = false;
    std::uint64_t shutdown_deadline_ = 0;
    std::uint64_t last_housekeeping_ = 0;
    std::uint64_t rng_ = 0x9e3779b97f4a7c15ULL;
    std::uint64_t coalesce_ns_ = 0;
    std::uint64_t last_wait_ = 0;

    std::vector<Template> path_tpls_;  // one per target
    Template sub_tpl_;
    Template pub_tpl_;
    std::vector<Template> header_tpls_;

    std::vector<char> rbuf_;
    std::string scratch_;
    std::string frame_;
    std::string batch_;

    // Measurement window, refreshed every loop iteration.
    std::uint64_t win_start_ = UINT64_MAX;
    std::uint64_t win_end_ = UINT64_MAX;

    // Fanout publisher (window) and its probe.
    int window_pub_ = -1;
    std::uint64_t pub_n_ = 0;
    std::uint64_t probe_seen_ = 0;
    std::uint64_t last_progress_ = 0;

    // Fixed-rate publishers.
    std::vector<std::uint32_t> rate_pubs_;
    // Documents with --window: every editor.
    std::vector<std::uint32_t> window_editors_;
    bool documents_ = false;
    std::uint64_t editors_ = 1;
    std::uint64_t rate_k_ = 0;
    double interval_ns_ = 0;
    std::uint64_t next_due_ = UINT64_MAX;
};

Worker::Worker(int id, Shared& shared, std::vector<ConnSpec> specs)
    : sh_(shared), opt_(*shared.opt) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeTag;
    epoll_ctl(ep_, EPOLL_CTL_ADD, wake_fd_, &ev);

    std::uint64_t seed = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1 || seed == 0) {
        seed = now_ns() * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(id) + 1;
    }
    rng_ = seed | 1;

    for (const auto& t : opt_.targets)
        path_tpls_.emplace_back(t.path_template, opt_.token, opt_.room_prefix);
    sub_tpl_ = Template(opt_.subscribe, opt_.token, opt_.room_prefix);
    pub_tpl_ = Template(opt_.publish, opt_.token, opt_.room_prefix);
    for (const auto& h : opt_.headers)
        header_tpls_.emplace_back(h, opt_.token, opt_.room_prefix);

    const int threads = opt_.threads;
    concurrency_ = opt_.concurrency / threads;
    if (concurrency_ < 1)
        concurrency_ = 1;
    connect_rate_ = opt_.connect_rate / threads;
    coalesce_ns_ = static_cast<std::uint64_t>(opt_.coalesce_us) * 1000;

    conns_.resize(specs.size());
    queue_.reserve(specs.size());
    for (std::size_t i = 0; i < specs.size(); ++i) {
        Conn& c = conns_[i];
        c.index = specs[i].index;
        c.room = specs[i].room;
        c.role = specs[i].role;
        queue_.push_back(static_cast<std::uint32_t>(i));
        if (c.role == Role::Editor) {
            // A document's editors are consecutive in one worker (see make_plan).
            const std::uint32_t slot = c.index % static_cast<std::uint32_t>(opt_.editors);
            c.doc_base = static_cast<std::uint32_t>(i) - slot;
            c.seen.assign(static_cast<std::size_t>(opt_.editors), 0);
            if (opt_.window_set) {
                window_editors_.push_back(static_cast<std::uint32_t>(i));
            } else {
                rate_pubs_.push_back(static_cast<std::uint32_t>(i));
            }
        } else if (c.role == Role::Publisher && opt_.scenario == Scenario::Fanout) {
            window_pub_ = static_cast<int>(i);
        } else if (c.role == Role::Publisher || c.role == Role::Member) {
            rate_pubs_.push_back(static_cast<std::uint32_t>(i));
        }
    }
    documents_ = opt_.scenario == Scenario::Documents;
    editors_ = static_cast<std::uint64_t>(opt_.editors);
    if (!rate_pubs_.empty()) {
        // rate: the one publisher; rooms: per room; documents: per editor
        const double per_pub = opt_.rate;
        interval_ns_ = 1e9 / (per_pub * static_cast<double>(rate_pubs_.size()));
    }
    rbuf_.resize(kRecvBuffer);
    scratch_.reserve(4096);
    frame_.reserve(4096);
    batch_.reserve(64 * 1024);
}

Worker::~Worker() {
    for (auto& c : conns_) {
        if (c.fd >= 0)
            ::close(c.fd);
    }
    if (wake_fd_ >= 0)
        ::close(wake_fd_);
    if (ep_ >= 0)
        ::close(ep_);
}

void Worker::wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t r = ::write(wake_fd_, &one, sizeof one);
}

std::uint64_t Worker::missing() const {
    std::uint64_t total = 0;
    for (const auto& c : conns_) {
        if (!c.was_ready || !is_subscriber(c.role))
            continue;
        if (c.role == Role::Editor) {
            std::uint64_t expected = 0;
            const std::uint64_t first = c.index - c.index % editors_;
            for (std::uint64_t k = first; k < first + editors_; ++k) {
                if (k != c.index)
                    expected += sh_.editor_published[k].load(std::memory_order_acquire);
            }
            if (expected > c.unique)
                total += expected - c.unique;
            continue;
        }
        const std::uint64_t published = sh_.room_published[c.room].load(std::memory_order_acquire);
        if (published > c.unique)
            total += published - c.unique;
    }
    return total;
}

// ---------------------------------------------------------------------------------------------
// Loop

void Worker::run() {
    epoll_event events[512];
    last_housekeeping_ = now_ns();
    last_refill_ = last_housekeeping_;
    for (;;) {
        std::uint64_t now = now_ns();
        const Phase ph = phase();
        win_start_ = sh_.measure_start.load(std::memory_order_acquire);
        win_end_ = sh_.measure_end.load(std::memory_order_acquire);
        if (ph == Phase::Stop && !shutting_down_)
            begin_shutdown(now);
        if (shutting_down_ && (closing_ == 0 || now >= shutdown_deadline_))
            break;
        if (!shutting_down_)
            start_connections(now);
        const bool publishing = ph == Phase::Warmup || ph == Phase::Measure;
        next_due_ = UINT64_MAX;
        if (publishing) {
            pump_window(now);
            pump_rate(now);
            pump_doc_window(now);
        }

        std::uint64_t wait_ns = 50 * kMs;
        if (next_due_ != UINT64_MAX) {
            const std::uint64_t d = next_due_ > now ? next_due_ - now : 0;
            if (d < wait_ns)
                wait_ns = d;
        }
        if (connect_rate_ > 0 && qhead_ < queue_.size() && inflight_ < concurrency_) {
            const std::uint64_t d = static_cast<std::uint64_t>(1e9 / connect_rate_);
            if (d < wait_ns)
                wait_ns = d;
        }
        if (coalesce_ns_ > 0 && publishing) {
            // Let data pile up in the socket buffers: fewer reads (and ACKs) per message, at the
            // price of up to coalesce_ns_ of added latency. Off by default.
            const std::uint64_t t = now_ns();
            if (t - last_wait_ < coalesce_ns_) {
                const std::uint64_t d = coalesce_ns_ - (t - last_wait_);
                timespec sl{};
                sl.tv_sec = static_cast<time_t>(d / 1'000'000'000ULL);
                sl.tv_nsec = static_cast<long>(d % 1'000'000'000ULL);
                nanosleep(&sl, nullptr);
            }
            last_wait_ = now_ns();
        }
        timespec ts{};
        ts.tv_sec = static_cast<time_t>(wait_ns / 1'000'000'000ULL);
        ts.tv_nsec = static_cast<long>(wait_ns % 1'000'000'000ULL);
        const int n = epoll_pwait2(ep_, events, 512, &ts, nullptr);
        now = now_ns();
        for (int i = 0; i < n; ++i)
            handle(events[i], now);
        if (now - last_housekeeping_ >= 100 * kMs) {
            last_housekeeping_ = now;
            housekeeping(now);
        }
    }
    for (auto& c : conns_) {
        if (c.fd >= 0)
            close_fd(c, false);
    }
}

void Worker::start_connections(std::uint64_t now) {
    if (qhead_ >= queue_.size())
        return;
    if (connect_rate_ > 0) {
        tokens_ += static_cast<double>(now - last_refill_) * connect_rate_ / 1e9;
        const double burst = connect_rate_ / 100.0 > 1.0 ? connect_rate_ / 100.0 : 1.0;
        if (tokens_ > burst)
            tokens_ = burst;
    }
    last_refill_ = now;
    while (qhead_ < queue_.size() && inflight_ < concurrency_) {
        if (connect_rate_ > 0) {
            if (tokens_ < 1.0)
                break;
            tokens_ -= 1.0;
        }
        start(conns_[queue_[qhead_++]], now);
    }
    if (qhead_ >= queue_.size()) {
        queue_.clear();
        qhead_ = 0;
    }
}

void Worker::start(Conn& c, std::uint64_t now) {
    ++c.attempts;
    stats.started.add();
    c.started = now;
    c.inflight = true;
    ++inflight_;
    c.state = State::Connecting;
    c.close_sent = false;
    c.we_closed = false;
    c.frag_op = 0;
    c.in.clear();
    c.out.clear();
    c.out_off = 0;
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
        fail(c, errno, true, now);
        return;
    }
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!opt_.source_ips.empty()) {
#ifdef IP_BIND_ADDRESS_NO_PORT
        setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
        sockaddr_in src{};
        src.sin_family = AF_INET;
        src.sin_addr = opt_.source_ips[c.index % opt_.source_ips.size()];
        if (::bind(c.fd, reinterpret_cast<const sockaddr*>(&src), sizeof src) != 0) {
            fail(c, errno, true, now);
            return;
        }
    }
    const sockaddr_in& addr = opt_.targets[target_of(c)].addr;
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 &&
        errno != EINPROGRESS) {
        fail(c, errno, true, now);
        return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(c.fd)) << 32) |
                  static_cast<std::uint64_t>(&c - conns_.data());
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
        fail(c, errno, true, now);
        return;
    }
    c.want_out = true;
}

void Worker::handle(const epoll_event& ev, std::uint64_t now) {
    if (ev.data.u64 == kWakeTag) {
        std::uint64_t v = 0;
        [[maybe_unused]] const ssize_t r = ::read(wake_fd_, &v, sizeof v);
        return;
    }
    const std::uint32_t idx = static_cast<std::uint32_t>(ev.data.u64 & 0xffffffffULL);
    const int fd = static_cast<int>(ev.data.u64 >> 32);
    Conn& c = conns_[idx];
    if (c.fd != fd)
        return;  // closed earlier in this batch
    if (c.state == State::Connecting) {
        if (ev.events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            on_connected(c, now);
        return;
    }
    if (ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        on_readable(c, now);
    if (c.fd == fd && (ev.events & EPOLLOUT))
        flush(c);
}

// ---------------------------------------------------------------------------------------------
// Handshake

void Worker::on_connected(Conn& c, std::uint64_t now) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err != 0) {
        fail(c, err, true, now);
        return;
    }
    unsigned char raw[16];
    const std::uint64_t a = rand64();
    const std::uint64_t b = rand64();
    std::memcpy(raw, &a, 8);
    std::memcpy(raw + 8, &b, 8);
    char key[32];
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(key), raw, 16);
    char concat[64];
    std::memcpy(concat, key, 24);
    std::memcpy(concat + 24, kGuid, 36);
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(concat), 60, digest);
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(c.accept), digest, SHA_DIGEST_LENGTH);

    Template::Vars vars;
    vars.index = c.index;
    vars.room = c.room;
    std::string& req = scratch_;
    req.clear();
    req.append("GET ");
    const std::size_t target = target_of(c);
    path_tpls_[target].render(req, vars);
    req.append(" HTTP/1.1\r\nHost: ");
    req.append(opt_.targets[target].host);
    req.push_back(':');
    req.append(std::to_string(opt_.targets[target].port));
    req.append(
        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: ");
    req.append(key, 24);
    req.append("\r\n");
    for (const auto& h : header_tpls_) {
        h.render(req, vars);
        req.append("\r\n");
    }
    req.append("\r\n");
    c.state = State::Handshake;
    c.want_out = false;
    update_events(c);
    send_raw(c, req.data(), req.size());
}

bool Worker::check_handshake(Conn& c, const char* p, std::size_t len) {
    const char* end = p + len;
    int status = 0;
    const char* sp = static_cast<const char*>(std::memchr(p, ' ', len));
    if (sp != nullptr && end - sp > 3) {
        for (int i = 1; i <= 3; ++i) {
            const char d = sp[i];
            if (d < '0' || d > '9') {
                status = 0;
                break;
            }
            status = status * 10 + (d - '0');
        }
    }
    if (status != 101) {
        stats.http_status.add(status);
        return false;
    }
    if (!opt_.check_accept)
        return true;
    const char* line = p;
    while (line < end) {
        const char* eol = static_cast<const char*>(memmem(line, end - line, "\r\n", 2));
        if (eol == nullptr)
            eol = end;
        if (starts_with_ci(line, eol, "sec-websocket-accept:")) {
            const char* v = line + 21;
            while (v < eol && (*v == ' ' || *v == '\t'))
                ++v;
            const char* ve = eol;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                --ve;
            if (ve - v == 28 && std::memcmp(v, c.accept, 28) == 0)
                return true;
            stats.http_status.add(-1);  // -1: wrong accept key
            return false;
        }
        line = eol + 2;
    }
    stats.http_status.add(-1);
    return false;
}

// ---------------------------------------------------------------------------------------------
// Input

void Worker::on_readable(Conn& c, std::uint64_t now) {
    const ssize_t n = ::recv(c.fd, rbuf_.data(), rbuf_.size(), 0);
    if (n > 0) {
        now = now_ns();  // per read, so a long batch of events does not skew latencies
        stats.bytes_in.add(static_cast<std::uint64_t>(n));
        process_input(c, rbuf_.data(), static_cast<std::size_t>(n), now);
        return;
    }
    if (n == 0) {
        on_lost(c, 0, now);
        return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return;
    on_lost(c, errno, now);
}

void Worker::process_input(Conn& c, char* data, std::size_t n, std::uint64_t now) {
    const int fd = c.fd;
    if (c.state == State::Handshake) {
        c.in.insert(c.in.end(), data, data + n);
        const void* hit = memmem(c.in.data(), c.in.size(), "\r\n\r\n", 4);
        if (hit == nullptr) {
            if (c.in.size() > kMaxHandshake) {
                stats.handshake_fail.add();
                fail(c, 0, false, now);
            }
            return;
        }
        const std::size_t hdr =
            static_cast<std::size_t>(static_cast<const char*>(hit) - c.in.data()) + 4;
        if (!check_handshake(c, c.in.data(), hdr)) {
            stats.handshake_fail.add();
            fail(c, 0, true, now);
            return;
        }
        c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(hdr));
        on_ws_open(c, now);
        if (c.fd != fd || c.in.empty())
            return;
        const std::size_t k = parse_frames(c, c.in.data(), c.in.size(), now);
        if (c.fd == fd)
            c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(k));
        return;
    }
    if (c.in.empty()) {
        const std::size_t k = parse_frames(c, data, n, now);
        if (c.fd == fd && k < n)
            c.in.assign(data + k, data + n);
        return;
    }
    c.in.insert(c.in.end(), data, data + n);
    const std::size_t k = parse_frames(c, c.in.data(), c.in.size(), now);
    if (c.fd == fd)
        c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(k));
}

std::size_t Worker::parse_frames(Conn& c, char* data, std::size_t len, std::uint64_t now) {
    const int fd = c.fd;
    std::size_t off = 0;
    while (len - off >= 2) {
        const auto* h = reinterpret_cast<const unsigned char*>(data + off);
        const bool fin = (h[0] & 0x80) != 0;
        const int rsv = h[0] & 0x70;
        const int op = h[0] & 0x0f;
        const bool masked = (h[1] & 0x80) != 0;
        std::uint64_t plen = h[1] & 0x7f;
        std::size_t hdr = 2;
        if (plen == 126) {
            if (len - off < 4)
                break;
            plen = (static_cast<std::uint64_t>(h[2]) << 8) | h[3];
            hdr = 4;
        } else if (plen == 127) {
            if (len - off < 10)
                break;
            plen = 0;
            for (int i = 2; i < 10; ++i)
                plen = (plen << 8) | h[i];
            hdr = 10;
        }
        if (masked)
            hdr += 4;
        if (plen > opt_.max_message) {
            stats.protocol_errors.add();
            begin_close(c, 1009, now);
            return off;
        }
        if (len - off < hdr + plen)
            break;
        char* payload = data + off + hdr;
        if (masked) {
            // Servers must not mask; tolerate it (counted) rather than misread the payload.
            stats.protocol_errors.add();
            const unsigned char* key = h + hdr - 4;
            for (std::uint64_t i = 0; i < plen; ++i)
                payload[i] ^= static_cast<char>(key[i & 3]);
        }
        off += hdr + static_cast<std::size_t>(plen);
        if (rsv != 0) {
            stats.protocol_errors.add();
            begin_close(c, 1002, now);
            return off;
        }
        on_frame(c, fin, op, payload, static_cast<std::size_t>(plen), now);
        if (c.fd != fd || c.state == State::Done || c.state == State::Failed)
            return off;
    }
    return off;
}

void Worker::on_frame(Conn& c, bool fin, int op, char* p, std::size_t n, std::uint64_t now) {
    switch (op) {
        case 0x1:
        case 0x2:
            if (c.frag_op != 0) {
                stats.protocol_errors.add();
                begin_close(c, 1002, now);
                return;
            }
            if (fin) {
                on_message(c, p, n, now);
            } else {
                c.frag_op = static_cast<std::uint8_t>(op);
                c.frag.assign(p, p + n);
            }
            return;
        case 0x0:
            if (c.frag_op == 0) {
                stats.protocol_errors.add();
                begin_close(c, 1002, now);
                return;
            }
            if (c.frag.size() + n > opt_.max_message) {
                stats.protocol_errors.add();
                begin_close(c, 1009, now);
                return;
            }
            c.frag.insert(c.frag.end(), p, p + n);
            if (fin) {
                c.frag_op = 0;
                on_message(c, c.frag.data(), c.frag.size(), now);
                c.frag.clear();
            }
            return;
        case 0x8: {
            const int code =
                n >= 2
                    ? ((static_cast<unsigned char>(p[0]) << 8) | static_cast<unsigned char>(p[1]))
                    : 1005;
            stats.close_codes.add(code);
            if (!c.we_closed) {
                if (before_ready(c.state)) {
                    fail(c, 0, false, now);
                    return;
                }
                stats.disconnects.add();
            }
            if (!c.close_sent) {
                unsigned char body[2] = {static_cast<unsigned char>(code >> 8),
                                         static_cast<unsigned char>(code & 0xff)};
                const bool echo = code != 1005 && code != 1006 && code != 1015;
                send_frame(c, 0x8, reinterpret_cast<const char*>(body), echo ? 2 : 0);
                c.close_sent = true;
            }
            if (c.fd >= 0 && c.state != State::Closing) {
                c.state = State::Closing;
                c.deadline = now + static_cast<std::uint64_t>(opt_.close_wait_ms) * kMs;
                ++closing_;
            }
            return;
        }
        case 0x9:
            stats.pings.add();
            send_frame(c, 0xA, p, n);
            return;
        case 0xA:
            return;
        default:
            stats.protocol_errors.add();
            begin_close(c, 1002, now);
            return;
    }
}

void Worker::on_message(Conn& c, const char* p, std::size_t n, std::uint64_t now) {
    if (documents_) {
        on_doc_message(c, p, n, now);
        return;
    }
    if (opt_.protocol == Protocol::SocketIo && n >= 1) {
        switch (p[0]) {
            case '2':  // Engine.IO ping (possibly "2probe")
                stats.engine_pings.add();
                scratch_.assign(p, n);
                scratch_[0] = '3';
                send_frame(c, 0x1, scratch_.data(), scratch_.size());
                return;
            case '0':  // Engine.IO open
                if (c.state == State::EngineOpen) {
                    send_frame(c, 0x1, "40", 2);
                    c.state = State::NamespaceOpen;
                }
                return;
            case '1':  // Engine.IO close: the WebSocket close that follows is what is counted
                return;
            case '3':
            case '6':
                return;
            case '4':
                if (n >= 2 && p[1] == '0') {
                    if (c.state == State::NamespaceOpen)
                        app_open(c, now);
                    return;
                }
                if (n >= 2 && p[1] == '4') {  // namespace connect error
                    if (before_ready(c.state)) {
                        fail(c, 0, false, now);
                    } else {
                        stats.disconnects.add();
                    }
                    return;
                }
                if (n >= 2 && p[1] == '1') {
                    stats.disconnects.add();
                    return;
                }
                break;  // "42[...]": an event, handled below
            default:
                break;
        }
    }
    if (c.state == State::Subscribing) {
        if (opt_.ready_check.empty() ||
            memmem(p, n, opt_.ready_check.data(), opt_.ready_check.size()) != nullptr) {
            mark_ready(c, now);
            return;
        }
    }
    const char* t = find4(p, p + n, "\"t\":");
    if (t != nullptr) {
        on_data(c, p, n, t, now);
    } else {
        stats.other_messages.add();
    }
}

void Worker::on_data(Conn& c, const char* p, std::size_t n, const char* t, std::uint64_t now) {
    stats.received_data.add();
    const char* end = p + n;
    std::uint64_t ts = 0;
    std::uint64_t seq = 0;
    const char* s = find4(t + 4, end, "\"s\":");  // after "t": in the templates; else anywhere
    if (s == nullptr)
        s = find4(p, t, "\"s\":");
    if (!parse_number(t + 4, end, ts) || s == nullptr || !parse_number(s + 4, end, seq)) {
        stats.unexpected.add();
        return;
    }
    if (c.role == Role::Publisher || c.role == Role::Member) {
        // The only publisher of its room: whatever arrives from that room is its own message.
        if (seq / kSeqRoomBase == c.room) {
            stats.echoes.add();
        } else {
            stats.unexpected.add();
        }
        return;
    }
    if (!is_subscriber(c.role)) {
        stats.unexpected.add();
        return;
    }
    const std::uint64_t room = seq / kSeqRoomBase;
    const std::uint64_t num = seq % kSeqRoomBase;
    if (room != c.room || num == 0 ||
        num > sh_.room_published[room].load(std::memory_order_acquire) || ts < sh_.run_start ||
        ts > now) {
        stats.unexpected.add();
        return;
    }
    if (num <= c.last_n) {
        stats.out_of_order.add();
        return;
    }
    if (num > c.last_n + 1) {
        stats.gap_events.add();
        stats.gap_messages.add(num - c.last_n - 1);
    }
    c.last_n = num;
    ++c.unique;
    stats.delivered.add();
    if (now >= win_start_ && now < win_end_) {
        stats.delivered_window.add();
        stats.latency.record(now - ts);
    }
    if (c.role == Role::Probe && num > probe_seen_) {
        probe_seen_ = num;
        last_progress_ = now;
    }
}

void Worker::on_doc_message(Conn& c, const char* p, std::size_t n, std::uint64_t now) {
    ywire::Update u;
    const bool prefixed = opt_.protocol == Protocol::Hocuspocus;
    switch (ywire::parse(reinterpret_cast<const std::uint8_t*>(p), n, prefixed, u)) {
        case ywire::Kind::Update:
            on_doc_update(c, u, now);
            return;
        case ywire::Kind::SyncStep2:
            if (c.state == State::Subscribing) {
                mark_ready(c, now);
                return;
            }
            break;
        default:
            break;
    }
    stats.other_messages.add();
}

void Worker::on_doc_update(Conn& c, const ywire::Update& u, std::uint64_t now) {
    stats.received_data.add();
    const std::uint64_t total = static_cast<std::uint64_t>(opt_.connections);
    if (u.client < ywire::kClientBase || u.client - ywire::kClientBase >= total ||
        u.clock % ywire::kContentLength != 0) {
        stats.unexpected.add();
        return;
    }
    const std::uint64_t from = u.client - ywire::kClientBase;
    if (from == c.index) {
        stats.echoes.add();  // the reference server sends an update back to its sender too
        return;
    }
    const std::uint64_t num = u.clock / ywire::kContentLength + 1;
    if (from / editors_ != c.room ||
        num > sh_.editor_published[from].load(std::memory_order_acquire) || u.ts < sh_.run_start ||
        u.ts > now) {
        stats.unexpected.add();
        return;
    }
    const std::size_t slot = static_cast<std::size_t>(from % editors_);
    std::uint64_t& last = c.seen[slot];
    if (num <= last) {
        stats.out_of_order.add();
        return;
    }
    if (num > last + 1) {
        stats.gap_events.add();
        stats.gap_messages.add(num - last - 1);
    }
    last = num;
    ++c.unique;
    stats.delivered.add();
    if (now >= win_start_ && now < win_end_) {
        stats.delivered_window.add();
        stats.latency.record(now - u.ts);
    }
    // The next editor of the document opens the sender's window (see pump_doc_window).
    if (c.index % editors_ == (slot + 1) % editors_)
        conns_[c.doc_base + slot].progress = now;
}

// ---------------------------------------------------------------------------------------------
// Connection life cycle

void Worker::on_ws_open(Conn& c, std::uint64_t now) {
    stats.opened.add();
    if (opt_.protocol == Protocol::SocketIo) {
        c.state = State::EngineOpen;
        return;
    }
    app_open(c, now);
}

void Worker::app_open(Conn& c, std::uint64_t now) {
    if (c.role == Role::Editor) {
        // As a y-websocket provider does: ask for the whole document; ready on its answer.
        scratch_.clear();
        if (opt_.protocol == Protocol::Hocuspocus) {
            // Allocated once per connection. The server queues the sync until the Auth is done.
            c.doc_prefix.clear();
            ywire::append_varstring(c.doc_prefix, opt_.room_prefix + std::to_string(c.room));
            ywire::append_auth(scratch_, c.doc_prefix, opt_.token.empty() ? "bench" : opt_.token);
            send_frame(c, 0x2, scratch_.data(), scratch_.size());
            if (c.fd < 0)
                return;
            scratch_.clear();
        }
        ywire::append_sync_step1(scratch_, c.doc_prefix);
        c.state = State::Subscribing;
        send_frame(c, 0x2, scratch_.data(), scratch_.size());
        return;
    }
    const bool subscribes =
        (c.role != Role::Publisher || opt_.publisher_subscribes) && !sub_tpl_.empty();
    if (!subscribes) {
        mark_ready(c, now);
        return;
    }
    Template::Vars vars;
    vars.index = c.index;
    vars.room = c.room;
    scratch_.clear();
    sub_tpl_.render(scratch_, vars);
    c.state = State::Subscribing;
    send_frame(c, 0x1, scratch_.data(), scratch_.size());
    if (c.fd < 0)
        return;
    // Without a ready check, a cycle waits for any answer; others are ready once subscribed.
    if (opt_.ready_check.empty() && c.role != Role::Cycle)
        mark_ready(c, now);
}

void Worker::mark_ready(Conn& c, std::uint64_t now) {
    c.state = State::Ready;
    c.was_ready = true;
    stats.ready.add();
    stats.handshake.record(now - c.started);
    if (c.role == Role::Cycle) {
        c.cycle_close = true;
        begin_close(c, 1000, now);
        return;
    }
    release_inflight(c);
}

void Worker::release_inflight(Conn& c) {
    if (c.inflight) {
        c.inflight = false;
        --inflight_;
    }
}

void Worker::on_lost(Conn& c, int err, std::uint64_t now) {
    if (c.state == State::Closing) {
        finish_close(c);
        return;
    }
    if (before_ready(c.state)) {
        fail(c, err == 0 ? ECONNRESET : err, true, now);
        return;
    }
    stats.disconnects.add();
    stats.close_codes.add(1006);
    close_fd(c, false);
    c.state = State::Done;
}

void Worker::fail(Conn& c, int err, bool retry, std::uint64_t now) {
    if (err != 0)
        stats.connect_errno.add(err);
    if (c.fd >= 0)
        close_fd(c, false);
    release_inflight(c);
    c.frag.clear();
    if (retry && c.attempts <= opt_.retries && !shutting_down_ && phase() == Phase::Connecting) {
        // Retried after a back-off (200 ms per attempt made), from housekeeping.
        stats.retried.add();
        c.state = State::Queued;
        c.deadline = now + 200 * kMs * c.attempts;
        retry_.push_back(static_cast<std::uint32_t>(&c - conns_.data()));
        return;
    }
    c.state = State::Failed;
    stats.failed.add();
}

void Worker::begin_close(Conn& c, int code, std::uint64_t now) {
    if (c.fd < 0)
        return;
    if (opt_.close_mode == CloseMode::Reset) {
        c.state = State::Closing;
        ++closing_;
        close_fd(c, true);
        finish_close(c);
        return;
    }
    if (!c.close_sent) {
        const unsigned char body[2] = {static_cast<unsigned char>(code >> 8),
                                       static_cast<unsigned char>(code & 0xff)};
        c.we_closed = true;
        c.close_sent = true;
        send_frame(c, 0x8, reinterpret_cast<const char*>(body), 2);
        if (c.fd < 0)
            return;
    }
    c.we_closed = true;
    if (c.state != State::Closing) {
        c.state = State::Closing;
        ++closing_;
    }
    if (opt_.close_mode == CloseMode::Immediate) {
        finish_close(c);
        return;
    }
    c.deadline = now + static_cast<std::uint64_t>(opt_.close_wait_ms) * kMs;
}

void Worker::finish_close(Conn& c) {
    if (c.fd >= 0)
        close_fd(c, false);
    if (c.state == State::Closing)
        --closing_;
    c.state = State::Done;
    if (c.cycle_close) {
        c.cycle_close = false;
        stats.cycles.add();
    }
    release_inflight(c);
}

void Worker::close_fd(Conn& c, bool reset) {
    if (reset) {
        linger lg{};
        lg.l_onoff = 1;
        lg.l_linger = 0;
        setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    ::close(c.fd);  // also removes it from the epoll set
    c.fd = -1;
    c.want_out = false;
    c.in.clear();
    c.out.clear();
    c.out_off = 0;
}

// ---------------------------------------------------------------------------------------------
// Output

void Worker::append_frame(std::string& dst, int op, const char* p, std::size_t n) {
    unsigned char hdr[14];
    std::size_t h = 0;
    hdr[h++] = static_cast<unsigned char>(0x80 | op);
    if (n < 126) {
        hdr[h++] = static_cast<unsigned char>(0x80 | n);
    } else if (n <= 0xffff) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = static_cast<unsigned char>(n >> 8);
        hdr[h++] = static_cast<unsigned char>(n & 0xff);
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; --i)
            hdr[h++] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);
    }
    const std::uint32_t key = static_cast<std::uint32_t>(rand64() >> 16);
    std::memcpy(hdr + h, &key, 4);
    h += 4;
    const std::size_t start = dst.size();
    dst.resize(start + h + n);
    char* out = dst.data() + start;
    std::memcpy(out, hdr, h);
    out += h;
    std::uint64_t key8 = 0;
    std::memcpy(&key8, hdr + h - 4, 4);
    std::memcpy(reinterpret_cast<char*>(&key8) + 4, hdr + h - 4, 4);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, p + i, 8);
        w ^= key8;
        std::memcpy(out + i, &w, 8);
    }
    const unsigned char* k = hdr + h - 4;
    for (; i < n; ++i)
        out[i] = static_cast<char>(p[i] ^ static_cast<char>(k[i & 3]));
}

void Worker::send_frame(Conn& c, int op, const char* p, std::size_t n) {
    frame_.clear();
    append_frame(frame_, op, p, n);
    send_raw(c, frame_.data(), frame_.size());
}

void Worker::send_raw(Conn& c, const char* p, std::size_t n) {
    if (c.fd < 0)
        return;
    if (c.out.size() > c.out_off) {
        c.out.insert(c.out.end(), p, p + n);
        return;
    }
    c.out.clear();
    c.out_off = 0;
    ssize_t w = ::send(c.fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            on_lost(c, errno, now_ns());
            return;
        }
        w = 0;
    }
    stats.bytes_out.add(static_cast<std::uint64_t>(w));
    if (static_cast<std::size_t>(w) < n) {
        c.out.assign(p + w, p + n);
        if (!c.want_out) {
            c.want_out = true;
            update_events(c);
        }
    }
}

void Worker::flush(Conn& c) {
    while (c.out.size() > c.out_off) {
        const ssize_t w =
            ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR)
                continue;
            on_lost(c, errno, now_ns());
            return;
        }
        stats.bytes_out.add(static_cast<std::uint64_t>(w));
        c.out_off += static_cast<std::size_t>(w);
    }
    c.out.clear();
    c.out_off = 0;
    if (c.want_out) {
        c.want_out = false;
        update_events(c);
    }
}

void Worker::update_events(Conn& c) {
    epoll_event ev{};
    ev.events = EPOLLIN | (c.want_out ? EPOLLOUT : 0u);
    ev.data.u64 = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(c.fd)) << 32) |
                  static_cast<std::uint64_t>(&c - conns_.data());
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
}

// ---------------------------------------------------------------------------------------------
// Publishing

void Worker::pump_window(std::uint64_t now) {
    if (window_pub_ < 0)
        return;
    Conn& c = conns_[static_cast<std::size_t>(window_pub_)];
    if (c.state != State::Ready || c.out.size() > c.out_off)
        return;
    const std::uint64_t window = static_cast<std::uint64_t>(opt_.window);
    if (pub_n_ - probe_seen_ >= window) {
        if (now - last_progress_ < 1000 * kMs) {
            next_due_ = last_progress_ + 1000 * kMs;
            return;
        }
        // The probe saw nothing for a second: messages were lost. Reopen the window.
        stats.window_stalls.add();
        probe_seen_ = pub_n_;
    }
    const std::uint64_t credit = window - (pub_n_ - probe_seen_);
    batch_.clear();
    Template::Vars vars;
    vars.index = c.index;
    vars.room = c.room;
    vars.ts = now;
    const std::uint64_t base = static_cast<std::uint64_t>(c.room) * kSeqRoomBase;
    for (std::uint64_t k = 0; k < credit; ++k) {
        vars.seq = base + pub_n_ + k + 1;
        scratch_.clear();
        pub_tpl_.render(scratch_, vars);
        append_frame(batch_, 0x1, scratch_.data(), scratch_.size());
    }
    pub_n_ += credit;
    sh_.room_published[c.room].store(pub_n_, std::memory_order_release);
    stats.published.add(credit);
    if (now >= win_start_ && now < win_end_)
        stats.published_window.add(credit);
    last_progress_ = now;
    send_raw(c, batch_.data(), batch_.size());
}

bool Worker::publish_one(Conn& c, std::uint64_t now) {
    if (c.role == Role::Editor)
        return publish_doc(c, now);
    if (c.state != State::Ready)
        return false;
    if (c.out.size() - c.out_off > kMaxPending)
        return false;
    auto& counter = sh_.room_published[c.room];
    const std::uint64_t num = counter.load(std::memory_order_relaxed) + 1;
    Template::Vars vars;
    vars.index = c.index;
    vars.room = c.room;
    vars.ts = now;
    vars.seq = static_cast<std::uint64_t>(c.room) * kSeqRoomBase + num;
    scratch_.clear();
    pub_tpl_.render(scratch_, vars);
    counter.store(num, std::memory_order_release);
    stats.published.add();
    if (now >= win_start_ && now < win_end_)
        stats.published_window.add();
    send_frame(c, 0x1, scratch_.data(), scratch_.size());
    return true;
}

void Worker::pump_rate(std::uint64_t now) {
    if (rate_pubs_.empty())
        return;
    const std::uint64_t start = sh_.publish_start.load(std::memory_order_acquire);
    if (start == UINT64_MAX || now < start) {
        next_due_ = start;
        return;
    }
    // Bounded per pass so that a loadgen that fell behind still reads its sockets.
    for (int budget = 0; budget < 4096; ++budget) {
        const std::uint64_t due =
            start + static_cast<std::uint64_t>(static_cast<double>(rate_k_) * interval_ns_);
        if (due > now) {
            next_due_ = due;
            return;
        }
        Conn& c = conns_[rate_pubs_[rate_k_ % rate_pubs_.size()]];
        ++rate_k_;
        stats.publish_lag_max_ns.set_max(now - due);
        publish_one(c, now);
    }
    next_due_ = now;
}

void Worker::append_doc_update(Conn& c, std::uint64_t now) {
    auto& sent = sh_.editor_published[c.index];
    const std::uint64_t num = sent.load(std::memory_order_relaxed) + 1;
    scratch_.clear();
    ywire::append_update(scratch_, c.doc_prefix, ywire::kClientBase + c.index,
                         (num - 1) * ywire::kContentLength, now);
    // Counted before the bytes leave, so a receiver never sees a number not yet published.
    sent.store(num, std::memory_order_release);
    sh_.room_published[c.room].fetch_add(1, std::memory_order_release);
    stats.published.add();
    if (now >= win_start_ && now < win_end_)
        stats.published_window.add();
    append_frame(batch_, 0x2, scratch_.data(), scratch_.size());
}

bool Worker::publish_doc(Conn& c, std::uint64_t now) {
    if (c.state != State::Ready || c.out.size() - c.out_off > kMaxPending)
        return false;
    batch_.clear();
    append_doc_update(c, now);
    send_raw(c, batch_.data(), batch_.size());
    return true;
}

// Closed loop: each editor keeps at most --window updates that the next editor of its document
// has not received yet, so the editors send as fast as the server relays.
void Worker::pump_doc_window(std::uint64_t now) {
    const std::uint64_t window = static_cast<std::uint64_t>(opt_.window);
    for (const std::uint32_t idx : window_editors_) {
        Conn& c = conns_[idx];
        if (c.state != State::Ready || c.out.size() > c.out_off)
            continue;
        const std::size_t slot = c.index % editors_;
        const Conn& probe = conns_[c.doc_base + (slot + 1) % editors_];
        const std::uint64_t sent = sh_.editor_published[c.index].load(std::memory_order_relaxed);
        const std::uint64_t acked = std::max(probe.seen[slot], c.ack_floor);
        if (sent - acked >= window) {
            if (now - c.progress < 1000 * kMs)
                continue;
            // Nothing seen for a second: updates were lost. Reopen the window.
            stats.window_stalls.add();
            c.ack_floor = sent;
        }
        const std::uint64_t credit = window - (sent - std::max(acked, c.ack_floor));
        batch_.clear();
        for (std::uint64_t k = 0; k < credit; ++k)
            append_doc_update(c, now);
        c.progress = now;
        send_raw(c, batch_.data(), batch_.size());
    }
}

// ---------------------------------------------------------------------------------------------
// Timers and shutdown

void Worker::housekeeping(std::uint64_t now) {
    if (!retry_.empty()) {
        std::size_t keep = 0;
        for (const std::uint32_t idx : retry_) {
            if (conns_[idx].deadline <= now) {
                queue_.push_back(idx);
            } else {
                retry_[keep++] = idx;
            }
        }
        retry_.resize(keep);
    }
    if (inflight_ == 0 && closing_ == 0)
        return;
    const std::uint64_t timeout = static_cast<std::uint64_t>(opt_.handshake_timeout_ms) * kMs;
    for (auto& c : conns_) {
        if (before_ready(c.state) && now - c.started > timeout) {
            fail(c, ETIMEDOUT, true, now);
        } else if (c.state == State::Closing && now >= c.deadline) {
            finish_close(c);
        }
    }
}

void Worker::begin_shutdown(std::uint64_t now) {
    shutting_down_ = true;
    queue_.clear();
    for (const std::uint32_t idx : retry_) {
        conns_[idx].state = State::Failed;
        stats.failed.add();
    }
    retry_.clear();
    qhead_ = 0;
    shutdown_deadline_ = now + static_cast<std::uint64_t>(opt_.close_wait_ms + 200) * kMs;
    for (auto& c : conns_) {
        if (c.fd < 0)
            continue;
        if (c.state == State::Ready || c.state == State::Subscribing ||
            c.state == State::EngineOpen || c.state == State::NamespaceOpen) {
            c.cycle_close = false;
            begin_close(c, 1000, now);
        } else if (c.state != State::Closing) {
            close_fd(c, false);
            release_inflight(c);
            c.state = State::Done;
        }
    }
}

// ---------------------------------------------------------------------------------------------

WorkerPtr make_worker(int id, Shared& shared, std::vector<ConnSpec> specs) {
    return WorkerPtr(new Worker(id, shared, std::move(specs)));
}
void WorkerDeleter::operator()(Worker* w) const {
    delete w;
}
void run_worker(Worker& w) {
    w.run();
}
void wake_worker(Worker& w) {
    w.wake();
}
WorkerStats& worker_stats(Worker& w) {
    return w.stats;
}
std::uint64_t worker_missing(Worker& w) {
    return w.missing();
}

}  // namespace loadgen
