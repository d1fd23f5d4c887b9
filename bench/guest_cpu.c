// SPDX-License-Identifier: MIT
/*
 * bench-guest-cpu [ROUNDS]
 *
 * A CPU-bound guest with no marks at all: integer hashing over a 64 KiB
 * buffer, a fixed amount of work. Run under qemu-x86_64 with and without the
 * bdtrace plugin, it shows what the plugin costs a program that never
 * traces (translation-time scanning only; no callbacks should be inserted).
 *
 * Prints "ns_total V" for the whole work (wall time, timed inside the guest,
 * so QEMU and plugin start-up are not counted), "cpu_ns_total V" (the same
 * span in thread CPU time, robust against busy neighbours) and "checksum C"
 * (keeps the work observable so the compiler cannot drop it).
 */
#include <stdint.h>
#include <stdio.h>

#include "bench_util.h"

#define WORDS (64 * 1024 / 8)

static uint64_t buffer[WORDS];

static inline uint64_t mix(uint64_t h, uint64_t v) {
  /* FNV-1a-like step on a word, then a xorshift-multiply finalizer. */
  h ^= v;
  h *= 0x100000001b3ull;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 32);
}

int main(int argc, char **argv) {
  const uint64_t rounds = argc > 1 ? bench_parse_u64("ROUNDS", argv[1]) : 10000;
  for (uint64_t i = 0; i < WORDS; ++i) buffer[i] = i * 0x9e3779b97f4a7c15ull;

  uint64_t h = 0xcbf29ce484222325ull;
  const uint64_t c0 = bench_thread_cpu_ns();
  const uint64_t t0 = bench_now_ns();
  for (uint64_t r = 0; r < rounds; ++r) {
    for (uint64_t i = 0; i < WORDS; ++i) {
      h = mix(h, buffer[i]);
      buffer[i] ^= h & 0xff; /* feed back so every round differs */
    }
  }
  const uint64_t t1 = bench_now_ns();
  const uint64_t c1 = bench_thread_cpu_ns();
  printf("ns_total %llu\n", (unsigned long long)(t1 - t0));
  printf("cpu_ns_total %llu\n", (unsigned long long)(c1 - c0));
  printf("checksum %016llx\n", (unsigned long long)h);
  return 0;
}
