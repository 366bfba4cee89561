#include "app/allocator_tuning.hpp"

#include <unistd.h>

#include <cstdlib>

namespace huddle::app {

void tune_allocator(char** argv) {
    if (std::getenv("GLIBC_TUNABLES") != nullptr)
        return;
    if (setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=4096", 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    // No /proc (or no exec): glibc's defaults, a little slower.
}

}  // namespace huddle::app
