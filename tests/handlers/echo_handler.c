// SPDX-License-Identifier: MIT
/*
 * Test handler: event 9500 answers its input reversed (as much as fits
 * the output capacity), with result = the sum of the input's bytes, and
 * emits one mark of event 9501 with args {input length, output length,
 * sum, caller tid} through the services, so a test can check both what
 * the guest got and what the trace holds.
 */
#include <bd/handler.h>

#include <errno.h>
#include <stdint.h>

static struct bd_handler_host *g_host;
static const struct bd_handler_services *g_services;

BD_HANDLER_EXPORT uint32_t bd_handler_abi_version(void) { return BD_HANDLER_ABI_VERSION; }

BD_HANDLER_EXPORT int bd_handler_init(struct bd_handler_host *host,
                                      const struct bd_handler_services *services, const char *args,
                                      void **state) {
  (void)args;
  g_host = host;
  g_services = services;
  *state = NULL;
  return services->register_events(host, 9500, 9500);
}

BD_HANDLER_EXPORT int bd_handler_call(void *state, const struct bd_handler_caller *caller,
                                      struct bd_handler_request *call) {
  (void)state;
  const unsigned char *in = call->in;
  unsigned char *out = call->out;
  uint64_t sum = 0;
  for (uint32_t i = 0; i < call->in_len; i++) sum += in[i];
  const uint32_t n = call->in_len < call->out_cap ? call->in_len : call->out_cap;
  for (uint32_t i = 0; i < n; i++) out[i] = in[call->in_len - 1 - i];
  call->out_len = n;
  call->result = sum;
  const uint64_t args[4] = {call->in_len, n, sum, caller->tid};
  g_services->emit_mark(g_host, caller, 9501, args, NULL);
  return 0;
}

BD_HANDLER_EXPORT void bd_handler_fini(void *state) { (void)state; }
