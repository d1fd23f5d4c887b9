/*
 * libbdguest: mark points of interest in a program running in a QEMU guest.
 *
 * Each call builds one struct bd_record (see <bd/abi.h>) and executes the
 * bdtrace trap instruction on it. Under `qemu-x86_64 -plugin
 * libbdtrace-qemu.so` (user mode) or in a `qemu-system-x86_64` guest with
 * the bdtrace channel (system mode) the bdtrace plugin turns the record into
 * an LTTng-UST event; natively and under plain QEMU the trap is an ordinary
 * load and every call returns 0 at a cost of a few nanoseconds. The same
 * binary runs in all these settings.
 *
 * Modes: the first call in a process looks for the full-system channel
 * (<bd/channel.h>): the environment variable BD_DEVICE names its BAR2 file
 * (a PCI resource2 path; "none" disables system mode), else the first
 * ivshmem PCI device (vendor 0x1af4, device 0x1110) whose BAR2 holds a
 * bdtrace header of this version is used. Without one, records live in
 * thread-local storage (user mode). With one, each thread claims one record
 * slot in BAR2 on its first call (released at thread exit and at exit();
 * slots of threads that died otherwise are reclaimed when the table is
 * full). Mapping BAR2 needs root in the guest: a process that finds the
 * device but may not open it gets -EACCES from every call.
 *
 * Return values (every function):
 *    1        the host handler took the record (reply BD_REPLY_OK);
 *    0        nobody answered (native run, QEMU without the plugin), the
 *             host filtered the record out (BD_REPLY_FILTERED), the
 *             per-thread records were all in use (see below), or, in
 *             system mode, all BD_CHANNEL_USER_SLOTS slots belong to live
 *             threads (the thread retries claiming one every 4096 calls);
 *   -EINVAL   misuse: a NULL text or name, or an empty name;
 *             (bd_enabled() returns 1 / 0 with its own meaning, below)
 *   -EACCES   system mode: the bdtrace channel device exists but this
 *             process may not map it (not root);
 *   -EPROTO   the host answered BD_REPLY_REJECTED (or an unknown reply):
 *             the record was malformed, which means a libbdguest / plugin
 *             ABI mismatch.
 *
 * Threads and signals: every function is thread-safe, lock-free (except the
 * slow paths named below, which may wait for another thread) and
 * async-signal-safe (it may be called from a signal handler, including one
 * that interrupted another libbdguest call). In user mode each thread owns
 * BD_GUEST_SLOTS records; a call nested deeper than that (signal handlers
 * interrupting signal handlers) returns 0 without trapping. In system mode
 * a thread owns one slot: a call nested in another (a signal handler
 * interrupting a libbdguest call) returns 0 without trapping. Exceptions:
 * the first call in a thread of a libbdguest.so that was loaded with
 * dlopen() (glibc may allocate that thread's TLS with malloc), and in
 * system mode the first call of a process (it reads the environment, scans
 * sysfs and maps the device) and of each thread (it claims a slot and
 * registers a thread-exit destructor): make one call outside signal
 * handlers first. A handler's call that interrupts those first calls
 * returns 0.
 *
 * System mode when the plugin stops answering (a moved BAR, a restarted
 * plugin): the library redoes the handshake once and retries the record;
 * if the handshake fails, calls return 0 from then on.
 *
 * Processes: pid and tid are cached per process/thread and refreshed in the
 * child of fork() (pthread_atfork); in system mode the child's thread
 * claims its own slot. Children created by raw clone(), vfork() or _Fork()
 * bypass that and must not call libbdguest. Do not dlclose() a
 * libbdguest.so that made calls in system mode (its exit handlers stay
 * registered).
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

/* Records per thread: the deepest nesting of calls (signal handlers). */
#define BD_GUEST_SLOTS 4

/* A point event `event` with all four arguments 0 (kind BD_KIND_MARK). */
BD_API int bd_mark(uint32_t event);

/* A point event with four free arguments, e.g. an iteration counter and a
 * partial result (kind BD_KIND_MARK). */
BD_API int bd_mark_args(uint32_t event, uint64_t a0, uint64_t a1, uint64_t a2,
                        uint64_t a3);

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

/* Is a bdtrace host handler listening? Sends a BD_KIND_HELLO record:
 * 1 when the host answered (BD_REPLY_OK or BD_REPLY_FILTERED), 0 when nobody
 * answered, -EPROTO when the host rejected the record. */
BD_API int bd_present(void);

/* Would a mark of `event` currently be recorded? 1: possibly (a MARK,
 * MARK_TEXT or REGION record with this id may pass the host's filter;
 * "possibly" because process selectors and rate limits are decided per
 * record); 0: certainly not (the filter drops it), or no host listening;
 * -EACCES as for the other calls. Use it to skip building expensive
 * arguments:  if (bd_enabled(42) > 0) bd_mark_text(42, describe(x));
 *
 * System mode: reads the channel header's enable bitmaps (<bd/channel.h>),
 * the union over all vCPUs: a load and a bit test, no trap. The plugin
 * rewrites them at every filter (re)load, so the answer follows the
 * config in force without any caching here. The bd_mark* and bd_region*
 * calls test the same bit themselves and return 0 without trapping when it
 * is clear.
 * User mode (qemu-x86_64): one synchronous query (a BD_KIND_QUERY record,
 * one trap, about the cost of a bd_mark) on every call. Nothing is cached:
 * a user-mode guest cannot see a config change without trapping, and a
 * query costs no more than the re-validation a cache would need. Marks are
 * not skipped in user mode (a filtered mark still traps and returns 0). */
BD_API int bd_enabled(uint32_t event);

#ifdef __cplusplus
}
#endif

#endif /* BD_BD_H */
