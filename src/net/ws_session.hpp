// One WebSocket connection after a successful upgrade: reads and answers client frames, and
// writes shared frames in order with a bound on unsent bytes (slow consumers are closed).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/json/object.hpp>

#include "core/room_registry.hpp"
#include "core/token_bucket.hpp"
#include "endpoints/handler.hpp"
#include "endpoints/handler_registry.hpp"
#include "endpoints/rooms_context.hpp"
#include "net/loop_frame.hpp"
#include "net/shared_frame.hpp"
#include "net/ws/message_reader.hpp"

namespace huddle::net {

class EventLoop;

// Sockets bound to the concrete io_context executor rather than the type-erased default: every
// pending operation then carries a pointer-sized executor, not a polymorphic one (idle memory per
// connection; see docs/benchmarks.md).
using TcpSocket =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;
using TlsStream = boost::asio::ssl::stream<TcpSocket>;

struct SessionIdentity {
    std::uint64_t connection_id = 0;
    std::string user_id;
    std::string ip;
    // Kept only when a namespace needs them (claim rules, presence info); else null.
    std::shared_ptr<const boost::json::object> claims;
    std::int64_t expires_at = 0;  // token expiry, seconds since the epoch; 0 = none
    // The endpoint serving the connection (endpoints/handler_registry.cpp); null for the rooms
    // protocol (/ws), which the session serves itself.
    const endpoints::HandlerRoute* route = nullptr;
    std::string document;   // for document endpoints
    std::string client_id;  // the client's own id, when the endpoint takes one
};

struct SessionTransport {
    TcpSocket socket;                // the connection, unless TLS owns it
    std::unique_ptr<TlsStream> tls;  // set for TLS connections
    bool deflate = false;            // permessage-deflate negotiated: the reader inflates
    bool client_no_context_takeover = false;
    // Shared compressed frames use a 15-bit window: only clients that allow it may get them.
    bool send_compressed = false;
    int client_window_bits = 15;
};

class WsSession final : public std::enable_shared_from_this<WsSession>,
                        public endpoints::RoomsContext,
                        public endpoints::Connection {
  public:
    using Memberships = core::RoomRegistry<WsSession>::Memberships;

    WsSession(EventLoop& loop, SessionTransport transport, SessionIdentity identity);
    ~WsSession() override;

    // Sends the 101 response (already encoded) and connection.ack, joins the user room, then
    // handles `early_bytes` (frames the client sent right behind its upgrade request) and reads.
    void start(std::string handshake_response, std::string early_bytes);

    std::uint64_t connection_id() const override { return identity_.connection_id; }
    Memberships& memberships() { return memberships_; }

    // Fan-out: queues the delivery's frame for this connection's protocol; the loop flushes it
    // with the others of the same batch.
    void deliver(const LoopDelivery& delivery);
    void flush();

    // Timers, driven by the loop's sweep: heartbeat, close deadline.
    void sweep(std::int64_t now_ms, std::int64_t wall_seconds);

    // Sends an optional JSON message and a close frame, then closes the connection.
    void close(std::uint16_t code, std::string_view reason, std::string json_before = {}) override;

    // endpoints::RoomsContext
    std::string_view user_id() const override { return identity_.user_id; }
    std::int64_t now_ms() const override;
    void reply(std::string json_text) override;
    bool is_member(std::string_view room) const override;
    std::size_t joined_room_count() const override;
    void join(std::string_view room) override;
    void leave(std::string_view room) override;
    void publish(std::string_view room, std::string_view type,
                 std::string_view payload_json) override;
    void publish_answered(std::string_view room, std::string_view type,
                          std::string_view payload_json, std::string id_json) override;
    core::TokenBucket& message_budget() override { return message_budget_; }
    core::TokenBucket& publish_budget(std::string_view namespace_name,
                                      std::uint32_t per_minute) override;
    void count_rate_limited() override;
    const boost::json::object& claims() const override;
    bool set_typing(std::string_view room, bool typing) override;
    core::TokenBucket& typing_budget() override { return occasional().typing_budget; }
    RefreshResult refresh_token(std::string_view token) override;
    void request_presence(std::string_view room, std::string id_json) override;
    void authorize_rooms(std::vector<RoomCheck> checks, DecisionsDone done) override;
    void join_with_history(std::string_view room,
                           std::optional<endpoints::Request::Resume> resume) override;

    // endpoints::Connection (handler endpoints: documents and others)
    const std::string& document() const override { return identity_.document; }
    const std::string& client_id() const override { return identity_.client_id; }
    void send_text(std::string text) override { reply(std::move(text)); }
    void send_binary(std::span<const std::uint8_t> bytes) override;
    void open_document(std::function<void(std::vector<Bytes>, std::string)> done) override;
    void document_diff(Bytes state_vector, std::function<void(Bytes, std::string)> done) override;
    void document_update(Bytes update, std::function<void(std::string)> refused) override;
    void document_awareness(Bytes message) override;
    void document_awareness_snapshot(std::function<void(Bytes)> done) override;
    void relay_text(std::string text) override;

    // Backend revocation: leaves the room and tells the client why.
    void remove_from_room(std::string_view room, std::string_view reason);

  private:
    enum class State : std::uint8_t { open, closing, closed };

    void read_next();
    void on_plain_readable(const boost::system::error_code& error);
    void on_tls_read(const boost::system::error_code& error, std::size_t bytes);
    // Parses `data` (may be edited in place); keeps an incomplete frame for the next read.
    void consume(char* data, std::size_t size);
    void handle_message(const ws::Message& message);
    void handle_close_frame(std::string_view payload);
    endpoints::DocumentFormat document_format() const {
        return identity_.route ? identity_.route->format : endpoints::DocumentFormat::none;
    }
    // Wraps a completion so that it runs only while this session is open.
    template <class... Args>
    std::function<void(Args...)> while_open(std::function<void(Args...)> done);

    void enqueue(FrameRef frame);
    void enqueue(SharedFrame frame);
    void start_write();
    void write_plain();
    void start_tls_write();
    void consume_written(std::size_t bytes);
    void on_queue_drained();
    void close_for_slow_consumer();
    void leave_all_rooms();
    bool is_joined(std::string_view room) const;  // a member now (not just joining)
    // Presence (when the namespace has it) for a room this connection joins.
    void announce_presence(std::string_view room);
    // Presence and typing bookkeeping when this connection leaves a room.
    void on_leaving(std::string_view room);
    void terminate();

    EventLoop& loop_;
    SessionTransport transport_;
    SessionIdentity identity_;
    ws::MessageReader reader_;
    std::unique_ptr<endpoints::Handler> handler_;  // set for handler endpoints
    Memberships memberships_;
    core::TokenBucket message_budget_;
    // What most connections never use, made on first use: an idle connection does not carry it.
    struct Occasional {
        std::string partial;  // bytes of a frame not yet complete
        core::TokenBucket typing_budget;
        std::vector<std::string> typing_rooms;
        std::vector<std::pair<std::string, core::TokenBucket>> publish_budgets;
        // History rooms whose join (replay, then membership) is under way.
        std::vector<std::string> joining_rooms;
        std::vector<char> tls_read_buffer;
        std::vector<boost::asio::const_buffer> write_buffers;  // TLS writes only
    };
    Occasional& occasional();
    std::unique_ptr<Occasional> occasional_;

    // Frames not yet fully written: [pending_head_, end), the first one from head_offset_ on.
    std::vector<FrameRef> pending_;
    std::size_t pending_head_ = 0;
    std::size_t head_offset_ = 0;
    std::size_t pending_bytes_ = 0;

    std::int64_t last_heard_ms_ = 0;
    std::int64_t last_ping_ms_ = 0;
    std::int64_t close_deadline_ms_ = 0;
    State state_ = State::open;
    bool writing_ = false;
    bool flush_scheduled_ = false;
    bool slow_consumer_ = false;
    bool close_frame_queued_ = false;
    bool registered_ = false;
    // The client named itself (a document endpoint's client id); else identity_.client_id is
    // the connection id.
    bool client_named_itself_ = false;
};

}  // namespace huddle::net
