// SPDX-License-Identifier: MIT
/*
 * guest-slot-exhaust PROCS THREADS MARKS: more guest threads than the
 * full-system channel has user slots (BD_CHANNEL_USER_SLOTS), all marking
 * through libbdguest at once.
 *
 * PROCS processes start THREADS threads each. Every thread makes one call
 * (bd_mark(700): the first claims a slot, or finds none free), then all
 * threads of all processes wait until every thread has made it, so the
 * slots stay taken, then each makes MARKS calls bd_mark_args(701, i, ...).
 * A thread that owns no slot gets 0 from each call, and libbdguest reports
 * each such record to the host as lost (reason no_free_slot, <bd/channel.h>
 * LOST RECORDS); with more than BD_CHANNEL_USER_SLOTS threads some must.
 *
 * Output (stdout): "threads N", "calls C", "ok K" (calls that returned 1:
 * marks 700 and 701 in the trace), "lost L" (returned 0: counted by the
 * host as no_free_slot) and "other O" (any other return: must be 0).
 * Exit 0; 1 when a process or thread could not be started.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bd/bd.h>

struct counts {
  uint64_t calls, ok, lost, other;
};

static unsigned g_marks;
static pthread_barrier_t g_claimed, g_go;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct counts g_counts;

static void count(struct counts *c, int rc) {
  c->calls++;
  if (rc == 1)
    c->ok++;
  else if (rc == 0)
    c->lost++;
  else
    c->other++;
}

static void *thread_main(void *arg) {
  (void)arg;
  struct counts c = {0, 0, 0, 0};
  count(&c, bd_mark(700));
  pthread_barrier_wait(&g_claimed);
  pthread_barrier_wait(&g_go);
  for (unsigned i = 0; i < g_marks; i++) count(&c, bd_mark_args(701, i, 0, 0, 0));
  pthread_mutex_lock(&g_lock);
  g_counts.calls += c.calls;
  g_counts.ok += c.ok;
  g_counts.lost += c.lost;
  g_counts.other += c.other;
  pthread_mutex_unlock(&g_lock);
  return NULL;
}

static int write_all(int fd, const void *p, size_t n) {
  const char *b = p;
  while (n > 0) {
    ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    b += w;
    n -= (size_t)w;
  }
  return 0;
}

static int read_all(int fd, void *p, size_t n) {
  char *b = p;
  while (n > 0) {
    ssize_t r = read(fd, b, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    b += r;
    n -= (size_t)r;
  }
  return 0;
}

/* One process: THREADS threads; "ready" once all made their first call,
 * then wait for "go" and report the counts on `result`. */
static int child(unsigned threads, int ready, int go, int result) {
  pthread_barrier_init(&g_claimed, NULL, threads + 1);
  pthread_barrier_init(&g_go, NULL, threads + 1);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  pthread_t *tids = calloc(threads, sizeof *tids);
  if (tids == NULL) return 1;
  for (unsigned i = 0; i < threads; i++) {
    int rc = pthread_create(&tids[i], &attr, thread_main, NULL);
    if (rc != 0) {
      fprintf(stderr, "guest-slot-exhaust: pthread_create: %s\n", strerror(rc));
      _exit(1); /* the barriers would wait forever */
    }
  }
  pthread_barrier_wait(&g_claimed);
  char byte = 'r';
  if (write_all(ready, &byte, 1) != 0 || read_all(go, &byte, 1) != 0) return 1;
  pthread_barrier_wait(&g_go);
  for (unsigned i = 0; i < threads; i++) pthread_join(tids[i], NULL);
  return write_all(result, &g_counts, sizeof g_counts) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: guest-slot-exhaust PROCS THREADS MARKS\n");
    return 2;
  }
  const unsigned procs = (unsigned)strtoul(argv[1], NULL, 10);
  const unsigned threads = (unsigned)strtoul(argv[2], NULL, 10);
  g_marks = (unsigned)strtoul(argv[3], NULL, 10);
  int ready[2], go[2], result[2];
  if (procs == 0 || threads == 0 || pipe(ready) != 0 || pipe(go) != 0 || pipe(result) != 0) {
    perror("guest-slot-exhaust");
    return 1;
  }
  fflush(stdout);
  for (unsigned p = 0; p < procs; p++) {
    pid_t pid = fork();
    if (pid < 0) {
      perror("guest-slot-exhaust: fork");
      return 1;
    }
    if (pid == 0) _exit(child(threads, ready[1], go[0], result[1]));
  }
  char byte;
  for (unsigned p = 0; p < procs; p++)
    if (read_all(ready[0], &byte, 1) != 0) {
      fprintf(stderr, "guest-slot-exhaust: a process died before its threads were ready\n");
      return 1;
    }
  for (unsigned p = 0; p < procs; p++)
    if (write_all(go[1], "g", 1) != 0) return 1;
  struct counts sum = {0, 0, 0, 0};
  int failed = 0;
  for (unsigned p = 0; p < procs; p++) {
    struct counts c;
    if (read_all(result[0], &c, sizeof c) != 0) {
      failed = 1;
      break;
    }
    sum.calls += c.calls;
    sum.ok += c.ok;
    sum.lost += c.lost;
    sum.other += c.other;
  }
  int status;
  while (wait(&status) > 0)
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
  printf("threads %u\n", procs * threads);
  printf("calls %llu\n", (unsigned long long)sum.calls);
  printf("ok %llu\n", (unsigned long long)sum.ok);
  printf("lost %llu\n", (unsigned long long)sum.lost);
  printf("other %llu\n", (unsigned long long)sum.other);
  return failed;
}
