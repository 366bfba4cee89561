// Frames as one event loop queues them. The bytes are shared between loops (SharedFrame, whose
// count is atomic); inside a loop every queued copy is a FrameRef, counted without atomics since
// only that loop's thread touches it. A fan-out to N connections of a loop then costs one atomic
// increment and one pool slot, however large N is.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/shared_frame.hpp"

namespace huddle::net {

class FramePool;

class FrameRef {
  public:
    FrameRef() = default;
    FrameRef(const FrameRef& other) noexcept : slot_(other.slot_) {
        if (slot_ != nullptr)
            ++slot_->holders;
    }
    FrameRef(FrameRef&& other) noexcept : slot_(std::exchange(other.slot_, nullptr)) {}
    FrameRef& operator=(FrameRef other) noexcept {
        std::swap(slot_, other.slot_);
        return *this;
    }
    ~FrameRef() { reset(); }

    void reset() noexcept;
    const std::string& bytes() const { return *slot_->frame; }
    std::size_t size() const { return slot_->frame->size(); }
    explicit operator bool() const { return slot_ != nullptr; }

  private:
    friend class FramePool;
    struct Slot {
        SharedFrame frame;
        FramePool* pool = nullptr;
        std::uint32_t holders = 0;
        Slot* next_free = nullptr;
    };
    explicit FrameRef(Slot* slot) noexcept : slot_(slot) {}

    Slot* slot_ = nullptr;
};

// One per event loop. Slots are allocated in chunks and reused, so holding a frame allocates
// nothing once the pool has grown to the loop's peak of distinct queued frames. The pool must
// outlive every FrameRef it handed out.
class FramePool {
  public:
    FramePool() = default;
    FramePool(const FramePool&) = delete;
    FramePool& operator=(const FramePool&) = delete;

    FrameRef hold(SharedFrame frame);

    // Slots in use (frames held by at least one queue or delivery), for the tests.
    std::size_t in_use() const { return in_use_; }

  private:
    friend class FrameRef;
    static constexpr std::size_t kSlotsPerChunk = 256;

    void release(FrameRef::Slot* slot) noexcept;

    std::vector<std::unique_ptr<FrameRef::Slot[]>> chunks_;
    FrameRef::Slot* free_ = nullptr;
    std::size_t in_use_ = 0;
};

inline void FrameRef::reset() noexcept {
    if (slot_ != nullptr && --slot_->holders == 0)
        slot_->pool->release(slot_);
    slot_ = nullptr;
}

// A RoomDelivery as one loop hands it to its connections: each variant held once per loop.
struct LoopDelivery {
    FrameRef frame;
    FrameRef compressed;
    std::array<FrameRef, endpoints::kDocumentFormatCount> document_frames;

    LoopDelivery(FramePool& pool, const RoomDelivery& delivery);
};

}  // namespace huddle::net
