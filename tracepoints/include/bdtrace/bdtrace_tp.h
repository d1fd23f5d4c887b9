/* SPDX-License-Identifier: MIT */
/*
 * LTTng-UST provider "bdtrace": the events every bdtrace backend emits.
 *
 * Event and field names are a contract: bd-analyze, the tests and outside
 * tools read them. Add fields freely; never rename or remove one.
 *
 * Common fields: vcpu = QEMU vCPU index (reused by later threads in user
 * mode); tid/pid = guest thread/process id (user mode: the host thread that
 * runs the guest thread, which is the guest tid); seq = the guest's
 * per-thread record sequence number.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER bdtrace

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "bdtrace/bdtrace_tp.h"

#if !defined(BDTRACE_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define BDTRACE_TP_H

#include <lttng/tracepoint.h>
#include <stdint.h>

/* A mark: bd_mark, bd_mark_args (kind 1) and bd_mark_text (kind 2). */
LTTNG_UST_TRACEPOINT_EVENT(
    bdtrace, mark,
    LTTNG_UST_TP_ARGS(uint32_t, vcpu, uint32_t, pid, uint32_t, tid, uint32_t, kind, uint32_t, event,
                      const uint64_t *, args, uint64_t, seq, const char *, text, uint64_t, guest_ts),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, vcpu, vcpu) lttng_ust_field_integer(uint32_t, pid, pid)
            lttng_ust_field_integer(uint32_t, tid, tid) lttng_ust_field_integer(uint8_t, kind, kind)
                lttng_ust_field_integer(uint32_t, event, event) lttng_ust_field_integer(uint64_t, a0, args[0])
                    lttng_ust_field_integer(uint64_t, a1, args[1])
                        lttng_ust_field_integer(uint64_t, a2, args[2])
                            lttng_ust_field_integer(uint64_t, a3, args[3])
                                lttng_ust_field_integer(uint64_t, seq, seq) lttng_ust_field_string(text, text)
                                    lttng_ust_field_integer(uint64_t, guest_ts, guest_ts)))

LTTNG_UST_TRACEPOINT_EVENT_CLASS(
    bdtrace, region_class,
    LTTNG_UST_TP_ARGS(uint32_t, vcpu, uint32_t, pid, uint32_t, tid, uint32_t, region, uint64_t, seq, uint64_t,
                      guest_ts),
    LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(uint32_t, vcpu, vcpu)
                            lttng_ust_field_integer(uint32_t, pid, pid)
                                lttng_ust_field_integer(uint32_t, tid, tid)
                                    lttng_ust_field_integer(uint32_t, region, region)
                                        lttng_ust_field_integer(uint64_t, seq, seq)
                                            lttng_ust_field_integer(uint64_t, guest_ts, guest_ts)))

LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(bdtrace, region_class, bdtrace, region_begin,
                                    LTTNG_UST_TP_ARGS(uint32_t, vcpu, uint32_t, pid, uint32_t, tid, uint32_t,
                                                      region, uint64_t, seq, uint64_t, guest_ts))

LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(bdtrace, region_class, bdtrace, region_end,
                                    LTTNG_UST_TP_ARGS(uint32_t, vcpu, uint32_t, pid, uint32_t, tid, uint32_t,
                                                      region, uint64_t, seq, uint64_t, guest_ts))

/* bd_name_event: a name for an event id (also used for region ids). */
LTTNG_UST_TRACEPOINT_EVENT(bdtrace, event_name,
                           LTTNG_UST_TP_ARGS(uint32_t, vcpu, uint32_t, pid, uint32_t, tid, uint32_t, event,
                                             const char *, name, uint64_t, guest_ts),
                           LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(uint32_t, vcpu, vcpu)
                                                   lttng_ust_field_integer(uint32_t, pid, pid)
                                                       lttng_ust_field_integer(uint32_t, tid, tid)
                                                           lttng_ust_field_integer(uint32_t, event, event)
                                                               lttng_ust_field_string(name, name)
                                                                   lttng_ust_field_integer(uint64_t, guest_ts,
                                                                                           guest_ts)))

/* Once per emitting process when it starts: the QEMU plugin (trap channel)
 * or the ring consumer. mode: "user", "system" or "native"; channel: "trap"
 * or "ring"; abi_version: BD_ABI_VERSION (trap) or BD_RING_VERSION (ring);
 * host_pid: the emitting process; qemu_version: the QEMU's version as bd-run
 * read it from `qemu -version` ("" when not known, or no QEMU);
 * plugin_api: the QEMU plugin API generation of the plugin build
 * (<bdtrace/qemu_plugin_api.h>; 0: no plugin, the ring consumer);
 * qemu_api: the newest generation the QEMU supports (0: no plugin). */
LTTNG_UST_TRACEPOINT_EVENT(
    bdtrace, session,
    LTTNG_UST_TP_ARGS(const char *, mode, const char *, arch, const char *, program, uint32_t, abi_version,
                      uint32_t, host_pid, const char *, vm, const char *, channel, const char *, qemu_version,
                      uint32_t, plugin_api, uint32_t, qemu_api),
    LTTNG_UST_TP_FIELDS(lttng_ust_field_string(mode, mode) lttng_ust_field_string(arch, arch)
                            lttng_ust_field_string(program, program)
                                lttng_ust_field_integer(uint32_t, abi_version, abi_version)
                                    lttng_ust_field_integer(uint32_t, host_pid, host_pid)
                                        lttng_ust_field_string(vm, vm) lttng_ust_field_string(channel,
                                                                                              channel)
                                            lttng_ust_field_string(qemu_version, qemu_version)
                                                lttng_ust_field_integer(uint32_t, plugin_api, plugin_api)
                                                    lttng_ust_field_integer(uint32_t, qemu_api, qemu_api)))

/* A malformed record (rate-limited; see rejected_total for the counts).
 * reason: enum bdtrace::RejectReason value; reason_name: its stable name. */
LTTNG_UST_TRACEPOINT_EVENT(bdtrace, rejected,
                           LTTNG_UST_TP_ARGS(uint32_t, vcpu, uint32_t, tid, uint32_t, reason, const char *,
                                             reason_name, uint64_t, addr),
                           LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(uint32_t, vcpu, vcpu)
                                                   lttng_ust_field_integer(uint32_t, tid, tid)
                                                       lttng_ust_field_integer(uint32_t, reason, reason)
                                                           lttng_ust_field_string(reason_name, reason_name)
                                                               lttng_ust_field_integer_hex(uint64_t, addr,
                                                                                           addr)))

/* At QEMU exit: one per reason that occurred, with the exact total. */
LTTNG_UST_TRACEPOINT_EVENT(bdtrace, rejected_total,
                           LTTNG_UST_TP_ARGS(uint32_t, reason, const char *, reason_name, uint64_t, count),
                           LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(uint32_t, reason, reason)
                                                   lttng_ust_field_string(reason_name, reason_name)
                                                       lttng_ust_field_integer(uint64_t, count, count)))

/* A guest context switch (system mode), marked by the bd_sched kernel
 * module from the guest kernel's sched_switch tracepoint. Accepted only from
 * guest kernel mode. prev_state: the kernel's task state bits of prev. */
LTTNG_UST_TRACEPOINT_EVENT(
    bdtrace, sched_switch,
    LTTNG_UST_TP_ARGS(uint32_t, vcpu, uint32_t, prev_pid, uint32_t, prev_tid, const char *, prev_comm,
                      uint64_t, prev_state, uint32_t, next_pid, uint32_t, next_tid, const char *, next_comm,
                      uint64_t, guest_ts),
    LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(uint32_t, vcpu,
                                                vcpu) lttng_ust_field_integer(uint32_t, prev_pid, prev_pid)
                            lttng_ust_field_integer(uint32_t, prev_tid, prev_tid)
                                lttng_ust_field_string(prev_comm, prev_comm)
                                    lttng_ust_field_integer(uint64_t, prev_state, prev_state)
                                        lttng_ust_field_integer(uint32_t, next_pid, next_pid)
                                            lttng_ust_field_integer(uint32_t, next_tid, next_tid)
                                                lttng_ust_field_string(next_comm, next_comm)
                                                    lttng_ust_field_integer(uint64_t, guest_ts, guest_ts)))

/* The filter (filter/README.md): once when the plugin starts with filter=,
 * and after every reload attempt of the file. status "ok": the config with
 * this generation (1, 2, ...) and digest (FNV-1a 64 of the canonical
 * serialization, 16 hex digits) is in force from this event on; status
 * "error": the file was refused (message = "FILE:LINE:COLUMN: ...") and the
 * previous config (generation, digest) stays in force. rules: its rule count. */
LTTNG_UST_TRACEPOINT_EVENT(
    bdtrace, filter,
    LTTNG_UST_TP_ARGS(uint64_t, generation, const char *, status, const char *, digest, const char *, path,
                      const char *, message, uint32_t, rules),
    LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(uint64_t, generation, generation)
                            lttng_ust_field_string(status, status) lttng_ust_field_string(digest, digest)
                                lttng_ust_field_string(path, path) lttng_ust_field_string(message, message)
                                    lttng_ust_field_integer(uint32_t, rules, rules)))

/* Records a rule's rate limit dropped on one vCPU: emitted at the first
 * drop and then at most once per second per vCPU and rule while dropping
 * (final = 0), and once more at exit for every rule and vCPU that dropped
 * anything (final = 1). count: drops since the previous bdtrace:dropped of
 * this (generation, rule, vcpu), so the counts sum to the exact total;
 * total: all drops of it so far. rule: index in the config of `generation`;
 * rule_name: its name or "rule[N]". vcpu 64 stands for every vCPU index
 * >= 64 (user mode with more than 64 guest threads). */
LTTNG_UST_TRACEPOINT_EVENT(
    bdtrace, dropped,
    LTTNG_UST_TP_ARGS(uint32_t, vcpu, uint64_t, generation, uint32_t, rule, const char *, rule_name, uint64_t,
                      count, uint64_t, total, uint8_t, final),
    LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(uint32_t, vcpu, vcpu)
                            lttng_ust_field_integer(uint64_t, generation, generation)
                                lttng_ust_field_integer(uint32_t, rule, rule)
                                    lttng_ust_field_string(rule_name, rule_name)
                                        lttng_ust_field_integer(uint64_t, count, count)
                                            lttng_ust_field_integer(uint64_t, total, total)
                                                lttng_ust_field_integer(uint8_t, final, final)))

/* At exit, with a filter configured: per vCPU (64 = every index >= 64)
 * that sent records, what the filter decided over the whole run (all
 * generations): recorded = let through, filtered = dropped by a DROP rule
 * or the DROP default (the guest call returned 0), rate_dropped = over a
 * rate limit (also returned 0). HELLO and EVENT_NAME records count too.
 * No vCPU sent any: one event for vCPU 0 with zeros (the run ended). */
LTTNG_UST_TRACEPOINT_EVENT(
    bdtrace, filter_stats,
    LTTNG_UST_TP_ARGS(uint32_t, vcpu, uint64_t, recorded, uint64_t, filtered, uint64_t, rate_dropped),
    LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(uint32_t, vcpu, vcpu)
                            lttng_ust_field_integer(uint64_t, recorded, recorded)
                                lttng_ust_field_integer(uint64_t, filtered, filtered)
                                    lttng_ust_field_integer(uint64_t, rate_dropped, rate_dropped)))

/* Process-gated code tracing (filter rule trace_code): one translated block
 * executed on `vcpu` by the guest thread pid/tid while the gate of a
 * trace_code rule is open there. pc: the block's guest virtual address;
 * n_insns: its guest instructions. System mode: pid/tid of the task the
 * last SCHED_SWITCH switched in on that vCPU. */
LTTNG_UST_TRACEPOINT_EVENT(
    bdtrace, tb_exec,
    LTTNG_UST_TP_ARGS(uint32_t, vcpu, uint32_t, pid, uint32_t, tid, uint64_t, pc, uint32_t, n_insns),
    LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(uint32_t, vcpu, vcpu)
                            lttng_ust_field_integer(uint32_t, pid, pid)
                                lttng_ust_field_integer(uint32_t, tid, tid)
                                    lttng_ust_field_integer_hex(uint64_t, pc, pc)
                                        lttng_ust_field_integer(uint32_t, n_insns, n_insns)))

/* Process-gated code tracing, batched (the default): up to 256 blocks one
 * guest thread (user mode) or one vCPU's current task (system mode)
 * executed in a row, in execution order, while its gate was open; buffered
 * on the vCPU thread and emitted by the plugin's drain thread, so the
 * event's own time is when it was drained. guest_ts: host CLOCK_MONOTONIC
 * ns when the first block ran (bd-analyze places the batch there);
 * span_ns: from the first block's start to the last one's; blocks in
 * between are not timed one by one (a clock read per block would cost
 * more than the block: ./bdtrace bench, code section). lost: blocks of this
 * thread/vCPU dropped since its previous batch because the drain thread
 * fell behind (counted, never silent). pc[i] / n_insns[i]: block i's guest
 * virtual address and guest instructions. */
LTTNG_UST_TRACEPOINT_EVENT(
    bdtrace, tb_batch,
    LTTNG_UST_TP_ARGS(uint32_t, vcpu, uint32_t, pid, uint32_t, tid, uint64_t, guest_ts, uint64_t, span_ns,
                      uint64_t, lost, uint32_t, count, const uint64_t *, pcs, const uint16_t *, n_insns),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, vcpu, vcpu) lttng_ust_field_integer(uint32_t, pid, pid)
            lttng_ust_field_integer(uint32_t, tid, tid) lttng_ust_field_integer(uint64_t, guest_ts, guest_ts)
                lttng_ust_field_integer(uint64_t, span_ns, span_ns)
                    lttng_ust_field_integer(uint64_t, lost, lost)
                        lttng_ust_field_sequence(uint64_t, pc, pcs, uint32_t, count)
                            lttng_ust_field_sequence(uint16_t, n_insns, n_insns, uint32_t, count)))

/* Process-gated code tracing, aggregated (Rule.code_events BLOCK_COUNTS,
 * user mode): at QEMU's exit, how often each translated block of the guest
 * process `pid` executed, counted by QEMU-generated code (no call per
 * block). Up to 256 blocks per event; pc[i] / n_insns[i] / executions[i]. */
LTTNG_UST_TRACEPOINT_EVENT(
    bdtrace, tb_counts,
    LTTNG_UST_TP_ARGS(uint32_t, pid, uint32_t, count, const uint64_t *, pcs, const uint16_t *, n_insns,
                      const uint64_t *, executions),
    LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(uint32_t, pid, pid)
                            lttng_ust_field_sequence(uint64_t, pc, pcs, uint32_t, count)
                                lttng_ust_field_sequence(uint16_t, n_insns, n_insns, uint32_t, count)
                                    lttng_ust_field_sequence(uint64_t, executions, executions, uint32_t,
                                                             count)))

/* Ring channel (<bd/ring.h>): records a ring's producer could not write
 * (ring full, or a call nested in another call of the same thread), as
 * counted by the guest in the ring. Emitted by the consumer when the count
 * grows (final = 0) and once per ring that dropped anything at the end
 * (final = 1). count: drops since the previous ring_dropped of this ring,
 * so the counts sum to the exact total; total: all drops of the ring so
 * far. pid/tid: the ring's owner when the consumer read the count (at
 * most every 10 ms), or, once the owner released it, the writer of its
 * last record (a ring passes to another thread when its owner exits).
 * ring = BD_RING_NO_RING (0xffffffff), pid = tid = 0: records of threads
 * that owned no ring (<bd/ring.h>, UNOWNED DROPS). */
LTTNG_UST_TRACEPOINT_EVENT(bdtrace, ring_dropped,
                           LTTNG_UST_TP_ARGS(uint32_t, ring, uint32_t, pid, uint32_t, tid, uint64_t, count,
                                             uint64_t, total, uint8_t, final),
                           LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(uint32_t, ring, ring)
                                                   lttng_ust_field_integer(uint32_t, pid, pid)
                                                       lttng_ust_field_integer(uint32_t, tid, tid)
                                                           lttng_ust_field_integer(uint64_t, count, count)
                                                               lttng_ust_field_integer(uint64_t, total, total)
                                                                   lttng_ust_field_integer(uint8_t, final,
                                                                                           final)))

/* A guest call to a host handler (bd_call; <bd/abi.h>, CALLS, step
 * INVOKE), after the handler answered: the id, the status the guest gets
 * (0 or a negative errno value), the bytes in and out, and how long the
 * handler took (host CLOCK_MONOTONIC ns, the handler alone). */
LTTNG_UST_TRACEPOINT_EVENT(
    bdtrace, call,
    LTTNG_UST_TP_ARGS(uint32_t, vcpu, uint32_t, pid, uint32_t, tid, uint32_t, event, int32_t, status,
                      uint32_t, in_len, uint32_t, out_len, uint64_t, duration_ns),
    LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(uint32_t, vcpu, vcpu)
                            lttng_ust_field_integer(uint32_t, pid, pid) lttng_ust_field_integer(uint32_t, tid,
                                                                                                tid)
                                lttng_ust_field_integer(uint32_t, event, event)
                                    lttng_ust_field_integer(int32_t, status, status)
                                        lttng_ust_field_integer(uint32_t, in_len, in_len)
                                            lttng_ust_field_integer(uint32_t, out_len, out_len)
                                                lttng_ust_field_integer(uint64_t, duration_ns, duration_ns)))

/* A bulk mark (bd_mark_blob; <bd/abi.h>, CALLS, step BLOB): `len` bytes
 * (at most BD_CALL_IO_MAX) the guest recorded under `event`, as it sent
 * them. guest_ts: as in bdtrace:mark (0 for the trap channel). */
LTTNG_UST_TRACEPOINT_EVENT(
    bdtrace, blob,
    LTTNG_UST_TP_ARGS(uint32_t, vcpu, uint32_t, pid, uint32_t, tid, uint32_t, event, const uint8_t *, data,
                      uint32_t, len, uint64_t, guest_ts),
    LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(uint32_t, vcpu, vcpu)
                            lttng_ust_field_integer(uint32_t, pid, pid)
                                lttng_ust_field_integer(uint32_t, tid, tid)
                                    lttng_ust_field_integer(uint32_t, event, event)
                                        lttng_ust_field_sequence(uint8_t, data, data, uint32_t, len)
                                            lttng_ust_field_integer(uint64_t, guest_ts, guest_ts)))

#endif /* BDTRACE_TP_H */

#include <lttng/tracepoint-event.h>
