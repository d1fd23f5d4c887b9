// SPDX-License-Identifier: MIT
/*
 * guest-faults: a guest for the fault tests (tests/e2e/faults_e2e_test.cc),
 * which kill or starve the parts around it while it runs.
 *
 * Usage: guest-faults DIR SECONDS [crash]
 *
 * Names events 1 "before" and 2 "after", sends 100 x MARK event 1 with
 * args (i, 0, 0, 0), then writes "pid <getpid()>\n" to DIR/ready (written
 * beside, then renamed: under qemu-user that is QEMU's pid). Then, for
 * SECONDS seconds, MARK event 2 with args (i, 0, 0, 0) every millisecond;
 * prints "after <marks sent>" and exits 0. With "crash" it dereferences a
 * null pointer right after writing DIR/ready (the guest crashes: SIGSEGV).
 * Exit 1 on a system error, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bd/bd.h>

enum { MARKS_BEFORE = 100 };

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_ready(const char *dir) {
  char path[4096], tmp[4096];
  snprintf(path, sizeof path, "%s/ready", dir);
  snprintf(tmp, sizeof tmp, "%s/ready.tmp", dir);
  FILE *f = fopen(tmp, "w");
  if (f == NULL || fprintf(f, "pid %ld\n", (long)getpid()) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
    perror("guest-faults: writing ready");
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "crash") != 0)) {
    fprintf(stderr, "usage: guest-faults DIR SECONDS [crash]\n");
    return 2;
  }
  bd_name_event(1, "before");
  bd_name_event(2, "after");
  for (unsigned long i = 0; i < MARKS_BEFORE; i++) bd_mark_args(1, i, 0, 0, 0);
  if (write_ready(argv[1]) != 0) return 1;
  if (argc == 4) {
    volatile int *nowhere = NULL;
    return *nowhere;
  }
  const double end = now_s() + atof(argv[2]);
  unsigned long i = 0;
  for (; now_s() < end; i++) {
    bd_mark_args(2, i, 0, 0, 0);
    usleep(1000);
  }
  printf("after %lu\n", i);
  return 0;
}
