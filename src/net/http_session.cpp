#include "net/http_session.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

#include "core/room_name.hpp"
#include "endpoints/credentials.hpp"
#include "endpoints/rooms_messages.hpp"
#include "net/access_checks.hpp"
#include "net/clock.hpp"
#include "net/event_loop.hpp"
#include "net/http_routes.hpp"
#include "net/server.hpp"
#include "net/ws/frame_writer.hpp"
#include "net/ws/handshake.hpp"
#include "observability/log.hpp"

namespace huddle::net {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using observability::log;
using observability::LogLevel;

namespace {

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
constexpr std::size_t kMaxApiBodyBytes = 1024 * 1024;
constexpr std::chrono::milliseconds kLingerTimeout{2'000};

bool contains_token_ci(std::string_view header, std::string_view token) {
    // Comma-separated tokens compared without case, e.g. "keep-alive, Upgrade".
    while (!header.empty()) {
        const auto comma = header.find(',');
        std::string_view item = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        while (!item.empty() && item.front() == ' ')
            item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ')
            item.remove_suffix(1);
        if (item.size() != token.size())
            continue;
        bool equal = true;
        for (std::size_t i = 0; i < item.size(); ++i) {
            if (std::tolower(static_cast<unsigned char>(item[i])) !=
                std::tolower(static_cast<unsigned char>(token[i]))) {
                equal = false;
                break;
            }
        }
        if (equal)
            return true;
    }
    return false;
}

bool is_websocket_upgrade(const HttpRequest& request) {
    return request.method() == http::verb::get &&
           contains_token_ci(request[http::field::connection], "upgrade") &&
           contains_token_ci(request[http::field::upgrade], "websocket");
}

std::string_view status_text(unsigned status) {
    switch (status) {
        case 200:
            return "OK";
        case 202:
            return "Accepted";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 413:
            return "Payload Too Large";
        case 426:
            return "Upgrade Required";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 503:
            return "Service Unavailable";
        default:
            return "Unknown";
    }
}

}  // namespace

HttpSession::HttpSession(EventLoop& loop, TcpSocket socket)
    : loop_(loop), socket_(std::move(socket)), timer_(loop.io()) {
    boost::system::error_code error;
    const auto remote = socket_.remote_endpoint(error);
    if (!error) {
        auto address = remote.address();
        if (address.is_v6() && address.to_v6().is_v4_mapped()) {
            address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
        }
        ip_ = address.to_string();
    }
}

HttpSession::~HttpSession() = default;

void HttpSession::start() {
    arm_timer(loop_.server().settings().limits.handshake_timeout);
    if (loop_.server().tls_context() != nullptr) {
        start_tls();
    } else {
        read_request();
    }
}

void HttpSession::arm_timer(std::chrono::milliseconds timeout) {
    timer_.expires_after(timeout);
    std::weak_ptr<HttpSession> weak = weak_from_this();
    timer_.async_wait([weak](const boost::system::error_code& error) {
        if (error)
            return;
        if (auto self = weak.lock())
            self->close_now();
    });
}

void HttpSession::close_now() {
    if (closed_)
        return;
    closed_ = true;
    boost::system::error_code ignored;
    timer_.cancel();
    if (tls_) {
        tls_->lowest_layer().close(ignored);
    } else {
        socket_.close(ignored);
    }
}

void HttpSession::start_tls() {
    tls_ = std::make_unique<TlsStream>(std::move(socket_), *loop_.server().tls_context());
    auto self = shared_from_this();
    tls_->async_handshake(asio::ssl::stream_base::server,
                          [self](const boost::system::error_code& error) {
                              if (error) {
                                  self->close_now();
                                  return;
                              }
                              self->read_request();
                          });
}

void HttpSession::read_request() {
    if (closed_)
        return;
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(kMaxApiBodyBytes);
    auto self = shared_from_this();
    auto on_read = [self](const boost::system::error_code& error, std::size_t) {
        self->on_request(error);
    };
    if (tls_) {
        http::async_read(*tls_, buffer_, *parser_, std::move(on_read));
    } else {
        http::async_read(socket_, buffer_, *parser_, std::move(on_read));
    }
}

void HttpSession::on_request(const boost::system::error_code& error) {
    if (closed_)
        return;
    if (error == http::error::body_limit) {
        keep_alive_ = false;
        respond(413, error_body("REQUEST_TOO_LARGE", "request body is larger than 1 MiB"));
        return;
    }
    if (error == http::error::header_limit) {
        keep_alive_ = false;
        respond(431, error_body("INVALID_REQUEST", "request headers are too large"));
        return;
    }
    if (error) {
        if (error != http::error::end_of_stream && error != asio::error::eof &&
            error != asio::error::operation_aborted) {
            // Garbage that is not HTTP: say so if the socket still takes it.
            keep_alive_ = false;
            respond(400, error_body("INVALID_REQUEST", "malformed HTTP request"));
            return;
        }
        close_now();
        return;
    }
    timer_.cancel();
    const HttpRequest& request = parser_->get();
    keep_alive_ = request.keep_alive();
    if (is_websocket_upgrade(request)) {
        handle_upgrade(request);
        return;
    }
    route_http_request(shared_from_this(), request);
}

void HttpSession::respond(unsigned status, std::string body, std::string_view content_type,
                          bool headers_only) {
    if (closed_)
        return;
    std::string out;
    out.reserve(160 + body.size());
    out += "HTTP/1.1 ";
    out += std::to_string(status);
    out += ' ';
    out += status_text(status);
    out += "\r\nContent-Type: ";
    out += content_type;
    out += "\r\nContent-Length: ";
    out += std::to_string(body.size());
    out += "\r\nCache-Control: no-store\r\nConnection: ";
    out += keep_alive_ ? "keep-alive" : "close";
    out += "\r\n\r\n";
    if (!headers_only)
        out += body;
    write_then(std::move(out), keep_alive_);
}

void HttpSession::write_then(std::string bytes, bool keep_alive) {
    out_ = std::move(bytes);
    auto self = shared_from_this();
    auto on_written = [self, keep_alive](const boost::system::error_code& error, std::size_t) {
        if (error) {
            self->close_now();
            return;
        }
        if (keep_alive) {
            self->arm_timer(self->loop_.server().settings().limits.handshake_timeout);
            self->read_request();
        } else {
            self->linger_then_close();
        }
    };
    if (tls_) {
        asio::async_write(*tls_, asio::buffer(out_), std::move(on_written));
    } else {
        asio::async_write(socket_, asio::buffer(out_), std::move(on_written));
    }
}

void HttpSession::linger_then_close() {
    // Half-close and drain until the peer closes, so that what we wrote is not lost to a reset.
    arm_timer(kLingerTimeout);
    if (tls_) {
        close_now();
        return;
    }
    boost::system::error_code ignored;
    socket_.shutdown(TcpSocket::shutdown_send, ignored);
    auto self = shared_from_this();
    auto drain = std::make_shared<std::array<char, 512>>();
    struct Drainer {
        std::shared_ptr<HttpSession> session;
        std::shared_ptr<std::array<char, 512>> scratch;
        void operator()(const boost::system::error_code& error, std::size_t) {
            if (error || session->closed_) {
                session->close_now();
                return;
            }
            session->socket_.async_read_some(asio::buffer(*scratch), std::move(*this));
        }
    };
    socket_.async_read_some(asio::buffer(*drain), Drainer{self, drain});
}

void HttpSession::handle_upgrade(const HttpRequest& request) {
    Server& server = loop_.server();
    const config::Settings& settings = server.settings();
    const std::string_view target = request.target();
    keep_alive_ = false;

    // The rooms protocol at server.websocket_path; the endpoints of handler_registry.cpp.
    if (auto match = endpoints::match_handler_route(target, settings.server)) {
        if (!match->error.empty()) {
            respond(400, error_body("INVALID_REQUEST", match->error));
            return;
        }
        route_ = match->route;
        document_ = std::move(match->document);
        client_id_ = std::move(match->client_id);
    } else if (endpoints::target_path(target) != settings.server.websocket_path) {
        respond(404, error_body("NOT_FOUND", "no WebSocket endpoint at this path"));
        return;
    }
    const std::string_view origin = request[http::field::origin];
    if (!settings.server.allowed_origins.empty() && !origin.empty()) {
        const auto& allowed = settings.server.allowed_origins;
        if (std::find(allowed.begin(), allowed.end(), origin) == allowed.end()) {
            server.counters().origin_refusals.fetch_add(1, std::memory_order_relaxed);
            log(LogLevel::warn, "upgrade.origin_refused", {{"ip", ip_}, {"origin", origin}});
            respond(403, error_body("FORBIDDEN", "origin not allowed"));
            return;
        }
    }
    if (request[http::field::sec_websocket_version] != "13") {
        out_ =
            "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n";
        write_then(std::move(out_), false);
        return;
    }
    const std::string_view key = request[http::field::sec_websocket_key];
    if (!ws::is_valid_websocket_key(key)) {
        respond(400, error_body("INVALID_REQUEST", "missing or malformed Sec-WebSocket-Key"));
        return;
    }

    // Asking clients to reset their compression context lets the reader drop its ~40 KiB
    // inflater after each message, so compressed connections stay small when idle.
    ws::DeflateOptions deflate_options;
    deflate_options.require_client_no_context_takeover = true;
    const ws::DeflateAgreement deflate =
        ws::negotiate_permessage_deflate(request[http::field::sec_websocket_extensions],
                                         settings.server.permessage_deflate, deflate_options);
    std::string handshake =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Accept: ";
    handshake += ws::websocket_accept_key(key);
    handshake += "\r\n";
    if (deflate.enabled) {
        handshake += "Sec-WebSocket-Extensions: ";
        handshake += deflate.response_header_value;
        handshake += "\r\n";
    }
    handshake += "\r\n";

    const core::AdmissionDecision handshake_budget = server.admit_handshake(ip_);
    if (!handshake_budget.admitted) {
        server.counters().rate_limited_handshakes.fetch_add(1, std::memory_order_relaxed);
        log(LogLevel::warn, "limit.handshakes",
            {{"ip", ip_}, {"reason", handshake_budget.message}});
        refuse_upgrade(std::move(handshake), handshake_budget.code, handshake_budget.message, 4029,
                       handshake_budget.retry_after_ms);
        return;
    }

    const std::uint64_t connection_id = server.next_connection_id();
    UpgradeInProgress upgrade{std::move(handshake), deflate, connection_id, {}, {}, 0};
    std::string& user_id = upgrade.user_id;
    std::shared_ptr<const boost::json::object>& claims = upgrade.claims;
    std::int64_t& expires_at = upgrade.expires_at;
    const std::string token = endpoints::find_token(
        {target, request[http::field::authorization], request[http::field::cookie]},
        settings.auth.query_parameter, settings.auth.cookie_name);
    if (token.empty() && settings.auth.allow_anonymous) {
        user_id = "anonymous-" + std::to_string(connection_id);
    } else {
        auth::VerifyResult verified = token.empty()
                                          ? auth::VerifyResult{std::nullopt, "missing token"}
                                          : server.verifier().verify(token, wall_ms() / 1000);
        if (!verified.identity) {
            server.record_failed_auth(ip_);
            server.counters().auth_failures.fetch_add(1, std::memory_order_relaxed);
            log(LogLevel::warn, "auth.failed", {{"ip", ip_}, {"reason", verified.error}});
            refuse_upgrade(std::move(upgrade.handshake), "UNAUTHORIZED", verified.error, 4401);
            return;
        }
        user_id = std::move(verified.identity->subject);
        expires_at = verified.identity->expires_at.value_or(0);
        if (server.keeps_claims()) {
            claims =
                std::make_shared<const boost::json::object>(std::move(verified.identity->claims));
        }
        if (const std::string_view problem = core::user_id_problem(user_id); !problem.empty()) {
            server.record_failed_auth(ip_);
            server.counters().auth_failures.fetch_add(1, std::memory_order_relaxed);
            refuse_upgrade(std::move(upgrade.handshake), "UNAUTHORIZED", problem, 4401);
            return;
        }
    }

    if (!document_.empty()) {
        // Documents follow the namespace rules of the room "doc:<name>".
        const std::string room = "doc:" + document_;
        const core::NamespaceSettings& rules = server.rooms_endpoint().namespaces().rules_for(room);
        const core::AccessDecision access = server.rooms_endpoint().namespaces().may_subscribe(
            room, user_id, claims ? *claims : core::no_claims());
        if (access.deferred) {
            // A subscription token (query parameter subscriptionToken) or the app's backend
            // decides; the upgrade waits for the answer, the loop does not.
            std::string room_token;
            endpoints::find_query_parameter(target, "subscriptionToken", room_token);
            const std::string user = user_id;
            const boost::json::object& token_claims = claims ? *claims : core::no_claims();
            loop_.access_checks().check(
                rules, room, user, token_claims, room_token,
                [self = shared_from_this(),
                 upgrade = std::move(upgrade)](AccessChecks::Decision decision) mutable {
                    if (self->closed_)
                        return;
                    if (!decision.allowed) {
                        self->refuse_upgrade(std::move(upgrade.handshake), decision.code,
                                             decision.message, 4403);
                        return;
                    }
                    self->finish_upgrade(std::move(upgrade));
                });
            return;
        }
        if (!access.allowed) {
            refuse_upgrade(std::move(upgrade.handshake), access.code, access.message, 4403);
            return;
        }
    }
    finish_upgrade(std::move(upgrade));
}

void HttpSession::finish_upgrade(UpgradeInProgress upgrade) {
    Server& server = loop_.server();
    const core::AdmissionDecision slot = server.admit_user(ip_, upgrade.user_id);
    if (!slot.admitted) {
        server.counters().connection_limit_refusals.fetch_add(1, std::memory_order_relaxed);
        log(LogLevel::warn, "limit.connections",
            {{"ip", ip_}, {"user", upgrade.user_id}, {"reason", slot.message}});
        refuse_upgrade(std::move(upgrade.handshake), slot.code, slot.message, 4029);
        return;
    }

    const ws::DeflateAgreement& deflate = upgrade.deflate;
    SessionTransport transport{std::move(socket_),
                               std::move(tls_),
                               deflate.enabled,
                               deflate.client_no_context_takeover,
                               deflate.enabled && deflate.server_max_window_bits >= 15,
                               deflate.client_max_window_bits};
    const auto leftover = buffer_.data();
    std::string early_bytes(static_cast<const char*>(leftover.data()), leftover.size());
    if (!transport.tls) {
        boost::system::error_code ignored;
        transport.socket.non_blocking(true, ignored);
    }
    closed_ = true;  // the WebSocket session owns the connection now
    timer_.cancel();
    auto session = std::make_shared<WsSession>(
        loop_, std::move(transport),
        SessionIdentity{upgrade.connection_id, std::move(upgrade.user_id), ip_,
                        std::move(upgrade.claims), upgrade.expires_at, route_, std::move(document_),
                        std::move(client_id_)});
    session->start(std::move(upgrade.handshake), std::move(early_bytes));
}

void HttpSession::refuse_upgrade(std::string handshake_response, std::string_view code,
                                 std::string_view message, std::uint16_t close_code,
                                 std::int64_t retry_after_ms) {
    std::string out = std::move(handshake_response);
    // y-websocket clients read every message as binary: they only get the close frame.
    if (route_ == nullptr || route_->format != endpoints::DocumentFormat::y_websocket) {
        out += ws::encode_frame(ws::Opcode::text,
                                endpoints::encode_error({}, code, message, retry_after_ms));
    }
    out += ws::encode_close_frame(close_code, message);
    write_then(std::move(out), false);
}

}  // namespace huddle::net
