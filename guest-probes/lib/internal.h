/*
 * Private to libbdguest: hooks for its unit tests (tests/guest). Not
 * exported from libbdguest.so (hidden visibility); link libbdguest.a.
 */
#ifndef BD_GUEST_INTERNAL_H
#define BD_GUEST_INTERNAL_H

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

#ifdef __cplusplus
}
#endif

#endif /* BD_GUEST_INTERNAL_H */
