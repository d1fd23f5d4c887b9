// SPDX-License-Identifier: MIT
/*
 * The benchmark's host handler (bench-guest-calls): event 9900 does
 * nothing and answers 0, so a call costs what bdtrace's call path costs.
 */
#include <bd/handler.h>

BD_HANDLER_EXPORT uint32_t bd_handler_abi_version(void) { return BD_HANDLER_ABI_VERSION; }

BD_HANDLER_EXPORT int bd_handler_init(struct bd_handler_host *host,
                                      const struct bd_handler_services *services, const char *args,
                                      void **state) {
  (void)args;
  *state = 0;
  return services->register_events(host, 9900, 9900);
}

BD_HANDLER_EXPORT int bd_handler_call(void *state, const struct bd_handler_caller *caller,
                                      struct bd_handler_request *call) {
  (void)state;
  (void)caller;
  (void)call;
  return 0;
}

BD_HANDLER_EXPORT void bd_handler_fini(void *state) { (void)state; }
