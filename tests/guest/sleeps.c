// SPDX-License-Identifier: MIT
/*
 * guest-sleeps: regions around fixed sleeps, the ground truth for region
 * durations. For each duration D in milliseconds given on the command line
 * (default 50 100 200), REPEAT times (--repeat, default 3):
 *   bd_region_begin(D); nanosleep(D ms); bd_region_end(D)
 * Region ids are the durations in ms, named "sleep <D>ms". Prints one line
 * "slept <D> <outer_ns> <inner_ns>" per region with the guest's own
 * CLOCK_MONOTONIC measurements around it (from before its begin to after
 * its end, and from after its begin to before its end: the region lies in
 * between), and "taken <n>" with the number of calls that returned 1.
 * Exit 0; 2 on bad arguments.
 */
#define _GNU_SOURCE
#include <bd/bd.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int main(int argc, char **argv) {
  unsigned durations[16] = {50, 100, 200};
  int n = 3, repeat = 3, given = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
      repeat = atoi(argv[++i]);
    } else {
      char *end;
      unsigned long v = strtoul(argv[i], &end, 10);
      if (*end != '\0' || v == 0 || v > 10000 || given == 16) {
        fprintf(stderr, "usage: guest-sleeps [--repeat N] [MS...]\n");
        return 2;
      }
      durations[given++] = (unsigned)v;
    }
  }
  if (given) n = given;
  if (repeat < 1) {
    fprintf(stderr, "guest-sleeps: --repeat must be >= 1\n");
    return 2;
  }
  int taken = 0;
  for (int i = 0; i < n; i++) {
    char name[32];
    snprintf(name, sizeof name, "sleep %ums", durations[i]);
    taken += bd_name_event(durations[i], name) == 1;
  }
  for (int r = 0; r < repeat; r++) {
    for (int i = 0; i < n; i++) {
      /* The region lies between the times read around its two
             * marks: outer (before begin to after end) and inner (after
             * begin to before end), whatever preempts the guest. */
      const uint64_t t0 = now_ns();
      taken += bd_region_begin(durations[i]) == 1;
      const uint64_t t1 = now_ns();
      sleep_ms(durations[i]);
      const uint64_t t2 = now_ns();
      taken += bd_region_end(durations[i]) == 1;
      const uint64_t t3 = now_ns();
      printf("slept %u %llu %llu\n", durations[i], (unsigned long long)(t3 - t0),
             (unsigned long long)(t2 - t1));
    }
  }
  printf("taken %d\n", taken);
  return 0;
}
