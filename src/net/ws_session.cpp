#include "net/ws_session.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include "core/namespace_rules.hpp"
#include "endpoints/json_text.hpp"
#include "endpoints/rooms_endpoint.hpp"
#include "endpoints/rooms_messages.hpp"
#include "endpoints/yws/protocol.hpp"
#include "net/access_checks.hpp"
#include "net/clock.hpp"
#include "net/event_loop.hpp"
#include "net/exact_size_allocator.hpp"
#include "net/server.hpp"
#include "net/ws/frame_writer.hpp"
#include "observability/log.hpp"

namespace huddle::net {
namespace asio = boost::asio;
using observability::log;
using observability::LogLevel;

namespace {

constexpr std::int64_t kCloseGraceMs = 2'000;
// Typing notices per connection per minute: enough for start/stop on every keystroke pause.
constexpr std::uint32_t kTypingPerMinute = 60;
constexpr std::size_t kTlsReadBufferBytes = 16 * 1024;
// Frames written per system call at most (well under IOV_MAX).
constexpr std::size_t kMaxFramesPerWrite = 256;

const SharedFrame& ping_frame() {
    static const SharedFrame frame =
        std::make_shared<const std::string>(ws::encode_frame(ws::Opcode::ping, {}));
    return frame;
}

}  // namespace

WsSession::WsSession(EventLoop& loop, SessionTransport transport, SessionIdentity identity)
    : loop_(loop),
      transport_(std::move(transport)),
      identity_(std::move(identity)),
      reader_(identity_.route && identity_.route->large_messages
                  ? loop.server().settings().limits.max_document_message_bytes
                  : loop.server().settings().limits.max_message_bytes,
              transport_.deflate, transport_.client_no_context_takeover,
              transport_.client_window_bits),
      message_budget_(loop.server().settings().limits.messages_per_minute, 60'000, steady_ms()),
      client_named_itself_(!identity_.client_id.empty()) {
    if (!client_named_itself_)
        identity_.client_id = std::to_string(identity_.connection_id);
}

WsSession::Occasional& WsSession::occasional() {
    if (!occasional_) {
        occasional_ = std::make_unique<Occasional>();
        // Starts full, as it would have at the connection's start.
        occasional_->typing_budget = core::TokenBucket(kTypingPerMinute, 60'000, steady_ms());
    }
    return *occasional_;
}

WsSession::~WsSession() {
    if (flush_scheduled_)
        loop_.forget_flush(this);
}

void WsSession::start(std::string handshake_response, std::string early_bytes) {
    last_heard_ms_ = steady_ms();
    loop_.register_session(this);
    registered_ = true;
    loop_.counters().add(loop_.counters().connections);
    loop_.server().counters().connections_total.fetch_add(1, std::memory_order_relaxed);

    enqueue(std::make_shared<const std::string>(std::move(handshake_response)));
    if (identity_.route) {
        if (document_format() != endpoints::DocumentFormat::none) {
            loop_.rooms().join(*this, Server::document_room(identity_.document));
            if (client_named_itself_)
                loop_.rooms().join(
                    *this, Server::document_client_room(identity_.document, identity_.client_id));
        }
        handler_ = identity_.route->make(*this);
        handler_->on_open();
    } else {
        if (!identity_.user_id.empty()) {
            loop_.rooms().join(*this, "user:" + identity_.user_id);
        }
        reply(endpoints::encode_connection_ack(std::to_string(identity_.connection_id),
                                               identity_.user_id, wall_ms()));
    }
    const std::string id_text = std::to_string(identity_.connection_id);
    log(LogLevel::info, "connection.open",
        {{"connection", id_text}, {"user", identity_.user_id}, {"ip", identity_.ip}});

    if (!early_bytes.empty())
        consume(early_bytes.data(), early_bytes.size());
    if (state_ == State::open)
        read_next();
}

std::int64_t WsSession::now_ms() const {
    return steady_ms();
}

// ---- reading ----------------------------------------------------------------------------------

void WsSession::read_next() {
    auto self = shared_from_this();
    if (transport_.tls) {
        std::vector<char>& buffer = occasional().tls_read_buffer;
        if (buffer.empty())
            buffer.resize(kTlsReadBufferBytes);
        transport_.tls->async_read_some(
            asio::buffer(buffer), [self](const boost::system::error_code& error,
                                         std::size_t bytes) { self->on_tls_read(error, bytes); });
        return;
    }
    // Wait for readability without a buffer: the bytes are read into the loop's shared buffer.
    transport_.socket.async_wait(
        TcpSocket::wait_read, asio::bind_allocator(ExactSizeAllocator<void>(),
                                                   [self](const boost::system::error_code& error) {
                                                       self->on_plain_readable(error);
                                                   }));
}

void WsSession::on_plain_readable(const boost::system::error_code& error) {
    if (state_ == State::closed)
        return;
    if (error) {
        terminate();
        return;
    }
    std::vector<char>& buffer = loop_.read_buffer();
    std::string* partial = occasional_ ? &occasional_->partial : nullptr;
    const std::size_t kept = partial ? partial->size() : 0;
    if (kept > 0)
        std::memcpy(buffer.data(), partial->data(), kept);
    boost::system::error_code read_error;
    const std::size_t received = transport_.socket.read_some(
        asio::buffer(buffer.data() + kept, buffer.size() - kept), read_error);
    if (read_error == asio::error::would_block || read_error == asio::error::try_again) {
        read_next();
        return;
    }
    if (read_error) {
        terminate();
        return;
    }
    if (partial)
        partial->clear();
    loop_.counters().add(loop_.counters().bytes_in, received);
    last_heard_ms_ = steady_ms();
    consume(buffer.data(), kept + received);
    if (state_ != State::closed)
        read_next();
}

void WsSession::on_tls_read(const boost::system::error_code& error, std::size_t bytes) {
    if (state_ == State::closed)
        return;
    if (error) {
        terminate();
        return;
    }
    loop_.counters().add(loop_.counters().bytes_in, bytes);
    last_heard_ms_ = steady_ms();
    // occasional_ exists: read_next() made the TLS read buffer there.
    std::string data = std::move(occasional_->partial);
    occasional_->partial.clear();
    data.append(occasional_->tls_read_buffer.data(), bytes);
    consume(data.data(), data.size());
    if (state_ != State::closed)
        read_next();
}

void WsSession::consume(char* data, std::size_t size) {
    std::size_t offset = 0;
    while (state_ != State::closed) {
        std::size_t consumed = 0;
        ws::Message message;
        ws::ProtocolError protocol_error;
        const auto status = reader_.read(std::span<char>(data + offset, size - offset), consumed,
                                         message, protocol_error);
        if (status == ws::MessageReader::Status::error) {
            loop_.counters().add(loop_.counters().protocol_errors);
            if (state_ == State::open) {
                if (handler_)
                    handler_->on_error(protocol_error.close_code, protocol_error.reason);
                if (state_ != State::open) {
                    // the handler closed it
                } else if (protocol_error.close_code == ws::close_code::message_too_big &&
                           !handler_) {
                    close(protocol_error.close_code, protocol_error.reason,
                          endpoints::encode_error({}, "MESSAGE_TOO_LARGE",
                                                  "message is larger than the server accepts"));
                } else {
                    close(protocol_error.close_code, protocol_error.reason);
                }
            } else {
                terminate();
            }
            return;
        }
        if (status == ws::MessageReader::Status::need_more) {
            offset += consumed;
            break;
        }
        // The message may point into data[offset, offset + consumed): handle it before dropping.
        handle_message(message);
        offset += consumed;
    }
    if (state_ != State::closed && offset < size)
        occasional().partial.assign(data + offset, size - offset);
}

void WsSession::handle_message(const ws::Message& message) {
    switch (message.opcode) {
        case ws::Opcode::text:
            loop_.counters().add(loop_.counters().messages_in);
            if (state_ != State::open)
                return;
            if (handler_)
                handler_->on_text(message.payload);
            else
                loop_.server().rooms_endpoint().on_text(message.payload, *this);
            return;
        case ws::Opcode::binary:
            loop_.counters().add(loop_.counters().messages_in);
            if (state_ != State::open)
                return;
            if (handler_)
                handler_->on_binary(std::span<const std::uint8_t>(
                    reinterpret_cast<const std::uint8_t*>(message.payload.data()),
                    message.payload.size()));
            else
                loop_.server().rooms_endpoint().on_binary(*this);
            return;
        case ws::Opcode::ping:
            if (state_ == State::open) {
                enqueue(std::make_shared<const std::string>(
                    ws::encode_frame(ws::Opcode::pong, message.payload)));
            }
            return;
        case ws::Opcode::pong:
            return;
        case ws::Opcode::close:
            handle_close_frame(message.payload);
            return;
        case ws::Opcode::continuation:
            return;
    }
}

void WsSession::handle_close_frame(std::string_view payload) {
    if (state_ == State::open) {
        // Echo the client's code, as RFC 6455 §5.5.1 asks, then close once it is written.
        const ws::ClosePayload close_payload = ws::parse_close_payload(payload);
        const std::uint16_t code = close_payload.code == ws::close_code::no_status
                                       ? ws::close_code::normal
                                       : close_payload.code;
        close(code, {});
        return;
    }
    // We had sent our close first: the handshake is complete.
    terminate();
}

// ---- writing ----------------------------------------------------------------------------------

void WsSession::enqueue(SharedFrame frame) {
    if (state_ == State::closed || close_frame_queued_)
        return;
    enqueue(loop_.frame_pool().hold(std::move(frame)));
}

void WsSession::enqueue(FrameRef frame) {
    if (state_ == State::closed || close_frame_queued_)
        return;
    pending_bytes_ += frame.size();
    pending_.push_back(std::move(frame));
    if (pending_bytes_ > loop_.server().settings().limits.max_pending_bytes)
        slow_consumer_ = true;
    if (!flush_scheduled_) {
        flush_scheduled_ = true;
        loop_.schedule_flush(this);
    }
}

void WsSession::deliver(const LoopDelivery& delivery) {
    if (state_ != State::open)
        return;
    if (const auto format = document_format(); format != endpoints::DocumentFormat::none) {
        if (const FrameRef& frame = delivery.document_frames[static_cast<std::size_t>(format)])
            enqueue(frame);
        return;
    }
    enqueue(transport_.send_compressed && delivery.compressed ? delivery.compressed
                                                              : delivery.frame);
}

void WsSession::flush() {
    flush_scheduled_ = false;
    if (state_ == State::closed)
        return;
    if (slow_consumer_ && state_ == State::open) {
        close_for_slow_consumer();
        return;
    }
    if (!writing_)
        start_write();
}

void WsSession::start_write() {
    if (pending_head_ == pending_.size() || state_ == State::closed)
        return;
    if (transport_.tls) {
        start_tls_write();
    } else {
        write_plain();
    }
}

// Plain sockets: write straight away with one gathered, non-blocking sendmsg and wait for
// writability only when the kernel's buffer is full. Most flushes then cost one system call and
// no operation object, no completion handler.
void WsSession::write_plain() {
    constexpr std::size_t kMaxIov = 64;
    while (pending_head_ < pending_.size()) {
        iovec iov[kMaxIov];
        std::size_t count = 0;
        std::size_t requested = 0;
        for (std::size_t i = pending_head_; i < pending_.size() && count < kMaxIov; ++i, ++count) {
            const std::string& frame = pending_[i].bytes();
            const std::size_t skip = i == pending_head_ ? head_offset_ : 0;
            iov[count].iov_base = const_cast<char*>(frame.data() + skip);
            iov[count].iov_len = frame.size() - skip;
            requested += iov[count].iov_len;
        }
        msghdr message{};
        message.msg_iov = iov;
        message.msg_iovlen = count;
        const ssize_t sent =
            ::sendmsg(transport_.socket.native_handle(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            terminate();
            return;
        }
        consume_written(static_cast<std::size_t>(sent));
        if (static_cast<std::size_t>(sent) < requested)
            break;  // the kernel took what it could
    }
    if (pending_head_ < pending_.size()) {
        writing_ = true;
        auto self = shared_from_this();
        transport_.socket.async_wait(TcpSocket::wait_write,
                                     [self](const boost::system::error_code& error) {
                                         self->writing_ = false;
                                         if (self->state_ == State::closed)
                                             return;
                                         if (error) {
                                             self->terminate();
                                             return;
                                         }
                                         self->write_plain();
                                     });
        return;
    }
    on_queue_drained();
}

// Drops fully written frames from the front of the queue and remembers how far into the next
// one the socket got.
void WsSession::consume_written(std::size_t bytes) {
    loop_.counters().add(loop_.counters().bytes_out, bytes);
    pending_bytes_ -= std::min(pending_bytes_, bytes);
    while (bytes > 0 && pending_head_ < pending_.size()) {
        const std::size_t left = pending_[pending_head_].size() - head_offset_;
        if (bytes < left) {
            head_offset_ += bytes;
            return;
        }
        bytes -= left;
        pending_[pending_head_].reset();
        ++pending_head_;
        head_offset_ = 0;
    }
    if (pending_head_ == pending_.size()) {
        pending_.clear();
        pending_head_ = 0;
    }
}

void WsSession::start_tls_write() {
    writing_ = true;
    const std::size_t count = std::min(pending_.size() - pending_head_, kMaxFramesPerWrite);
    std::vector<asio::const_buffer>& buffers = occasional().write_buffers;
    buffers.clear();
    for (std::size_t i = 0; i < count; ++i) {
        const std::string& frame = pending_[pending_head_ + i].bytes();
        buffers.emplace_back(frame.data(), frame.size());
    }
    // The frames stay in pending_ until written: consume_written() drops them.
    auto self = shared_from_this();
    asio::async_write(*transport_.tls, buffers,
                      [self](const boost::system::error_code& error, std::size_t bytes) {
                          self->writing_ = false;
                          if (self->state_ == State::closed) {
                              self->pending_.clear();
                              return;
                          }
                          if (error) {
                              self->terminate();
                              return;
                          }
                          self->consume_written(bytes);
                          if (self->pending_head_ < self->pending_.size()) {
                              self->start_tls_write();
                              return;
                          }
                          self->on_queue_drained();
                      });
}

void WsSession::on_queue_drained() {
    // Large bursts leave capacity behind; idle connections should hold none.
    if (pending_.capacity() > 64) {
        std::vector<FrameRef>().swap(pending_);
        if (occasional_)
            std::vector<asio::const_buffer>().swap(occasional_->write_buffers);
    }
    if (state_ == State::closing && close_frame_queued_) {
        // Our close frame is out: stop sending and wait (bounded) for the client's close.
        boost::system::error_code ignored;
        if (!transport_.tls)
            transport_.socket.shutdown(TcpSocket::shutdown_send, ignored);
    }
}

// ---- closing ----------------------------------------------------------------------------------

void WsSession::close(std::uint16_t code, std::string_view reason, std::string json_before) {
    if (state_ != State::open)
        return;
    if (!json_before.empty())
        reply(std::move(json_before));
    state_ = State::closing;
    close_deadline_ms_ = steady_ms() + kCloseGraceMs;
    leave_all_rooms();
    enqueue(make_close_frame(code, reason));
    close_frame_queued_ = true;
    const std::string id_text = std::to_string(identity_.connection_id);
    const std::string code_text = std::to_string(code);
    log(LogLevel::info, "connection.close",
        {{"connection", id_text},
         {"user", identity_.user_id},
         {"code", code_text},
         {"reason", reason}});
}

void WsSession::close_for_slow_consumer() {
    loop_.counters().add(loop_.counters().slow_consumer_drops);
    const std::string id_text = std::to_string(identity_.connection_id);
    const std::string pending_text = std::to_string(pending_bytes_);
    log(LogLevel::warn, "limit.slow_consumer",
        {{"connection", id_text}, {"user", identity_.user_id}, {"pending_bytes", pending_text}});
    // Whatever is queued will never be read in time: drop it so the close frame goes next.
    // A frame the socket has started on must be finished, or the stream would be corrupt.
    // A TLS write in progress still reads its frames: keep all of them.
    const std::size_t started =
        transport_.tls && writing_ ? occasional().write_buffers.size() : (head_offset_ > 0 ? 1 : 0);
    const std::size_t keep = pending_head_ + started;
    while (pending_.size() > keep && pending_.size() > pending_head_) {
        pending_bytes_ -= std::min(pending_bytes_, pending_.back().size());
        pending_.pop_back();
    }
    close(4008, "slow consumer");
    close_deadline_ms_ = steady_ms() + 1'000;
}

template <class... Args>
std::function<void(Args...)> WsSession::while_open(std::function<void(Args...)> done) {
    return [weak = weak_from_this(), done = std::move(done)](Args... args) {
        auto self = weak.lock();
        if (self && self->state_ == State::open)
            done(std::move(args)...);
    };
}

void WsSession::open_document(std::function<void(std::vector<Bytes>, std::string)> done) {
    loop_.server().document_open(identity_.document, document_format(), loop_,
                                 while_open(std::move(done)));
}

void WsSession::document_diff(Bytes state_vector, std::function<void(Bytes, std::string)> done) {
    loop_.server().document_sync(identity_.document, std::move(state_vector), loop_,
                                 while_open(std::move(done)));
}

void WsSession::document_update(Bytes update, std::function<void(std::string)> refused) {
    if (update.empty())
        return;
    loop_.server().document_update(identity_.document, std::move(update), identity_.connection_id,
                                   loop_, while_open(std::move(refused)));
}

void WsSession::document_awareness(Bytes message) {
    loop_.server().document_awareness(identity_.document, std::move(message),
                                      identity_.connection_id);
}

void WsSession::document_awareness_snapshot(std::function<void(Bytes)> done) {
    loop_.server().document_query_awareness(identity_.document, loop_, while_open(std::move(done)));
}

void WsSession::relay_text(std::string text) {
    loop_.server().document_relay_text(identity_.document, document_format(), std::move(text),
                                       identity_.connection_id);
}

void WsSession::send_binary(std::span<const std::uint8_t> bytes) {
    if (state_ != State::open)
        return;
    enqueue(std::make_shared<const std::string>(ws::encode_frame(
        ws::Opcode::binary,
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()))));
}

void WsSession::leave_all_rooms() {
    if (handler_) {
        if (document_format() != endpoints::DocumentFormat::none)
            loop_.server().document_close(identity_.document, document_format(),
                                          identity_.connection_id);
        loop_.rooms().leave_all(*this);
        handler_->on_close();
        return;
    }
    std::vector<std::string> rooms;
    if (occasional_)
        rooms.swap(occasional_->joining_rooms);
    rooms.reserve(rooms.size() + memberships_.size());
    for (const auto& membership : memberships_)
        rooms.push_back(membership.room->name);
    for (const std::string& room : rooms)
        on_leaving(room);
    loop_.rooms().leave_all(*this);
}

void WsSession::on_leaving(std::string_view room) {
    if (set_typing(room, false)) {
        publish(room, "user.typing", endpoints::typing_payload(identity_.user_id, false));
    }
    Server& server = loop_.server();
    if (server.rooms_endpoint().namespaces().rules_for(room).presence_events) {
        server.presence_leave(std::string(room), identity_.user_id, identity_.connection_id);
    }
}

void WsSession::remove_from_room(std::string_view room, std::string_view reason) {
    if (state_ != State::open || !is_member(room))
        return;
    const std::string name(room);
    leave(name);
    std::string payload = "{\"reason\":";
    endpoints::append_json_string(payload, reason);
    payload += '}';
    reply(endpoints::encode_event("removed", name, payload, wall_ms(), {}));
}

void WsSession::terminate() {
    if (state_ == State::closed)
        return;
    if (state_ == State::open)
        leave_all_rooms();
    state_ = State::closed;
    if (registered_) {
        registered_ = false;
        loop_.unregister_session(this);
        loop_.counters().connections.store(
            loop_.counters().connections.load(std::memory_order_relaxed) - 1,
            std::memory_order_relaxed);
        loop_.server().release_user(identity_.ip, identity_.user_id);
    }
    boost::system::error_code ignored;
    if (transport_.tls) {
        transport_.tls->lowest_layer().close(ignored);
    } else {
        transport_.socket.close(ignored);
    }
    // A TLS write in progress may still read its frames; its completion releases them.
    if (!(transport_.tls && writing_))
        pending_.clear();
    pending_head_ = 0;
    head_offset_ = 0;
    pending_bytes_ = 0;
}

void WsSession::sweep(std::int64_t now, std::int64_t wall_seconds) {
    if (state_ == State::closing) {
        if (now >= close_deadline_ms_)
            terminate();
        return;
    }
    if (state_ != State::open)
        return;
    const auto& settings = loop_.server().settings();
    if (identity_.expires_at != 0 &&
        wall_seconds >= identity_.expires_at + settings.auth.leeway.count()) {
        close(4401, "token expired",
              endpoints::encode_error({}, "TOKEN_EXPIRED",
                                      "the token expired; refresh it before it expires"));
        return;
    }
    const auto& heartbeat = settings.heartbeat;
    const std::int64_t silent_for = now - last_heard_ms_;
    if (silent_for >= heartbeat.pong_timeout.count()) {
        close(4000, "no pong");
        return;
    }
    if (silent_for >= heartbeat.ping_interval.count() &&
        now - last_ping_ms_ >= heartbeat.ping_interval.count()) {
        last_ping_ms_ = now;
        enqueue(ping_frame());
    }
}

// ---- RoomsContext -----------------------------------------------------------------------------

void WsSession::reply(std::string json_text) {
    if (state_ != State::open)
        return;
    enqueue(make_text_frame(json_text));
}

bool WsSession::is_member(std::string_view room) const {
    // A room whose history join is under way counts: the client was told it is subscribed.
    return is_joined(room) || (occasional_ && std::find(occasional_->joining_rooms.begin(),
                                                        occasional_->joining_rooms.end(),
                                                        room) != occasional_->joining_rooms.end());
}

bool WsSession::is_joined(std::string_view room) const {
    return std::any_of(memberships_.begin(), memberships_.end(),
                       [room](const auto& membership) { return membership.room->name == room; });
}

std::size_t WsSession::joined_room_count() const {
    // The private user room is not counted against the limit.
    const std::size_t joining = occasional_ ? occasional_->joining_rooms.size() : 0;
    return memberships_.size() + joining - (identity_.user_id.empty() ? 0 : 1);
}

void WsSession::join(std::string_view room) {
    if (loop_.rooms().join(*this, room))
        announce_presence(room);
}

void WsSession::announce_presence(std::string_view room) {
    Server& server = loop_.server();
    const core::NamespaceSettings& rules = server.rooms_endpoint().namespaces().rules_for(room);
    if (!rules.presence_events)
        return;
    // The user info members see: the claims the namespace names.
    std::string info = "{";
    for (const std::string& claim : rules.presence_claims) {
        const boost::json::value* value = claims().if_contains(claim);
        if (value == nullptr)
            continue;
        if (info.size() > 1)
            info += ',';
        endpoints::append_json_string(info, claim);
        info += ':';
        info += boost::json::serialize(*value);
    }
    info += '}';
    server.presence_join(std::string(room), identity_.user_id, std::move(info),
                         identity_.connection_id);
}

void WsSession::leave(std::string_view room) {
    // An unsubscribe during a history join cancels it.
    if (occasional_ && std::erase(occasional_->joining_rooms, room) != 0) {
        on_leaving(room);
        return;
    }
    if (!is_joined(room))
        return;
    on_leaving(room);
    loop_.rooms().leave(*this, room);
}

void WsSession::publish(std::string_view room, std::string_view type,
                        std::string_view payload_json) {
    loop_.server().publish(std::string(room), std::string(type), std::string(payload_json),
                           identity_.user_id, identity_.connection_id);
}

void WsSession::publish_answered(std::string_view room, std::string_view type,
                                 std::string_view payload_json, std::string id_json) {
    PublishRequest request;
    request.room = std::string(room);
    request.type = std::string(type);
    request.payload_json = std::string(payload_json);
    request.user_id = identity_.user_id;
    request.excluded_connection = identity_.connection_id;
    request.reply_loop = &loop_;
    request.done = [weak = weak_from_this(), room = request.room,
                    id_json = std::move(id_json)](PublishOutcome outcome) {
        // A publish without an id is fire-and-forget: only a failure is worth a frame.
        if (outcome.ok && id_json.empty())
            return;
        const auto self = weak.lock();
        if (!self)
            return;
        self->reply(outcome.ok ? endpoints::encode_published(id_json, room, outcome.offset)
                               : endpoints::encode_error(id_json, "PUBLISH_FAILED", outcome.error));
    };
    loop_.server().publish(std::move(request));
}

core::TokenBucket& WsSession::publish_budget(std::string_view namespace_name,
                                             std::uint32_t per_minute) {
    auto& budgets = occasional().publish_budgets;
    for (auto& [name, bucket] : budgets) {
        if (name == namespace_name)
            return bucket;
    }
    return budgets
        .emplace_back(std::string(namespace_name),
                      core::TokenBucket(per_minute, 60'000, steady_ms()))
        .second;
}

const boost::json::object& WsSession::claims() const {
    return identity_.claims ? *identity_.claims : core::no_claims();
}

bool WsSession::set_typing(std::string_view room, bool typing) {
    if (!typing && !occasional_)
        return false;  // never typed anywhere
    auto& rooms = occasional().typing_rooms;
    const auto it = std::find(rooms.begin(), rooms.end(), room);
    const bool was_typing = it != rooms.end();
    if (was_typing == typing)
        return false;
    if (typing) {
        rooms.emplace_back(room);
    } else {
        rooms.erase(it);
    }
    return true;
}

endpoints::RoomsContext::RefreshResult WsSession::refresh_token(std::string_view token) {
    Server& server = loop_.server();
    auth::VerifyResult verified = server.verifier().verify(token, wall_ms() / 1000);
    if (!verified.identity) {
        server.counters().auth_failures.fetch_add(1, std::memory_order_relaxed);
        return {false, verified.error, 0};
    }
    if (verified.identity->subject != identity_.user_id) {
        return {false, "the new token is for another user", 0};
    }
    identity_.expires_at = verified.identity->expires_at.value_or(0);
    if (identity_.claims) {
        identity_.claims =
            std::make_shared<const boost::json::object>(std::move(verified.identity->claims));
    }
    const std::string id_text = std::to_string(identity_.connection_id);
    log(LogLevel::info, "auth.refreshed", {{"connection", id_text}, {"user", identity_.user_id}});
    return {true, {}, identity_.expires_at};
}

void WsSession::request_presence(std::string_view room, std::string id_json) {
    std::weak_ptr<WsSession> weak = weak_from_this();
    const std::string name(room);
    loop_.server().presence_list(
        name, loop_, [weak, name, id_json = std::move(id_json)](std::string users) {
            if (auto self = weak.lock()) {
                self->reply(endpoints::encode_presence(id_json, name, users));
            }
        });
}

void WsSession::authorize_rooms(std::vector<RoomCheck> checks, DecisionsDone done) {
    struct Pending {
        std::vector<Decision> decisions;
        std::size_t remaining = 0;
        DecisionsDone done;
    };
    auto pending = std::make_shared<Pending>();
    pending->decisions.resize(checks.size());
    pending->remaining = checks.size();
    pending->done = std::move(done);
    std::weak_ptr<WsSession> weak = weak_from_this();
    const core::NamespaceTable& namespaces = loop_.server().rooms_endpoint().namespaces();
    for (std::size_t i = 0; i < checks.size(); ++i) {
        loop_.access_checks().check(namespaces.rules_for(checks[i].room), checks[i].room,
                                    identity_.user_id, claims(), checks[i].token,
                                    [pending, weak, i](Decision decision) {
                                        pending->decisions[i] = std::move(decision);
                                        if (--pending->remaining != 0)
                                            return;
                                        auto self = weak.lock();
                                        if (self && self->state_ == State::open)
                                            pending->done(*self, std::move(pending->decisions));
                                    });
    }
}

void WsSession::join_with_history(std::string_view room,
                                  std::optional<endpoints::Request::Resume> resume) {
    const std::string name(room);
    if (is_member(name))
        return;  // joined, or a join under way: that one replays
    occasional().joining_rooms.push_back(name);
    // Present from the subscribe answer on, like in a room without history.
    announce_presence(name);
    loop_.server().join_with_history(
        name, std::move(resume), loop_, [weak = weak_from_this(), name](HistoryJoin join) {
            auto self = weak.lock();
            if (!self || self->state_ != State::open)
                return;
            if (!self->occasional_ || std::erase(self->occasional_->joining_rooms, name) == 0)
                return;  // unsubscribed meanwhile
            // The owner sent this after every event up to the position: replay, then join, and
            // the events after it arrive through the room.
            for (const std::string& event : join.missed_events)
                self->enqueue(make_text_frame(event));
            self->loop_.rooms().join(*self, name);  // presence was announced already
            self->reply(std::move(join.position_message));
        });
}

void WsSession::count_rate_limited() {
    loop_.counters().add(loop_.counters().rate_limited_messages);
    const std::string id_text = std::to_string(identity_.connection_id);
    log(LogLevel::warn, "limit.messages", {{"connection", id_text}, {"user", identity_.user_id}});
}

}  // namespace huddle::net
