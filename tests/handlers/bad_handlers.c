// SPDX-License-Identifier: MIT
/*
 * Handlers that are wrong on purpose, one per shared object, chosen at
 * build time by BAD_KIND (tests/handlers/CMakeLists.txt):
 *   1 abi2       bd_handler_abi_version() returns 2
 *   2 no_call    defines no bd_handler_call
 *   3 init_fails bd_handler_init returns -EINVAL
 *   4 misbehaves registers 9000-9002: 9000 claims more output than the
 *                capacity, 9001 returns a positive status, 9002 tries to
 *                register another id during a call and returns what the
 *                service said as its result
 */
#include <bd/handler.h>

#include <errno.h>
#include <stddef.h>

static struct bd_handler_host *g_host;
static const struct bd_handler_services *g_services;

BD_HANDLER_EXPORT uint32_t bd_handler_abi_version(void) {
  return BAD_KIND == 1 ? 2u : BD_HANDLER_ABI_VERSION;
}

BD_HANDLER_EXPORT int bd_handler_init(struct bd_handler_host *host,
                                      const struct bd_handler_services *services, const char *args,
                                      void **state) {
  (void)args;
  *state = NULL;
  g_host = host;
  g_services = services;
  if (BAD_KIND == 3) return -EINVAL;
  return services->register_events(host, 9000, 9002);
}

#if BAD_KIND != 2
BD_HANDLER_EXPORT int bd_handler_call(void *state, const struct bd_handler_caller *caller,
                                      struct bd_handler_request *call) {
  (void)state;
  (void)caller;
  switch (call->event) {
    case 9000:
      call->out_len = call->out_cap + 1;
      return 0;
    case 9001:
      return 5;
    case 9002:
      call->result = (uint64_t)(int64_t)g_services->register_events(g_host, 9100, 9100);
      return 0;
  }
  return -ENOSYS;
}
#endif

BD_HANDLER_EXPORT void bd_handler_fini(void *state) { (void)state; }
