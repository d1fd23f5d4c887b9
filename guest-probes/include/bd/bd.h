/* SPDX-License-Identifier: MIT */
/*
 * libbdguest: mark points of interest in a program running in a QEMU guest.
 *
 * Each call builds one record and hands it to the host in one of three ways
 * (modes), decided by the first call of a process:
 *
 *   ring     the environment variable BD_RING names a ring region file
 *            (<bd/ring.h>; bd-run creates one in /dev/shm and sets BD_RING).
 *            Each thread writes its records into its own single-producer
 *            ring in that shared memory; a host consumer drains them and
 *            turns them into LTTng-UST events. No trap, no system call: a
 *            call costs about a dozen nanoseconds, natively, under any
 *            qemu-user (with or without plugins) and under KVM.
 *   system   a `qemu-system-x86_64` guest with the bdtrace channel device
 *            (<bd/channel.h>): each thread fills its slot in the device's
 *            BAR2 and executes the bdtrace trap, which the plugin handles.
 *   trap     otherwise: the record lives in thread-local storage and the
 *            trap hands it to the plugin under `qemu-<arch> -plugin
 *            libbdtrace-qemu.so` (user mode). Natively and under plain QEMU
 *            the trap is an ordinary load and every call returns 0 at a cost
 *            of a few nanoseconds.
 * The same binary runs in all these settings.
 *
 * Discovery: if BD_RING is set and not "none", its file is opened
 * read-write and mapped shared when its header is a ready user-mode region
 * of this ABI version (magic, version, slot size, mode, clock, ring count
 * and size, and the layout <bd/ring.h> computes); any other outcome (no
 * such file, no permission, a bad or unready header, a short file) is
 * ignored and discovery goes on as without BD_RING. Then the full-system
 * channel: the environment variable BD_DEVICE names its BAR2 file (a PCI
 * resource2 path; "none" disables system mode), else the first ivshmem PCI
 * device (vendor 0x1af4, device 0x1110) whose BAR2 holds a bdtrace header
 * of this version is used. Without either: trap mode with records in
 * thread-local storage. In ring and system mode each thread claims one user
 * ring / one record slot in BAR2 on its first call (released at thread exit
 * and at exit(); those of threads that died otherwise are reclaimed when
 * the table is full). Mapping BAR2 needs root in the guest: a process that
 * finds the device but may not open it gets -EACCES from every call.
 *
 * Return values (every function):
 *    1        the host handler took the record (reply BD_REPLY_OK); in ring
 *             mode: the record was written into the thread's ring (the
 *             consumer may still filter it out);
 *    0        nobody answered (native run, QEMU without the plugin), the
 *             host filtered the record out (BD_REPLY_FILTERED), the
 *             per-thread records were all in use (see below), in system
 *             mode all BD_CHANNEL_USER_SLOTS slots belong to live threads
 *             (the host counts each such record as lost, reason
 *             no_free_slot: <bd/channel.h>, LOST RECORDS),
 *             or in ring mode the record was not written: its event is
 *             disabled in the region's enable bitmap (not counted), the
 *             thread's ring is full or the call is nested (counted in the
 *             ring's `dropped`, which the consumer reports), or every user
 *             ring belongs to a live thread (see below). A thread without
 *             a slot or ring retries claiming one every 4096 calls.
 *   -EINVAL   misuse: a NULL text or name, or an empty name;
 *             (bd_enabled() returns 1 / 0 with its own meaning, below)
 *   -EACCES   system mode: the bdtrace channel device exists but this
 *             process may not map it (not root);
 *   -EPROTO   the host answered BD_REPLY_REJECTED (or an unknown reply):
 *             the record was malformed, which means a libbdguest / plugin
 *             ABI mismatch.
 *
 * Ring mode, a thread that owns no ring (more live threads than the
 * region's user rings) has nowhere to write: its calls return 0 and are
 * counted in the region's unowned_dropped, which the consumer reports
 * (<bd/ring.h>, UNOWNED DROPS). Give the region at least as many rings as
 * the guest has threads that mark at once.
 * Records carry the guest's clock as their time (<bd/ring.h>, TIME: the
 * TSC on x86_64, cntvct_el0 on aarch64, rdtime on riscv64, the TOD clock
 * on s390x; a region whose clock kind is another architecture's is
 * ignored) and a per-thread
 * sequence number that counts the records written (dropped ones take
 * none). HELLO and QUERY records are never written into a ring.
 *
 * Threads and signals: every function is thread-safe, lock-free (except the
 * slow paths named below, which may wait for another thread) and
 * async-signal-safe (it may be called from a signal handler, including one
 * that interrupted another libbdguest call). In trap mode each thread owns
 * BD_GUEST_SLOTS records; a call nested deeper than that (signal handlers
 * interrupting signal handlers) returns 0 without trapping. In system mode
 * a thread owns one slot: a call nested in another (a signal handler
 * interrupting a libbdguest call) returns 0 and is counted by the host as
 * lost (reason nested_call). In ring mode
 * a thread owns one ring: a nested call returns 0 without writing and
 * counts as dropped in the ring. Exceptions: the first call in a thread of
 * a libbdguest.so that was loaded with dlopen() (glibc may allocate that
 * thread's TLS with malloc), and in system and ring mode the first call of
 * a process (it reads the environment, maps the region or scans sysfs and
 * maps the device) and of each thread (it claims a slot or ring and
 * registers a thread-exit destructor): make one call outside signal
 * handlers first. A handler's call that interrupts those first calls
 * returns 0.
 *
 * System mode when the plugin stops answering (a moved BAR, a restarted
 * plugin): the library redoes the handshake once and retries the record;
 * if the handshake fails, calls return 0 from then on.
 *
 * Processes: pid and tid are cached per process/thread and refreshed in the
 * child of fork() (pthread_atfork); in system and ring mode the child's
 * thread claims its own slot or ring. Children created by raw clone(),
 * vfork() or _Fork() bypass that and must not call libbdguest. Do not
 * dlclose() a libbdguest.so that made calls in system or ring mode (its
 * exit handlers stay registered).
 *
 * The library uses libc only; link libbdguest.a or libbdguest.so.
 */
#ifndef BD_BD_H
#define BD_BD_H

#include <stdint.h>

#include <bd/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define BD_API __attribute__((visibility("default")))
#else
#define BD_API
#endif

/* Records per thread (trap mode): the deepest nesting of calls (signal
 * handlers). Deeper calls return 0 in every mode. */
#define BD_GUEST_SLOTS 4

/* A point event `event` with all four arguments 0 (kind BD_KIND_MARK). */
BD_API int bd_mark(uint32_t event);

/* A point event with four free arguments, e.g. an iteration counter and a
 * partial result (kind BD_KIND_MARK). */
BD_API int bd_mark_args(uint32_t event, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3);

/* A point event carrying a short text (kind BD_KIND_MARK_TEXT, arguments 0).
 * At most BD_TEXT_MAX (55) bytes of `text` are sent: longer texts are
 * truncated byte-wise (which may split a multi-byte UTF-8 character); bytes
 * past the 55th are never read. NULL text: -EINVAL. */
BD_API int bd_mark_text(uint32_t event, const char *text);

/* Begin / end of a region (a named phase) with id `region`
 * (kinds BD_KIND_REGION_BEGIN / BD_KIND_REGION_END). Regions of one thread
 * may nest; the report pairs a begin with the next end of the same id on the
 * same thread. */
BD_API int bd_region_begin(uint32_t region);
BD_API int bd_region_end(uint32_t region);

/* Give event id (or region id) `event` a name for reports
 * (kind BD_KIND_EVENT_NAME). Event ids and region ids share one name space.
 * Names longer than BD_TEXT_MAX bytes are truncated like bd_mark_text.
 * NULL or empty name: -EINVAL. */
BD_API int bd_name_event(uint32_t event, const char *name);

/* Is a bdtrace host handler listening? Trap and system mode: sends a
 * BD_KIND_HELLO record: 1 when the host answered (BD_REPLY_OK or
 * BD_REPLY_FILTERED), 0 when nobody answered, -EPROTO when the host
 * rejected the record, -EACCES as for the other calls. Ring mode: 1, without
 * writing anything (the region is mapped; whether its consumer runs cannot
 * be asked without a round trip). */
BD_API int bd_present(void);

/* Would a mark of `event` currently be recorded? 1: possibly (a MARK,
 * MARK_TEXT or REGION record with this id may pass the host's filter;
 * "possibly" because process selectors and rate limits are decided per
 * record); 0: certainly not (the filter drops it), or no host listening;
 * -EACCES as for the other calls. Use it to skip building expensive
 * arguments:  if (bd_enabled(42) > 0) bd_mark_text(42, describe(x));
 *
 * Ring mode: reads the region's enable bitmap (<bd/ring.h>): a load and a
 * bit test, no trap, nothing written. The consumer rewrites it when its
 * filter changes. The bd_mark* and bd_region* calls test the same bit and
 * return 0 without writing (and without counting a drop) when it is clear.
 *
 * System mode: reads the channel header's enable bitmaps (<bd/channel.h>),
 * the union over all vCPUs: a load and a bit test, no trap. The plugin
 * rewrites them at every filter (re)load, so the answer follows the
 * config in force without any caching here. The bd_mark* and bd_region*
 * calls test the same bit themselves and return 0 without trapping when it
 * is clear.
 * Trap mode (qemu-x86_64): one synchronous query (a BD_KIND_QUERY record,
 * one trap, about the cost of a bd_mark) on every call. Nothing is cached:
 * a user-mode guest cannot see a config change without trapping, and a
 * query costs no more than the re-validation a cache would need. Marks are
 * not skipped in trap mode (a filtered mark still traps and returns 0). */
BD_API int bd_enabled(uint32_t event);

/* Make this process's records carry its parent's identity: pid and tid =
 * getppid(), for every thread. Meant for short-lived helpers such as
 * bd-mark: the calls a shell script makes through them then belong to one
 * thread (the script's shell) in reports, and a region begun by one helper
 * and ended by another pairs up. Call it before any other bd_* call:
 * 0, or -EBUSY once the library is in use. Channels that know the real
 * thread themselves (the trap under qemu-x86_64's plugin) keep it. */
BD_API int bd_act_as_parent(void);

/* Call the host handler that registered `event` (bd-run --handler; the
 * handler ABI is <bd/handler.h> in bdtrace's handlers/include): send
 * in_len bytes of `in`, receive at most out_cap bytes into `out`, their
 * count into *out_len and the handler's 64-bit result into *result (either
 * pointer may be NULL). Both lengths are at most BD_CALL_IO_MAX (64 KiB).
 * The call is synchronous: it returns once the handler has answered.
 * Returns 0, or a negative errno value:
 *   the handler's own negative status (its output and result are then
 *   not passed back);
 *   -ENOSYS   no handler registered `event`, or nobody answered (natively,
 *             or QEMU without the bdtrace plugin);
 *   -ENOTSUP  the process uses the ring channel (calls need the trap
 *             channel: qemu-user or a full-system guest with the bdtrace
 *             plugin), or a full-system host that serves no calls;
 *   -ENOSPC   full-system mode: the thread owns no channel slot (more
 *             live threads than slots);
 *   -EINVAL   a NULL buffer with a non-zero length;
 *   -E2BIG    a length over BD_CALL_IO_MAX;
 *   -EBUSY    called from a signal handler that interrupted a call of the
 *             same thread (one call per thread at a time);
 *   -ENOMEM   the thread's call page could not be mapped;
 *   -EPROTO   the host answered something this library does not expect.
 * Cost: one trap per BD_CALL_CHUNK (3968) bytes of input or output beyond
 * the first chunk of each, plus one (see the README's numbers). The bytes
 * travel through a page of the thread's own (<bd/abi.h>, CALLS): in user
 * mode one it maps, in full-system mode its data page in the channel. */
BD_API int bd_call(uint32_t event, const void *in, uint32_t in_len, void *out, uint32_t out_cap,
                   uint32_t *out_len, uint64_t *result);

/* A bulk mark: record `len` bytes of `data` (at most BD_CALL_IO_MAX, 64
 * KiB) under `event`, as a bdtrace:blob event with the bytes exactly as
 * given. Through the trap channel the same path as bd_call (no handler
 * involved): one trap per BD_CALL_CHUNK bytes; returns 1 when the host
 * took it, 0 when nobody answered (natively, QEMU without the plugin), or
 * bd_call's other errors. Through the ring: the record and the bytes in
 * the thread's ring, 1 + len / 64 slots (<bd/ring.h>, BULK MARKS), no
 * trap; returns 1 when written, 0 when dropped and counted (ring full or
 * smaller than the blob, as for a mark), -EINVAL / -E2BIG as bd_call. */
BD_API int bd_mark_blob(uint32_t event, const void *data, uint32_t len);

#ifdef __cplusplus
}
#endif

#endif /* BD_BD_H */
