// The linux-user backend's side of calls to host handlers (<bd/abi.h>,
// CALLS; <bd/handler.h>) and bulk marks: one step (PUT, INVOKE, GET, BLOB)
// per trap.
//
// A call's bytes travel only through the page of its record, which the
// trap's own load proved to be the guest's: the record must sit at offset
// 0 of its page, and the server reads and writes [record + BD_RECORD_SIZE,
// page end) and the record's args with process_vm_readv/writev on QEMU's
// host mapping of that page, which fail (EFAULT) instead of faulting when
// another guest thread unmapped or write-protected the page meanwhile.
// Nothing else of guest memory is touched, whatever the record says.
//
// Per guest thread (= host thread in linux-user), a CallBuffers holds the
// input gathered by PUT steps and the output INVOKE produced, for GET. It
// is allocated at the thread's first call and lives as long as the thread.
#ifndef BDTRACE_USERMODE_CALL_SERVER_H
#define BDTRACE_USERMODE_CALL_SERVER_H

#include <bd/abi.h>
#include <bdtrace/handlers/handler_set.h>
#include <bdtrace/record.h>

#include <cstdint>
#include <memory>

namespace bdtrace::usermode {

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
    // Records a bulk mark (bdtrace:blob); nullptr: BLOB steps are
    // answered -ENOTSUP.
    void (*blob)(const CallContext &ctx, uint32_t event, const uint8_t *data, uint32_t len) noexcept = nullptr;
    // After each INVOKE (bdtrace:call); nullptr: not reported.
    void (*called)(const CallContext &ctx, uint32_t event, int status, uint32_t in_len, uint32_t out_len,
                   uint64_t duration_ns) noexcept = nullptr;
};

// Serves one CALL step. `rec` is the validated private copy of the record
// (fields in host values), `host` the host address of the record in the
// guest's page, `swap` whether the guest's byte order is not the host's.
// Writes the answer (args, and output bytes into the page) and returns Ok;
// the caller then stores reply OK. Returns CallBadPage (record not at a
// page start; nothing written), NotReadable / NotWritable (the page went
// away; nothing more written), or CallBadStep (answered with a negative
// status; count it, then reply OK). `buffers` is the thread's, allocated
// here at its first call (nullptr afterwards only when out of memory:
// answered -ENOMEM).
RejectReason serve_call_step(handlers::HandlerSet &handlers, std::unique_ptr<CallBuffers> &buffers,
                             const CallContext &ctx, const bd_record &rec, uint64_t vaddr,
                             uintptr_t host, bool swap) noexcept;

}  // namespace bdtrace::usermode

#endif  // BDTRACE_USERMODE_CALL_SERVER_H
