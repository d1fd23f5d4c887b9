// Proven-writable page cache and the reply store (see reply_writer.h).
#include "reply_writer.h"

#include <bd/abi.h>

#include <sys/uio.h>
#include <unistd.h>

#include <atomic>

namespace bdtrace::usermode {

namespace {

constexpr uintptr_t kPageMask = ~static_cast<uintptr_t>(BD_PAGE_SIZE - 1);

// Starts at 1 so a fresh writer (generation 0) is always stale.
std::atomic<uint64_t> g_generation{1};

}  // namespace

void invalidate_writable_pages() noexcept {
    g_generation.fetch_add(1, std::memory_order_acq_rel);
}

bool syscall_changes_mappings(int64_t num) noexcept {
    switch (num) {
    case 9:    // mmap
    case 10:   // mprotect
    case 11:   // munmap
    case 12:   // brk
    case 25:   // mremap
    case 28:   // madvise (keeps mappings, but MADV_DONTNEED & co: be safe)
    case 30:   // shmat
    case 67:   // shmdt
    case 329:  // pkey_mprotect
        return true;
    default:
        return false;
    }
}

void ReplyWriter::clear(uint64_t generation) noexcept {
    generation_ = generation;
    for (auto &p : pages_) p = kNoPage;
    next_ = 0;
}

bool ReplyWriter::write(uintptr_t host, int32_t value) noexcept {
    const uintptr_t page = host & kPageMask;
    const uint64_t gen = g_generation.load(std::memory_order_acquire);
    if (generation_ == gen) {
        for (uintptr_t p : pages_) {
            if (p == page) {
                __atomic_store_n(reinterpret_cast<int32_t *>(host), value, __ATOMIC_RELAXED);
                return true;
            }
        }
    } else {
        clear(gen);
    }
    // Unknown page: let the kernel do the write; EFAULT instead of SIGSEGV.
    iovec local{&value, sizeof value};
    iovec remote{reinterpret_cast<void *>(host), sizeof value};
    if (process_vm_writev(getpid(), &local, 1, &remote, 1, 0) !=
        static_cast<ssize_t>(sizeof value))
        return false;
    pages_[next_] = page;
    next_ = (next_ + 1) % kPages;
    return true;
}

}  // namespace bdtrace::usermode
