#include "net/event_loop.hpp"

#include <algorithm>
#include <random>

#include <boost/asio/post.hpp>

#include "endpoints/rooms_messages.hpp"
#include "net/access_checks.hpp"
#include "net/clock.hpp"
#include "net/http_session.hpp"
#include "net/server.hpp"
#include "net/ws_session.hpp"
#include "observability/log.hpp"

namespace huddle::net {
namespace asio = boost::asio;
using observability::log;
using observability::LogLevel;

namespace {
constexpr std::size_t kReadBufferBytes = 64 * 1024;
constexpr std::int64_t kAdmissionCleanupEveryMs = 30'000;
}  // namespace

bool LoopRooms::join(WsSession& member, std::string_view room) {
    const bool existed = !on_change || find(room) != nullptr;
    const bool joined = RoomRegistry::join(member, room);
    if (joined && !existed)
        on_change(room, true);
    return joined;
}

bool LoopRooms::leave(WsSession& member, std::string_view room) {
    const bool left = RoomRegistry::leave(member, room);
    if (left && on_change && find(room) == nullptr)
        on_change(room, false);
    return left;
}

void LoopRooms::leave_all(WsSession& member) {
    if (!on_change) {
        RoomRegistry::leave_all(member);
        return;
    }
    std::vector<std::string> names;
    names.reserve(member.memberships().size());
    for (const auto& membership : member.memberships())
        names.push_back(membership.room->name);
    RoomRegistry::leave_all(member);
    for (const auto& name : names) {
        if (find(name) == nullptr)
            on_change(name, false);
    }
}

EventLoop::EventLoop(Server& server, unsigned index)
    : server_(server),
      index_(index),
      io_(1),
      acceptor_(io_),
      sweep_timer_(io_),
      drain_timer_(io_),
      read_buffer_(kReadBufferBytes),
      access_checks_(std::make_unique<AccessChecks>(*this)) {}

EventLoop::~EventLoop() = default;

std::uint16_t EventLoop::listen(const asio::ip::tcp::endpoint& endpoint) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    const int enable = 1;
    // Every loop binds its own listener; the kernel spreads new connections over them.
    if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &enable, sizeof enable) !=
        0) {
        throw std::runtime_error("cannot set SO_REUSEPORT");
    }
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    return acceptor_.local_endpoint().port();
}

void EventLoop::start_thread() {
    thread_ = std::thread([this] {
        thread_id_ = std::this_thread::get_id();
        accept_next();
        sweep();
        io_.run();
    });
}

void EventLoop::join() {
    if (thread_.joinable())
        thread_.join();
}

void EventLoop::accept_next() {
    if (!acceptor_.is_open())
        return;
    acceptor_.async_accept(io_, [this](const boost::system::error_code& error, TcpSocket socket) {
        if (error == asio::error::operation_aborted || !acceptor_.is_open())
            return;
        if (!error) {
            boost::system::error_code ignored;
            socket.set_option(asio::ip::tcp::no_delay(true), ignored);
            std::make_shared<HttpSession>(*this, std::move(socket))->start();
        } else {
            // EMFILE and friends: keep accepting, but do not spin.
            log(LogLevel::warn, "accept.failed", {{"error", error.message()}});
        }
        accept_next();
    });
}

void EventLoop::register_session(WsSession* session) {
    sessions_.push_back(session);
}

void EventLoop::unregister_session(WsSession* session) {
    const auto it = std::find(sessions_.rbegin(), sessions_.rend(), session);
    if (it != sessions_.rend()) {
        *it = sessions_.back();
        sessions_.pop_back();
    }
}

std::vector<std::shared_ptr<WsSession>> EventLoop::sessions_snapshot() const {
    std::vector<std::shared_ptr<WsSession>> copy;
    copy.reserve(sessions_.size());
    for (WsSession* session : sessions_)
        copy.push_back(session->shared_from_this());
    return copy;
}

std::vector<std::shared_ptr<WsSession>> EventLoop::members_of(std::string_view room) const {
    std::vector<std::shared_ptr<WsSession>> copy;
    if (const auto* found = rooms_.find(room)) {
        copy.reserve(found->members.size());
        for (WsSession* member : found->members)
            copy.push_back(member->shared_from_this());
    }
    return copy;
}

void EventLoop::schedule_flush(WsSession* session) {
    // No strong reference: a session that goes before its flush takes itself out
    // (forget_flush), which is rare, whereas a count per scheduled flush is paid on every turn.
    flush_queue_.push_back(session);
    if (flush_posted_)
        return;
    flush_posted_ = true;
    asio::post(io_, [this] { flush_scheduled(); });
}

void EventLoop::forget_flush(WsSession* session) {
    std::replace(flush_queue_.begin(), flush_queue_.end(), session,
                 static_cast<WsSession*>(nullptr));
    std::replace(flushing_.begin(), flushing_.end(), session, static_cast<WsSession*>(nullptr));
}

void EventLoop::flush_scheduled() {
    flush_posted_ = false;
    flushing_.swap(flush_queue_);
    // By index: a flush may end a session, which then clears its own slot.
    for (std::size_t i = 0; i < flushing_.size(); ++i) {
        if (WsSession* session = flushing_[i])
            session->flush();
    }
    // Reuse the batch's storage unless new work was queued meanwhile.
    flushing_.clear();
    if (flush_queue_.empty())
        flush_queue_.swap(flushing_);
}

void EventLoop::deliver(const RoomDelivery& delivery) {
    const auto* room = rooms_.find(delivery.room);
    if (room == nullptr)
        return;
    std::uint64_t delivered = 0;
    const LoopDelivery frames(frame_pool_, delivery);
    const auto& excluded_users = delivery.excluded_users;
    for (WsSession* member : room->members) {
        if (member->connection_id() == delivery.excluded_connection)
            continue;
        if (!excluded_users.empty() && std::find(excluded_users.begin(), excluded_users.end(),
                                                 member->user_id()) != excluded_users.end())
            continue;
        member->deliver(frames);
        ++delivered;
    }
    counters_.add(counters_.messages_out, delivered);
    if (delivered != 0) {
        counters_.observe_fanout_us(static_cast<std::uint64_t>(
            std::max<std::int64_t>(0, steady_us() - delivery.accepted_at_us)));
    }
}

void EventLoop::sweep() {
    const std::int64_t now = steady_ms();
    const std::int64_t wall_seconds = wall_ms() / 1000;
    for (const auto& session : sessions_snapshot())
        session->sweep(now, wall_seconds);
    unload_idle_documents(now);
    if (index_ == 0 && now - last_admission_cleanup_ms_ >= kAdmissionCleanupEveryMs) {
        last_admission_cleanup_ms_ = now;
        server_.forget_idle_admissions();
    }
    const auto& settings = server_.settings();
    // Often enough for the shortest configured timer, but never busier than 20 times a second.
    const std::int64_t shortest = std::min<std::int64_t>(
        {settings.heartbeat.ping_interval.count(), settings.heartbeat.pong_timeout.count(), 1'000});
    sweep_timer_.expires_after(std::chrono::milliseconds(std::max<std::int64_t>(50, shortest / 4)));
    sweep_timer_.async_wait([this](const boost::system::error_code& error) {
        if (!error)
            sweep();
    });
}

void EventLoop::unload_idle_documents(std::int64_t now_ms) {
    const std::int64_t idle = server_.settings().documents.idle_unload.count();
    std::erase_if(documents_, [this, now_ms, idle](const auto& entry) {
        const OwnedDocument& doc = entry.second;
        const bool unload = doc.connections == 0 && now_ms - doc.idle_since_ms >= idle;
        if (unload)
            server_.document_unloaded(entry.first);
        return unload;
    });
}

void EventLoop::begin_shutdown(std::chrono::milliseconds drain_window) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    if (drain_window.count() <= 0) {
        const std::string notice = endpoints::encode_server_shutdown();
        for (const auto& session : sessions_snapshot())
            session->close(1001, "server shutting down", notice);
        return;
    }
    // Everyone reconnecting at once would land on the remaining nodes as one wave: each client
    // gets its own moment in the window.
    std::mt19937_64 random(std::random_device{}() ^ index_);
    std::uniform_int_distribution<std::int64_t> moment(0, drain_window.count() - 1);
    const std::int64_t now = steady_ms();
    for (const auto& session : sessions_snapshot())
        drain_queue_.emplace_back(now + moment(random), session);
    std::sort(drain_queue_.begin(), drain_queue_.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    close_drained();
}

void EventLoop::close_drained() {
    const std::int64_t now = steady_ms();
    const std::string notice = endpoints::encode_server_shutdown();
    while (!drain_queue_.empty() && drain_queue_.back().first <= now) {
        if (auto session = drain_queue_.back().second.lock())
            session->close(1001, "server shutting down", notice);
        drain_queue_.pop_back();
    }
    if (drain_queue_.empty())
        return;
    drain_timer_.expires_after(std::chrono::milliseconds(drain_queue_.back().first - now));
    drain_timer_.async_wait([this](const boost::system::error_code& error) {
        if (!error)
            close_drained();
    });
}

}  // namespace huddle::net
