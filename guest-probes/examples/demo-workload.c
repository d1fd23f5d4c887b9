// SPDX-License-Identifier: MIT
/*
 * bd-demo-workload: a small multi-threaded guest program instrumented with
 * libbdguest, for demos of bd-run / bd-analyze.
 *
 * Phases (regions):
 *   1 "setup"    main thread: fill each worker's buffer with pseudo-random data
 *   2 "compute"  each worker: count primes in its share of [2, LIMIT) by trial
 *                division, in chunks; then checksum its buffer (FNV-1a)
 *   3 "reduce"   main thread: combine the workers' results
 * Events:
 *  10 "progress" per finished chunk: a0 = worker, a1 = chunk index,
 *                a2 = primes found so far, a3 = chunk end
 *  11 "result"   per worker: a0 = worker, a1 = primes, a2 = checksum
 *  12 "note"     text marks at start and end
 *
 * Usage: bd-demo-workload [--scale S]   (S = 1..100, default 10; ~1-3 s under
 * qemu-x86_64 at the default). Prints a short summary.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bd/bd.h>

enum { REGION_SETUP = 1, REGION_COMPUTE = 2, REGION_REDUCE = 3 };
enum { EV_PROGRESS = 10, EV_RESULT = 11, EV_NOTE = 12 };
enum { WORKERS = 3, CHUNKS_PER_WORKER = 20, BUFFER_BYTES = 1 << 20 };

struct worker {
  unsigned index;
  uint64_t begin, end; /* numbers [begin, end) to test */
  unsigned char *buf;
  uint64_t primes;
  uint64_t checksum;
};

static int is_prime(uint64_t n) {
  if (n < 2) return 0;
  if (n % 2 == 0) return n == 2;
  for (uint64_t d = 3; d * d <= n; d += 2)
    if (n % d == 0) return 0;
  return 1;
}

static uint64_t fnv1a(const unsigned char *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

static void *work(void *arg) {
  struct worker *w = arg;
  bd_region_begin(REGION_COMPUTE);
  uint64_t span = w->end - w->begin;
  for (unsigned c = 0; c < CHUNKS_PER_WORKER; c++) {
    uint64_t lo = w->begin + span * c / CHUNKS_PER_WORKER;
    uint64_t hi = w->begin + span * (c + 1) / CHUNKS_PER_WORKER;
    for (uint64_t n = lo; n < hi; n++) w->primes += (uint64_t)is_prime(n);
    bd_mark_args(EV_PROGRESS, w->index, c, w->primes, hi);
  }
  w->checksum = fnv1a(w->buf, BUFFER_BYTES);
  bd_mark_args(EV_RESULT, w->index, w->primes, w->checksum, 0);
  bd_region_end(REGION_COMPUTE);
  return NULL;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  unsigned scale = 10;
  if (argc == 3 && strcmp(argv[1], "--scale") == 0) {
    char *end;
    unsigned long s = strtoul(argv[2], &end, 10);
    if (*end != '\0' || s < 1 || s > 100) {
      fprintf(stderr, "bd-demo-workload: --scale takes 1..100\n");
      return 2;
    }
    scale = (unsigned)s;
  } else if (argc != 1) {
    fprintf(stderr, "usage: bd-demo-workload [--scale S]\n");
    return 2;
  }
  double t0 = now_s();
  int present = bd_present();
  bd_name_event(REGION_SETUP, "setup");
  bd_name_event(REGION_COMPUTE, "compute");
  bd_name_event(REGION_REDUCE, "reduce");
  bd_name_event(EV_PROGRESS, "progress");
  bd_name_event(EV_RESULT, "result");
  bd_name_event(EV_NOTE, "note");
  bd_mark_text(EV_NOTE, "demo workload starting");

  /* Interleaved ranges would balance better; contiguous ones make the
     * per-thread imbalance visible in the report, which is the point. */
  const uint64_t limit = 500000ULL * scale;
  struct worker w[WORKERS];
  bd_region_begin(REGION_SETUP);
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (unsigned i = 0; i < WORKERS; i++) {
    w[i].index = i;
    w[i].begin = limit * i / WORKERS;
    w[i].end = limit * (i + 1) / WORKERS;
    w[i].primes = 0;
    w[i].checksum = 0;
    w[i].buf = malloc(BUFFER_BYTES);
    if (w[i].buf == NULL) {
      fprintf(stderr, "bd-demo-workload: out of memory\n");
      return 1;
    }
    for (size_t j = 0; j < BUFFER_BYTES; j++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      w[i].buf[j] = (unsigned char)x;
    }
  }
  bd_region_end(REGION_SETUP);

  pthread_t th[WORKERS];
  for (unsigned i = 0; i < WORKERS; i++) {
    int rc = pthread_create(&th[i], NULL, work, &w[i]);
    if (rc != 0) {
      fprintf(stderr, "bd-demo-workload: pthread_create: %s\n", strerror(rc));
      return 1;
    }
  }
  for (unsigned i = 0; i < WORKERS; i++) pthread_join(th[i], NULL);

  bd_region_begin(REGION_REDUCE);
  uint64_t primes = 0, checksum = 0;
  for (unsigned i = 0; i < WORKERS; i++) {
    primes += w[i].primes;
    checksum ^= w[i].checksum;
    free(w[i].buf);
  }
  bd_region_end(REGION_REDUCE);
  bd_mark_text(EV_NOTE, "demo workload done");

  printf(
      "bd-demo-workload: %u workers, primes below %llu: %llu, "
      "checksum %016llx\n",
      WORKERS, (unsigned long long)limit, (unsigned long long)primes, (unsigned long long)checksum);
  printf("bdtrace host %s, %.2f s\n", present == 1 ? "present" : "absent", now_s() - t0);
  return 0;
}
