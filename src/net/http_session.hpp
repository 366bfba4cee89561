// A fresh TCP (or TLS) connection: reads HTTP requests, answers the operations endpoints and the
// backend API, and turns a WebSocket upgrade into a WsSession after authentication.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/ws/handshake.hpp"
#include "net/ws_session.hpp"

namespace huddle::net {

class EventLoop;

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

class HttpSession final : public std::enable_shared_from_this<HttpSession> {
  public:
    HttpSession(EventLoop& loop, TcpSocket socket);
    ~HttpSession();

    void start();

    EventLoop& loop() { return loop_; }

    // Sends one HTTP response; the connection then reads the next request (keep-alive) or closes.
    // headers_only (HEAD): the headers of the full response, Content-Length included, no body.
    void respond(unsigned status, std::string body,
                 std::string_view content_type = "application/json", bool headers_only = false);

  private:
    void start_tls();
    void read_request();
    void on_request(const boost::system::error_code& error);
    void handle_upgrade(const HttpRequest& request);
    // What an accepted upgrade carries while its access check is decided.
    struct UpgradeInProgress {
        std::string handshake;  // the 101 response, ready to send
        ws::DeflateAgreement deflate;
        std::uint64_t connection_id = 0;
        std::string user_id;
        std::shared_ptr<const boost::json::object> claims;
        std::int64_t expires_at = 0;
    };
    void finish_upgrade(UpgradeInProgress upgrade);
    // Completes the upgrade only to say why the client is refused (JSON error + close code):
    // browsers cannot read the HTTP status of a refused upgrade.
    void refuse_upgrade(std::string handshake_response, std::string_view code,
                        std::string_view message, std::uint16_t close_code,
                        std::int64_t retry_after_ms = 0);
    void write_then(std::string bytes, bool keep_alive);
    void linger_then_close();
    void arm_timer(std::chrono::milliseconds timeout);
    void close_now();

    EventLoop& loop_;
    TcpSocket socket_;
    std::unique_ptr<TlsStream> tls_;
    boost::asio::steady_timer timer_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    std::string ip_;
    std::string document_;                            // document upgrades: the document asked for
    const endpoints::HandlerRoute* route_ = nullptr;  // null: the rooms protocol
    std::string client_id_;
    std::string out_;
    bool keep_alive_ = false;
    bool closed_ = false;
};

}  // namespace huddle::net
