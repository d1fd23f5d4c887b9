/* SPDX-License-Identifier: GPL-2.0-or-later */
// Calls to host handlers (<bd/abi.h>, CALLS; <bd/handler.h>) and bulk
// marks, both backends: one step (PUT, INVOKE, GET, BLOB) per trap.
//
// A call's bytes travel only through the page of its record (a CallPage:
// the record at offset 0, the step's bytes after it), which each backend
// proves to be the guest's: the linux-user backend reaches it with
// process_vm_readv/writev on QEMU's host mapping (usermode/call_page.h),
// the full-system backend through its own mapping of the channel's data
// page (device/). Nothing else of guest memory is touched, whatever the
// record says.
//
// Per caller (a guest thread in linux-user, a data page in full-system
// mode), a CallBuffers holds the input gathered by PUT steps and the
// output INVOKE produced, for GET. It is allocated at the first call and
// lives as long as the caller.
#ifndef BDTRACE_PLUGIN_CALL_SERVER_H
#define BDTRACE_PLUGIN_CALL_SERVER_H

#include <bd/abi.h>
#include <bdtrace/handlers/handler_set.h>
#include <bdtrace/record.h>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace bdtrace::plugin {

struct CallBuffers {
  uint8_t in[BD_CALL_IO_MAX];
  uint8_t out[BD_CALL_IO_MAX];
  uint32_t in_len = 0;   // input gathered so far (PUT steps)
  uint32_t out_len = 0;  // output of the last INVOKE (GET reads it)
};

// Who called, as the host knows it, and where a BLOB step's bytes go.
struct CallContext {
  uint32_t vcpu;
  uint32_t pid;
  uint32_t tid;
  const char *arch;
  uint32_t mode = BD_HANDLER_MODE_USER;  // enum bd_handler_mode
  // Records a bulk mark (bdtrace:blob); nullptr: BLOB steps are
  // answered -ENOTSUP.
  void (*blob)(const CallContext &ctx, uint32_t event, const uint8_t *data, uint32_t len) noexcept = nullptr;
  // After each INVOKE (bdtrace:call); nullptr: not reported.
  void (*called)(const CallContext &ctx, uint32_t event, int status, uint32_t in_len, uint32_t out_len,
                 uint64_t duration_ns) noexcept = nullptr;
};

// The page of a call's record, as the server may touch it: offsets from
// the record (the page's first byte), [0, BD_PAGE_SIZE). False when the
// page cannot be read (written) any more; the server then stops.
class CallPage {
 public:
  virtual bool read(uint32_t offset, void *to, std::size_t n) noexcept = 0;
  virtual bool write(uint32_t offset, const void *from, std::size_t n) noexcept = 0;

 protected:
  ~CallPage() = default;
};

// Serves one CALL step. `rec` is the validated private copy of the record
// (fields in host values), `page` its page, `swap` whether the guest's
// byte order is not the host's. Writes the answer (args, and output bytes
// into the page) and returns Ok; the caller then stores reply OK. Returns
// NotReadable / NotWritable (the page went away; nothing more written), or
// CallBadStep (answered with a negative status; count it, then reply OK).
// `buffers` is the caller's, allocated here at its first call (nullptr
// afterwards only when out of memory: answered -ENOMEM).
RejectReason serve_call_step(handlers::HandlerSet &handlers, std::unique_ptr<CallBuffers> &buffers,
                             const CallContext &ctx, const bd_record &rec, CallPage &page,
                             bool swap) noexcept;

// The record a handler's emit_mark service stands for (<bd/handler.h>): a
// MARK (text nullptr) or MARK_TEXT (text cut at BD_TEXT_MAX bytes) of
// `event` with `args` (nullptr: all 0), as if `who` had marked it.
bd_record handler_mark_record(const bd_handler_caller &who, uint32_t event, const uint64_t *args,
                              const char *text) noexcept;

// Answers a step with `status` (a negative errno value) without serving
// it: CallBadStep, or NotWritable when the answer could not be written.
RejectReason refuse_call_step(CallPage &page, int status, bool swap) noexcept;

}  // namespace bdtrace::plugin

#endif  // BDTRACE_PLUGIN_CALL_SERVER_H
