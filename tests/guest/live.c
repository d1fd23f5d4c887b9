// SPDX-License-Identifier: MIT
/*
 * guest-live FILE: a guest to follow live (tests/e2e/live_e2e_test.cc).
 * Names event 31 "live_tick", marks it 25 times, begins region 32, then
 * waits until FILE exists (the test creates it once bd-analyze --live has
 * shown those marks; at most 120 s, then exit 3), ends region 32, marks
 * event 31 15 times more and exits 0. Prints "waiting" before the wait and
 * "done" at the end.
 */
#include <bd/bd.h>

#include <stdio.h>
#include <time.h>
#include <unistd.h>

enum { kTick = 31, kWaitRegion = 32, kBefore = 25, kAfter = 15, kWaitLimitS = 120 };

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: guest-live FILE\n");
    return 2;
  }
  bd_name_event(kTick, "live_tick");
  for (int i = 0; i < kBefore; i++) bd_mark(kTick);
  bd_region_begin(kWaitRegion);
  printf("waiting\n");
  fflush(stdout);
  const time_t deadline = time(NULL) + kWaitLimitS;
  while (access(argv[1], F_OK) != 0) {
    if (time(NULL) > deadline) {
      fprintf(stderr, "guest-live: %s did not appear within %d s\n", argv[1], kWaitLimitS);
      return 3;
    }
    usleep(10000); /* polling a condition, with the deadline above */
  }
  bd_region_end(kWaitRegion);
  for (int i = 0; i < kAfter; i++) bd_mark(kTick);
  printf("done\n");
  return 0;
}
