// Process-wide allocator settings that glibc reads only when a program starts.
#pragma once

namespace huddle::app {

// glibc keeps at most 7 freed blocks of each size per thread (its tcache) and takes every other
// allocation through the arena's slower bins. A loop relaying a store batch allocates and then
// frees thousands of same-sized blocks at once (frames, deliveries), so it lets each thread keep
// up to 4,096 (documents benchmark, docs/benchmarks.md: 552 vs 601 ns per relay against 1,000,
// which gave 626 vs 713 against the default; idle memory per connection unchanged). The setting can
// only be given through the environment at startup: when GLIBC_TUNABLES is not set, it is set and
// the program executes itself again, once (same pid). A GLIBC_TUNABLES of the operator's own, even
// empty, is left as it is. Returns only if the program was not executed again.
void tune_allocator(char** argv);

}  // namespace huddle::app
