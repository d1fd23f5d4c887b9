// SPDX-License-Identifier: MIT
/*
 * guest-both-channels: marks through the ring and through the trap, one
 * right after the other, to compare the two channels' timestamps (run with
 * bd-run --channel both: libbdguest uses the ring, the raw traps reach the
 * plugin).
 *
 * Usage: guest-both-channels [--pairs N]   (default 2000)
 *
 * For i = 0..N-1: bd_mark_args(200, i, 0, 0, 0) (ring: its guest_ts is the
 * call's time), then at once a raw trap record MARK event 201 with a0 = i
 * (trap: its LTTng timestamp is the trap's time), then a short pause of
 * ~20 µs so that pairs are spread over the run.
 *
 * Output: "ring_taken <marks of event 200 that returned 1>",
 *         "trap_ok <traps the plugin answered OK>".
 */
#define _GNU_SOURCE

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bd/bd.h>
#include <bd/record_fill.h>
#include <bd/trap.h>

static struct bd_record rec;

int main(int argc, char **argv) {
  unsigned long pairs = 2000;
  if (argc == 3 && strcmp(argv[1], "--pairs") == 0) {
    pairs = strtoul(argv[2], NULL, 10);
  } else if (argc != 1) {
    fprintf(stderr, "usage: guest-both-channels [--pairs N]\n");
    return 2;
  }
  const uint32_t pid = (uint32_t)getpid(), tid = (uint32_t)syscall(SYS_gettid);
  unsigned long ring_taken = 0, trap_ok = 0;
  bd_name_event(200, "ring mark");
  for (unsigned long i = 0; i < pairs; i++) {
    ring_taken += bd_mark_args(200, i, 0, 0, 0) == 1;
    bd_record_fill_header(&rec, BD_KIND_MARK, 201, i, 0, 0, 0, pid, tid, i + 1);
    bd_trap(&rec);
    trap_ok += *(volatile int32_t *)&rec.reply == BD_REPLY_OK;
    struct timespec pause = {0, 20000};
    nanosleep(&pause, NULL);
  }
  printf("ring_taken %lu\ntrap_ok %lu\n", ring_taken, trap_ok);
  return 0;
}
