// An allocator that asks operator new for exactly the size of the object, for the completion
// handler of an operation that stays pending for a connection's whole life.
//
// asio otherwise takes an operation's memory from a small per-thread cache of freed blocks, and
// a block is reused for any operation that fits in it. An idle connection's read wait then
// keeps, for as long as the connection lives, a block that last held a larger operation (the
// accept, 240 bytes), not one of its own size.
#pragma once

#include <cstddef>
#include <new>

namespace huddle::net {

template <class T>
struct ExactSizeAllocator {
    using value_type = T;

    ExactSizeAllocator() = default;
    template <class U>
    ExactSizeAllocator(const ExactSizeAllocator<U>&) noexcept {}

    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
    void deallocate(T* p, std::size_t) noexcept { ::operator delete(p); }

    template <class U>
    bool operator==(const ExactSizeAllocator<U>&) const noexcept {
        return true;
    }
};

}  // namespace huddle::net
