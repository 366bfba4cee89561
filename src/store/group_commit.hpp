// The writer machinery shared by the store backends (private to src/store): a bounded queue of
// appends, one writer thread that hands everything queued to the backend as one batch (one
// transaction, one commit), completions in queue order, and synchronous calls that run their
// work on the same thread (one writer for every write).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "store/store.hpp"

namespace huddle::store::detail {

struct QueueLimits {
    // An append beyond either bound completes at once with queue_full.
    std::size_t max_queued_requests = 100'000;
    std::size_t max_queued_bytes = 64 * 1024 * 1024;
    // Requests written per transaction at most (a bound on the latency of one group).
    std::size_t max_batch = 10'000;
};

// One queued unit of work for the writer.
struct WriteRequest {
    enum class Kind { events, update, task } kind = Kind::task;
    std::vector<RoomEvent> events;   // Kind::events
    std::string document;            // Kind::update
    std::vector<std::uint8_t> data;  // Kind::update
    // Kind::task: a synchronous call's work, run on the writer thread inside the batch's
    // transaction. It may run more than once (a backend may retry a transaction): it must only
    // write through the transaction and keep its result in the closure.
    std::function<void()> task;
    AppendCallback done;
    std::size_t bytes = 0;  // counted against max_queued_bytes (0 for tasks)
};

// A request refused for a reason the caller can act on (backends throw it to refuse one request).
struct Refused {
    AppendStatus status;
    std::string error;
};

inline Refused offset_conflict(const RoomEvent& event, std::uint64_t last_offset) {
    return {AppendStatus::offset_conflict,
            "offset " + std::to_string(event.offset) + " is not after offset " +
                std::to_string(last_offset) + " in room '" + event.room + "'"};
}

inline Refused duplicate_key(const RoomEvent& event) {
    return {AppendStatus::duplicate_key, "idempotency key '" + event.idempotency_key +
                                             "' already stored in room '" + event.room + "'"};
}

class GroupCommitStore : public Store {
  public:
    void append(std::vector<RoomEvent> events, AppendCallback done) final;
    void append_each(std::vector<AppendRequest> requests) final;
    void append_update(std::string_view document, std::vector<std::uint8_t> update,
                       AppendCallback done) final;
    void append_updates(std::vector<UpdateRequest> requests) final;
    void flush() final;
    void close() final;
    StoreStats stats() const final;

  protected:
    explicit GroupCommitStore(const QueueLimits& limits) : limits_(limits) {}
    ~GroupCommitStore() override;

    // The writer calls write_batch(), a virtual of the derived class: derived constructors call
    // start_writer() last, and derived destructors call close() first.
    void start_writer();

    // Writes `batch` in one transaction and commits it. results[i] starts ok; the backend sets
    // the outcome of each request that did not make it. Called on the writer thread only.
    virtual void write_batch(std::vector<WriteRequest>& batch,
                             std::vector<AppendResult>& results) = 0;
    void count_commit() { commits_.fetch_add(1, std::memory_order_relaxed); }
    void set_reachable(bool reachable) { reachable_.store(reachable, std::memory_order_relaxed); }

    // Runs `work` on the writer thread inside the next transaction; returns its result once the
    // transaction is committed. Throws StoreError if the work or the commit fails, if the store
    // is closed, or if called from a completion (it would wait on itself).
    template <class Work>
    auto run_on_writer(Work work) -> std::invoke_result_t<Work&>;

  private:
    // Under queue_mutex_: queues the request and counts it, or says why it is refused.
    std::optional<AppendResult> admit(WriteRequest& request);
    // Completes a refused request (not under the lock: the completion may append again).
    void refuse(WriteRequest& request, AppendResult refusal);
    void enqueue_append(WriteRequest request);
    // Queues the requests that fit under one lock, wakes the writer once, then completes the
    // refused ones (queue full, closed) in order.
    void enqueue_appends(std::vector<WriteRequest> requests);
    void enqueue_task(WriteRequest request);
    void writer_loop();
    void complete(std::vector<WriteRequest>& batch, std::vector<AppendResult>& results);

    const QueueLimits limits_;
    mutable std::mutex queue_mutex_;
    std::condition_variable queue_cv_;
    std::deque<WriteRequest> queue_;
    std::size_t pending_requests_ = 0;  // queued + being written (appends only)
    std::size_t pending_bytes_ = 0;
    bool closing_ = false;
    std::thread writer_;
    std::thread::id writer_id_;
    std::once_flag close_once_;

    std::atomic<std::uint64_t> commits_{0};
    std::atomic<std::uint64_t> appends_{0};
    std::atomic<std::uint64_t> failed_{0};
    std::atomic<bool> realtime_writer_{false};
    std::atomic<bool> reachable_{true};
};

template <class Work>
auto GroupCommitStore::run_on_writer(Work work) -> std::invoke_result_t<Work&> {
    using Result = std::invoke_result_t<Work&>;
    if (std::this_thread::get_id() == writer_id_)
        throw StoreError("store: synchronous call from a completion (would deadlock)");
    auto result = std::make_shared<std::optional<Result>>();
    auto promise = std::make_shared<std::promise<void>>();
    auto future = promise->get_future();

    WriteRequest request;
    request.kind = WriteRequest::Kind::task;
    request.task = [work = std::move(work), result]() mutable { result->emplace(work()); };
    request.done = [promise](AppendResult r) {
        if (r.ok())
            promise->set_value();
        else
            promise->set_exception(std::make_exception_ptr(StoreError(r.error)));
    };
    enqueue_task(std::move(request));
    future.get();  // rethrows the task's error
    return std::move(**result);
}

}  // namespace huddle::store::detail
