// SPDX-License-Identifier: MIT
/*
 * bench-native-tp ITERATIONS [REPETITIONS]
 *
 * The reference point for bdtrace: the cost of the same bdtrace:mark
 * LTTng-UST event emitted natively (4 u64 arguments, empty text), as a
 * program would with a plain tracepoint. Recorded or not depends on whether
 * an LTTng session enables bdtrace:* while it runs; run.sh does both.
 *
 * Prints "ns_per_op V": the best repetition, so scheduling noise on a
 * shared machine inflates the number less.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <bdtrace/bdtrace_tp.h>

#include "bench_util.h"

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s ITERATIONS [REPETITIONS]\n", argv[0]);
    return 2;
  }
  const uint64_t n = bench_parse_u64("ITERATIONS", argv[1]);
  const uint64_t reps = argc > 2 ? bench_parse_u64("REPETITIONS", argv[2]) : 5;

  /* The payload a bdtrace mark carries, as the plugin fills it. */
  const uint32_t pid = (uint32_t)getpid();
  const uint32_t tid = (uint32_t)gettid();
  uint64_t args[4] = {1, 2, 3, 4};
  uint64_t seq = 0;

  double best = 0.0;
  for (uint64_t r = 0; r < reps; ++r) {
    const uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; ++i) {
      args[0] = i;
      ++seq;
      lttng_ust_tracepoint(bdtrace, mark, 0u, pid, tid, 1u, 42u, args, seq, "", (uint64_t)0);
    }
    const uint64_t t1 = bench_now_ns();
    const double per = (double)(t1 - t0) / (double)n;
    if (r == 0 || per < best) best = per;
  }
  printf("ns_per_op %.2f\n", best);
  printf("events %llu\n", (unsigned long long)(n * reps));
  return 0;
}
