// SPDX-License-Identifier: MIT
/*
 * guest-hostile-system: hostile traps on the full-system channel from guest
 * user space. A correct plugin rejects (and counts) every trap listed under
 * expect_rejected, never emits an event for them, never crashes, and does
 * not depend on header bytes the guest can change.
 *
 * Maps the channel itself (same discovery as libbdguest) and handshakes.
 * Never writes into kernel slots (bd_sched owns them) and never traps at
 * BAR2 offset 0 (that is the handshake).
 *
 *   header      5  traps inside the header page and the gap before the
 *                  kernel slots: offsets 0x8, 0x80, 0xff8, 0x1000, 0x1f80
 *   claims      3  inside the claim table: 0x4000, 0x4008, 0x7f80
 *   misaligned  4  a valid MARK in our user slot, trapped at slot + 8, + 1,
 *                  + 64; and kernel slot 0 + 8 (a load only, no write)
 *   outside     3  past the user slots: 0x28000 (first byte after them),
 *                  BD_CHANNEL_SIZE - 128, and the last 8 bytes of BAR2 (the
 *                  last two inside the last data page: call_bad_page,
 *                  "expect_call_bad_page 2")
 *   garbage    64  records of PRNG bytes (magic forced wrong) in the 4 user
 *                  slots we claim, 16 each
 *   defects    10  otherwise valid records in our slot with one defect each:
 *                  kind 0, kind 8, kind 0xffff, byte-swapped magic,
 *                  version 0, version 2, flags 1, reserved 1,
 *                  MARK_TEXT text_len 56, EVENT_NAME without NUL
 *                  (no kind 7 here: guest-forge counts kernel_only_kind)
 * Then it scribbles PRNG garbage over the header's identity, layout,
 * generation and handshake fields, traps on one valid MARK in its slot
 * (a correct plugin accepts it: reply 1), and restores the header it saved
 * (handshake_nonce = 0) so that later processes still find the channel.
 *
 * Output (stdout): handshake <0|1>, one line per group above with its
 * count, seen_ok <n> (rejected traps whose reply read back OK: must be 0),
 * seen_rejected <n> (informational), after_scribble_reply <r>,
 * expect_rejected <total> (89). Exit 0; 1 when the channel is missing or
 * fewer than 4 user slots are free. An alarm ends it after 60 s whatever
 * happens.
 */
#define _GNU_SOURCE

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bd/trap.h>

#include "prng.h"
#include "system_common.h"

enum { SLOTS = 4, GARBAGE_PER_SLOT = 16 };

static unsigned long seen_ok, seen_rejected;
static uint64_t seq;

static unsigned trap_offset(const struct bd_chan *c, size_t off) {
  bd_trap_at(c->base + off);
  return 1;
}

/* Trap on a record in a user slot and look at the reply. */
static unsigned trap_record(struct bd_record *r) {
  bd_trap(r);
  int32_t reply = *(volatile int32_t *)&r->reply;
  if (reply == BD_REPLY_OK)
    seen_ok++;
  else if (reply == BD_REPLY_REJECTED)
    seen_rejected++;
  return 1;
}

static void valid_record(struct bd_record *r, uint16_t kind) {
  struct bd_record v;
  memset(&v, 0, sizeof v);
  v.magic = BD_MAGIC;
  v.version = BD_ABI_VERSION;
  v.kind = kind;
  v.event = 1;
  v.args[0] = 0xbad;
  v.pid = (uint32_t)getpid();
  v.tid = sys_gettid();
  v.seq = ++seq;
  v.reply = BD_REPLY_NONE;
  if (kind == BD_KIND_MARK_TEXT || kind == BD_KIND_EVENT_NAME) {
    strcpy(v.text, "hostile");
    v.text_len = (uint16_t)strlen(v.text);
  }
  memcpy(r, &v, sizeof v);
}

static unsigned send_defects(struct bd_record *r) {
  unsigned sent = 0;
  static const uint16_t bad_kinds[] = {0, BD_KIND_MAX_, 0xffff};
  for (size_t i = 0; i < sizeof bad_kinds / sizeof bad_kinds[0]; i++) {
    valid_record(r, BD_KIND_MARK);
    r->kind = bad_kinds[i];
    sent += trap_record(r);
  }
  valid_record(r, BD_KIND_MARK);
  r->magic = 0x72746462u; /* BD_MAGIC byte-swapped */
  sent += trap_record(r);
  valid_record(r, BD_KIND_MARK);
  r->version = 0;
  sent += trap_record(r);
  valid_record(r, BD_KIND_MARK);
  r->version = BD_ABI_VERSION + 1;
  sent += trap_record(r);
  valid_record(r, BD_KIND_MARK);
  r->flags = 1;
  sent += trap_record(r);
  valid_record(r, BD_KIND_MARK);
  r->reserved = 1;
  sent += trap_record(r);
  valid_record(r, BD_KIND_MARK_TEXT);
  memset(r->text, 'B', sizeof r->text - 1);
  r->text[sizeof r->text - 1] = '\0';
  r->text_len = BD_TEXT_MAX + 1;
  sent += trap_record(r);
  valid_record(r, BD_KIND_EVENT_NAME);
  memset(r->text, 'A', sizeof r->text); /* no NUL anywhere */
  r->text_len = BD_TEXT_MAX;
  sent += trap_record(r);
  return sent;
}

int main(void) {
  alarm(60); /* never hang, whatever the host does */
  struct bd_chan c;
  if (sys_open_channel("guest-hostile-system", &c) != 0) return 1;
  const uint32_t pid = (uint32_t)getpid(), tid = sys_gettid();
  int slot[SLOTS];
  for (int k = 0; k < SLOTS; k++) {
    slot[k] = bd_chan_claim(&c, pid, tid);
    if (slot[k] < 0) {
      fprintf(stderr,
              "guest-hostile-system: fewer than %d free user "
              "slots\n",
              SLOTS);
      return 1;
    }
  }
  struct bd_record *mine = bd_chan_user_slot(&c, (unsigned)slot[0]);
  unsigned long total = 0, n;

  static const size_t header_offsets[] = {0x8, 0x80, 0xff8, 0x1000, 0x1f80};
  n = 0;
  for (size_t i = 0; i < sizeof header_offsets / sizeof header_offsets[0]; i++)
    n += trap_offset(&c, header_offsets[i]);
  printf("header %lu\n", n);
  total += n;

  static const size_t claim_offsets[] = {BD_CHANNEL_CLAIMS_OFFSET, BD_CHANNEL_CLAIMS_OFFSET + 8,
                                         BD_CHANNEL_USER_OFFSET - 128};
  n = 0;
  for (size_t i = 0; i < sizeof claim_offsets / sizeof claim_offsets[0]; i++)
    n += trap_offset(&c, claim_offsets[i]);
  printf("claims %lu\n", n);
  total += n;

  const size_t mine_off = (size_t)((unsigned char *)mine - c.base);
  static const size_t skews[] = {8, 1, 64};
  n = 0;
  for (size_t i = 0; i < sizeof skews / sizeof skews[0]; i++) {
    valid_record(mine, BD_KIND_MARK);
    n += trap_offset(&c, mine_off + skews[i]);
  }
  n += trap_offset(&c, BD_CHANNEL_KERNEL_OFFSET + 8);
  printf("misaligned %lu\n", n);
  total += n;

  const size_t user_end = BD_CHANNEL_USER_OFFSET + (size_t)BD_CHANNEL_USER_SLOTS * BD_RECORD_SIZE;
  n = trap_offset(&c, user_end);
  n += trap_offset(&c, BD_CHANNEL_SIZE - BD_RECORD_SIZE);
  n += trap_offset(&c, BD_CHANNEL_SIZE - 8);
  printf("outside %lu\n", n);
  total += n;

  uint64_t state = 0x5eedb0a7d15ea5e5ULL ^ pid;
  n = 0;
  for (int k = 0; k < SLOTS; k++) {
    struct bd_record *r = bd_chan_user_slot(&c, (unsigned)slot[k]);
    for (int j = 0; j < GARBAGE_PER_SLOT; j++) {
      unsigned char *p = (unsigned char *)r;
      for (size_t i = 0; i < sizeof *r; i += 8) {
        uint64_t v = xorshift64(&state);
        memcpy(p + i, &v, 8);
      }
      if (r->magic == BD_MAGIC) r->magic ^= 1u;
      n += trap_record(r);
    }
  }
  printf("garbage %lu\n", n);
  total += n;

  n = send_defects(mine);
  printf("defects %lu\n", n);
  total += n;

  /* The header is the host's; the plugin must not depend on it. */
  volatile struct bd_channel_header *h = bd_chan_header(&c);
  unsigned char saved[offsetof(struct bd_channel_header, unions)];
  memcpy(saved, (const void *)h, sizeof saved);
  for (size_t i = 0; i < sizeof saved; i += 8) {
    uint64_t v = xorshift64(&state);
    memcpy((unsigned char *)h + i, &v, 8);
  }
  valid_record(mine, BD_KIND_MARK);
  bd_trap(mine);
  int32_t after = *(volatile int32_t *)&mine->reply;
  memcpy((void *)h, saved, sizeof saved);
  h->handshake_nonce = 0;
  printf("after_scribble_reply %d\n", (int)after);

  for (int k = 0; k < SLOTS; k++) bd_chan_release(&c, (unsigned)slot[k], pid, tid);
  printf("seen_ok %lu\n", seen_ok);
  printf("seen_rejected %lu\n", seen_rejected);
  printf("expect_rejected %lu\n", total);
  printf("expect_call_bad_page 2\n"); /* the two "outside" traps in a data page */
  return 0;
}
