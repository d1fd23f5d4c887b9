// SPDX-License-Identifier: GPL-2.0-or-later
// Proven-writable page cache and the reply store (see reply_writer.h).
#include "reply_writer.h"

#include <bd/abi.h>

#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <utility>

namespace bdtrace::usermode {

std::atomic<uint64_t> g_writable_generation{1};

void invalidate_writable_pages() noexcept { g_writable_generation.fetch_add(1, std::memory_order_acq_rel); }

void ReplyWriter::clear(uint64_t generation) noexcept {
  generation_ = generation;
  for (auto &p : pages_) p = kNoPage;
}

// Most recently used page first, so the inline fast path checks one slot.
ReplyWriter::Proof ReplyWriter::prove_or_write(uintptr_t host, uintptr_t page, int32_t value) noexcept {
  const uint64_t gen = g_writable_generation.load(std::memory_order_acquire);
  if (generation_ != gen) clear(gen);
  unsigned hit = kPages;
  for (unsigned i = 0; i < kPages; ++i)
    if (pages_[i] == page) hit = i;
  Proof proof = Proof::Proven;
  if (hit == kPages) {
    // Unknown page: let the kernel do the write; EFAULT instead of SIGSEGV.
    iovec local{&value, sizeof value};
    iovec remote{reinterpret_cast<void *>(host), sizeof value};
    if (process_vm_writev(getpid(), &local, 1, &remote, 1, 0) != static_cast<ssize_t>(sizeof value))
      return Proof::NotWritable;
    hit = kPages - 1;  // evict the least recently used
    pages_[hit] = page;
    proof = Proof::Written;
  }
  for (unsigned i = hit; i > 0; --i) std::swap(pages_[i], pages_[i - 1]);
  return proof;
}

}  // namespace bdtrace::usermode
