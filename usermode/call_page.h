/* SPDX-License-Identifier: GPL-2.0-or-later */
// The linux-user backend's CallPage (<bdtrace/plugin/call_server.h>): the
// page of a CALL record in the guest's memory, reached through QEMU's host
// mapping of it.
//
// The trap's own load proved the record's page to be the guest's; the
// record must sit at offset 0 of it (else the step is rejected as
// call_bad_page, nothing touched). Reads and writes use process_vm_readv /
// process_vm_writev on the host address, which fail (EFAULT) instead of
// faulting when another guest thread unmapped or write-protected the page
// meanwhile, and never leave [record, record + BD_PAGE_SIZE).
#ifndef BDTRACE_USERMODE_CALL_PAGE_H
#define BDTRACE_USERMODE_CALL_PAGE_H

#include <bdtrace/plugin/call_server.h>

#include <sys/uio.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

namespace bdtrace::usermode {

class ProcessCallPage final : public plugin::CallPage {
 public:
  explicit ProcessCallPage(uintptr_t host) noexcept : host_(host) {}

  bool read(uint32_t offset, void *to, std::size_t n) noexcept override {
    if (n == 0) return true;
    if (offset > BD_PAGE_SIZE || n > BD_PAGE_SIZE - offset) return false;
    iovec local{to, n}, remote{reinterpret_cast<void *>(host_ + offset), n};
    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(n);
  }
  bool write(uint32_t offset, const void *from, std::size_t n) noexcept override {
    if (n == 0) return true;
    if (offset > BD_PAGE_SIZE || n > BD_PAGE_SIZE - offset) return false;
    iovec local{const_cast<void *>(from), n}, remote{reinterpret_cast<void *>(host_ + offset), n};
    return process_vm_writev(getpid(), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(n);
  }

 private:
  uintptr_t host_;
};

// One CALL step of a linux-user guest: the record at guest address
// `vaddr`, host address `host`. CallBadPage when it is not at a page's
// start (nothing written), else plugin::serve_call_step's answer.
inline RejectReason serve_user_call_step(handlers::HandlerSet &handlers,
                                         std::unique_ptr<plugin::CallBuffers> &buffers,
                                         const plugin::CallContext &ctx, const bd_record &rec, uint64_t vaddr,
                                         uintptr_t host, bool swap) noexcept {
  if (vaddr % BD_PAGE_SIZE != 0) return RejectReason::CallBadPage;
  ProcessCallPage page(host);
  return plugin::serve_call_step(handlers, buffers, ctx, rec, page, swap);
}

}  // namespace bdtrace::usermode

#endif  // BDTRACE_USERMODE_CALL_PAGE_H
