// SPDX-License-Identifier: MIT
/*
 * guest-forge: forge kernel-only records from user space. A correct plugin
 * rejects every one (reason kernel_only_kind: SCHED_SWITCH is accepted only
 * from guest kernel mode) and emits no sched_switch event for them.
 *
 * Maps the channel itself (same discovery as libbdguest), handshakes, pins
 * itself to CPU 0, then writes a well-formed SCHED_SWITCH record (layout of
 * <bd/channel.h>) and traps on it from user space:
 *   1. in a user slot it claims;
 *   2. in kernel slot 0. Pinned to CPU 0, it never writes while bd_sched on
 *      CPU 0 is between filling that slot and trapping (the kernel does that
 *      with preemption disabled); if we are preempted between our write and
 *      our trap, the kernel's own record replaces ours and our trap is still
 *      a user-mode trap on a SCHED_SWITCH record.
 *
 * The forged record names prev comm "bd-forged" and next comm
 * "bd-forged-next", so a test can tell a leaked forgery from the real
 * switches of this process (whose comm is "guest-forge").
 *
 * Output (stdout): handshake <0|1>, then "reply <value>" per trap (the
 * reply field read back; informational), then "forged <n>" (traps made).
 * Exit 0; 1 when the channel is missing or no slot is free.
 */
#define _GNU_SOURCE

#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bd/trap.h>

#include "system_common.h"

static void pin_to_cpu0(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    perror("guest-forge: sched_setaffinity(CPU 0)");
    return;
  }
  for (int i = 0; i < 100 && sched_getcpu() != 0; i++) sched_yield();
}

static unsigned trap_and_report(struct bd_record *r) {
  bd_trap(r);
  printf("reply %d\n", (int)*(volatile int32_t *)&r->reply);
  return 1;
}

int main(void) {
  struct bd_chan c;
  if (sys_open_channel("guest-forge", &c) != 0) return 1;
  pin_to_cpu0();
  const uint32_t pid = (uint32_t)getpid(), tid = sys_gettid();
  int slot = bd_chan_claim(&c, pid, tid);
  if (slot < 0) {
    fprintf(stderr, "guest-forge: no free user slot in the channel\n");
    return 1;
  }
  unsigned forged = 0;
  struct bd_record *user = bd_chan_user_slot(&c, (unsigned)slot);
  forge_switch(user, pid, tid, 1);
  forged += trap_and_report(user);

  struct bd_record *kernel0 = bd_chan_kernel_slot(&c, 0);
  forge_switch(kernel0, pid, tid, 2);
  forged += trap_and_report(kernel0);

  bd_chan_release(&c, (unsigned)slot, pid, tid);
  printf("forged %u\n", forged);
  return 0;
}
