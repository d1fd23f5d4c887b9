/* SPDX-License-Identifier: MIT */
/*
 * Private to libbdguest: hooks for its unit tests (tests/guest). Not
 * exported from libbdguest.so (hidden visibility); link libbdguest.a.
 */
#ifndef BD_GUEST_INTERNAL_H
#define BD_GUEST_INTERNAL_H

#include <stdint.h>

#include <bd/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The calling thread's record slot `i` (< BD_GUEST_SLOTS), as the last call
 * that used it left it; slot 0 is the one used by calls outside signal
 * handlers. NULL if i is out of range. */
const struct bd_record *bd_internal_slot(unsigned i);

/* The calling thread's current nesting depth (0 outside any call). */
unsigned bd_internal_depth(void);

/* What the process found on its first call (ring mode, <bd/ring.h>;
 * system mode, <bd/channel.h>). */
enum {
  BD_INTERNAL_MODE_UNKNOWN = 0, /* no call yet */
  BD_INTERNAL_MODE_USER = 1,    /* no ring, no channel: TLS records */
  BD_INTERNAL_MODE_SYSTEM = 2,  /* channel mapped */
  BD_INTERNAL_MODE_EACCES = 3,  /* channel device, not allowed to map it */
  BD_INTERNAL_MODE_RING = 4     /* ring region (BD_RING) mapped */
};
int bd_internal_process_mode(void);

/* System mode: the user slot the calling thread owns, or -1. */
int bd_internal_sys_slot(void);

/* Ring mode: the ring the calling thread owns, or -1. */
int bd_internal_ring_index(void);

/* Ring mode: records this process did not write because their thread
 * owned no ring (see bd.h). */
uint64_t bd_internal_ring_unowned_lost(void);

/* Run fn(arg) with the calling thread's depth raised by one, as if fn were
 * a signal handler that interrupted a libbdguest call. Returns fn's value. */
int bd_internal_nested(int (*fn)(void *), void *arg);

/* System mode: 1 when the last handshake succeeded. */
int bd_internal_present(void);

#ifdef __cplusplus
}
#endif

#endif /* BD_GUEST_INTERNAL_H */
