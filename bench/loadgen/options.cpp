// Command line, templates, histogram and small tables of the load generator.
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "loadgen.hpp"

namespace loadgen {

const char* scenario_name(Scenario s) {
    switch (s) {
        case Scenario::Fanout:
            return "fanout";
        case Scenario::Rate:
            return "rate";
        case Scenario::Rooms:
            return "rooms";
        case Scenario::Idle:
            return "idle";
        case Scenario::Connect:
            return "connect";
        case Scenario::Documents:
            return "documents";
    }
    return "?";
}

// ---------------------------------------------------------------------------------------------
// Template

Template::Template(std::string_view text, std::string_view token, std::string_view room_prefix)
    : room_prefix_(room_prefix) {
    Part cur;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == '{') {
            const std::size_t close = text.find('}', i);
            if (close != std::string_view::npos) {
                const std::string_view name = text.substr(i + 1, close - i - 1);
                Var v = Var::None;
                bool known = true;
                if (name == "token") {
                    cur.literal.append(token);
                } else if (name == "i") {
                    v = Var::Index;
                } else if (name == "room") {
                    v = Var::Room;
                } else if (name == "ts") {
                    v = Var::Ts;
                } else if (name == "seq") {
                    v = Var::Seq;
                } else {
                    known = false;
                }
                if (known) {
                    if (v != Var::None) {
                        cur.var = v;
                        parts_.push_back(std::move(cur));
                        cur = Part{};
                    }
                    i = close + 1;
                    continue;
                }
            }
        }
        cur.literal.push_back(text[i]);
        ++i;
    }
    if (!cur.literal.empty())
        parts_.push_back(std::move(cur));
}

bool Template::uses(Var v) const {
    for (const auto& p : parts_) {
        if (p.var == v)
            return true;
    }
    return false;
}

namespace {
void append_number(std::string& out, std::uint64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}
}  // namespace

void Template::render(std::string& out, const Vars& vars) const {
    for (const auto& p : parts_) {
        out.append(p.literal);
        switch (p.var) {
            case Var::None:
                break;
            case Var::Index:
                append_number(out, vars.index);
                break;
            case Var::Room:
                out.append(room_prefix_);
                append_number(out, vars.room);
                break;
            case Var::Ts:
                append_number(out, vars.ts);
                break;
            case Var::Seq:
                append_number(out, vars.seq);
                break;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Histogram and tables

void Histogram::merge(const Histogram& o) {
    for (int i = 0; i < kBuckets; ++i)
        counts_[i] += o.counts_[i];
    count_ += o.count_;
    sum_ += o.sum_;
    if (o.count_) {
        if (o.max_ > max_)
            max_ = o.max_;
        if (o.min_ < min_)
            min_ = o.min_;
    }
}

std::uint64_t Histogram::upper_bound(int idx) {
    if (idx < 2 * kSub)
        return static_cast<std::uint64_t>(idx);
    const int shift = idx / kSub - 1;
    const std::uint64_t sub = static_cast<std::uint64_t>(idx % kSub + kSub);
    return ((sub + 1) << shift) - 1;
}

std::uint64_t Histogram::quantile(double q) const {
    if (count_ == 0)
        return 0;
    std::uint64_t target = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    if (target < 1)
        target = 1;
    std::uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
        seen += counts_[i];
        if (seen >= target) {
            const std::uint64_t ub = upper_bound(i);
            return ub < max_ ? ub : max_;
        }
    }
    return max_;
}

void CodeCounts::add(int code, std::uint64_t n) {
    for (auto& it : items) {
        if (it.first == code) {
            it.second += n;
            return;
        }
    }
    items.emplace_back(code, n);
}

void CodeCounts::merge(const CodeCounts& o) {
    for (const auto& it : o.items)
        add(it.first, it.second);
}

std::uint64_t CodeCounts::total() const {
    std::uint64_t t = 0;
    for (const auto& it : items)
        t += it.second;
    return t;
}

// ---------------------------------------------------------------------------------------------
// Command line

namespace {

void usage(FILE* f) {
    std::fputs(
        R"(huddle-loadgen: WebSocket load generator (epoll, one event loop per thread)

usage: huddle-loadgen --scenario NAME [options]

scenarios:
  fanout   N subscribers in one room + 1 publisher (not subscribed) that keeps at most
           --window messages in flight (published, not yet seen by the probe subscriber)
  rate     like fanout, but the publisher sends --rate messages/s (default 200)
  rooms    --connections C in --rooms R (default 10000 in 1000); the first member of each
           room publishes --rate messages/s (default 10 per room)
  idle     open --connections N (default 10000), subscribe each to its own room (or
           --shared-room), print "READY <n>", hold for --hold seconds answering pings
  connect  open up to --connections N (default 10000) with --concurrency in flight:
           handshake + subscribe + answer + close; reports handshakes/s
  documents  --documents N (100) x --editors M (10) connections speaking y-websocket
           (binary): sync step 1 with an empty state vector, ready on sync step 2, then each
           editor sends Yjs updates (one string insert into the root type "t", its own client
           id, the send time as content) at --rate R per editor (10/s), or with --window W
           keeps W updates not yet seen by the next editor of its document in flight (as fast
           as the server relays); --url must name the document with {room}, e.g.
           ws://127.0.0.1:3000/yjs/{room}?token={token} (room prefix bench-doc-)

target and protocol:
  --url URL             ws://host:port/path?query   ({token} and {i} are replaced)
                        default ws://127.0.0.1:3000/ws?token={token}; repeatable: connection
                        i goes to URL number i mod count (nodes of a cluster), the publisher
                        of fanout/rate to the first
  --token T             value of {token}
  --header 'Name: v'    extra handshake header (repeatable; {token} {i} replaced)
  --protocol P          ws (default) | socketio (Engine.IO v4 over WebSocket) |
                        hocuspocus (documents: every message prefixed with the document name,
                        Auth with --token first; the URL need not name the document)
  --subscribe TEXT      sent once open; {room} {i} {token}
                        default {"action":"subscribe","rooms":["{room}"]}
                        (socketio: 42["subscribe",["{room}"]])
  --publish TEXT        {room} {ts} (send time, ns, CLOCK_MONOTONIC) {seq} {i} {token}
                        default {"action":"publish","room":"{room}","type":"bench",
                                 "payload":{"t":{ts},"s":{seq}}}
  --ready-check TEXT    substring of the answer to subscribe (e.g. "ok":true); without it
                        the loadgen waits --settle-ms after every subscribe is sent
  --no-subscribe        do not subscribe (idle/connect: handshake only)
  --room-prefix P       room name = P + room index (default bench:)
  --no-accept-check     do not verify Sec-WebSocket-Accept

load:
  --connections N       subscribers (fanout, rate) or connections (rooms, idle, connect)
  --subscribers N       alias of --connections
  --rooms R             rooms scenario (default 1000)
  --rate R              messages/s (rate: total; rooms: per room)
  --window W            fanout in-flight window (default 16)
  --publisher-subscribes  fanout/rate: the publisher subscribes to the room too (for servers
                        that take publishes from members only); what it gets back is counted
                        as echoes
  --warmup S            seconds of publishing before measuring (default 2)
  --duration S          seconds measured (default 10)
  --drain-ms MS         wait for in-flight deliveries after the window (default 3000)
  --settle-ms MS        wait after subscribing when there is no --ready-check (default 1000)
  --hold S              idle: seconds to hold (default 30)
  --shared-room         idle: everyone in one room instead of one room each
  --concurrency N       handshakes in flight (default 200)
  --connect-rate N      new connections per second (default unlimited)
  --connect-timeout S   give up waiting for connections to be ready (default 120)
  --handshake-timeout-ms MS  per connection, connect to ready (default 10000)
  --retries N           retries of a failed connection attempt (default 2; connect: 0)
  --close MODE          wait (default: close frame, wait for the server) | immediate | reset
  --source-ips LIST     bind() before connect, round-robin: 127.0.0.1,127.0.0.2 or
                        127.0.0.1..127.0.0.8 (needed beyond ~28k connections)
  --threads N           event-loop threads (default 1)
  --coalesce-us N       while publishing, at most one epoll wait per N us: more data per read,
                        less loadgen CPU per message, up to N us more latency (default 0: off)
  --max-message BYTES   largest message accepted (default 16 MiB)

reporting:
  --server-pid P        read the server's VmRSS and CPU time from /proc/P; repeatable
                        (nodes of a cluster, their broker): summed, and CPU per process
  --server-core N       the core the server is pinned to: also report that core's busy time
                        (/proc/stat), which includes kernel work for the server outside its
                        own CPU time (e.g. softirq in ksoftirqd)
  --label TEXT          copied into the RESULT line
  --quiet               no progress lines

Prints human-readable lines and one final line: RESULT {json}.
)",
        f);
}

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "huddle-loadgen: %s (see --help)\n", msg.c_str());
    std::exit(2);
}

double to_double(const std::string& name, const std::string& v) {
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || *end != '\0' || !std::isfinite(d) || d < 0) {
        die("bad number for " + name + ": " + v);
    }
    return d;
}

long to_long(const std::string& name, const std::string& v) {
    char* end = nullptr;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (end == v.c_str() || *end != '\0' || n < 0)
        die("bad integer for " + name + ": " + v);
    return n;
}

in_addr parse_ip(const std::string& s) {
    in_addr a{};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1)
        die("bad IPv4 address: " + s);
    return a;
}

void parse_source_ips(Options& o, const std::string& list) {
    std::size_t pos = 0;
    while (pos <= list.size()) {
        std::size_t comma = list.find(',', pos);
        if (comma == std::string::npos)
            comma = list.size();
        const std::string item = list.substr(pos, comma - pos);
        pos = comma + 1;
        if (item.empty())
            continue;
        const std::size_t dots = item.find("..");
        if (dots == std::string::npos) {
            o.source_ips.push_back(parse_ip(item));
            continue;
        }
        const std::uint32_t a = ntohl(parse_ip(item.substr(0, dots)).s_addr);
        const std::uint32_t b = ntohl(parse_ip(item.substr(dots + 2)).s_addr);
        if (b < a || b - a > 65535)
            die("bad address range: " + item);
        for (std::uint32_t x = a; x <= b; ++x)
            o.source_ips.push_back(in_addr{htonl(x)});
    }
}

Target parse_target(const std::string& url) {
    Target t;
    std::string u = url;
    if (u.rfind("wss://", 0) == 0)
        die("wss:// is not supported (plain ws:// only)");
    if (u.rfind("ws://", 0) != 0)
        die("--url must start with ws://");
    u = u.substr(5);
    std::size_t slash = u.find('/');
    std::string hostport = slash == std::string::npos ? u : u.substr(0, slash);
    t.path_template = slash == std::string::npos ? "/" : u.substr(slash);
    std::string port = "80";
    const std::size_t colon = hostport.rfind(':');
    if (colon != std::string::npos) {
        port = hostport.substr(colon + 1);
        hostport = hostport.substr(0, colon);
    }
    t.host = hostport;
    const long p = to_long("port", port);
    if (p <= 0 || p > 65535)
        die("bad port: " + port);
    t.port = static_cast<std::uint16_t>(p);

    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const int rc = getaddrinfo(t.host.c_str(), nullptr, &hints, &res);
    if (rc != 0 || res == nullptr)
        die("cannot resolve " + t.host + ": " + gai_strerror(rc));
    std::memcpy(&t.addr, res->ai_addr, sizeof(sockaddr_in));
    t.addr.sin_port = htons(t.port);
    freeaddrinfo(res);
    return t;
}

}  // namespace

Options parse_options(int argc, char** argv) {
    Options o;
    bool subscribe_set = false;
    bool publish_set = false;
    bool no_subscribe = false;
    bool retries_set = false;
    bool room_prefix_set = false;
    bool url_set = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        std::string value;
        bool has_value = false;
        if (arg.rfind("--", 0) == 0) {
            const std::size_t eq = arg.find('=');
            if (eq != std::string::npos) {
                value = arg.substr(eq + 1);
                arg = arg.substr(0, eq);
                has_value = true;
            }
        }
        auto next = [&]() -> std::string {
            if (has_value)
                return value;
            if (i + 1 >= argc)
                die("missing value for " + arg);
            return argv[++i];
        };
        if (arg == "-h" || arg == "--help") {
            usage(stdout);
            std::exit(0);
        } else if (arg == "--scenario") {
            const std::string s = next();
            if (s == "fanout") {
                o.scenario = Scenario::Fanout;
            } else if (s == "rate") {
                o.scenario = Scenario::Rate;
            } else if (s == "rooms") {
                o.scenario = Scenario::Rooms;
            } else if (s == "idle") {
                o.scenario = Scenario::Idle;
            } else if (s == "connect") {
                o.scenario = Scenario::Connect;
            } else if (s == "documents") {
                o.scenario = Scenario::Documents;
            } else {
                die("unknown scenario " + s);
            }
        } else if (arg == "--protocol") {
            const std::string s = next();
            if (s == "ws" || s == "websocket") {
                o.protocol = Protocol::WebSocket;
            } else if (s == "socketio" || s == "socket.io") {
                o.protocol = Protocol::SocketIo;
            } else if (s == "hocuspocus") {
                o.protocol = Protocol::Hocuspocus;
            } else {
                die("unknown protocol " + s);
            }
        } else if (arg == "--url") {
            if (!url_set)
                o.urls.clear();
            url_set = true;
            o.urls.push_back(next());
        } else if (arg == "--token") {
            o.token = next();
        } else if (arg == "--header") {
            o.headers.push_back(next());
        } else if (arg == "--subscribe") {
            o.subscribe = next();
            subscribe_set = true;
        } else if (arg == "--publish") {
            o.publish = next();
            publish_set = true;
        } else if (arg == "--ready-check") {
            o.ready_check = next();
        } else if (arg == "--no-subscribe") {
            no_subscribe = true;
        } else if (arg == "--room-prefix") {
            o.room_prefix = next();
            room_prefix_set = true;
        } else if (arg == "--label") {
            o.label = next();
        } else if (arg == "--connections" || arg == "--subscribers") {
            o.connections = static_cast<int>(to_long(arg, next()));
        } else if (arg == "--rooms") {
            o.rooms = static_cast<int>(to_long(arg, next()));
        } else if (arg == "--rate") {
            o.rate = to_double(arg, next());
        } else if (arg == "--window") {
            o.window = static_cast<int>(to_long(arg, next()));
            o.window_set = true;
        } else if (arg == "--documents") {
            o.rooms = static_cast<int>(to_long(arg, next()));
        } else if (arg == "--editors") {
            o.editors = static_cast<int>(to_long(arg, next()));
        } else if (arg == "--duration") {
            o.duration_s = to_double(arg, next());
        } else if (arg == "--warmup") {
            o.warmup_s = to_double(arg, next());
        } else if (arg == "--settle-ms") {
            o.settle_ms = static_cast<int>(to_long(arg, next()));
        } else if (arg == "--drain-ms") {
            o.drain_ms = static_cast<int>(to_long(arg, next()));
        } else if (arg == "--hold") {
            o.hold_s = to_double(arg, next());
        } else if (arg == "--publisher-subscribes") {
            o.publisher_subscribes = true;
        } else if (arg == "--shared-room") {
            o.idle_shared_room = true;
        } else if (arg == "--concurrency") {
            o.concurrency = static_cast<int>(to_long(arg, next()));
        } else if (arg == "--connect-rate") {
            o.connect_rate = to_double(arg, next());
        } else if (arg == "--connect-timeout") {
            o.connect_timeout_s = to_double(arg, next());
        } else if (arg == "--handshake-timeout-ms") {
            o.handshake_timeout_ms = static_cast<int>(to_long(arg, next()));
        } else if (arg == "--retries") {
            o.retries = static_cast<int>(to_long(arg, next()));
            retries_set = true;
        } else if (arg == "--close") {
            const std::string s = next();
            if (s == "wait") {
                o.close_mode = CloseMode::Wait;
            } else if (s == "immediate") {
                o.close_mode = CloseMode::Immediate;
            } else if (s == "reset") {
                o.close_mode = CloseMode::Reset;
            } else {
                die("unknown close mode " + s);
            }
        } else if (arg == "--coalesce-us") {
            o.coalesce_us = static_cast<int>(to_long(arg, next()));
        } else if (arg == "--close-wait-ms") {
            o.close_wait_ms = static_cast<int>(to_long(arg, next()));
        } else if (arg == "--source-ips") {
            parse_source_ips(o, next());
        } else if (arg == "--threads") {
            o.threads = static_cast<int>(to_long(arg, next()));
        } else if (arg == "--max-message") {
            o.max_message = static_cast<std::size_t>(to_long(arg, next()));
        } else if (arg == "--server-pid") {
            o.server_pids.push_back(static_cast<pid_t>(to_long(arg, next())));
        } else if (arg == "--server-core") {
            o.server_core = static_cast<int>(to_long(arg, next()));
        } else if (arg == "--no-accept-check") {
            o.check_accept = false;
        } else if (arg == "--quiet") {
            o.progress = false;
        } else {
            die("unknown option " + arg);
        }
    }

    const bool sio = o.protocol == Protocol::SocketIo;
    if (!subscribe_set) {
        o.subscribe =
            sio ? R"(42["subscribe",["{room}"]])" : R"({"action":"subscribe","rooms":["{room}"]})";
    }
    if (!publish_set) {
        o.publish =
            sio ? R"(42["publish",{"room":"{room}","type":"bench","payload":{"t":{ts},"s":{seq}}}])"
                : R"({"action":"publish","room":"{room}","type":"bench","payload":{"t":{ts},"s":{seq}}})";
    }
    if (no_subscribe)
        o.subscribe.clear();

    switch (o.scenario) {
        case Scenario::Fanout:
        case Scenario::Rate:
            if (o.connections < 0)
                o.connections = 1000;
            o.rooms = 1;
            if (o.rate < 0)
                o.rate = 200;
            break;
        case Scenario::Rooms:
            if (o.connections < 0)
                o.connections = 10000;
            if (o.rooms < 0)
                o.rooms = 1000;
            if (o.rate < 0)
                o.rate = 10;
            break;
        case Scenario::Idle:
            if (o.connections < 0)
                o.connections = 10000;
            o.rooms = o.idle_shared_room ? 1 : o.connections;
            break;
        case Scenario::Documents:
            if (o.rooms < 0)
                o.rooms = 100;
            if (o.editors < 2)
                die("--editors must be at least 2");
            o.connections = o.rooms * o.editors;
            if (o.rate < 0)
                o.rate = 10;
            if (!room_prefix_set)
                o.room_prefix = "bench-doc-";
            break;
        case Scenario::Connect:
            if (o.connections < 0)
                o.connections = 10000;
            if (o.rooms < 0)
                o.rooms = o.connections;  // each connection its own room
            if (!retries_set)
                o.retries = 0;
            break;
    }
    if (o.connections < 1)
        die("--connections must be at least 1");
    if (o.rooms < 1)
        die("--rooms must be at least 1");
    if (o.scenario == Scenario::Rooms && o.connections < 2 * o.rooms) {
        die("rooms needs at least 2 connections per room");
    }
    if ((o.scenario == Scenario::Rate || o.scenario == Scenario::Rooms) && o.rate <= 0) {
        die("--rate must be positive");
    }
    if (o.window < 1)
        die("--window must be at least 1");
    if (o.threads < 1 || o.threads > 64)
        die("--threads must be 1..64");
    if (o.concurrency < 1)
        o.concurrency = 1;
    if (o.protocol == Protocol::Hocuspocus && o.scenario != Scenario::Documents)
        die("--protocol hocuspocus goes with --scenario documents");
    if (o.scenario == Scenario::Documents && o.protocol == Protocol::SocketIo)
        die("documents speak y-websocket or hocuspocus, not socketio");
    if (o.scenario == Scenario::Documents && !o.window_set && o.rate <= 0)
        die("--rate must be positive");
    // Documents speak y-websocket: the templates of the JSON scenarios do not apply.
    const bool publishes = o.scenario == Scenario::Fanout || o.scenario == Scenario::Rate ||
                           o.scenario == Scenario::Rooms;
    if (publishes && o.subscribe.empty())
        die("this scenario needs a --subscribe template");
    if (publishes && o.publish.empty())
        die("this scenario needs a --publish template");
    if (publishes && o.publish.find("{ts}") == std::string::npos) {
        die("--publish must contain {ts}");
    }
    if (publishes && o.publish.find("{seq}") == std::string::npos) {
        die("--publish must contain {seq}");
    }
    for (const auto& url : o.urls)
        o.targets.push_back(parse_target(url));
    return o;
}

}  // namespace loadgen
