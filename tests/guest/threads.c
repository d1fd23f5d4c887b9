// SPDX-License-Identifier: MIT
/*
 * guest-threads: a multi-threaded guest whose records the end-to-end tests
 * count exactly.
 *
 * Usage: guest-threads [--threads N] [--marks M]   (defaults 4 and 10000;
 * N in 1..256, M in 0..100000000)
 *
 * Records, in this order:
 *   main thread, before any worker starts (3 + N records, kind EVENT_NAME):
 *     event 1 "tick", event 2 "hello", event 3 "done",
 *     event 100+k "phase<k>" for k = 0..N-1
 *   worker k (k = 0..N-1), all from one thread:
 *     REGION_BEGIN region 100+k
 *     M  x MARK event 1, args (k, i, k*1000000+i, 0xfeed) for i = 0..M-1
 *     REGION_END   region 100+k
 *     3  x MARK_TEXT event 2, text "hello from thread <k> #<j>", j = 0..2
 *     1  x MARK event 3, args all 0
 *   main thread, after all workers joined: 1 HELLO (bd_present).
 *
 * So per worker: M kind-1 event-1 marks, 3 kind-2 event-2 marks, 1 kind-1
 * event-3 mark, one region 100+k; process-wide 3+N event_name records.
 * Total records sent: (3+N) + N*(M+6) + 1.
 *
 * Output (stdout):
 *   pid <pid>                      first, before any record
 *   thread <k> tid <tid>           one per worker, before its first mark
 *   present <bd_present()>
 *   taken <T>                      calls that returned 1, counting every
 *                                  record above except the final HELLO;
 *                                  (3+N) + N*(M+6) when the host took all
 * Exit 0; 1 on internal errors (thread creation), 2 on usage errors.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bd/bd.h>

struct worker {
  unsigned k;
  unsigned long marks;
  unsigned long taken;
};

static pthread_mutex_t stdout_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start_line;

static unsigned long count_taken(int rc) { return rc == 1 ? 1u : 0u; }

static void *run_worker(void *arg) {
  struct worker *w = arg;
  unsigned long taken = 0;
  const uint64_t k = w->k;

  pthread_mutex_lock(&stdout_lock);
  printf("thread %u tid %ld\n", w->k, (long)syscall(SYS_gettid));
  fflush(stdout);
  pthread_mutex_unlock(&stdout_lock);

  /* Start all workers together so their records interleave. */
  pthread_barrier_wait(&start_line);

  taken += count_taken(bd_region_begin(100 + w->k));
  for (uint64_t i = 0; i < w->marks; i++)
    taken += count_taken(bd_mark_args(1, k, i, k * 1000000u + i, 0xfeedULL));
  taken += count_taken(bd_region_end(100 + w->k));
  for (unsigned j = 0; j < 3; j++) {
    char text[64];
    snprintf(text, sizeof text, "hello from thread %u #%u", w->k, j);
    taken += count_taken(bd_mark_text(2, text));
  }
  taken += count_taken(bd_mark(3));
  w->taken = taken;
  return NULL;
}

static int parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out) {
  char *end;
  if (s[0] < '0' || s[0] > '9') return -1;
  unsigned long v = strtoul(s, &end, 10);
  if (*end != '\0' || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  unsigned long nthreads = 4, marks = 10000;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      if (parse_ulong(argv[++i], 1, 256, &nthreads) != 0) goto usage;
    } else if (strcmp(argv[i], "--marks") == 0 && i + 1 < argc) {
      if (parse_ulong(argv[++i], 0, 100000000, &marks) != 0) goto usage;
    } else {
      goto usage;
    }
  }

  printf("pid %ld\n", (long)getpid());
  fflush(stdout);

  unsigned long taken = 0;
  taken += count_taken(bd_name_event(1, "tick"));
  taken += count_taken(bd_name_event(2, "hello"));
  taken += count_taken(bd_name_event(3, "done"));
  for (unsigned k = 0; k < nthreads; k++) {
    char name[32];
    snprintf(name, sizeof name, "phase%u", k);
    taken += count_taken(bd_name_event(100 + k, name));
  }

  struct worker *w = calloc(nthreads, sizeof *w);
  pthread_t *th = calloc(nthreads, sizeof *th);
  if (w == NULL || th == NULL) {
    fprintf(stderr, "guest-threads: out of memory\n");
    return 1;
  }
  int rc = pthread_barrier_init(&start_line, NULL, (unsigned)nthreads);
  if (rc != 0) {
    fprintf(stderr, "guest-threads: pthread_barrier_init: %s\n", strerror(rc));
    return 1;
  }
  for (unsigned k = 0; k < nthreads; k++) {
    w[k].k = k;
    w[k].marks = marks;
    rc = pthread_create(&th[k], NULL, run_worker, &w[k]);
    if (rc != 0) {
      fprintf(stderr, "guest-threads: pthread_create(thread %u): %s\n", k, strerror(rc));
      return 1;
    }
  }
  for (unsigned k = 0; k < nthreads; k++) {
    rc = pthread_join(th[k], NULL);
    if (rc != 0) {
      fprintf(stderr, "guest-threads: pthread_join(thread %u): %s\n", k, strerror(rc));
      return 1;
    }
    taken += w[k].taken;
  }
  pthread_barrier_destroy(&start_line);

  printf("present %d\n", bd_present());
  printf("taken %lu\n", taken);
  free(th);
  free(w);
  return 0;

usage:
  fprintf(stderr,
          "usage: guest-threads [--threads N (1..256)] "
          "[--marks M (0..100000000)]\n");
  return 2;
}
