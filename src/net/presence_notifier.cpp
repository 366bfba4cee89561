#include "net/presence_notifier.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "endpoints/json_text.hpp"
#include "net/clock.hpp"
#include "net/event_loop.hpp"
#include "net/http_client.hpp"
#include "net/server.hpp"
#include "observability/log.hpp"

namespace huddle::net {
namespace asio = boost::asio;
using observability::log;
using observability::LogLevel;

namespace {
constexpr std::size_t kMaxBatch = 100;
constexpr std::size_t kMaxQueued = 10'000;
constexpr std::chrono::milliseconds kTick{100};
constexpr std::int64_t kMaxBackoffMs = 30'000;
}  // namespace

PresenceNotifier::PresenceNotifier(EventLoop& home) : home_(home), timer_(home.io()) {}

void PresenceNotifier::start() {
    tick();
}

void PresenceNotifier::user_connected(std::string user) {
    asio::post(home_.io(), [this, user = std::move(user)] { on_connected(user); });
}

void PresenceNotifier::user_disconnected(std::string user) {
    asio::post(home_.io(), [this, user = std::move(user)] { on_disconnected(user); });
}

void PresenceNotifier::on_connected(const std::string& user) {
    // Back within the grace period: still online as far as the app knows.
    if (offline_due_ms_.erase(user) != 0)
        return;
    if (online_.insert(user).second)
        queue_notice("user.online", user);
}

void PresenceNotifier::on_disconnected(const std::string& user) {
    if (!home_.server().accepting())
        return;  // a shutdown is not every user going offline: they reconnect elsewhere
    offline_due_ms_[user] = steady_ms() + home_.server().settings().webhooks.offline_grace.count();
}

void PresenceNotifier::tick() {
    const std::int64_t now = steady_ms();
    for (auto it = offline_due_ms_.begin(); it != offline_due_ms_.end();) {
        if (it->second > now) {
            ++it;
            continue;
        }
        online_.erase(it->first);
        queue_notice("user.offline", it->first);
        it = offline_due_ms_.erase(it);
    }
    if (!sending_ && !queue_.empty() && now >= retry_at_ms_)
        send_batch();
    timer_.expires_after(kTick);
    timer_.async_wait([this](const boost::system::error_code& error) {
        if (!error)
            tick();
    });
}

void PresenceNotifier::queue_notice(std::string_view type, const std::string& user) {
    if (queue_.size() >= kMaxQueued) {
        // Bounded: the oldest notice goes (the not-yet-sent part of the queue, never the batch
        // in flight).
        if (queue_.size() > in_flight_count_) {
            queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(in_flight_count_));
            ++dropped_;
        }
    }
    std::string notice = "{\"type\":";
    endpoints::append_json_string(notice, type);
    notice += ",\"userId\":";
    endpoints::append_json_string(notice, user);
    notice += ",\"timestamp\":";
    endpoints::append_json_int(notice, wall_ms());
    notice += '}';
    queue_.push_back(std::move(notice));
}

void PresenceNotifier::send_batch() {
    const config::WebhookSettings& settings = home_.server().settings().webhooks;
    const std::size_t count = std::min(queue_.size(), kMaxBatch);
    std::string body = "{\"events\":[";
    for (std::size_t i = 0; i < count; ++i) {
        if (i != 0)
            body += ',';
        body += queue_[i];
    }
    body += "]}";
    HttpHeaders headers;
    if (!settings.secret.empty())
        headers.emplace_back("X-Huddle-Signature", webhook_signature(settings.secret, body));
    sending_ = true;
    in_flight_count_ = count;
    post_json(home_.io(), settings.presence_url, std::move(body), std::move(headers),
              settings.timeout, [this, count](HttpResult result) {
                  sending_ = false;
                  in_flight_count_ = 0;
                  if (result.status >= 200 && result.status < 300) {
                      queue_.erase(queue_.begin(),
                                   queue_.begin() + static_cast<std::ptrdiff_t>(count));
                      failures_ = 0;
                      retry_at_ms_ = 0;
                      return;
                  }
                  // Retried with exponential backoff; the notices stay first in line.
                  ++failures_;
                  const std::int64_t backoff =
                      std::min<std::int64_t>(kMaxBackoffMs, 250LL << std::min(failures_, 7u));
                  retry_at_ms_ = steady_ms() + backoff;
                  const std::string why =
                      result.status == 0 ? result.error : "HTTP " + std::to_string(result.status);
                  log(LogLevel::warn, "webhook.presence_failed",
                      {{"reason", why}, {"retry_in_ms", std::to_string(backoff)}});
              });
}

}  // namespace huddle::net
