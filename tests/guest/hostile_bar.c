// SPDX-License-Identifier: MIT
/*
 * guest-hostile-bar: guest user space (root) attacking the full-system trap
 * channel through its own mapping of BAR2, beyond guest-hostile-system's
 * single records. Every trap listed below is one the plugin must reject and
 * count, never turn into an event, and survive.
 *
 *   kernel-slots  write a well-formed SCHED_SWITCH (prev comm "bd-forged",
 *                 next comm "bd-forged-next") into every one of the 64
 *                 kernel slots and trap on it from user space: 64 traps,
 *                 each rejected as kernel_only_kind. For the slot of an
 *                 online CPU the program runs pinned to that CPU, like
 *                 guest-forge: bd_sched fills and traps on its slot with
 *                 preemption disabled, so it never sees our bytes half
 *                 written (a switch between our write and our trap puts the
 *                 kernel's own record there: still a user-mode trap on a
 *                 SCHED_SWITCH record).
 *   garbage       save BAR2, fill all of it with PRNG bytes except the
 *                 kernel slots of online CPUs (bd_sched writes those at
 *                 any moment), then trap on every BD_RECORD_SIZE-aligned
 *                 offset but 0 (the handshake), those kernel slots and
 *                 BD_CHANNEL_LOST_NO_SLOT_OFFSET (a lost-record report, not
 *                 garbage), and on 1000 PRNG offsets that are not
 *                 record-aligned (not BD_CHANNEL_LOST_NESTED_OFFSET either).
 *                 Every record-aligned slot holds bytes whose magic is
 *                 forced wrong. Then BAR2 is restored.
 *   handshakes N  N handshakes in a row (each nonce acknowledged), N traps
 *                 on BAR2 offset 0 with no nonce (rejected: bad_slot), and
 *                 a hijack: a handshake at a guest-RAM page whose physical
 *                 address is BD_CHANNEL_SIZE-aligned (found through
 *                 /proc/self/pagemap), which moves the plugin's idea of the
 *                 channel away from BAR2. A valid MARK (event 4242) in our
 *                 user slot is then outside the channel (rejected:
 *                 outside_channel); after a handshake at BAR2 the same MARK
 *                 is accepted: one mark 4242 in the trace, reply OK.
 *
 * Output (stdout): handshake <0|1>, then per command "<name> <traps>",
 * "expect_rejected <n>" (traps the plugin must count as rejected),
 * "expect_kernel_only <n>" (of which kernel_only_kind), and for handshakes
 * also "acked <n>", "hijacked <0|1>" (0: no aligned page found, the hijack
 * was skipped), "rejected_reply <r>" and "final_reply <r>". Exit 0; 1 when
 * the channel is missing, 2 on bad usage. Run it alone: while garbage runs
 * the claim table is garbage too, so other processes cannot mark. An alarm
 * ends it after 120 s whatever happens.
 */
#define _GNU_SOURCE

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bd/trap.h>

#include "prng.h"
#include "system_common.h"

#define RECOVERY_EVENT 4242u

static unsigned online_cpus(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1u : n > (long)BD_CHANNEL_KERNEL_SLOTS ? BD_CHANNEL_KERNEL_SLOTS : (unsigned)n;
}

static int pin_to_cpu(unsigned cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) return -1;
  for (int i = 0; i < 100 && sched_getcpu() != (int)cpu; i++) sched_yield();
  return sched_getcpu() == (int)cpu ? 0 : -1;
}

static void valid_mark(struct bd_record *r, uint32_t event, uint32_t pid, uint32_t tid) {
  struct bd_record v;
  memset(&v, 0, sizeof v);
  v.magic = BD_MAGIC;
  v.version = BD_ABI_VERSION;
  v.kind = BD_KIND_MARK;
  v.event = event;
  v.pid = pid;
  v.tid = tid;
  v.seq = 1;
  v.reply = BD_REPLY_NONE;
  memcpy(r, &v, sizeof v);
}

static int32_t reply_of(const struct bd_record *r) { return *(const volatile int32_t *)&r->reply; }

static int cmd_kernel_slots(const struct bd_chan *c) {
  const uint32_t pid = (uint32_t)getpid(), tid = sys_gettid();
  const unsigned cpus = online_cpus();
  unsigned traps = 0;
  for (unsigned k = 0; k < BD_CHANNEL_KERNEL_SLOTS; k++) {
    if (k < cpus && pin_to_cpu(k) != 0) {
      fprintf(stderr, "guest-hostile-bar: cannot run on CPU %u\n", k);
      return 1;
    }
    struct bd_record *slot = bd_chan_kernel_slot(c, k);
    forge_switch(slot, pid, tid, k + 1);
    bd_trap(slot);
    traps++;
  }
  printf("kernel-slots %u\n", traps);
  printf("expect_rejected %u\n", traps);
  printf("expect_kernel_only %u\n", traps);
  return 0;
}

/* Is `off` a kernel slot bd_sched may write at any moment? */
static int live_kernel_slot(size_t off, unsigned cpus) {
  return off >= BD_CHANNEL_KERNEL_OFFSET && off < BD_CHANNEL_KERNEL_OFFSET + (size_t)cpus * BD_RECORD_SIZE;
}

/* A trap here is rejected as call_bad_page (<bd/channel.h>, CALLS): in the
 * data pages, not at a page's first byte. */
static int inside_data_page(size_t off) {
  return off >= BD_CHANNEL_DATA_OFFSET &&
         off < BD_CHANNEL_DATA_OFFSET + (size_t)BD_CHANNEL_USER_SLOTS * BD_PAGE_SIZE &&
         off % BD_PAGE_SIZE != 0;
}

static int cmd_garbage(const struct bd_chan *c) {
  const unsigned cpus = online_cpus();
  unsigned char *saved = malloc(BD_CHANNEL_SIZE);
  if (saved == NULL) {
    perror("guest-hostile-bar: malloc");
    return 1;
  }
  unsigned char *bar = c->base;
  memcpy(saved, bar, BD_CHANNEL_SIZE);
  uint64_t state = 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
  for (size_t off = 0; off < BD_CHANNEL_SIZE; off += 8) {
    if (live_kernel_slot(off, cpus)) continue;
    const uint64_t v = xorshift64(&state);
    memcpy(bar + off, &v, 8);
  }
  for (size_t off = 0; off < BD_CHANNEL_SIZE; off += BD_RECORD_SIZE) {
    struct bd_record *r = (struct bd_record *)(void *)(bar + off);
    if (!live_kernel_slot(off, cpus) && r->magic == BD_MAGIC) r->magic ^= 1u;
  }
  unsigned aligned = 0, unaligned = 0, in_data_page = 0;
  for (size_t off = BD_RECORD_SIZE; off < BD_CHANNEL_SIZE; off += BD_RECORD_SIZE) {
    if (live_kernel_slot(off, cpus) || off == BD_CHANNEL_LOST_NO_SLOT_OFFSET) continue;
    bd_trap_at(bar + off);
    aligned++;
    in_data_page += inside_data_page(off);
  }
  while (unaligned < 1000) {
    const size_t off = (size_t)(xorshift64(&state) % BD_CHANNEL_SIZE);
    if (off % BD_RECORD_SIZE == 0 || off == BD_CHANNEL_LOST_NESTED_OFFSET) continue;
    bd_trap_at(bar + off);
    unaligned++;
    in_data_page += inside_data_page(off);
  }
  /* Restore the host's bytes (the kernel slots we skipped were never
     * touched, so the saved copy of them is not written back). */
  for (size_t off = 0; off < BD_CHANNEL_SIZE; off += BD_RECORD_SIZE)
    if (!live_kernel_slot(off, cpus)) memcpy(bar + off, saved + off, BD_RECORD_SIZE);
  free(saved);
  printf("garbage %u\n", aligned + unaligned);
  printf("expect_rejected %u\n", aligned + unaligned);
  printf("expect_kernel_only 0\n");
  printf("expect_call_bad_page %u\n", in_data_page);
  return 0;
}

/* The physical address of the page at `p` (/proc/self/pagemap; root
 * sees PFNs), or 0 when unknown. */
static uint64_t phys_of(int pagemap, const void *p) {
  const long page = sysconf(_SC_PAGESIZE);
  uint64_t entry;
  const off_t at = (off_t)((uintptr_t)p / (uintptr_t)page) * (off_t)sizeof entry;
  if (pread(pagemap, &entry, sizeof entry, at) != (ssize_t)sizeof entry) return 0;
  if (!(entry & (1ull << 63))) /* not present */
    return 0;
  const uint64_t pfn = entry & ((1ull << 55) - 1);
  return pfn * (uint64_t)page;
}

/* A page of our memory whose physical address is BD_CHANNEL_SIZE-aligned
 * (about one page in 2048: 64 MiB hold ~8), locked in place; NULL when
 * none was found. */
static volatile unsigned char *aligned_ram_page(void) {
  const size_t len = 64u << 20;
  const long page = sysconf(_SC_PAGESIZE);
  unsigned char *mem =
      mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (mem == MAP_FAILED) return NULL;
  if (mlock(mem, len) != 0) {
    munmap(mem, len);
    return NULL;
  }
  const int pagemap = open("/proc/self/pagemap", O_RDONLY);
  if (pagemap < 0) return NULL;
  for (size_t off = 0; off < len; off += (size_t)page) {
    mem[off] = 1; /* own the page (MAP_PRIVATE: not the zero page) */
    const uint64_t phys = phys_of(pagemap, mem + off);
    if (phys != 0 && phys % BD_CHANNEL_SIZE == 0) {
      close(pagemap);
      return mem + off;
    }
  }
  close(pagemap);
  return NULL;
}

static int handshake_once(const struct bd_chan *c, volatile void *at, uint64_t nonce) {
  volatile struct bd_channel_header *h = bd_chan_header(c);
  h->handshake_nonce = nonce;
  bd_trap_at(at);
  const int acked = h->handshake_ack == nonce;
  h->handshake_nonce = 0; /* taken by the plugin, or withdrawn */
  return acked;
}

static int cmd_handshakes(const struct bd_chan *c, unsigned n) {
  const uint32_t pid = (uint32_t)getpid(), tid = sys_gettid();
  unsigned acked = 0, rejected = 0;
  for (unsigned i = 0; i < n; i++) acked += (unsigned)handshake_once(c, c->base, bd_chan_fresh_nonce());
  bd_chan_header(c)->handshake_nonce = 0;
  for (unsigned i = 0; i < n; i++) {
    bd_trap_at(c->base); /* no nonce: neither handshake nor record */
    rejected++;
  }
  const int slot = bd_chan_claim(c, pid, tid);
  if (slot < 0) {
    fprintf(stderr, "guest-hostile-bar: no free user slot\n");
    return 1;
  }
  struct bd_record *mine = bd_chan_user_slot(c, (unsigned)slot);
  int hijacked = 0;
  int32_t rejected_reply = BD_REPLY_NONE;
  volatile unsigned char *ram = aligned_ram_page();
  if (ram != NULL && handshake_once(c, ram, bd_chan_fresh_nonce())) {
    hijacked = 1;
    acked++;
    valid_mark(mine, RECOVERY_EVENT, pid, tid);
    bd_trap(mine); /* BAR2 is no longer where the plugin looks */
    rejected_reply = reply_of(mine);
    rejected++;
  }
  acked += (unsigned)handshake_once(c, c->base, bd_chan_fresh_nonce());
  valid_mark(mine, RECOVERY_EVENT, pid, tid);
  bd_trap(mine);
  const int32_t final_reply = reply_of(mine);
  bd_chan_release(c, (unsigned)slot, pid, tid);
  printf("handshakes %u\n", n);
  printf("acked %u\n", acked);
  printf("hijacked %d\n", hijacked);
  printf("rejected_reply %d\n", (int)rejected_reply);
  printf("final_reply %d\n", (int)final_reply);
  printf("expect_rejected %u\n", rejected);
  printf("expect_kernel_only 0\n");
  return 0;
}

int main(int argc, char **argv) {
  alarm(120); /* never hang, whatever the host does */
  if (argc < 2 || (strcmp(argv[1], "handshakes") == 0 && argc < 3)) {
    fprintf(stderr, "usage: guest-hostile-bar kernel-slots | garbage | handshakes N\n");
    return 2;
  }
  struct bd_chan c;
  if (sys_open_channel("guest-hostile-bar", &c) != 0) return 1;
  if (strcmp(argv[1], "kernel-slots") == 0) return cmd_kernel_slots(&c);
  if (strcmp(argv[1], "garbage") == 0) return cmd_garbage(&c);
  if (strcmp(argv[1], "handshakes") == 0) return cmd_handshakes(&c, (unsigned)strtoul(argv[2], NULL, 10));
  fprintf(stderr, "guest-hostile-bar: unknown command '%s'\n", argv[1]);
  return 2;
}
