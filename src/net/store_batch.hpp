// Appends made during one turn of a loop reach the store in one call, after the turn's other
// handlers: the writer takes them into one transaction (rather than waking for the first one
// alone), and their completions come back together, so the fan-outs they trigger share one flush
// per connection. This halved the cost of history in the fan-out benchmark (docs/benchmarks.md).
#pragma once

#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace huddle::net {

template <class Request>
struct StoreBatch {
    std::vector<Request> pending;
    bool submit_posted = false;
};

// Hands what the batch holds to `submit(std::vector<Request>)` now: before work that must come
// after the requests already made (e.g. a document's removal after its updates).
template <class Request, class Submit>
void submit_store_batch(StoreBatch<Request>& batch, Submit& submit) {
    if (batch.pending.empty())
        return;
    std::vector<Request> requests;
    requests.swap(batch.pending);
    submit(std::move(requests));
}

// Adds `request` to the loop's batch; `submit(std::vector<Request>)` runs once, later in the turn.
template <class Request, class Submit>
void add_to_store_batch(boost::asio::io_context& io, StoreBatch<Request>& batch, Request request,
                        Submit submit) {
    batch.pending.push_back(std::move(request));
    if (batch.submit_posted)
        return;
    batch.submit_posted = true;
    boost::asio::post(io, [&batch, submit = std::move(submit)]() mutable {
        batch.submit_posted = false;
        submit_store_batch(batch, submit);
    });
}

}  // namespace huddle::net
