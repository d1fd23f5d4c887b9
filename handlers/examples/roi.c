// SPDX-License-Identifier: MIT
/*
 * Example handler: a region of interest, like gem5's `m5 roi` work
 * markers. Code tracing (a filter rule with trace_code: true) records the
 * chosen process only between its two calls:
 *
 *   event base+0  begin: opens the caller's code-tracing gate and marks
 *                 event base+0 (so the trace shows where the region began);
 *                 result = how many regions began so far.
 *   event base+1  end: closes the gate and marks event base+1.
 *
 * ARGS: "base=N" (default 7020).
 */
#include <bd/handler.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct roi {
  struct bd_handler_host *host;
  const struct bd_handler_services *services;
  uint32_t base;
  atomic_ullong begun;
};

BD_HANDLER_EXPORT uint32_t bd_handler_abi_version(void) { return BD_HANDLER_ABI_VERSION; }

BD_HANDLER_EXPORT int bd_handler_init(struct bd_handler_host *host,
                                      const struct bd_handler_services *services, const char *args,
                                      void **state) {
  struct roi *r = calloc(1, sizeof *r);
  if (r == NULL) return -ENOMEM;
  r->host = host;
  r->services = services;
  const char *b = strstr(args, "base=");
  r->base = b != NULL ? (uint32_t)strtoul(b + 5, NULL, 10) : 7020u;
  atomic_init(&r->begun, 0);
  int rc = services->register_events(host, r->base, r->base + 1);
  if (rc != 0) {
    free(r);
    return rc;
  }
  /* No region before the first begin: closed from the start (without a
     * trace_code rule this is -ENOTSUP, and each call will say so). */
  (void)services->set_code_tracing(host, NULL, 0);
  *state = r;
  return 0;
}

BD_HANDLER_EXPORT int bd_handler_call(void *state, const struct bd_handler_caller *caller,
                                      struct bd_handler_request *call) {
  struct roi *r = state;
  const int begin = call->event == r->base;
  if (!begin && call->event != r->base + 1) return -ENOSYS;
  int rc = r->services->set_code_tracing(r->host, caller, begin);
  if (rc != 0) return rc;
  r->services->emit_mark(r->host, caller, call->event, NULL, begin ? "roi begin" : "roi end");
  call->result = begin ? atomic_fetch_add(&r->begun, 1) + 1 : atomic_load(&r->begun);
  return 0;
}

BD_HANDLER_EXPORT void bd_handler_fini(void *state) { free(state); }
