/* SPDX-License-Identifier: MIT */
/*
 * The hostile guest programs' byte source (guest-hostile,
 * guest-hostile-system, guest-hostile-bar): xorshift64, seeded by the
 * caller, so a run's garbage is reproducible from its seed.
 */
#ifndef BD_TESTS_GUEST_PRNG_H
#define BD_TESTS_GUEST_PRNG_H

#include <stdint.h>

/* The next value of the sequence in *s (never 0 for a non-zero seed). */
static inline uint64_t xorshift64(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

#endif /* BD_TESTS_GUEST_PRNG_H */
