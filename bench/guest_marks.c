// SPDX-License-Identifier: MIT
/*
 * bench-guest-marks: the cost of a bdtrace mark as the guest program sees it.
 * Meant to run under qemu-x86_64, or cross-built (bench/cross) under
 * qemu-aarch64 / qemu-riscv64, with or without the bdtrace plugin; it also
 * runs natively, where the trap is a harmless load. Nothing here depends on
 * the architecture: the trap is libbdguest's.
 *
 *   bench-guest-marks ITERATIONS [REPETITIONS]
 *       bd_mark_args() in a loop. Prints "ns_per_op V" (wall time, best
 *       repetition), "cpu_ns_per_op V" (thread CPU time, best repetition)
 *       and "taken T" (calls that returned 1: the plugin took the record).
 *   bench-guest-marks --pause-us P ITERATIONS [REPETITIONS]
 *       The same with a pause of P µs after each repetition (not timed):
 *       over the ring channel, a consumer drains the ring meanwhile, so a
 *       repetition that fits the ring writes into slots whose pages were
 *       touched in an earlier lap (the steady state), never into a full one.
 *   bench-guest-marks --baseline ITERATIONS [REPETITIONS]
 *       The same loop calling a plain function that fills the same record
 *       fields without the trap: the loop + record-fill cost to subtract.
 *   bench-guest-marks --flood [--threads T] [--rate R] [--seconds S]
 *       T threads together emit R marks/s for S seconds (each thread checks
 *       the clock every 1024 marks and sleeps or spins to stay on rate).
 *       Prints "marks M", "rate R" (achieved, marks/s) and "taken T".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bd/abi.h>
#include <bd/bd.h>
#include <bd/record_fill.h>

#include "bench_util.h"

/* ---- baseline: the record fill of a mark, without the trap ---------------- */
/* The fill is libbdguest's own (<bd/record_fill.h>), so the baseline costs
 * what a mark costs minus the trap. */

static __thread struct bd_record baseline_rec;
static __thread uint32_t baseline_tid;
static __thread uint64_t baseline_seq;
static uint32_t baseline_pid;

/* noinline: a mark is a call into libbdguest, so the baseline is a call too. */
__attribute__((noinline)) static int baseline_mark_args(uint32_t event, uint64_t a0, uint64_t a1, uint64_t a2,
                                                        uint64_t a3) {
  struct bd_record *r = &baseline_rec;
  if (baseline_tid == 0) baseline_tid = (uint32_t)gettid();
  bd_record_fill_header(r, BD_KIND_MARK, event, a0, a1, a2, a3, baseline_pid, baseline_tid, ++baseline_seq);
  /* Where the trap would be: the compiler must consider the record read. */
  __asm__ volatile("" : : "r"(r) : "memory");
  return *(volatile int32_t *)&r->reply == BD_REPLY_OK ? 1 : 0;
}

/* ---- timed loops ---------------------------------------------------------- */

/* Pause after each repetition (--pause-us), 0 = none. */
static uint64_t pause_after_rep_ns;

static void pause_after_rep(void) {
  if (pause_after_rep_ns == 0) return;
  struct timespec ts = {(time_t)(pause_after_rep_ns / 1000000000ull),
                        (long)(pause_after_rep_ns % 1000000000ull)};
  nanosleep(&ts, NULL);
}

static void report_loop(double best, double best_cpu, uint64_t taken, uint64_t ops) {
  printf("ns_per_op %.2f\n", best);
  printf("cpu_ns_per_op %.2f\n", best_cpu);
  printf("taken %llu\n", (unsigned long long)taken);
  printf("ops %llu\n", (unsigned long long)ops);
}

/* One loop body per mode, each calling its function directly, so both pay
 * exactly one call per iteration. */
#define DEFINE_LOOP(name, CALL)                                               \
  static int name(uint64_t n, uint64_t reps) {                                \
    double best = 0.0, best_cpu = 0.0;                                        \
    uint64_t taken = 0;                                                       \
    for (uint64_t r = 0; r < reps; ++r) {                                     \
      const uint64_t c0 = bench_thread_cpu_ns();                              \
      const uint64_t t0 = bench_now_ns();                                     \
      for (uint64_t i = 0; i < n; ++i) taken += (CALL(42u, i, 2, 3, 4)) == 1; \
      const uint64_t t1 = bench_now_ns();                                     \
      const uint64_t c1 = bench_thread_cpu_ns();                              \
      const double per = (double)(t1 - t0) / (double)n;                       \
      const double per_cpu = (double)(c1 - c0) / (double)n;                   \
      if (r == 0 || per < best) best = per;                                   \
      if (r == 0 || per_cpu < best_cpu) best_cpu = per_cpu;                   \
      pause_after_rep();                                                      \
    }                                                                         \
    report_loop(best, best_cpu, taken, n *reps);                              \
    return 0;                                                                 \
  }

DEFINE_LOOP(run_marks, bd_mark_args)
DEFINE_LOOP(run_baseline, baseline_mark_args)

/* ---- flood ---------------------------------------------------------------- */

struct flood_thread {
  pthread_t thread;
  double rate; /* marks per second for this thread */
  uint64_t seconds;
  uint64_t marks; /* out */
  uint64_t taken; /* out */
};

static void sleep_ns(uint64_t ns) {
  struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
  nanosleep(&ts, NULL);
}

static void *flood_main(void *arg) {
  struct flood_thread *ft = arg;
  const uint64_t t0 = bench_now_ns();
  const uint64_t end = t0 + ft->seconds * 1000000000ull;
  uint64_t marks = 0, taken = 0;
  for (;;) {
    for (unsigned i = 0; i < 1024; ++i) taken += bd_mark_args(43u, marks + i, 2, 3, 4) == 1;
    marks += 1024;
    /* Pace: where should we be by now? Sleep long gaps, spin short ones
         * (nanosleep overshoots by tens of microseconds). */
    for (;;) {
      const uint64_t now = bench_now_ns();
      if (now >= end) goto done;
      const uint64_t due_ns = (uint64_t)((double)marks / ft->rate * 1e9);
      const uint64_t elapsed = now - t0;
      if (elapsed >= due_ns) break;
      const uint64_t ahead = due_ns - elapsed;
      if (ahead > 200000) sleep_ns(ahead - 100000);
    }
  }
done:
  ft->marks = marks;
  ft->taken = taken;
  return NULL;
}

static int run_flood(uint64_t threads, uint64_t rate, uint64_t seconds) {
  if (threads > 256) {
    fprintf(stderr, "bench-guest-marks: at most 256 threads\n");
    return 2;
  }
  struct flood_thread ft[256];
  memset(ft, 0, sizeof ft);
  const uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < threads; ++i) {
    ft[i].rate = (double)rate / (double)threads;
    ft[i].seconds = seconds;
    int err = pthread_create(&ft[i].thread, NULL, flood_main, &ft[i]);
    if (err != 0) {
      fprintf(stderr, "bench-guest-marks: pthread_create: %s\n", strerror(err));
      return 1;
    }
  }
  uint64_t marks = 0, taken = 0;
  for (uint64_t i = 0; i < threads; ++i) {
    pthread_join(ft[i].thread, NULL);
    marks += ft[i].marks;
    taken += ft[i].taken;
  }
  const double secs = (double)(bench_now_ns() - t0) / 1e9;
  printf("marks %llu\n", (unsigned long long)marks);
  printf("rate %.0f\n", (double)marks / secs);
  printf("taken %llu\n", (unsigned long long)taken);
  printf("seconds %.3f\n", secs);
  return 0;
}

/* ---- main ----------------------------------------------------------------- */

static int usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [--baseline | --pause-us P] ITERATIONS [REPETITIONS]\n"
          "       %s --flood [--threads T] [--rate MARKS_PER_S] [--seconds S]\n",
          argv0, argv0);
  return 2;
}

int main(int argc, char **argv) {
  baseline_pid = (uint32_t)getpid();
  if (argc >= 2 && strcmp(argv[1], "--flood") == 0) {
    uint64_t threads = 4, rate = 1000000, seconds = 10;
    for (int i = 2; i < argc; i += 2) {
      if (i + 1 >= argc) return usage(argv[0]);
      if (strcmp(argv[i], "--threads") == 0)
        threads = bench_parse_u64("--threads", argv[i + 1]);
      else if (strcmp(argv[i], "--rate") == 0)
        rate = bench_parse_u64("--rate", argv[i + 1]);
      else if (strcmp(argv[i], "--seconds") == 0)
        seconds = bench_parse_u64("--seconds", argv[i + 1]);
      else
        return usage(argv[0]);
    }
    return run_flood(threads, rate, seconds);
  }
  int a = 1;
  int baseline = 0;
  if (argc >= 2 && strcmp(argv[1], "--baseline") == 0) {
    baseline = 1;
    a = 2;
  } else if (argc >= 3 && strcmp(argv[1], "--pause-us") == 0) {
    pause_after_rep_ns = bench_parse_u64("--pause-us", argv[2]) * 1000u;
    a = 3;
  }
  if (argc - a < 1 || argc - a > 2) return usage(argv[0]);
  const uint64_t n = bench_parse_u64("ITERATIONS", argv[a]);
  const uint64_t reps = argc - a > 1 ? bench_parse_u64("REPETITIONS", argv[a + 1]) : 5;
  return baseline ? run_baseline(n, reps) : run_marks(n, reps);
}
