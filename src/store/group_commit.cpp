#include "store/group_commit.hpp"

#include <algorithm>

#include <pthread.h>
#include <sched.h>

namespace huddle::store::detail {
namespace {

// The event loops keep their cores busy under load; a writer with ordinary priority then waits
// for a time slice twice per commit (on its wakeup and after the fsync), which adds milliseconds
// to every stored event and throttles rooms with history. The writer sleeps nearly all the time,
// so the lowest real-time priority costs the loops little. Needs root or CAP_SYS_NICE; without
// it the writer keeps the normal policy.
bool ask_for_realtime_priority() {
    sched_param param{};
    param.sched_priority = 1;
    return pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0;
}

}  // namespace

GroupCommitStore::~GroupCommitStore() {
    close();
}

void GroupCommitStore::start_writer() {
    writer_ = std::thread([this] {
        realtime_writer_.store(ask_for_realtime_priority(), std::memory_order_relaxed);
        writer_loop();
    });
    writer_id_ = writer_.get_id();
}

void GroupCommitStore::close() {
    std::call_once(close_once_, [this] {
        {
            std::lock_guard lock(queue_mutex_);
            closing_ = true;
        }
        queue_cv_.notify_all();
        if (writer_.joinable()) {
            if (std::this_thread::get_id() == writer_id_)
                std::terminate();  // close() from a completion: documented as forbidden
            writer_.join();
        }
    });
}

StoreStats GroupCommitStore::stats() const {
    StoreStats s;
    s.commits = commits_.load(std::memory_order_relaxed);
    s.appends = appends_.load(std::memory_order_relaxed);
    s.failed_appends = failed_.load(std::memory_order_relaxed);
    s.realtime_writer = realtime_writer_.load(std::memory_order_relaxed);
    s.reachable = reachable_.load(std::memory_order_relaxed);
    std::lock_guard lock(queue_mutex_);
    s.queued = queue_.size();
    s.queued_bytes = pending_bytes_;
    return s;
}

namespace {

// append_update() hands the update back to its completion (AppendResult::update).
void hand_back(WriteRequest& request, AppendResult& result) {
    if (request.kind == WriteRequest::Kind::update)
        result.update = std::move(request.data);
}

}  // namespace

std::optional<AppendResult> GroupCommitStore::admit(WriteRequest& request) {
    if (closing_)
        return AppendResult{AppendStatus::closed, "store is closed"};
    if (pending_requests_ + 1 > limits_.max_queued_requests ||
        (pending_bytes_ + request.bytes > limits_.max_queued_bytes && pending_requests_ > 0))
        return AppendResult{AppendStatus::queue_full, "store write queue is full"};
    ++pending_requests_;
    pending_bytes_ += request.bytes;
    queue_.push_back(std::move(request));
    return std::nullopt;
}

void GroupCommitStore::refuse(WriteRequest& request, AppendResult refusal) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    hand_back(request, refusal);
    if (request.done)
        request.done(std::move(refusal));
}

void GroupCommitStore::enqueue_append(WriteRequest request) {
    // One request at a time is the common case (every document update): no vector for it.
    std::optional<AppendResult> refusal;
    {
        std::lock_guard lock(queue_mutex_);
        refusal = admit(request);
    }
    if (refusal) {
        refuse(request, std::move(*refusal));
        return;
    }
    queue_cv_.notify_one();
}

void GroupCommitStore::enqueue_appends(std::vector<WriteRequest> requests) {
    std::vector<std::pair<WriteRequest, AppendResult>> refused;
    bool queued = false;
    {
        std::lock_guard lock(queue_mutex_);
        for (WriteRequest& request : requests) {
            if (auto refusal = admit(request))
                refused.emplace_back(std::move(request), std::move(*refusal));
            else
                queued = true;
        }
    }
    if (queued)
        queue_cv_.notify_one();
    for (auto& [request, refusal] : refused)
        refuse(request, std::move(refusal));
}

void GroupCommitStore::enqueue_task(WriteRequest request) {
    {
        std::lock_guard lock(queue_mutex_);
        if (closing_)
            throw StoreError("store is closed");
        // Tasks bypass the bound: each caller waits for its own, so they cannot pile up.
        queue_.push_back(std::move(request));
    }
    queue_cv_.notify_one();
}

namespace {

WriteRequest events_request(std::vector<RoomEvent> events, AppendCallback done) {
    WriteRequest request;
    request.kind = WriteRequest::Kind::events;
    for (const auto& e : events)
        request.bytes +=
            sizeof(RoomEvent) + e.room.size() + e.idempotency_key.size() + e.event_json.size();
    request.events = std::move(events);
    request.done = std::move(done);
    return request;
}

WriteRequest update_request(std::string document, std::vector<std::uint8_t> update,
                            AppendCallback done) {
    WriteRequest request;
    request.kind = WriteRequest::Kind::update;
    request.bytes = sizeof(WriteRequest) + document.size() + update.size();
    request.document = std::move(document);
    request.data = std::move(update);
    request.done = std::move(done);
    return request;
}

}  // namespace

void GroupCommitStore::append(std::vector<RoomEvent> events, AppendCallback done) {
    enqueue_append(events_request(std::move(events), std::move(done)));
}

void GroupCommitStore::append_each(std::vector<AppendRequest> requests) {
    std::vector<WriteRequest> writes;
    writes.reserve(requests.size());
    for (AppendRequest& request : requests)
        writes.push_back(events_request(std::move(request.events), std::move(request.done)));
    enqueue_appends(std::move(writes));
}

void GroupCommitStore::append_update(std::string_view document, std::vector<std::uint8_t> update,
                                     AppendCallback done) {
    enqueue_append(update_request(std::string(document), std::move(update), std::move(done)));
}

void GroupCommitStore::append_updates(std::vector<UpdateRequest> requests) {
    std::vector<WriteRequest> writes;
    writes.reserve(requests.size());
    for (UpdateRequest& request : requests)
        writes.push_back(update_request(std::move(request.document), std::move(request.update),
                                        std::move(request.done)));
    enqueue_appends(std::move(writes));
}

void GroupCommitStore::flush() {
    {
        std::lock_guard lock(queue_mutex_);
        if (closing_)
            return;  // close() drains everything itself
    }
    run_on_writer([] { return true; });
}

void GroupCommitStore::writer_loop() {
    std::vector<WriteRequest> batch;
    std::vector<AppendResult> results;
    for (;;) {
        {
            std::unique_lock lock(queue_mutex_);
            queue_cv_.wait(lock, [this] { return !queue_.empty() || closing_; });
            if (queue_.empty())
                break;  // closing and drained
            const std::size_t take =
                std::min(queue_.size(), std::max<std::size_t>(1, limits_.max_batch));
            for (std::size_t i = 0; i < take; ++i) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        results.assign(batch.size(), AppendResult{});
        try {
            write_batch(batch, results);
        } catch (const std::exception& e) {
            // A backend that could not tell which requests made it: none did.
            for (auto& r : results)
                r = {AppendStatus::failed, std::string("store transaction failed: ") + e.what()};
        }
        complete(batch, results);
        std::size_t done_requests = 0;
        std::size_t done_bytes = 0;
        for (const auto& r : batch) {
            if (r.kind != WriteRequest::Kind::task) {
                ++done_requests;
                done_bytes += r.bytes;
            }
        }
        batch.clear();  // frees the payloads before the bound is released
        std::lock_guard lock(queue_mutex_);
        pending_requests_ -= done_requests;
        pending_bytes_ -= done_bytes;
    }
}

void GroupCommitStore::complete(std::vector<WriteRequest>& batch,
                                std::vector<AppendResult>& results) {
    // Durable (or failed): tell everyone, in queue order.
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (batch[i].kind != WriteRequest::Kind::task) {
            if (results[i].ok())
                appends_.fetch_add(1, std::memory_order_relaxed);
            else
                failed_.fetch_add(1, std::memory_order_relaxed);
        }
        if (!batch[i].done)
            continue;
        hand_back(batch[i], results[i]);
        try {
            batch[i].done(std::move(results[i]));
        } catch (...) {
            // A completion must not throw; the writer must not die of it.
        }
    }
}

}  // namespace huddle::store::detail
