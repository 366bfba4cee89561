#include "broker/asio_redis_adapter.hpp"

#include <memory>

#include <hiredis/async.h>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace huddle::broker {

namespace {

namespace asio = boost::asio;

// One per context. It keeps itself alive (self_) until hiredis's cleanup hook; waits in progress
// hold it too, so a wait that completes after the cleanup finds a valid object with no context.
class Watcher : public std::enable_shared_from_this<Watcher> {
  public:
    Watcher(asio::io_context& io, redisAsyncContext* context)
        : context_(context), descriptor_(io, context->c.fd) {}

    void start() { self_ = shared_from_this(); }

    void want_read(bool on) {
        reading_ = on;
        if (on && !read_waiting_)
            wait(asio::posix::descriptor_base::wait_read);
    }
    void want_write(bool on) {
        writing_ = on;
        if (on && !write_waiting_)
            wait(asio::posix::descriptor_base::wait_write);
    }

    void cleanup() {
        context_ = nullptr;
        reading_ = writing_ = false;
        boost::system::error_code ignored;
        descriptor_.cancel(ignored);
        descriptor_.release();         // the socket belongs to hiredis, which closes it
        auto last = std::move(self_);  // may be the last owner: destroyed when this returns
    }

  private:
    void wait(asio::posix::descriptor_base::wait_type type) {
        const bool read = type == asio::posix::descriptor_base::wait_read;
        (read ? read_waiting_ : write_waiting_) = true;
        descriptor_.async_wait(
            type, [self = shared_from_this(), read](const boost::system::error_code& error) {
                (read ? self->read_waiting_ : self->write_waiting_) = false;
                if (error || !self->context_ || !(read ? self->reading_ : self->writing_))
                    return;
                // Either call may run callbacks that free the context (cleanup() clears context_).
                if (read)
                    redisAsyncHandleRead(self->context_);
                else
                    redisAsyncHandleWrite(self->context_);
                if (self->context_ && (read ? self->reading_ : self->writing_) &&
                    !(read ? self->read_waiting_ : self->write_waiting_))
                    self->wait(read ? asio::posix::descriptor_base::wait_read
                                    : asio::posix::descriptor_base::wait_write);
            });
    }

    redisAsyncContext* context_;
    asio::posix::stream_descriptor descriptor_;
    std::shared_ptr<Watcher> self_;
    bool reading_ = false;
    bool writing_ = false;
    bool read_waiting_ = false;
    bool write_waiting_ = false;
};

Watcher* watcher(void* data) {
    return static_cast<Watcher*>(data);
}

}  // namespace

void attach_to_asio(redisAsyncContext* context, asio::io_context& io) {
    auto created = std::make_shared<Watcher>(io, context);
    created->start();
    context->ev.data = created.get();
    context->ev.addRead = [](void* data) { watcher(data)->want_read(true); };
    context->ev.delRead = [](void* data) { watcher(data)->want_read(false); };
    context->ev.addWrite = [](void* data) { watcher(data)->want_write(true); };
    context->ev.delWrite = [](void* data) { watcher(data)->want_write(false); };
    context->ev.cleanup = [](void* data) { watcher(data)->cleanup(); };
}

}  // namespace huddle::broker
