// huddle-loadgen: scenario orchestration and reporting. The event loops live in worker.cpp.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "loadgen.hpp"

namespace loadgen {
namespace {

std::atomic<bool> g_interrupted{false};

void on_signal(int) {
    g_interrupted.store(true);
}

const char* protocol_name(Protocol p) {
    switch (p) {
        case Protocol::SocketIo:
            return "socketio";
        case Protocol::Hocuspocus:
            return "hocuspocus";
        case Protocol::WebSocket:
            break;
    }
    return "ws";
}

void sleep_ms(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

double secs(std::uint64_t ns) {
    return static_cast<double>(ns) / 1e9;
}

// --- /proc of the server --------------------------------------------------------------------

struct ProcSample {
    bool ok = false;
    double cpu_s = 0;
    long rss_kb = 0;
    std::vector<double> each_cpu_s;  // per process, when the server is several
    double core_busy_s = -1;         // the server's core, whoever ran there (--server-core)
};

ProcSample sample_proc(pid_t pid) {
    ProcSample s;
    if (pid <= 0)
        return s;
    const std::string base = "/proc/" + std::to_string(pid);
    std::ifstream stat(base + "/stat");
    std::string line;
    if (!std::getline(stat, line))
        return s;
    const std::size_t rp = line.rfind(')');
    if (rp == std::string::npos)
        return s;
    std::istringstream fields(line.substr(rp + 2));
    std::string f;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    for (int i = 0; fields >> f; ++i) {  // i = 0 is field 3 (state)
        if (i == 11)
            utime = std::stoull(f);
        if (i == 12) {
            stime = std::stoull(f);
            break;
        }
    }
    s.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    std::ifstream status(base + "/status");
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            s.rss_kb = std::stol(line.substr(6));
            break;
        }
    }
    s.ok = true;
    return s;
}

// Busy seconds of one core since boot (/proc/stat: user, nice, system, irq, softirq, steal),
// whoever ran there; -1 when unreadable.
double core_busy_s(int core) {
    if (core < 0)
        return -1;
    std::ifstream stat("/proc/stat");
    const std::string name = "cpu" + std::to_string(core);
    std::string line;
    while (std::getline(stat, line)) {
        std::istringstream fields(line);
        std::string label;
        fields >> label;
        if (label != name)
            continue;
        unsigned long long v[8] = {};
        for (auto& x : v)
            fields >> x;
        const unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
        return static_cast<double>(busy) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
    return -1;
}

// The server's processes summed: a cluster's nodes and broker count as one server.
ProcSample sample_server(const std::vector<pid_t>& pids, int core) {
    ProcSample sum;
    sum.ok = !pids.empty();
    for (const pid_t pid : pids) {
        const ProcSample one = sample_proc(pid);
        sum.ok = sum.ok && one.ok;
        sum.cpu_s += one.cpu_s;
        sum.rss_kb += one.rss_kb;
        sum.each_cpu_s.push_back(one.cpu_s);
    }
    sum.core_busy_s = core_busy_s(core);
    return sum;
}

double self_cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// --- JSON output ------------------------------------------------------------------------------

class Json {
  public:
    Json& key(const char* k) {
        comma();
        out_ += '"';
        out_ += k;
        out_ += "\":";
        fresh_ = true;
        return *this;
    }
    Json& num(double v) {
        value_prefix();
        char buf[64];
        if (v == static_cast<double>(static_cast<long long>(v)) && std::abs(v) < 9e15) {
            std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
        } else {
            std::snprintf(buf, sizeof buf, "%.3f", v);
        }
        out_ += buf;
        return *this;
    }
    Json& u(std::uint64_t v) {
        value_prefix();
        out_ += std::to_string(v);
        return *this;
    }
    Json& boolean(bool v) {
        value_prefix();
        out_ += v ? "true" : "false";
        return *this;
    }
    Json& str(const std::string& v) {
        value_prefix();
        out_ += '"';
        for (const char ch : v) {
            const auto c = static_cast<unsigned char>(ch);
            if (c == '"' || c == '\\') {
                out_ += '\\';
                out_ += ch;
            } else if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out_ += buf;
            } else {
                out_ += ch;
            }
        }
        out_ += '"';
        return *this;
    }
    Json& open() {
        value_prefix();
        out_ += '{';
        fresh_ = true;
        return *this;
    }
    Json& close() {
        out_ += '}';
        fresh_ = false;
        return *this;
    }
    const std::string& text() const { return out_; }

  private:
    void comma() {
        if (!fresh_)
            out_ += ',';
    }
    void value_prefix() {
        if (!fresh_)
            out_ += ',';
        fresh_ = false;
    }
    std::string out_;
    bool fresh_ = true;
};

void code_object(Json& j, const char* name, const CodeCounts& cc, bool errno_names) {
    j.key(name).open();
    auto items = cc.items;
    std::sort(items.begin(), items.end());
    for (const auto& [code, n] : items) {
        std::string k;
        if (errno_names) {
            const char* e = strerrorname_np(code);
            k = e ? e : std::to_string(code);
        } else if (code == -1) {
            k = "bad_accept";
        } else {
            k = std::to_string(code);
        }
        j.key(k.c_str()).u(n);
    }
    j.close();
}

std::string code_text(const CodeCounts& cc, bool errno_names) {
    if (cc.items.empty())
        return "none";
    auto items = cc.items;
    std::sort(items.begin(), items.end());
    std::string s;
    for (const auto& [code, n] : items) {
        if (!s.empty())
            s += ", ";
        if (errno_names) {
            const char* e = strerrorname_np(code);
            s += e ? e : std::to_string(code);
        } else {
            s += code == -1 ? std::string("bad_accept") : std::to_string(code);
        }
        s += "=" + std::to_string(n);
    }
    return s;
}

double us(std::uint64_t ns) {
    return static_cast<double>(ns) / 1000.0;
}

void latency_object(Json& j, const char* name, const Histogram& h) {
    j.key(name).open();
    j.key("count").u(h.count());
    j.key("mean").num(us(static_cast<std::uint64_t>(h.mean())));
    j.key("min").num(us(h.min()));
    j.key("p50").num(us(h.quantile(0.50)));
    j.key("p90").num(us(h.quantile(0.90)));
    j.key("p99").num(us(h.quantile(0.99)));
    j.key("p999").num(us(h.quantile(0.999)));
    j.key("max").num(us(h.max()));
    j.close();
}

// --- Plan -------------------------------------------------------------------------------------

struct Plan {
    std::vector<std::vector<ConnSpec>> per_worker;
    int total = 0;
    std::vector<std::uint64_t> subscribers_per_room;  // receivers of each room's messages
};

Plan make_plan(const Options& o) {
    Plan p;
    const int t = o.threads;
    p.per_worker.resize(static_cast<std::size_t>(t));
    p.subscribers_per_room.assign(static_cast<std::size_t>(o.rooms), 0);
    auto add = [&](int worker, std::uint32_t index, std::uint32_t room, Role role) {
        p.per_worker[static_cast<std::size_t>(worker)].push_back(ConnSpec{index, room, role});
        ++p.total;
        if (role == Role::Subscriber || role == Role::Probe)
            ++p.subscribers_per_room[room];
    };
    const auto n = static_cast<std::uint32_t>(o.connections);
    switch (o.scenario) {
        case Scenario::Fanout:
        case Scenario::Rate:
            // Publisher and probe share worker 0 so that the window needs no cross-thread state.
            add(0, n, 0, Role::Publisher);
            for (std::uint32_t i = 0; i < n; ++i) {
                const bool probe = o.scenario == Scenario::Fanout && i == n - 1;
                add(probe ? 0 : static_cast<int>(i % static_cast<std::uint32_t>(t)), i, 0,
                    probe ? Role::Probe : Role::Subscriber);
            }
            break;
        case Scenario::Rooms: {
            const auto r = static_cast<std::uint32_t>(o.rooms);
            for (std::uint32_t i = 0; i < n; ++i) {
                const std::uint32_t room = i % r;
                add(static_cast<int>(room % static_cast<std::uint32_t>(t)), i, room,
                    i < r ? Role::Member : Role::Subscriber);
            }
            break;
        }
        case Scenario::Idle:
            for (std::uint32_t i = 0; i < n; ++i) {
                add(static_cast<int>(i % static_cast<std::uint32_t>(t)), i,
                    o.idle_shared_room ? 0 : i, Role::Idle);
            }
            break;
        case Scenario::Connect:
            for (std::uint32_t i = 0; i < n; ++i) {
                add(static_cast<int>(i % static_cast<std::uint32_t>(t)), i,
                    i % static_cast<std::uint32_t>(o.rooms), Role::Cycle);
            }
            break;
        case Scenario::Documents: {
            // A document's editors are consecutive and on one worker: an editor finds the others
            // of its document by local index.
            const auto m = static_cast<std::uint32_t>(o.editors);
            for (std::uint32_t i = 0; i < n; ++i) {
                const std::uint32_t doc = i / m;
                add(static_cast<int>(doc % static_cast<std::uint32_t>(t)), i, doc, Role::Editor);
            }
            // Every update reaches the other editors of its document.
            for (auto& r : p.subscribers_per_room)
                r = m - 1;
            break;
        }
    }
    return p;
}

void raise_fd_limit(const Options& o, int total) {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    const rlim_t needed = static_cast<rlim_t>(total) + 64;
    if (o.scenario != Scenario::Connect && rl.rlim_cur < needed) {
        std::fprintf(stderr,
                     "huddle-loadgen: %d connections need %llu file descriptors but the limit is "
                     "%llu (ulimit -n)\n",
                     total, static_cast<unsigned long long>(needed),
                     static_cast<unsigned long long>(rl.rlim_cur));
        std::exit(2);
    }
}

// --- Run --------------------------------------------------------------------------------------

struct Totals {
    std::uint64_t started = 0, retried = 0, opened = 0, ready = 0, failed = 0, handshake_fail = 0,
                  disconnects = 0, protocol_errors = 0, published = 0, published_window = 0,
                  received_data = 0, delivered = 0, delivered_window = 0, unexpected = 0,
                  gap_messages = 0, gap_events = 0, out_of_order = 0, echoes = 0,
                  other_messages = 0, pings = 0, engine_pings = 0, window_stalls = 0, cycles = 0,
                  bytes_in = 0, bytes_out = 0, publish_lag_max_ns = 0;
};

Totals totals(std::vector<WorkerPtr>& workers) {
    Totals t;
    for (auto& w : workers) {
        const WorkerStats& s = worker_stats(*w);
        t.started += s.started.get();
        t.retried += s.retried.get();
        t.opened += s.opened.get();
        t.ready += s.ready.get();
        t.failed += s.failed.get();
        t.handshake_fail += s.handshake_fail.get();
        t.disconnects += s.disconnects.get();
        t.protocol_errors += s.protocol_errors.get();
        t.published += s.published.get();
        t.published_window += s.published_window.get();
        t.received_data += s.received_data.get();
        t.delivered += s.delivered.get();
        t.delivered_window += s.delivered_window.get();
        t.unexpected += s.unexpected.get();
        t.gap_messages += s.gap_messages.get();
        t.gap_events += s.gap_events.get();
        t.out_of_order += s.out_of_order.get();
        t.echoes += s.echoes.get();
        t.other_messages += s.other_messages.get();
        t.pings += s.pings.get();
        t.engine_pings += s.engine_pings.get();
        t.window_stalls += s.window_stalls.get();
        t.cycles += s.cycles.get();
        t.bytes_in += s.bytes_in.get();
        t.bytes_out += s.bytes_out.get();
        t.publish_lag_max_ns = std::max(t.publish_lag_max_ns, s.publish_lag_max_ns.get());
    }
    return t;
}

int run(int argc, char** argv) {
    const Options opt = parse_options(argc, argv);
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    Plan plan = make_plan(opt);
    raise_fd_limit(opt, opt.scenario == Scenario::Connect ? opt.concurrency : plan.total);

    Shared shared;
    shared.opt = &opt;
    shared.total_rooms = opt.rooms;
    shared.room_published =
        std::make_unique<std::atomic<std::uint64_t>[]>(static_cast<std::size_t>(opt.rooms));
    for (int r = 0; r < opt.rooms; ++r)
        shared.room_published[r].store(0);
    if (opt.scenario == Scenario::Documents) {
        shared.editor_published = std::make_unique<std::atomic<std::uint64_t>[]>(
            static_cast<std::size_t>(opt.connections));
        for (int i = 0; i < opt.connections; ++i)
            shared.editor_published[i].store(0);
    }
    shared.run_start = now_ns();

    const bool documents = opt.scenario == Scenario::Documents;
    const bool publishes = opt.scenario == Scenario::Fanout || opt.scenario == Scenario::Rate ||
                           opt.scenario == Scenario::Rooms || documents;
    std::printf(
        "huddle-loadgen: scenario %s, protocol %s, %d connections, %d room(s), %d thread(s)",
        scenario_name(opt.scenario), protocol_name(opt.protocol), plan.total, opt.rooms,
        opt.threads);
    if (opt.scenario == Scenario::Fanout)
        std::printf(", window %d", opt.window);
    if (opt.scenario == Scenario::Rate)
        std::printf(", rate %.0f/s", opt.rate);
    if (opt.scenario == Scenario::Rooms)
        std::printf(", rate %.1f/s per room", opt.rate);
    if (documents && opt.window_set)
        std::printf(", %d editors per document, window %d", opt.editors, opt.window);
    if (documents && !opt.window_set)
        std::printf(", %d editors per document, %.1f updates/s each", opt.editors, opt.rate);
    std::printf("\n  target");
    for (const auto& target : opt.targets)
        std::printf(" %s:%u", target.host.c_str(), target.port);
    std::printf("\n");
    std::fflush(stdout);

    const ProcSample rss_before = sample_server(opt.server_pids, opt.server_core);

    std::vector<WorkerPtr> workers;
    for (int i = 0; i < opt.threads; ++i) {
        workers.push_back(make_worker(i, shared, std::move(plan.per_worker[i])));
    }
    std::vector<std::thread> threads;
    for (auto& w : workers)
        threads.emplace_back([&w] { run_worker(*w); });
    auto set_phase = [&](Phase p) {
        shared.phase.store(static_cast<int>(p), std::memory_order_release);
        for (auto& w : workers)
            wake_worker(*w);
    };

    // 1. Connect (and for the connect scenario, the whole run).
    const std::uint64_t t_connect = now_ns();
    const double cpu_connect = self_cpu_s();
    const ProcSample srv_connect = sample_server(opt.server_pids, opt.server_core);
    const std::uint64_t connect_deadline =
        t_connect + static_cast<std::uint64_t>(opt.connect_timeout_s * 1e9);
    std::uint64_t last_print = t_connect;
    const auto total = static_cast<std::uint64_t>(plan.total);
    for (;;) {
        const Totals t = totals(workers);
        const std::uint64_t now = now_ns();
        const std::uint64_t done =
            (opt.scenario == Scenario::Connect ? t.cycles : t.ready) + t.failed;
        if (done >= total || now >= connect_deadline || g_interrupted.load())
            break;
        if (opt.progress && now - last_print >= 1'000'000'000ULL) {
            last_print = now;
            std::fprintf(
                stderr, "  [%5.1fs] ready %llu/%llu, failed %llu, retried %llu%s\n",
                secs(now - t_connect), static_cast<unsigned long long>(t.ready),
                static_cast<unsigned long long>(total), static_cast<unsigned long long>(t.failed),
                static_cast<unsigned long long>(t.retried),
                opt.scenario == Scenario::Connect ? (", cycles " + std::to_string(t.cycles)).c_str()
                                                  : "");
        }
        sleep_ms(opt.scenario == Scenario::Connect ? 2 : 20);
    }
    const std::uint64_t t_connected = now_ns();
    Totals ct = totals(workers);
    const double connect_s = secs(t_connected - t_connect);
    std::printf("connect: %llu ready, %llu failed, %llu retried in %.2f s (%.0f/s)\n",
                static_cast<unsigned long long>(ct.ready),
                static_cast<unsigned long long>(ct.failed),
                static_cast<unsigned long long>(ct.retried), connect_s,
                connect_s > 0 ? static_cast<double>(ct.ready) / connect_s : 0.0);
    std::fflush(stdout);
    const bool all_ready = ct.ready >= total;
    if (!all_ready && opt.scenario != Scenario::Connect) {
        std::printf("warning: only %llu of %llu connections are ready\n",
                    static_cast<unsigned long long>(ct.ready),
                    static_cast<unsigned long long>(total));
    }

    std::uint64_t m_start = 0;
    std::uint64_t m_end = 0;
    double cpu0 = 0;
    double cpu1 = 0;
    ProcSample srv0;
    ProcSample srv1;
    ProcSample rss_after;
    ProcSample rss_end;
    std::uint64_t expected = 0;
    bool drained = true;

    auto interruptible_sleep = [&](double seconds, const char* what) {
        const std::uint64_t start = now_ns();
        const std::uint64_t end = start + static_cast<std::uint64_t>(seconds * 1e9);
        std::uint64_t printed = start;
        const Totals base = totals(workers);
        while (!g_interrupted.load()) {
            const std::uint64_t now = now_ns();
            if (now >= end)
                break;
            if (opt.progress && now - printed >= 1'000'000'000ULL) {
                printed = now;
                const Totals t = totals(workers);
                const double el = secs(now - start);
                std::fprintf(stderr,
                             "  [%s %4.1fs] published %.0f/s, delivered %.0f/s, open %llu\n", what,
                             el, static_cast<double>(t.published - base.published) / el,
                             static_cast<double>(t.delivered - base.delivered) / el,
                             static_cast<unsigned long long>(t.ready - t.disconnects));
            }
            const std::uint64_t left = end - now;
            sleep_ms(static_cast<int>(std::min<std::uint64_t>(left / 1'000'000ULL + 1, 50)));
        }
    };

    if (ct.ready > 0 && opt.scenario != Scenario::Connect && !g_interrupted.load()) {
        if (publishes && opt.ready_check.empty()) {
            set_phase(Phase::Settle);
            interruptible_sleep(opt.settle_ms / 1000.0, "settle");
        }
        if (opt.scenario == Scenario::Idle) {
            std::printf("READY %llu\n", static_cast<unsigned long long>(ct.ready));
            std::fflush(stdout);
            set_phase(Phase::Hold);
            srv0 = sample_server(opt.server_pids, opt.server_core);
            cpu0 = self_cpu_s();
            m_start = now_ns();
            interruptible_sleep(std::min(opt.hold_s, 2.0), "hold");
            rss_after = sample_server(opt.server_pids, opt.server_core);
            if (opt.hold_s > 2.0)
                interruptible_sleep(opt.hold_s - 2.0, "hold");
            rss_end = sample_server(opt.server_pids, opt.server_core);
            m_end = now_ns();
            srv1 = rss_end;
            cpu1 = self_cpu_s();
        } else {
            // Documents: every document is loaded (each editor got sync step 2) and empty.
            rss_after = sample_server(opt.server_pids, opt.server_core);
            shared.publish_start.store(now_ns(), std::memory_order_release);
            set_phase(Phase::Warmup);
            interruptible_sleep(opt.warmup_s, "warmup");
            m_start = now_ns();
            cpu0 = self_cpu_s();
            srv0 = sample_server(opt.server_pids, opt.server_core);
            shared.measure_start.store(m_start, std::memory_order_release);
            set_phase(Phase::Measure);
            interruptible_sleep(opt.duration_s, "measure");
            m_end = now_ns();
            shared.measure_end.store(m_end, std::memory_order_release);
            cpu1 = self_cpu_s();
            srv1 = sample_server(opt.server_pids, opt.server_core);
            set_phase(Phase::Drain);
            const std::uint64_t drain_end =
                now_ns() + static_cast<std::uint64_t>(opt.drain_ms) * 1'000'000ULL;
            for (;;) {
                expected = 0;
                for (int r = 0; r < opt.rooms; ++r) {
                    expected += shared.room_published[r].load() *
                                plan.subscribers_per_room[static_cast<std::size_t>(r)];
                }
                const Totals t = totals(workers);
                if (t.delivered >= expected)
                    break;
                if (now_ns() >= drain_end || g_interrupted.load()) {
                    drained = false;
                    break;
                }
                sleep_ms(10);
            }
        }
    } else if (opt.scenario == Scenario::Connect) {
        m_start = t_connect;
        m_end = t_connected;
        cpu0 = cpu_connect;
        cpu1 = self_cpu_s();
        srv0 = srv_connect;
        srv1 = sample_server(opt.server_pids, opt.server_core);
    }

    set_phase(Phase::Stop);
    for (auto& th : threads)
        th.join();

    // --- Aggregate --------------------------------------------------------------------------
    const Totals t = totals(workers);
    Histogram latency;
    Histogram handshake;
    CodeCounts close_codes;
    CodeCounts http_status;
    CodeCounts connect_errno;
    std::uint64_t missing = 0;
    for (auto& w : workers) {
        WorkerStats& s = worker_stats(*w);
        latency.merge(s.latency);
        handshake.merge(s.handshake);
        close_codes.merge(s.close_codes);
        http_status.merge(s.http_status);
        connect_errno.merge(s.connect_errno);
        missing += worker_missing(*w);
    }
    const double window_s = m_end > m_start ? secs(m_end - m_start) : 0.0;
    const double loadgen_cpu_s = cpu1 - cpu0;
    const double loadgen_cpu_pct = window_s > 0 ? 100.0 * loadgen_cpu_s / window_s : 0.0;
    const bool have_server = srv0.ok && srv1.ok;
    const double server_cpu_pct =
        have_server && window_s > 0 ? 100.0 * (srv1.cpu_s - srv0.cpu_s) / window_s : 0.0;
    const bool have_core = srv0.core_busy_s >= 0 && srv1.core_busy_s >= 0 && window_s > 0;
    const double core_busy = have_core ? srv1.core_busy_s - srv0.core_busy_s : 0.0;
    const double pub_rate = window_s > 0 ? static_cast<double>(t.published_window) / window_s : 0;
    const double del_rate = window_s > 0 ? static_cast<double>(t.delivered_window) / window_s : 0;
    const double hs_rate = connect_s > 0 ? static_cast<double>(t.cycles) / connect_s : 0;

    std::printf("handshake (connect to subscribed) us: p50 %.0f  p99 %.0f  max %.0f\n",
                us(handshake.quantile(0.5)), us(handshake.quantile(0.99)), us(handshake.max()));
    if (opt.scenario == Scenario::Connect) {
        std::printf("connect cycles: %llu completed, %llu failed in %.2f s: %.0f handshakes/s\n",
                    static_cast<unsigned long long>(t.cycles),
                    static_cast<unsigned long long>(t.failed), connect_s, hs_rate);
    }
    if (publishes) {
        std::printf("published %llu in %.2f s: %.0f/s; delivered %llu: %.0f/s\n",
                    static_cast<unsigned long long>(t.published_window), window_s, pub_rate,
                    static_cast<unsigned long long>(t.delivered_window), del_rate);
        std::printf("latency us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  (n=%llu)\n",
                    us(latency.quantile(0.5)), us(latency.quantile(0.9)),
                    us(latency.quantile(0.99)), us(latency.quantile(0.999)), us(latency.max()),
                    static_cast<unsigned long long>(latency.count()));
        if (t.publish_lag_max_ns > 0) {
            std::printf("publisher lag behind schedule: max %.1f us\n", us(t.publish_lag_max_ns));
        }
    }
    if (documents && rss_before.ok && rss_after.ok) {
        std::printf(
            "server RSS: before %ld kB, %d documents loaded (%d connections) %ld kB: %ld bytes "
            "per document with its connections; after the run %ld kB\n",
            rss_before.rss_kb, opt.rooms, opt.connections, rss_after.rss_kb,
            (rss_after.rss_kb - rss_before.rss_kb) * 1024 / std::max(1, opt.rooms), srv1.rss_kb);
    }
    long rss_per_conn = 0;
    if (opt.scenario == Scenario::Idle && rss_before.ok && rss_after.ok && ct.ready > 0) {
        rss_per_conn = (rss_after.rss_kb - rss_before.rss_kb) * 1024 / static_cast<long>(ct.ready);
        std::printf(
            "server RSS: before %ld kB, all ready %ld kB, end of hold %ld kB: %ld bytes "
            "per connection\n",
            rss_before.rss_kb, rss_after.rss_kb, rss_end.rss_kb, rss_per_conn);
    }
    std::printf("cpu over %.2f s: loadgen %.1f%% of one core (%d thread(s))", window_s,
                loadgen_cpu_pct, opt.threads);
    if (have_server)
        std::printf(", server %.1f%%", server_cpu_pct);
    if (have_core)
        std::printf(", server's core %d busy %.1f%%", opt.server_core,
                    100.0 * core_busy / window_s);
    if (publishes && t.delivered_window > 0) {
        const double del = static_cast<double>(t.delivered_window);
        std::printf("; per delivery: loadgen %.0f ns", loadgen_cpu_s * 1e9 / del);
        if (have_server)
            std::printf(", server %.0f ns", (srv1.cpu_s - srv0.cpu_s) * 1e9 / del);
        if (have_core)
            std::printf(", server's core %.0f ns", core_busy * 1e9 / del);
    }
    std::printf("\n");
    std::printf(
        "checks: unexpected %llu, gaps %llu (%llu events), out-of-order %llu, missing %llu%s, "
        "echoes %llu, disconnects %llu, failed %llu, protocol errors %llu, window stalls %llu\n",
        static_cast<unsigned long long>(t.unexpected),
        static_cast<unsigned long long>(t.gap_messages),
        static_cast<unsigned long long>(t.gap_events),
        static_cast<unsigned long long>(t.out_of_order), static_cast<unsigned long long>(missing),
        drained ? "" : " (drain timed out)", static_cast<unsigned long long>(t.echoes),
        static_cast<unsigned long long>(t.disconnects), static_cast<unsigned long long>(t.failed),
        static_cast<unsigned long long>(t.protocol_errors),
        static_cast<unsigned long long>(t.window_stalls));
    std::printf("close codes: %s; connect errors: %s; handshake answers: %s\n",
                code_text(close_codes, false).c_str(), code_text(connect_errno, true).c_str(),
                code_text(http_status, false).c_str());
    std::printf("pings answered %llu, engine.io pings answered %llu, other messages %llu\n",
                static_cast<unsigned long long>(t.pings),
                static_cast<unsigned long long>(t.engine_pings),
                static_cast<unsigned long long>(t.other_messages));

    const bool ok = t.failed == 0 && t.unexpected == 0 && t.gap_messages == 0 &&
                    t.out_of_order == 0 && missing == 0 && t.disconnects == 0 &&
                    t.protocol_errors == 0 && !g_interrupted.load() &&
                    (!publishes || t.delivered_window > 0) &&
                    (opt.scenario != Scenario::Connect || t.cycles == total);

    Json j;
    j.open();
    j.key("scenario").str(scenario_name(opt.scenario));
    j.key("protocol").str(protocol_name(opt.protocol));
    j.key("label").str(opt.label);
    j.key("url").str(opt.urls.front());
    if (opt.urls.size() > 1)
        j.key("targets").u(opt.urls.size());
    j.key("connections").u(total);
    j.key("rooms").num(opt.rooms);
    j.key("threads").num(opt.threads);
    if (opt.scenario == Scenario::Fanout)
        j.key("window").num(opt.window);
    if (opt.scenario == Scenario::Rate || opt.scenario == Scenario::Rooms ||
        (documents && !opt.window_set)) {
        j.key("rate_target").num(opt.rate);
    }
    if (documents) {
        j.key("documents").num(opt.rooms);
        j.key("editors").num(opt.editors);
        if (opt.window_set)
            j.key("window").num(opt.window);
    }
    j.key("ready").u(ct.ready);
    j.key("failed").u(t.failed);
    j.key("retried").u(t.retried);
    j.key("connect_s").num(connect_s);
    j.key("connects_per_s").num(connect_s > 0 ? static_cast<double>(ct.ready) / connect_s : 0);
    if (opt.scenario == Scenario::Connect) {
        j.key("cycles").u(t.cycles);
        j.key("handshakes_per_s").num(hs_rate);
    }
    latency_object(j, "handshake_us", handshake);
    j.key("window_s").num(window_s);
    if (publishes) {
        j.key("published").u(t.published_window);
        j.key("publishes_per_s").num(pub_rate);
        j.key("deliveries").u(t.delivered_window);
        j.key("deliveries_per_s").num(del_rate);
        latency_object(j, "latency_us", latency);
        j.key("published_total").u(t.published);
        j.key("delivered_total").u(t.delivered);
        j.key("expected_total").u(expected);
        // CPU cost per delivered message: robust to a machine shared with other work.
        const double del = static_cast<double>(t.delivered_window);
        j.key("loadgen_cpu_ns_per_delivery").num(del > 0 ? loadgen_cpu_s * 1e9 / del : 0);
        if (have_server) {
            j.key("server_cpu_ns_per_delivery")
                .num(del > 0 ? (srv1.cpu_s - srv0.cpu_s) * 1e9 / del : 0);
        }
        if (have_core)
            j.key("server_core_ns_per_delivery").num(del > 0 ? core_busy * 1e9 / del : 0);
        j.key("publish_lag_max_us").num(us(t.publish_lag_max_ns));
        j.key("window_stalls").u(t.window_stalls);
    }
    j.key("unexpected").u(t.unexpected);
    j.key("gaps").u(t.gap_messages);
    j.key("gap_events").u(t.gap_events);
    j.key("out_of_order").u(t.out_of_order);
    j.key("missing").u(missing);
    j.key("drained").boolean(drained);
    j.key("echoes").u(t.echoes);
    j.key("other_messages").u(t.other_messages);
    j.key("disconnects").u(t.disconnects);
    j.key("protocol_errors").u(t.protocol_errors);
    j.key("handshake_failures").u(t.handshake_fail);
    code_object(j, "close_codes", close_codes, false);
    code_object(j, "connect_errors", connect_errno, true);
    code_object(j, "http_status", http_status, false);
    j.key("pings").u(t.pings);
    j.key("engine_pings").u(t.engine_pings);
    j.key("bytes_in").u(t.bytes_in);
    j.key("bytes_out").u(t.bytes_out);
    j.key("loadgen_cpu_s").num(loadgen_cpu_s);
    j.key("loadgen_cpu_pct").num(loadgen_cpu_pct);
    if (!opt.server_pids.empty()) {
        j.key("server_pid").num(opt.server_pids.front());
        j.key("server_cpu_pct").num(server_cpu_pct);
        if (have_core)
            j.key("server_core_busy_pct").num(100.0 * core_busy / window_s);
        if (opt.server_pids.size() > 1 && have_server && window_s > 0) {
            j.key("server_cpu_pct_by_pid").open();
            for (std::size_t k = 0; k < opt.server_pids.size(); ++k) {
                j.key(std::to_string(opt.server_pids[k]).c_str())
                    .num(100.0 * (srv1.each_cpu_s[k] - srv0.each_cpu_s[k]) / window_s);
            }
            j.close();
        }
        j.key("server_cpu_s").num(have_server ? srv1.cpu_s - srv0.cpu_s : 0);
        j.key("server_rss_before_kb").num(static_cast<double>(rss_before.rss_kb));
        if (opt.scenario == Scenario::Idle) {
            j.key("server_rss_ready_kb").num(static_cast<double>(rss_after.rss_kb));
            j.key("server_rss_end_kb").num(static_cast<double>(rss_end.rss_kb));
            j.key("rss_per_conn_bytes").num(static_cast<double>(rss_per_conn));
        } else {
            j.key("server_rss_after_kb").num(static_cast<double>(srv1.rss_kb));
        }
        if (documents && rss_before.ok && rss_after.ok) {
            // Per document loaded (with its editors' connections), before any update.
            j.key("server_rss_loaded_kb").num(static_cast<double>(rss_after.rss_kb));
            j.key("rss_per_document_bytes")
                .num(static_cast<double>((rss_after.rss_kb - rss_before.rss_kb) * 1024 /
                                         std::max(1, opt.rooms)));
        }
    }
    j.key("interrupted").boolean(g_interrupted.load());
    j.key("ok").boolean(ok);
    j.close();
    std::printf("RESULT %s\n", j.text().c_str());
    std::fflush(stdout);
    return ok ? 0 : 1;
}

}  // namespace
}  // namespace loadgen

int main(int argc, char** argv) {
    return loadgen::run(argc, argv);
}
