/* SPDX-License-Identifier: MIT */
/*
 * bdtrace host handlers, ABI version 1: user code that bdtrace loads into
 * its QEMU plugin and calls when a guest makes a bdtrace call for one of
 * the event ids it registered (issue #13).
 *
 * A handler is a shared object (C or C++, built with -fPIC) that defines the
 * four functions below with C linkage and default visibility
 * (BD_HANDLER_EXPORT). bdtrace loads it with dlopen(RTLD_NOW | RTLD_LOCAL),
 * checks bd_handler_abi_version() against BD_HANDLER_ABI_VERSION and
 * refuses it, saying which, when a symbol is missing or the version
 * differs. `bd-handler-check PATH[:ARGS]` does exactly what the plugin
 * does at start and at exit (load, init, fini) and prints what the handler
 * registered: run it on a handler before giving it to bd-run.
 *
 * LIFE CYCLE
 *   1. bd_handler_abi_version(): called first, from one thread.
 *   2. bd_handler_init(host, services, args, &state): once, before any
 *      guest call, from one thread. `args` is the text after the first ':'
 *      of the PATH[:ARGS] the user gave ("" when none); the handler
 *      registers the event ids it answers with services->register_events
 *      (only here). It returns 0, or a negative errno value to refuse to
 *      start (the run then does not start, and the message names the
 *      handler and the value). `state` is the handler's: bdtrace passes it
 *      back unchanged.
 *   3. bd_handler_call(state, caller, call): for each guest call of a
 *      registered id, on the thread of the vCPU that made it.
 *   4. bd_handler_fini(state): once, after the last call returned, from
 *      one thread, also when the guest crashed. Release everything here.
 *
 * THREAD SAFETY
 *   Calls arrive on several vCPU threads at once (user mode: one per guest
 *   thread; system mode: one per vCPU): bd_handler_call must be
 *   thread-safe. Services may be called from bd_handler_call on the
 *   calling thread.
 *
 * BLOCKING AND COST
 *   While bd_handler_call runs, the calling guest thread (user mode) or
 *   the whole vCPU (system mode) is stopped: its time is the guest's. A
 *   handler may take locks and make system calls; it should not wait for
 *   anything a guest thread must do first (two guest threads of one vCPU
 *   in system mode would deadlock), and it must not call back into QEMU.
 *
 * OWNERSHIP
 *   Everything bdtrace passes (caller, call, in, out, host, services) is
 *   bdtrace's and valid only during the function it is passed to, except
 *   `host` and `services`, which stay valid until bd_handler_fini returns.
 *   `in` holds a private copy of the guest's input (never guest memory,
 *   which another guest thread could change meanwhile); `out` is a buffer
 *   of out_cap bytes that bdtrace copies back to the guest's output buffer
 *   after the call (out_len bytes of it). Strings a handler passes to a
 *   service are copied before the service returns.
 */
#ifndef BD_HANDLER_H
#define BD_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BD_HANDLER_ABI_VERSION 1u

/* The most bytes of input and of output one call carries. */
#define BD_HANDLER_IO_MAX (64u * 1024u)

#if defined(__GNUC__)
#define BD_HANDLER_EXPORT __attribute__((visibility("default")))
#else
#define BD_HANDLER_EXPORT
#endif

/* Where the guest call came from. */
enum bd_handler_mode {
  BD_HANDLER_MODE_USER = 1,  /* a qemu-user guest (bd-run PROGRAM)        */
  BD_HANDLER_MODE_SYSTEM = 2 /* a full-system guest (bd-run --system)     */
};

/* Who called. In user mode pid and tid are the guest's own, known to the
 * host; in system mode they are what the guest's record says (the host
 * cannot check them) and `kernel` tells whether the call ran in guest
 * kernel mode. */
struct bd_handler_caller {
  uint32_t vcpu;     /* QEMU's vCPU index                                */
  uint32_t pid;      /* guest process id                                 */
  uint32_t tid;      /* guest thread id                                  */
  uint32_t mode;     /* enum bd_handler_mode                             */
  uint32_t kernel;   /* system mode: 1 when called from guest kernel mode */
  uint32_t reserved; /* 0                                                */
  const char *arch;  /* "x86_64", "aarch64", "riscv64", "s390x": static   */
};

/* One call: the input the guest sent, the output buffer bdtrace copies
 * back, and the 64-bit result the guest receives. */
struct bd_handler_request {
  uint32_t event;   /* the id the guest called                           */
  uint32_t in_len;  /* bytes at `in` (<= BD_HANDLER_IO_MAX)              */
  const void *in;   /* a private copy of the guest's input (NULL if 0)   */
  void *out;        /* out_cap bytes the handler may write               */
  uint32_t out_cap; /* the guest's output capacity (<= BD_HANDLER_IO_MAX) */
  uint32_t out_len; /* set by the handler: bytes of `out` to copy back   */
  uint64_t result;  /* set by the handler: what the guest's call returns */
};

/* The host, opaque to handlers: pass it back to the services. */
struct bd_handler_host;

/* What bdtrace offers a handler. Valid from bd_handler_init until
 * bd_handler_fini returns. Functions return 0 or a negative errno value. */
struct bd_handler_services {
  /* sizeof(struct bd_handler_services) as bdtrace built it: fields are
     * only ever appended, so a handler may check for the ones it needs. */
  uint32_t size;
  uint32_t reserved;
  /* During bd_handler_init only: answer calls of ids first..last
     * (inclusive). -EINVAL: first > last; -EEXIST: another handler (or an
     * earlier registration) has one of them; -EPERM: after init. */
  int (*register_events)(struct bd_handler_host *host, uint32_t first, uint32_t last);
  /* Record a bdtrace:mark event as if `caller` had marked `event` with
     * these arguments (args may be NULL: all 0) and, when text is not NULL,
     * this text (cut at BD_TEXT_MAX bytes). Cheap when nothing records. */
  int (*emit_mark)(struct bd_handler_host *host, const struct bd_handler_caller *caller, uint32_t event,
                   const uint64_t *args, const char *text);
  /* A region of interest for code tracing (the filter config's
     * trace_code rules): on != 0 opens the gate of the caller's process,
     * 0 closes it. Before any call the rules alone decide; from the first
     * call on, a thread the rules select is traced only while the last
     * call for its process said on. caller may be NULL (e.g. in
     * bd_handler_init, to start closed): every process, forgetting what
     * was set for single ones. Processes are the caller's pid (user and
     * full-system mode; a forked child is a process of its own). Takes
     * effect at each vCPU's next block. -ENOTSUP when the run traces no
     * code (no trace_code rule in the filter config); -ENOSPC when 256
     * processes already have a state of their own. */
  int (*set_code_tracing)(struct bd_handler_host *host, const struct bd_handler_caller *caller, int on);
  /* 1 when an LTTng session records bdtrace events now, else 0. */
  int (*recording)(struct bd_handler_host *host);
};

/* The functions a handler defines (see LIFE CYCLE). */
BD_HANDLER_EXPORT uint32_t bd_handler_abi_version(void);
BD_HANDLER_EXPORT int bd_handler_init(struct bd_handler_host *host,
                                      const struct bd_handler_services *services, const char *args,
                                      void **state);
/* Returns 0, or a negative errno value that becomes the guest call's
 * status (result and output are then not passed back; bdtrace counts it). */
BD_HANDLER_EXPORT int bd_handler_call(void *state, const struct bd_handler_caller *caller,
                                      struct bd_handler_request *call);
BD_HANDLER_EXPORT void bd_handler_fini(void *state);

#ifdef __cplusplus
}
#endif

#endif /* BD_HANDLER_H */
