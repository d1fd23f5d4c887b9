/* SPDX-License-Identifier: GPL-2.0-or-later */
// Writing bd_record.reply into guest memory without ever crashing QEMU.
//
// The guest's trap load proved the record's page readable, not writable: a
// hostile (or careless) guest can trap on a record in a PROT_READ page, and a
// plain store from the plugin would then kill QEMU with SIGSEGV. So a page is
// first proven writable with process_vm_writev() on our own pid, which
// performs the write through the kernel and fails with EFAULT instead of
// faulting. Proven pages are kept in a tiny per-thread cache, so the common
// case (one record slot per thread, reused) is a plain store.
//
// The value is stored as it is given: the caller passes it already in the
// guest's byte order (reply_in_guest_order in <bdtrace/record.h>), so a
// big-endian guest (s390x) reads the reply it expects.
//
// Caches are invalidated by a global generation counter that the plugin bumps
// around every guest syscall that can change mappings (mmap, mprotect,
// munmap, brk, mremap, shmat, shmdt, madvise, pkey_mprotect; their numbers
// per guest architecture are in guest_targets.cc): bumped before the syscall
// and again after it returns, so a thread that re-proves a page while the
// syscall runs does not keep that proof.
//
// Residual race (plugin API 1 to 4; closed from API 5 on, see
// guest_record_access.h): another guest thread can remap or mprotect the
// page between this thread's cache check and its store; the store could then
// fault and QEMU would die. Closing it without QEMU's help would need a lock
// on every trap against every memory syscall. write_with() lets the caller
// store through QEMU instead (API 5), which fails instead of faulting. Likewise QEMU itself write-protects
// host pages that hold translated guest code (self-modifying-code detection);
// a record sharing a page with executed guest code can be reported
// not_writable (the proof fails while QEMU holds the page read-only), and a
// direct store after QEMU protected a proven page relies on QEMU's own
// SIGSEGV unprotect path (untested). Records live in data pages in practice.
#ifndef BDTRACE_USERMODE_REPLY_WRITER_H
#define BDTRACE_USERMODE_REPLY_WRITER_H

#include <bd/abi.h>

#include <atomic>
#include <cstdint>

namespace bdtrace::usermode {

// Bumped by invalidate_writable_pages(); starts at 1 so a fresh writer
// (generation 0) is always stale.
extern std::atomic<uint64_t> g_writable_generation;

// Called from the syscall callbacks: forget every thread's proven pages.
void invalidate_writable_pages() noexcept;

// One per vCPU thread (the owner keeps it in its thread-local state, so the
// hot path pays for one TLS lookup in total). Not thread-safe by design.
class ReplyWriter {
 public:
  // Writes `value` (4 bytes) at host address `host`; false (nothing
  // written) if the page is not writable. Inline fast path: the page
  // proven last, still valid, is one compare and a store.
  bool write(uintptr_t host, int32_t value) noexcept {
    return write_with(host, value, [host, value]() noexcept {
      __atomic_store_n(reinterpret_cast<int32_t *>(host), value, __ATOMIC_RELAXED);
      return true;
    });
  }

  // The same, with `store()` (returning false when it could not store)
  // doing the store into a page proven writable; a page not proven yet is
  // proven by writing `value` through the kernel, without store().
  template <class Store>
  bool write_with(uintptr_t host, int32_t value, Store &&store) noexcept {
    const uintptr_t page = host & ~static_cast<uintptr_t>(BD_PAGE_SIZE - 1);
    if (__builtin_expect(
            pages_[0] == page && generation_ == g_writable_generation.load(std::memory_order_acquire), 1))
      return store();
    switch (prove_or_write(host, page, value)) {
      case Proof::Proven:
        return store();
      case Proof::Written:
        return true;
      case Proof::NotWritable:
        break;
    }
    return false;
  }

  // Forget every proven page (fork child).
  void reset() noexcept { clear(0); }

 private:
  static constexpr unsigned kPages = 4;
  static constexpr uintptr_t kNoPage = ~static_cast<uintptr_t>(0);  // never page-aligned

  // A page in the cache (Proven: the caller stores), or written through
  // the kernel and now cached (Written), or not writable.
  enum class Proof { Proven, Written, NotWritable };
  void clear(uint64_t generation) noexcept;
  Proof prove_or_write(uintptr_t host, uintptr_t page, int32_t value) noexcept;

  uint64_t generation_ = 0;  // 0 = never valid (the global starts at 1)
  uintptr_t pages_[kPages] = {kNoPage, kNoPage, kNoPage, kNoPage};
};

}  // namespace bdtrace::usermode

#endif  // BDTRACE_USERMODE_REPLY_WRITER_H
