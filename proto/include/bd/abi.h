/* SPDX-License-Identifier: MIT */
/*
 * bdtrace guest record ABI, version 1.
 *
 * The one contract between code in a guest (libbdguest, the bd_sched kernel
 * module, bd-mark) and the bdtrace QEMU plugin. C, freestanding, shared
 * verbatim by guest and host; host-side decoding lives in
 * tracepoints/include/bdtrace/record.h and nowhere else.
 *
 * THE TRAP
 *   x86_64: the DS-prefixed load   mov (%rdi),%rax   encoded exactly as the
 *   four bytes 3e 48 8b 07, with %rdi holding the guest-virtual address of a
 *   struct bd_record. Natively and under QEMU without the plugin it is a
 *   harmless 8-byte load of the record's first word. The plugin instruments
 *   only instructions whose bytes match exactly (other DS-prefixed movs exist
 *   in real binaries), and only at translation time.
 *
 *   aarch64: the load   ldr xzr, [x0]   (one 32-bit instruction word,
 *   0xf940001f, in memory 1f 00 40 f9), x0 holding the record's address:
 *   an 8-byte load into the zero register, which compilers never emit (none
 *   in Debian 12's aarch64 libc.a / libc.so.6: objdump shows no load into
 *   xzr or wzr at all). Natively and under plain QEMU a discarded load.
 *
 *   riscv64: the load   ld zero, 0(a0)   (0x00053003, in memory 03 30 05
 *   00; never compressed: c.ld cannot name x0), a0 holding the record's
 *   address: a load into x0, which compilers never emit (none in Debian
 *   12's riscv64 libc.a / libc.so.6). Natively and under plain QEMU a
 *   discarded load.
 *
 *   s390x: the load   lg %r0,0(%r2,0)   (RXY LG, R1 = 0, index X2 = 2,
 *   no base (B2 = 0), displacement 0: in memory e3 02 00 00 00 04, six
 *   bytes; objdump shows it as lg %r0,0(%r2,%r0)), r2 holding the
 *   record's address. s390x has no zero register, so the load overwrites
 *   r0 (the guest declares it clobbered). What makes it unique is the
 *   address form: compilers put a lone address register in the base field
 *   (0(%r2) is e3 00 20 00 00 04) and use the index only beside a base,
 *   so an index without a base never occurs. Checked 2026-11-26 with
 *   s390x-linux-gnu-objdump -d, counting RXY instructions of the e3 group
 *   with B2 = 0 and X2 != 0, and grepping the raw bytes: none in Debian
 *   12's s390x cross libc.a, libc.so.6, libm, libstdc++.so.6, nor in the
 *   141 s390x ELF files of bookworm's busybox-static, coreutils, bash,
 *   perl-base, python3.11-minimal, libssl3, openssh-client, zstd and
 *   libstdc++6 (4.9 million instructions, 790 000 of them e3 RXY; the
 *   six bytes occur nowhere, not even as data). Natively and under plain
 *   QEMU a load of the record's first 8 bytes into r0.
 *
 *   QEMU runs plugin memory callbacks after the access, so the instruction's
 *   destination register never holds the reply: the guest reads
 *   bd_record.reply with a separate (volatile) load after the trap.
 *
 * THE RECORD
 *   Fixed size BD_RECORD_SIZE (128) and aligned to it, so a well-formed record
 *   never crosses a 4 KiB page. The host rejects (never reads past) a record
 *   whose address is misaligned or whose last byte is on another page.
 *
 *   The guest fills every field except reply, sets reply = BD_REPLY_NONE,
 *   then traps. The host validates magic, version, kind, flags, lengths and
 *   text termination before trusting anything, then writes reply.
 *
 * BYTE ORDER
 *   Every field of struct bd_record is in the guest's byte order: the guest
 *   fills the record with its own stores, big-endian on s390x, little-endian
 *   on x86_64, aarch64 and riscv64. The host decodes the fields in the
 *   guest's order (the plugin knows it from QEMU's target name) and writes
 *   reply in the guest's order too, so the guest's plain load reads it.
 *   BD_MAGIC is the number 0x62647472, "bdtr" in a big-endian guest's
 *   memory and "rtdb" in a little-endian one's; a record read in the wrong
 *   order fails the magic check. The text is bytes and has no byte order.
 *
 * CALLS (BD_KIND_CALL: bd_call(), answered by host handlers, <bd/handler.h>)
 *   A call's bytes travel in the page of its record and nowhere else: the
 *   record sits at offset 0 of a BD_PAGE_SIZE-aligned page that the
 *   calling thread owns, and the BD_CALL_CHUNK bytes after it carry input
 *   to the host or output back. The host reads and writes only that page,
 *   which the trap's own load proved to be the guest's (a host cannot tell
 *   guest memory from its own at any other address without help QEMU 7.2
 *   to 10.0 does not give plugins). event is the handler's id; args[0] is
 *   the step (enum bd_call_op):
 *     PUT     input bytes [args[1], args[1] + args[2]) are in the page;
 *             offsets start at 0 and follow each other.
 *     INVOKE  the last args[3] bytes of the input are in the page; args[1]
 *             is the input's whole length, args[2] the output capacity
 *             (both at most BD_CALL_IO_MAX). The host calls the handler
 *             and answers in the record: args[0] = the handler's 64-bit
 *             result, args[1] = the output's length, args[2] = the status
 *             as a signed 64-bit value (0, or a negative errno value: the
 *             handler's; -ENOSYS when no handler registered the id;
 *             -EINVAL or -E2BIG for steps out of order or too long), and
 *             the output's first BD_CALL_CHUNK bytes in the page.
 *     GET     the output's bytes from args[1] on, up to BD_CALL_CHUNK,
 *             into the page; args[1] = how many.
 *     BLOB    bd_mark_blob(): like INVOKE (args[1] = the bytes in all,
 *             args[3] = the last of them in this page), but the host
 *             records the bytes as a bdtrace:blob event of `event`
 *             (when a session records) instead of calling a handler;
 *             answered with args[2] = the status.
 *   Every step is answered with reply BD_REPLY_OK; a record that is not at
 *   the start of a page is rejected. The host keeps one call's bytes per
 *   guest thread (user mode) or per data page (full-system mode, where the
 *   page is the thread's data page in the channel, <bd/channel.h> CALLS)
 *   between steps; a step on a page whose previous step is still being
 *   served (two threads sharing a page) is answered -EBUSY. The trap
 *   channel only: the ring channel carries no calls.
 *
 * Everything in a record is untrusted input to the host.
 */
#ifndef BD_ABI_H
#define BD_ABI_H

#ifdef __KERNEL__
#include <linux/types.h>
typedef u8 bd_u8;
typedef u16 bd_u16;
typedef u32 bd_u32;
typedef u64 bd_u64;
typedef s32 bd_s32;
#else
#include <stdint.h>
typedef uint8_t bd_u8;
typedef uint16_t bd_u16;
typedef uint32_t bd_u32;
typedef uint64_t bd_u64;
typedef int32_t bd_s32;
#endif

/*
 * BD_STATIC_ASSERT(NAME, COND, MSG): a compile-time check at file scope that
 * every language the headers are compiled as accepts without a warning under
 * -pedantic: static_assert in C++11, _Static_assert in C11, and in C99 (which
 * has neither) a typedef of an array whose size is negative when COND is
 * false; NAME, unique per assertion, names that typedef. BD_ALIGNOF(TYPE) is
 * the alignment of TYPE where the language (or GNU C) can say it; where it
 * cannot, BD_HAVE_ALIGNOF stays undefined and alignment checks are skipped.
 * Linux kernel code has its own static_assert: the checks are left out there.
 */
#if defined(__cplusplus)
#define BD_STATIC_ASSERT(name, cond, msg) static_assert(cond, msg)
#define BD_ALIGNOF(type) alignof(type)
#define BD_HAVE_ALIGNOF 1
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define BD_STATIC_ASSERT(name, cond, msg) _Static_assert(cond, msg)
#define BD_ALIGNOF(type) _Alignof(type)
#define BD_HAVE_ALIGNOF 1
#else
#define BD_STATIC_ASSERT(name, cond, msg) typedef char bd_static_assert_##name[(cond) ? 1 : -1]
#if defined(__GNUC__)
#define BD_ALIGNOF(type) __alignof__(type)
#define BD_HAVE_ALIGNOF 1
#endif
#endif

/* "bdtr" read as a big-endian word; any other value is rejected (stored in
 * the guest's byte order like every field, see BYTE ORDER). */
#define BD_MAGIC 0x62647472u
/* Bumped on any incompatible change of struct bd_record or the trap. */
#define BD_ABI_VERSION 1u

#define BD_RECORD_SIZE 128u
/* Longest text a record carries, not counting the terminating NUL.
 * Longer texts are truncated by the guest library. */
#define BD_TEXT_MAX 55u
#define BD_PAGE_SIZE 4096u

/* The trap instruction's bytes as they lie in guest memory, per guest
 * architecture (see THE TRAP). */
#define BD_TRAP_X86_64_BYTES \
  { 0x3e, 0x48, 0x8b, 0x07 }
#define BD_TRAP_X86_64_LEN 4u
#define BD_TRAP_AARCH64_BYTES \
  { 0x1f, 0x00, 0x40, 0xf9 }
#define BD_TRAP_AARCH64_LEN 4u
#define BD_TRAP_RISCV64_BYTES \
  { 0x03, 0x30, 0x05, 0x00 }
#define BD_TRAP_RISCV64_LEN 4u
#define BD_TRAP_S390X_BYTES \
  { 0xe3, 0x02, 0x00, 0x00, 0x00, 0x04 }
#define BD_TRAP_S390X_LEN 6u

enum bd_kind {
  BD_KIND_INVALID = 0,
  BD_KIND_MARK = 1,         /* event, args[0..3]                        */
  BD_KIND_MARK_TEXT = 2,    /* event, args[0..3], text                  */
  BD_KIND_REGION_BEGIN = 3, /* event = region id                        */
  BD_KIND_REGION_END = 4,   /* event = region id                        */
  BD_KIND_EVENT_NAME = 5,   /* event, text = its name for reports       */
  BD_KIND_HELLO = 6,        /* presence probe: host answers BD_REPLY_OK */
  BD_KIND_SCHED_SWITCH = 7, /* reserved: guest kernel only (system mode)*/
  BD_KIND_QUERY = 8,        /* bd_enabled(): event = the id asked about; */
                            /* host answers OK (a MARK/TEXT/REGION of it */
                            /* may be recorded) or FILTERED; never traced */
  BD_KIND_CALL = 9,         /* bd_call(): one step of a call to a host   */
                            /* handler, see CALLS; never traced as a mark */
  BD_KIND_MAX_ = 10         /* first invalid value                      */
};

/* CALLS: bd_record.args[0] of a BD_KIND_CALL record. */
enum bd_call_op {
  BD_CALL_PUT = 1,    /* append input: args[1] = offset, args[2] = bytes   */
  BD_CALL_INVOKE = 2, /* args[1] = input bytes in all, args[2] = output    */
                      /* capacity, args[3] = input bytes in this page      */
  BD_CALL_GET = 3,    /* args[1] = offset of the output to fetch           */
  BD_CALL_BLOB = 4    /* record the input as a bulk mark: as INVOKE, but   */
                      /* no handler: a bdtrace:blob of event (args[2] 0)   */
};

/* The most bytes of input and of output one call carries (the value of
 * <bd/handler.h>'s BD_HANDLER_IO_MAX). */
#define BD_CALL_IO_MAX (64u * 1024u)
/* Bytes of a call's page after its record. */
#define BD_CALL_CHUNK (BD_PAGE_SIZE - BD_RECORD_SIZE)

/* What the host writes into bd_record.reply. */
enum bd_reply {
  BD_REPLY_NONE = 0,     /* nobody answered: native run or plain QEMU */
  BD_REPLY_OK = 1,       /* the host handler took the record          */
  BD_REPLY_FILTERED = 2, /* a handler exists but did not record it    */
  BD_REPLY_REJECTED = -1 /* malformed record; counted by the host     */
};

struct bd_record {
  bd_u32 magic;    /*   0: BD_MAGIC                                      */
  bd_u16 version;  /*   4: BD_ABI_VERSION                                */
  bd_u16 kind;     /*   6: enum bd_kind                                  */
  bd_u32 event;    /*   8: event id (marks, names) or region id          */
  bd_u16 text_len; /*  12: bytes of text before its NUL, <= BD_TEXT_MAX; */
                   /*      0 for kinds without text                      */
  bd_u16 flags;    /*  14: must be 0 in ABI 1                            */
  bd_u64 args[4];  /*  16: free arguments of a mark (a0..a3)             */
  bd_u32 pid;      /*  48: guest process id as the guest sees it         */
  bd_u32 tid;      /*  52: guest thread id as the guest sees it          */
  bd_u64 seq;      /*  56: per-thread sequence number, starts at 1       */
  bd_s32 reply;    /*  64: enum bd_reply, written by the host only       */
  bd_u32 reserved; /*  68: must be 0                                     */
  char text[56];   /*  72: text_len bytes then NUL (MARK_TEXT,           */
                   /*      EVENT_NAME); ignored for other kinds          */
} __attribute__((aligned(128)));

#ifndef __KERNEL__
BD_STATIC_ASSERT(record_size, sizeof(struct bd_record) == BD_RECORD_SIZE, "bd_record size");
#ifdef BD_HAVE_ALIGNOF
BD_STATIC_ASSERT(record_align, BD_ALIGNOF(struct bd_record) == BD_RECORD_SIZE, "bd_record align");
#endif
#endif

#endif /* BD_ABI_H */
