// SPDX-License-Identifier: MIT
/*
 * guest-filter: a guest program for the filter end-to-end tests
 * (tests/e2e/filter_e2e_test.cc). Names events 1 "tick" and 2 "tock" first.
 *
 *   guest-filter marks N
 *       N x (MARK event 1 args (i,0,0,0), MARK event 2 args (i,0,0,0)).
 *   guest-filter enabled N
 *       Prints "enabled1 <bd_enabled(1)>", "enabled2 <bd_enabled(2)>" and
 *       "enabled1000 <bd_enabled(1000)>", then does what `marks N` does.
 *   guest-filter stream SECONDS PERIOD_US
 *       For SECONDS seconds: MARK event 1, MARK event 2 (args: the
 *       iteration), then sleep PERIOD_US microseconds (0: no sleep).
 *   guest-filter fork DIR N
 *       Forks. The parent writes "parent <pid>\nchild <pid>\n" to DIR/pids
 *       (written beside, then renamed), then both processes wait (up to
 *       30 s) until DIR/go exists, and send N x MARK event 1 with args
 *       (role, i, 0, 0), role 0 = parent, 1 = child. The parent waits for
 *       the child. When DIR/go holds "wait P C", the parent first waits
 *       (up to 30 s) until bd_enabled(P) returns 1 and the child until
 *       bd_enabled(C) does: the condition that a reloaded config is in
 *       force in that process.
 *   guest-filter forkspin DIR ITERS
 *       As fork with N = 0, then each process runs spin() ITERS times and
 *       prints "<role> spin_fn 0x<address of spin()>" (code-tracing tests:
 *       the hottest block of a traced process lies in spin()).
 *   guest-filter threadspin DIR THREADS ITERS
 *       Code tracing across threads: starts THREADS - 1 threads that spin
 *       (no syscalls) until bd_enabled(9) returns 1, writes "pid <pid>" to
 *       DIR/pids (written beside, then renamed), waits (up to 30 s) until
 *       bd_enabled(9) returns 1 itself, then starts one more thread; every
 *       thread then runs spin() ITERS times, 4 rounds. Prints
 *       "spin_fn 0x<address of spin()>" and "tid <tid>" per thread (the
 *       early ones first).
 *
 * Output (stdout), one line each, per process ("<role> " prefix in fork):
 *   names <calls that returned 1 of the 2 bd_name_event>
 *   taken1 <MARK event 1 calls that returned 1>
 *   taken2 <MARK event 2 calls that returned 1>
 *   zero1 / zero2 <calls that returned 0>
 * Exit 0; 1 on errors, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bd/bd.h>

struct counts {
  unsigned long taken[3], zero[3];
};

static void count(struct counts *c, int event, int rc) {
  if (rc == 1)
    c->taken[event]++;
  else if (rc == 0)
    c->zero[event]++;
}

static void print_counts(const char *prefix, int names, const struct counts *c) {
  printf("%snames %d\n%staken1 %lu\n%staken2 %lu\n%szero1 %lu\n%szero2 %lu\n", prefix, names, prefix,
         c->taken[1], prefix, c->taken[2], prefix, c->zero[1], prefix, c->zero[2]);
  fflush(stdout);
}

static int name_events(void) { return (bd_name_event(1, "tick") == 1) + (bd_name_event(2, "tock") == 1); }

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_marks(unsigned long n) {
  struct counts c = {0};
  int names = name_events();
  for (unsigned long i = 0; i < n; i++) {
    count(&c, 1, bd_mark_args(1, i, 0, 0, 0));
    count(&c, 2, bd_mark_args(2, i, 0, 0, 0));
  }
  print_counts("", names, &c);
  return 0;
}

static int run_stream(double seconds, unsigned long period_us) {
  struct counts c = {0};
  int names = name_events();
  const double end = now_s() + seconds;
  for (unsigned long i = 0; now_s() < end; i++) {
    count(&c, 1, bd_mark_args(1, i, 0, 0, 0));
    count(&c, 2, bd_mark_args(2, i, 0, 0, 0));
    if (period_us) usleep((useconds_t)period_us);
  }
  print_counts("", names, &c);
  return 0;
}

static unsigned long spin_iters; /* forkspin */

/* A loop that is its own hot block: not inlined, not optimized away. */
__attribute__((noinline)) static uint64_t spin(unsigned long iters) {
  volatile uint64_t acc = 0;
  for (unsigned long i = 0; i < iters; i++) acc = acc * 6364136223846793005ull + i;
  return acc;
}

static int run_fork(const char *dir, unsigned long n) {
  char pids[4096], tmp[4096], go[4096];
  snprintf(pids, sizeof pids, "%s/pids", dir);
  snprintf(tmp, sizeof tmp, "%s/pids.tmp", dir);
  snprintf(go, sizeof go, "%s/go", dir);
  int names = name_events();
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) {
    perror("guest-filter: fork");
    return 1;
  }
  const int role = child == 0 ? 1 : 0;
  if (role == 0) {
    FILE *f = fopen(tmp, "w");
    if (f == NULL || fprintf(f, "parent %ld\nchild %ld\n", (long)getpid(), (long)child) < 0 ||
        fclose(f) != 0 || rename(tmp, pids) != 0) {
      perror("guest-filter: writing pids");
      return 1;
    }
  }
  struct stat st;
  const double deadline = now_s() + 30;
  while (stat(go, &st) != 0) {
    if (now_s() > deadline) {
      fprintf(stderr, "guest-filter: %s did not appear\n", go);
      return 1;
    }
    usleep(10000);
  }
  unsigned wait_event[2] = {0, 0};
  FILE *g = fopen(go, "r");
  if (g != NULL) {
    if (fscanf(g, "wait %u %u", &wait_event[0], &wait_event[1]) != 2) wait_event[0] = wait_event[1] = 0;
    fclose(g);
  }
  if (wait_event[role] != 0) {
    const double until = now_s() + 30;
    while (bd_enabled(wait_event[role]) != 1) {
      if (now_s() > until) {
        fprintf(stderr, "guest-filter: event %u never became enabled\n", wait_event[role]);
        return 1;
      }
      usleep(10000);
    }
  }
  struct counts c = {0};
  for (unsigned long i = 0; i < n; i++) count(&c, 1, bd_mark_args(1, (uint64_t)role, i, 0, 0));
  print_counts(role ? "child " : "parent ", role ? 0 : names, &c);
  if (spin_iters) {
    const uint64_t sum = spin(spin_iters);
    printf("%sspin_fn %p\n%sspin_sum %llu\n", role ? "child " : "parent ", (void *)spin,
           role ? "child " : "parent ", (unsigned long long)sum);
    fflush(stdout);
  }
  if (role == 1) return 0;
  int status;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "guest-filter: child failed\n");
    return 1;
  }
  return 0;
}

struct spinner {
  pthread_t thread;
  pid_t tid;
  int wait_enabled; /* spin until bd_enabled(9) before the rounds */
  int failed;
};

static void *spinner_main(void *arg) {
  struct spinner *s = arg;
  s->tid = (pid_t)syscall(SYS_gettid);
  const double until = now_s() + 30;
  /* The condition is checked between spins without a syscall (the trap
     * is a plain load): the thread stays CPU-bound while the config
     * changes; the clock is read only every 64 checks. */
  for (unsigned n = 0; s->wait_enabled && bd_enabled(9) != 1; n++) {
    spin(1000);
    if (n % 64 == 63 && now_s() > until) {
      s->failed = 1;
      return NULL;
    }
  }
  for (int round = 0; round < 4; round++) spin(spin_iters);
  return NULL;
}

static int run_threadspin(const char *dir, unsigned threads, unsigned long iters) {
  enum { kMaxThreads = 16 };
  if (threads < 2 || threads > kMaxThreads) {
    fprintf(stderr, "guest-filter: threadspin needs 2..%d threads\n", kMaxThreads);
    return 2;
  }
  spin_iters = iters;
  struct spinner sp[kMaxThreads];
  memset(sp, 0, sizeof sp);
  for (unsigned i = 0; i + 1 < threads; i++) {
    sp[i].wait_enabled = 1;
    if (pthread_create(&sp[i].thread, NULL, spinner_main, &sp[i]) != 0) {
      fprintf(stderr, "guest-filter: pthread_create failed\n");
      return 1;
    }
  }
  char pids[4096], tmp[4096];
  snprintf(pids, sizeof pids, "%s/pids", dir);
  snprintf(tmp, sizeof tmp, "%s/pids.tmp", dir);
  FILE *f = fopen(tmp, "w");
  if (f == NULL || fprintf(f, "pid %ld\n", (long)getpid()) < 0 || fclose(f) != 0 || rename(tmp, pids) != 0) {
    perror("guest-filter: pids");
    return 1;
  }
  const double until = now_s() + 30;
  while (bd_enabled(9) != 1) {
    if (now_s() > until) {
      fprintf(stderr, "guest-filter: event 9 never became enabled\n");
      return 1;
    }
    usleep(10000);
  }
  struct spinner *late = &sp[threads - 1];
  if (pthread_create(&late->thread, NULL, spinner_main, late) != 0) {
    fprintf(stderr, "guest-filter: pthread_create failed\n");
    return 1;
  }
  int failed = 0;
  for (unsigned i = 0; i < threads; i++) {
    pthread_join(sp[i].thread, NULL);
    failed |= sp[i].failed;
  }
  printf("spin_fn %p\n", (void *)spin);
  for (unsigned i = 0; i < threads; i++) printf("tid %ld\n", (long)sp[i].tid);
  fflush(stdout);
  if (failed) fprintf(stderr, "guest-filter: a thread never saw event 9 enabled\n");
  return failed;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "marks") == 0) return run_marks(strtoul(argv[2], NULL, 10));
  if (argc == 3 && strcmp(argv[1], "enabled") == 0) {
    printf("enabled1 %d\nenabled2 %d\nenabled1000 %d\n", bd_enabled(1), bd_enabled(2), bd_enabled(1000));
    fflush(stdout);
    return run_marks(strtoul(argv[2], NULL, 10));
  }
  if (argc == 4 && strcmp(argv[1], "stream") == 0)
    return run_stream(atof(argv[2]), strtoul(argv[3], NULL, 10));
  if (argc == 4 && strcmp(argv[1], "fork") == 0) return run_fork(argv[2], strtoul(argv[3], NULL, 10));
  if (argc == 4 && strcmp(argv[1], "forkspin") == 0) {
    spin_iters = strtoul(argv[3], NULL, 10);
    return run_fork(argv[2], 0);
  }
  if (argc == 5 && strcmp(argv[1], "threadspin") == 0)
    return run_threadspin(argv[2], (unsigned)strtoul(argv[3], NULL, 10), strtoul(argv[4], NULL, 10));
  fprintf(stderr,
          "usage: guest-filter marks N | stream SECONDS PERIOD_US | fork DIR N | "
          "forkspin DIR ITERS | threadspin DIR THREADS ITERS\n");
  return 2;
}
