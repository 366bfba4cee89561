#include "net/server.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include "core/room_name.hpp"
#include "endpoints/rooms_messages.hpp"
#include "net/clock.hpp"
#include "net/event_loop.hpp"
#include "net/ws/frame_writer.hpp"
#include "net/ws_session.hpp"
#include "observability/log.hpp"

namespace huddle::net {
namespace asio = boost::asio;
using observability::log;
using observability::LogLevel;

namespace {

// Below this size compression saves too little to pay for itself.
constexpr std::size_t kCompressFromBytes = 256;

std::string read_file(const std::string& path, std::string_view what) {
    if (path.empty())
        return {};
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + std::string(what) + " file " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

auth::JwtSettings jwt_settings(const config::AuthSettings& auth) {
    auth::JwtSettings jwt;
    jwt.algorithms = auth.algorithms;
    jwt.hmac_secret = auth.secret;
    jwt.rsa_public_key_pem = read_file(auth.rsa_public_key_file, "RSA public key");
    jwt.ec_public_key_pem = read_file(auth.ec_public_key_file, "EC public key");
    jwt.issuer = auth.issuer;
    jwt.audience = auth.audience;
    jwt.leeway = auth.leeway;
    return jwt;
}

core::AdmissionLimits admission_limits(const config::LimitSettings& limits) {
    return {limits.handshakes_per_ip_per_minute, limits.failed_auths_per_ip_per_minute,
            limits.max_connections_per_user, limits.max_connections_per_ip};
}

bool is_private_user_room(std::string_view room) {
    return core::namespace_of(room) == "user";
}

}  // namespace

Server::Server(config::Settings settings)
    : settings_(std::move(settings)),
      namespaces_(settings_.namespaces),
      rooms_endpoint_(namespaces_, {settings_.limits.max_rooms_per_connection}),
      verifier_(std::make_unique<auth::JwtVerifier>(jwt_settings(settings_.auth))),
      admission_(admission_limits(settings_.limits)) {
    unsigned threads = settings_.server.threads;
    if (threads == 0)
        threads = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < threads; ++i)
        loops_.push_back(std::make_unique<EventLoop>(*this, i));
    load_tls();
}

Server::~Server() {
    for (auto& loop : loops_)
        loop->stop();
    for (auto& loop : loops_)
        loop->join();
}

void Server::load_tls() {
    const auto& server = settings_.server;
    if (server.tls_cert_file.empty() && server.tls_key_file.empty())
        return;
    tls_context_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    tls_context_->set_options(asio::ssl::context::default_workarounds |
                              asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                              asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                              asio::ssl::context::single_dh_use);
    boost::system::error_code error;
    tls_context_->use_certificate_chain_file(server.tls_cert_file, error);
    if (error)
        throw std::runtime_error("cannot load TLS certificate " + server.tls_cert_file + ": " +
                                 error.message());
    tls_context_->use_private_key_file(server.tls_key_file, asio::ssl::context::pem, error);
    if (error)
        throw std::runtime_error("cannot load TLS key " + server.tls_key_file + ": " +
                                 error.message());
}

void Server::start() {
    const auto address = asio::ip::make_address(settings_.server.host);
    asio::ip::tcp::endpoint endpoint(address, settings_.server.port);
    for (auto& loop : loops_) {
        try {
            const std::uint16_t port = loop->listen(endpoint);
            // With port 0 the first loop picks one and the others share it.
            endpoint.port(port);
            bound_port_ = port;
        } catch (const boost::system::system_error& error) {
            throw std::runtime_error("cannot listen on " + settings_.server.host + ":" +
                                     std::to_string(settings_.server.port) + ": " +
                                     error.code().message());
        }
    }
    accepting_ = true;
    for (auto& loop : loops_)
        loop->start_thread();
}

int Server::run_until_signal() {
    asio::io_context signal_io(1);
    asio::signal_set signals(signal_io, SIGINT, SIGTERM);
    int received = 0;
    signals.async_wait([&received](const boost::system::error_code& error, int signal_number) {
        if (!error)
            received = signal_number;
    });
    signal_io.run();
    log(LogLevel::info, "server.signal", {{"signal", received == SIGINT ? "SIGINT" : "SIGTERM"}});
    shutdown();
    return 0;
}

void Server::shutdown() {
    if (!accepting_.exchange(false))
        return;
    for (auto& loop : loops_) {
        asio::post(loop->io(), [&loop = *loop] { loop.begin_shutdown(); });
    }
    const auto deadline = std::chrono::steady_clock::now() + settings_.server.shutdown_deadline;
    while (std::chrono::steady_clock::now() < deadline) {
        if (observability::sum_counters(loop_counters()).connections == 0)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const auto left = observability::sum_counters(loop_counters()).connections;
    for (auto& loop : loops_)
        loop->stop();
    for (auto& loop : loops_)
        loop->join();
    const std::string left_text = std::to_string(left);
    log(LogLevel::info, "server.stopped", {{"connections_left", left_text}});
}

core::AdmissionDecision Server::admit_handshake(std::string_view ip) {
    std::lock_guard lock(admission_mutex_);
    return admission_.on_handshake(ip, steady_ms());
}

void Server::record_failed_auth(std::string_view ip) {
    std::lock_guard lock(admission_mutex_);
    admission_.on_failed_auth(ip, steady_ms());
}

core::AdmissionDecision Server::admit_user(std::string_view ip, std::string_view user) {
    std::lock_guard lock(admission_mutex_);
    return admission_.on_authenticated(ip, user, steady_ms());
}

void Server::release_user(std::string_view ip, std::string_view user) {
    std::lock_guard lock(admission_mutex_);
    admission_.on_closed(ip, user);
}

void Server::forget_idle_admissions() {
    std::lock_guard lock(admission_mutex_);
    admission_.forget_idle(steady_ms());
}

std::size_t Server::unique_users() {
    std::lock_guard lock(admission_mutex_);
    return admission_.unique_users();
}

std::vector<const observability::LoopCounters*> Server::loop_counters() const {
    std::vector<const observability::LoopCounters*> all;
    for (const auto& loop : loops_)
        all.push_back(&loop->counters());
    return all;
}

EventLoop& Server::owner_of(std::string_view room) {
    return *loops_[std::hash<std::string_view>{}(room) % loops_.size()];
}

void Server::publish(std::string room, std::string type, std::string payload_json,
                     std::string user_id, std::uint64_t excluded_connection) {
    EventLoop& owner = owner_of(room);
    if (owner.on_this_thread()) {
        deliver_from_owner(std::move(room), std::move(type), std::move(payload_json),
                           std::move(user_id), excluded_connection);
        return;
    }
    asio::post(owner.io(), [this, room = std::move(room), type = std::move(type),
                            payload_json = std::move(payload_json), user_id = std::move(user_id),
                            excluded_connection]() mutable {
        deliver_from_owner(std::move(room), std::move(type), std::move(payload_json),
                           std::move(user_id), excluded_connection);
    });
}

void Server::deliver_from_owner(std::string room, std::string type, std::string payload_json,
                                std::string user_id, std::uint64_t excluded_connection) {
    // Encoded once here; every loop writes these same bytes to its members.
    const std::string text = endpoints::encode_event(type, room, payload_json, wall_ms(), user_id);
    auto delivery = std::make_shared<RoomDelivery>();
    delivery->frame = make_text_frame(text);
    if (settings_.server.permessage_deflate && text.size() >= kCompressFromBytes) {
        thread_local ws::MessageDeflater deflater;
        delivery->compressed = std::make_shared<const std::string>(
            deflater.encode_compressed_frame(ws::Opcode::text, text));
    }
    delivery->room = std::move(room);
    delivery->excluded_connection = excluded_connection;
    delivery->accepted_at_us = steady_us();
    // Posts from this one loop reach each loop in order: the room's order is the same everywhere.
    for (auto& loop : loops_) {
        if (loop->on_this_thread()) {
            loop->deliver(*delivery);
        } else {
            asio::post(loop->io(), [delivery, &target = *loop] { target.deliver(*delivery); });
        }
    }
}

void Server::count_rooms(EventLoop& reply_loop, std::function<void(std::vector<RoomCount>)> done) {
    struct Gather {
        std::mutex mutex;
        std::unordered_map<std::string, std::size_t> counts;
        std::size_t remaining;
        std::function<void(std::vector<RoomCount>)> done;
        EventLoop* reply_loop;
    };
    auto gather = std::make_shared<Gather>();
    gather->remaining = loops_.size();
    gather->done = std::move(done);
    gather->reply_loop = &reply_loop;
    for (auto& loop : loops_) {
        asio::post(loop->io(), [gather, &source = *loop] {
            std::vector<RoomCount> local;
            source.rooms().for_each_room([&local](const auto& room) {
                if (!is_private_user_room(room.name))
                    local.push_back({room.name, room.members.size()});
            });
            std::lock_guard lock(gather->mutex);
            for (auto& entry : local)
                gather->counts[entry.room] += entry.connections;
            if (--gather->remaining != 0)
                return;
            asio::post(gather->reply_loop->io(), [gather] {
                std::vector<RoomCount> rooms;
                rooms.reserve(gather->counts.size());
                for (auto& [room, count] : gather->counts)
                    rooms.push_back({room, count});
                std::sort(rooms.begin(), rooms.end(),
                          [](const RoomCount& a, const RoomCount& b) { return a.room < b.room; });
                gather->done(std::move(rooms));
            });
        });
    }
}

void Server::disconnect_user(std::string user, std::uint16_t code, std::string reason,
                             EventLoop& reply_loop, std::function<void(std::size_t)> done) {
    struct Gather {
        std::atomic<std::size_t> remaining;
        std::atomic<std::size_t> closed{0};
        std::function<void(std::size_t)> done;
        EventLoop* reply_loop;
    };
    auto gather = std::make_shared<Gather>();
    gather->remaining = loops_.size();
    gather->done = std::move(done);
    gather->reply_loop = &reply_loop;
    const std::string room = "user:" + user;
    for (auto& loop : loops_) {
        asio::post(loop->io(), [gather, room, code, reason, &source = *loop] {
            std::vector<std::shared_ptr<WsSession>> targets;
            if (const auto* found = source.rooms().find(room)) {
                for (WsSession* member : found->members)
                    targets.push_back(member->shared_from_this());
            }
            const std::string notice = endpoints::encode_error({}, "DISCONNECTED", reason);
            for (const auto& session : targets)
                session->close(code, reason, notice);
            gather->closed += targets.size();
            if (--gather->remaining != 0)
                return;
            asio::post(gather->reply_loop->io(), [gather] { gather->done(gather->closed.load()); });
        });
    }
}

}  // namespace huddle::net
