// SPDX-License-Identifier: MIT
/*
 * bench-guest-calls: the cost of a bd_call round trip as the guest sees it,
 * against a no-op host handler (bench/noop_handler.c, event 9900), beside
 * the cost of a mark in the same process. Run under qemu-x86_64 with the
 * plugin and handler=<libbench-noop-handler.so>.
 *
 *   bench-guest-calls ITERATIONS [REPETITIONS]
 *       Prints "mark_ns V" (bd_mark_args), "call_ns V" (bd_call, no
 *       bytes), "call_64_ns V", "call_4k_ns V" (4096 bytes of input, two
 *       traps), "call_64k_ns V" (65536 bytes: 17 traps; ITERATIONS / 16
 *       of them), "blob_64_ns V", "blob_4k_ns V", "blob_64k_ns V" (bulk
 *       marks, bd_mark_blob, of 64, 4096 and 65536 bytes) and "ok N"
 *       (calls that returned 0, bulk marks that returned 1): wall time
 *       per call, best repetition.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <bd/abi.h>
#include <bd/bd.h>

#include "bench_util.h"

static unsigned char g_in[BD_CALL_IO_MAX];
static uint64_t g_ok;

enum op { MARK, CALL, BLOB };

/* Best wall ns per operation of `reps` repetitions of `n` operations. */
static double best_of(uint64_t n, uint64_t reps, uint32_t bytes, enum op op) {
  double best = 0.0;
  for (uint64_t r = 0; r < reps; r++) {
    const uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
      if (op == MARK) {
        bd_mark_args(1, i, 0, 0, 0);
      } else if (op == BLOB) {
        if (bd_mark_blob(2, g_in, bytes) == 1) g_ok++;
      } else {
        uint64_t result;
        if (bd_call(9900, bytes ? g_in : NULL, bytes, NULL, 0, NULL, &result) == 0) g_ok++;
      }
    }
    const double per = (double)(bench_now_ns() - t0) / (double)n;
    if (r == 0 || per < best) best = per;
  }
  return best;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: bench-guest-calls ITERATIONS [REPETITIONS]\n");
    return 2;
  }
  const uint64_t n = bench_parse_u64("ITERATIONS", argv[1]);
  const uint64_t reps = argc == 3 ? bench_parse_u64("REPETITIONS", argv[2]) : 5;
  printf("mark_ns %.2f\n", best_of(n, reps, 0, MARK));
  printf("call_ns %.2f\n", best_of(n, reps, 0, CALL));
  printf("call_64_ns %.2f\n", best_of(n, reps, 64, CALL));
  printf("call_4k_ns %.2f\n", best_of(n / 4, reps, 4096, CALL));
  printf("call_64k_ns %.2f\n", best_of(n / 16 + 1, reps, BD_CALL_IO_MAX, CALL));
  printf("blob_64_ns %.2f\n", best_of(n, reps, 64, BLOB));
  printf("blob_4k_ns %.2f\n", best_of(n / 4, reps, 4096, BLOB));
  printf("blob_64k_ns %.2f\n", best_of(n / 16 + 1, reps, BD_CALL_IO_MAX, BLOB));
  printf("ok %llu\n", (unsigned long long)g_ok);
  return 0;
}
