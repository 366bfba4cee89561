// Runs a hiredis asynchronous context on a boost::asio io_context, without a thread of its own:
// the context's socket is watched with a posix::stream_descriptor (readiness only; hiredis does
// the reading and writing) through redisAsyncContext's event hooks.
#pragma once

#include <boost/asio/io_context.hpp>

struct redisAsyncContext;

namespace huddle::broker {

// Installs the hooks. Call once per context, right after redisAsyncConnect() and before anything
// that may want to write (redisAsyncSetConnectCallback arms the first write wait). hiredis calls
// the cleanup hook when it frees the context; the descriptor is released then, never closed
// (hiredis closes the socket itself).
void attach_to_asio(redisAsyncContext* context, boost::asio::io_context& io);

}  // namespace huddle::broker
