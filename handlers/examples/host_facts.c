// SPDX-License-Identifier: MIT
/*
 * Example handler: facts only the host knows.
 *
 *   event base+0  host time: result = host CLOCK_MONOTONIC in ns (the clock
 *                 LTTng stamps events with), so a guest can relate its own
 *                 clock to the trace's.
 *   event base+1  trace state: result = 1 while an LTTng session records
 *                 bdtrace events, else 0.
 *   event base+2  who am I: output = "vcpu=V pid=P tid=T mode=M arch=A",
 *                 as the host sees the call; result = its length.
 *
 * ARGS: "base=N" (default 7010).
 */
#include <bd/handler.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct facts {
  struct bd_handler_host *host;
  const struct bd_handler_services *services;
  uint32_t base;
};

BD_HANDLER_EXPORT uint32_t bd_handler_abi_version(void) { return BD_HANDLER_ABI_VERSION; }

BD_HANDLER_EXPORT int bd_handler_init(struct bd_handler_host *host,
                                      const struct bd_handler_services *services, const char *args,
                                      void **state) {
  struct facts *f = calloc(1, sizeof *f);
  if (f == NULL) return -ENOMEM;
  f->host = host;
  f->services = services;
  const char *b = strstr(args, "base=");
  f->base = b != NULL ? (uint32_t)strtoul(b + 5, NULL, 10) : 7010u;
  int rc = services->register_events(host, f->base, f->base + 2);
  if (rc != 0) {
    free(f);
    return rc;
  }
  *state = f;
  return 0;
}

BD_HANDLER_EXPORT int bd_handler_call(void *state, const struct bd_handler_caller *caller,
                                      struct bd_handler_request *call) {
  struct facts *f = state;
  switch (call->event - f->base) {
    case 0: {
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      call->result = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
      return 0;
    }
    case 1:
      call->result = (uint64_t)f->services->recording(f->host);
      return 0;
    case 2: {
      char text[128];
      int n = snprintf(text, sizeof text, "vcpu=%u pid=%u tid=%u mode=%s arch=%s", caller->vcpu, caller->pid,
                       caller->tid, caller->mode == BD_HANDLER_MODE_SYSTEM ? "system" : "user", caller->arch);
      if (n < 0) return -EIO;
      call->result = (uint64_t)n;
      call->out_len = (uint32_t)n < call->out_cap ? (uint32_t)n : call->out_cap;
      memcpy(call->out, text, call->out_len);
      return 0;
    }
  }
  return -ENOSYS;
}

BD_HANDLER_EXPORT void bd_handler_fini(void *state) { free(state); }
