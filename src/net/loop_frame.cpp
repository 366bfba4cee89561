#include "net/loop_frame.hpp"

namespace huddle::net {

FrameRef FramePool::hold(SharedFrame frame) {
    if (free_ == nullptr) {
        auto chunk = std::make_unique<FrameRef::Slot[]>(kSlotsPerChunk);
        for (std::size_t i = kSlotsPerChunk; i-- > 0;) {
            chunk[i].pool = this;
            chunk[i].next_free = free_;
            free_ = &chunk[i];
        }
        chunks_.push_back(std::move(chunk));
    }
    FrameRef::Slot* slot = free_;
    free_ = slot->next_free;
    slot->frame = std::move(frame);
    slot->holders = 1;
    ++in_use_;
    return FrameRef(slot);
}

void FramePool::release(FrameRef::Slot* slot) noexcept {
    slot->frame.reset();  // the bytes go once no loop holds them
    slot->next_free = free_;
    free_ = slot;
    --in_use_;
}

LoopDelivery::LoopDelivery(FramePool& pool, const RoomDelivery& delivery) {
    if (delivery.frame)
        frame = pool.hold(delivery.frame);
    if (delivery.compressed)
        compressed = pool.hold(delivery.compressed);
    for (std::size_t i = 0; i < document_frames.size(); ++i) {
        if (delivery.document_frames[i])
            document_frames[i] = pool.hold(delivery.document_frames[i]);
    }
}

}  // namespace huddle::net
