// Cross-loop queries: runs a function on every event loop and hands all the results, in loop
// order, to a callback on one loop. Each loop writes only its own slot, so no lock is needed.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/post.hpp>

#include "net/event_loop.hpp"

namespace huddle::net {

template <class T>
void gather_from_loops(const std::vector<std::unique_ptr<EventLoop>>& loops, EventLoop& reply_loop,
                       std::function<T(EventLoop&)> collect,
                       std::function<void(std::vector<T>)> done) {
    struct State {
        std::vector<T> results;
        std::atomic<std::size_t> remaining;
        std::function<T(EventLoop&)> collect;
        std::function<void(std::vector<T>)> done;
    };
    auto state = std::make_shared<State>();
    state->results.resize(loops.size());
    state->remaining = loops.size();
    state->collect = std::move(collect);
    state->done = std::move(done);
    for (std::size_t i = 0; i < loops.size(); ++i) {
        EventLoop& source = *loops[i];
        boost::asio::post(source.io(), [state, i, &source, &reply_loop] {
            state->results[i] = state->collect(source);
            if (state->remaining.fetch_sub(1, std::memory_order_acq_rel) != 1)
                return;
            boost::asio::post(reply_loop.io(), [state] { state->done(std::move(state->results)); });
        });
    }
}

}  // namespace huddle::net
