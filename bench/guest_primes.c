// SPDX-License-Identifier: MIT
/*
 * bench-guest-primes [LIMIT]
 *
 * A branchy CPU-bound guest with no marks: counts the primes below LIMIT
 * (default 200000) by trial division. Its translated blocks are short (a
 * compare, a division, a branch), so it shows what a per-block cost does to
 * a program: the code-tracing benchmarks (process-gated trace_code) run it
 * under qemu-x86_64 plain, with the gate open and with every block recorded.
 *
 * Prints "ns_total V" (the work, wall time, timed inside the guest),
 * "cpu_ns_total V" (the same span in thread CPU time) and "primes N".
 */
#include <stdint.h>
#include <stdio.h>

#include "bench_util.h"

static int is_prime(uint64_t n) {
  if (n < 2) return 0;
  for (uint64_t d = 2; d * d <= n; d++)
    if (n % d == 0) return 0;
  return 1;
}

int main(int argc, char **argv) {
  const uint64_t limit = argc > 1 ? bench_parse_u64("LIMIT", argv[1]) : 200000;
  const uint64_t c0 = bench_thread_cpu_ns();
  const uint64_t t0 = bench_now_ns();
  uint64_t primes = 0;
  for (uint64_t n = 0; n < limit; n++) primes += (uint64_t)is_prime(n);
  const uint64_t t1 = bench_now_ns();
  const uint64_t c1 = bench_thread_cpu_ns();
  printf("ns_total %llu\n", (unsigned long long)(t1 - t0));
  printf("cpu_ns_total %llu\n", (unsigned long long)(c1 - c0));
  printf("primes %llu\n", (unsigned long long)primes);
  return 0;
}
