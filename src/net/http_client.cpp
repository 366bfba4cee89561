#include "net/http_client.hpp"

#include <openssl/hmac.h>

#include <memory>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

namespace huddle::net {
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace {

constexpr std::size_t kMaxResponseBody = 64 * 1024;

class HttpCall : public std::enable_shared_from_this<HttpCall> {
  public:
    HttpCall(asio::io_context& io, std::function<void(HttpResult)> done)
        : resolver_(io), socket_(io), timer_(io), done_(std::move(done)) {}

    void start(const std::string& url, std::string body, HttpHeaders headers,
               std::chrono::milliseconds timeout) {
        const auto parsed = boost::urls::parse_uri(url);
        if (!parsed || parsed->scheme() != "http" || parsed->host().empty()) {
            finish({0, {}, "webhook URL must be http://host[:port]/path"});
            return;
        }
        const std::string host(parsed->host());
        const std::string port = parsed->has_port() ? std::string(parsed->port()) : "80";
        std::string target(parsed->encoded_path());
        if (target.empty())
            target = "/";
        if (parsed->has_query())
            target += "?" + std::string(parsed->encoded_query());

        request_.method(http::verb::post);
        request_.target(target);
        request_.version(11);
        request_.set(http::field::host, host);
        request_.set(http::field::content_type, "application/json");
        request_.set(http::field::user_agent, "huddle");
        request_.set(http::field::connection, "close");
        for (auto& [name, value] : headers)
            request_.set(name, value);
        request_.body() = std::move(body);
        request_.prepare_payload();
        parser_.body_limit(kMaxResponseBody);

        timer_.expires_after(timeout);
        timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
            if (!error)
                self->fail("timed out");
        });
        resolver_.async_resolve(
            host, port,
            [self = shared_from_this()](const boost::system::error_code& error,
                                        asio::ip::tcp::resolver::results_type endpoints) {
                if (error) {
                    self->fail(error.message());
                    return;
                }
                asio::async_connect(self->socket_, endpoints,
                                    [self](const boost::system::error_code& connect_error,
                                           const asio::ip::tcp::endpoint&) {
                                        if (connect_error) {
                                            self->fail(connect_error.message());
                                            return;
                                        }
                                        self->send();
                                    });
            });
    }

  private:
    void send() {
        http::async_write(
            socket_, request_,
            [self = shared_from_this()](const boost::system::error_code& error, std::size_t) {
                if (error) {
                    self->fail(error.message());
                    return;
                }
                self->receive();
            });
    }

    void receive() {
        http::async_read(
            socket_, buffer_, parser_,
            [self = shared_from_this()](const boost::system::error_code& error, std::size_t) {
                if (error) {
                    self->fail(error.message());
                    return;
                }
                const auto& response = self->parser_.get();
                self->finish({response.result_int(), response.body(), {}});
            });
    }

    void fail(std::string why) { finish({0, {}, std::move(why)}); }

    void finish(HttpResult result) {
        if (finished_)
            return;
        finished_ = true;
        boost::system::error_code ignored;
        timer_.cancel();
        resolver_.cancel();
        socket_.close(ignored);
        auto done = std::move(done_);
        done(std::move(result));
    }

    asio::ip::tcp::resolver resolver_;
    asio::ip::tcp::socket socket_;
    asio::steady_timer timer_;
    std::function<void(HttpResult)> done_;
    http::request<http::string_body> request_;
    http::response_parser<http::string_body> parser_;
    boost::beast::flat_buffer buffer_;
    bool finished_ = false;
};

}  // namespace

void post_json(asio::io_context& io, const std::string& url, std::string body, HttpHeaders headers,
               std::chrono::milliseconds timeout, std::function<void(HttpResult)> done) {
    std::make_shared<HttpCall>(io, std::move(done))
        ->start(url, std::move(body), std::move(headers), timeout);
}

std::string webhook_signature(std::string_view secret, std::string_view body) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "sha256=";
    for (unsigned int i = 0; i < length; ++i) {
        out.push_back(kHex[digest[i] >> 4]);
        out.push_back(kHex[digest[i] & 0xF]);
    }
    return out;
}

}  // namespace huddle::net
