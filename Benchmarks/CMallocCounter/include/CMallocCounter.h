#ifndef ORDERTRACE_MALLOC_COUNTER_H
#define ORDERTRACE_MALLOC_COUNTER_H

#include <stdint.h>

/// Heap allocations (malloc, calloc, realloc, memalign, aligned_alloc, posix_memalign) made by
/// the calling thread so far.
///
/// The executable's own definitions of those functions count into a thread-local counter and
/// forward to glibc's allocator (__libc_malloc, ...), so the allocator is unchanged; one
/// thread-local increment per call is the whole cost. Benchmarks read it before and after an
/// operation.
uint64_t ordertrace_thread_allocations(void);

#endif
