/* SPDX-License-Identifier: MIT */
/*
 * Small helpers shared by the bench- programs: a monotonic clock in
 * nanoseconds and strict integer parsing of command-line values.
 * Header-only so each benchmark stays one self-contained C file.
 */
#ifndef BDTRACE_BENCH_UTIL_H
#define BDTRACE_BENCH_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread. Under qemu-user (qemu-x86_64,
 * qemu-aarch64, ...) a guest thread is a host thread, so this is the host CPU
 * the vCPU thread spent (translation, plugin callbacks included) and, unlike
 * wall time, it is not inflated when a busy neighbour preempts us. */
static inline uint64_t bench_thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Parses a positive decimal integer or exits with a message naming the
 * option, so a typo in run.sh fails loudly instead of benchmarking 0. */
static inline uint64_t bench_parse_u64(const char *what, const char *text) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v == 0) {
    fprintf(stderr, "bench: %s must be a positive integer, got '%s'\n", what, text);
    exit(2);
  }
  return (uint64_t)v;
}

#endif /* BDTRACE_BENCH_UTIL_H */
