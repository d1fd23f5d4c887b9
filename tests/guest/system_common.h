/* SPDX-License-Identifier: MIT */
/*
 * Shared by the system-mode guest programs that use the channel directly
 * (guest-forge, guest-hostile-system, guest-hostile-bar): open it the way libbdguest does and
 * tell the plugin where it is.
 */
#ifndef BD_TESTS_GUEST_SYSTEM_COMMON_H
#define BD_TESTS_GUEST_SYSTEM_COMMON_H

#define _GNU_SOURCE

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bd/record_fill.h>

#include "channel.h"

/* Discover and map the channel, handshake, print "handshake <0|1>".
 * Returns 0, or prints why not and returns -1. */
static inline int sys_open_channel(const char *prog, struct bd_chan *c) {
  int rc = bd_chan_discover(c);
  if (rc != 0) {
    if (rc == -EACCES)
      fprintf(stderr,
              "%s: the bdtrace channel exists but may not be "
              "mapped: run as root\n",
              prog);
    else if (rc == -ENODEV)
      fprintf(stderr,
              "%s: no bdtrace channel (no ivshmem device with a "
              "bdtrace header; BD_DEVICE=none?)\n",
              prog);
    else
      fprintf(stderr, "%s: cannot map the bdtrace channel: %s\n", prog, strerror(-rc));
    return -1;
  }
  printf("handshake %d\n", bd_chan_handshake(c));
  fflush(stdout);
  return 0;
}

/* Comms of the SCHED_SWITCH records the programs forge, so that a test can
 * tell a leaked forgery from a real switch. */
#define FORGED_PREV_COMM "bd-forged"
#define FORGED_NEXT_COMM "bd-forged-next"

/* Write a well-formed SCHED_SWITCH record (<bd/channel.h> layout) into `r`
 * as if task (pid, tid) switched to tid 1: valid in every field, so only
 * the CPU mode of the trap can tell it from the kernel's. */
static inline void forge_switch(struct bd_record *r, uint32_t pid, uint32_t tid, uint64_t seq) {
  struct bd_record f;
  memset(&f, 0, sizeof f);
  bd_record_fill_header(&f, BD_KIND_SCHED_SWITCH, 0, tid, /* prev tid            */
                        1,                                /* next tid            */
                        0,                                /* prev state: running */
                        pid | (1ull << 32), pid, tid, seq);
  strncpy(f.text, FORGED_PREV_COMM, BD_COMM_LEN - 1);
  strncpy(f.text + BD_COMM_LEN, FORGED_NEXT_COMM, BD_COMM_LEN - 1);
  memcpy(r, &f, sizeof f);
}

static inline unsigned sys_gettid(void) { return (unsigned)syscall(SYS_gettid); }

#endif /* BD_TESTS_GUEST_SYSTEM_COMMON_H */
