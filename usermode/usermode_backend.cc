// SPDX-License-Identifier: GPL-2.0-or-later
// The plugin's linux-user backend (qemu-x86_64, qemu-aarch64, qemu-riscv64,
// qemu-s390x), see usermode_backend.h.
//
// Translation: find the exact trap instruction of the guest architecture
// (guest_targets.h, chosen once at install) and attach a memory callback to
// it. Execution: the callback receives the address the trap loaded (the
// record), checks the address, copies the record, validates the copy, proves
// the page writable, emits the bdtrace:* event and writes the reply. Nothing on that path takes a lock, allocates or uses stdio.
// With a filter (filter=FILE) every trap takes on_trap_filtered() instead:
// the only cost the filter adds without one is a load and a branch.
#include "usermode_backend.h"

#include <bd/abi.h>
#include <bdtrace/emitter.h>
#include <bdtrace/device/enable_maps.h>
#include <bdtrace/filter/plugin_filter.h>
#include <bdtrace/qemu_plugin_api.h>
#include <bdtrace/qemu_plugin_callbacks.h>
#include <bdtrace/qemu_plugin_insn.h>
#include <bdtrace/record.h>

#include "bdtrace/bdtrace_tp.h"
#include "bdtrace/plugin/block_batches.h"
#include "bdtrace/plugin/block_counts.h"
#include "bdtrace/plugin/block_udata.h"
#include "bdtrace/plugin/code_gate.h"
#include "bdtrace/plugin/code_regions.h"
#include "bdtrace/plugin/code_trace.h"
#include "bdtrace/plugin/guest_targets.h"
#include "bdtrace/plugin/options.h"
#include "bdtrace/plugin/trap_scan.h"
#include "bdtrace/plugin/vcpu_counters.h"
#include "bdtrace/session_join.h"
#include "call_page.h"
#include "guest_record_access.h"
#include "reply_writer.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace bdtrace::usermode {
namespace {

using plugin::GuestTarget;
using plugin::Options;

// Everything the callbacks share. The hot path only touches trivially
// destructible members (atomics), which stay valid even while static
// destructors run at exit.
struct State {
  Options options;
  // The guest architecture's row, set once in install_user before any
  // callback is registered; the table is constant.
  const GuestTarget *target = nullptr;
  // on_trap<kSwap> for the guest's byte order, chosen in install_user.
  qemu_plugin_vcpu_mem_cb_t trap_cb = nullptr;
  RejectStats rejects;
  plugin::VcpuCounters accepted;  // a diagnostic (stats=, verbose=on), not trace data
  std::atomic<uint64_t> instrumented{0};
  // The config at start has a trace_code rule: every translated block gets
  // an exec callback (set once in install_user, before any translation).
  bool trace_code = false;
  // The config at start asks for block counts only (Rule.code_events
  // BLOCK_COUNTS): blocks get an inline counter, no exec callback.
  bool count_blocks = false;
  // Host handlers (handler=), loaded in install_user. Never destroyed: a
  // vCPU thread may still be inside a call while static destructors run;
  // on_qemu_exit runs their bd_handler_fini.
  handlers::HandlerSet *handlers = nullptr;
  std::string arch;  // QEMU's target name, for the handlers' caller
};
State g_state;

// Per vCPU thread, in one thread_local so the hot path pays for a single
// TLS lookup (__tls_get_addr in a dlopen'ed plugin).
// pid/tid: in linux-user each guest thread runs on its own host thread and
// the host tid is the guest tid. vCPU indexes are reused by later threads,
// so identity is never keyed on them.
struct ThreadState {
  uint32_t pid = 0;
  uint32_t tid = 0;
  GuestRecordAccess access;  // reads records, stores replies (guest_record_access.h)
  // Code-tracing gate of this thread (a thread's vCPU index, pid, tid and
  // comm do not change while it lives) and its block buffer.
  plugin::CodeTraceState code;
  // This thread's clone() announced a new vCPU to the gate (code_gate.h)
  // and has not returned yet.
  bool clone_announced = false;
  // Its call to a host handler in progress (call_server.h), from its first.
  std::unique_ptr<plugin::CallBuffers> call;
};
// initial-exec: one %fs-relative access instead of a __tls_get_addr call on
// every trap; the plugin is dlopen'ed, so this uses glibc's small static-TLS
// reserve for late-loaded modules (ThreadState is a few dozen bytes).
__attribute__((tls_model("initial-exec"))) thread_local ThreadState t_state;

inline ThreadState &thread_state() noexcept {
  ThreadState &t = t_state;
  if (__builtin_expect(t.tid == 0, 0)) {
    t.tid = static_cast<uint32_t>(syscall(SYS_gettid));
    t.pid = static_cast<uint32_t>(getpid());
  }
  return t;
}

// Guest fork = host fork in linux-user: the child is a new process whose
// forking thread keeps its thread_locals. Forget cached ids and proven
// pages, and the parent's counts (the parent reports those itself).
void on_fork_child() noexcept {
  // Before the child emits anything, and before LTTng's fork wrapper
  // registers it again: bd-run's session records only processes that joined.
  (void)tracepoints::join_session_or_warn("a process the guest forked");
  if (g_state.trace_code) plugin::g_block_batches.forked_child(t_state.code.blocks);
  if (g_state.count_blocks) plugin::g_block_counts.reset();
  t_state.pid = 0;
  t_state.tid = 0;
  t_state.access.reset();
  t_state.code.gate_for = nullptr;  // decided again at the next block
  t_state.code.gate_open = false;
  t_state.clone_announced = false;
  g_state.rejects.reset();
  g_state.accepted.reset();
}

// --- execution-time callbacks -------------------------------------------

// One accepted record. Always counted (bd-run's stats= says whether any
// guest record arrived at all): a load and a store on the vCPU's own line.
inline void count_accepted(unsigned int vcpu) noexcept { g_state.accepted.count(vcpu); }

// A valid CALL record (<bd/abi.h>, CALLS): one step of a call to a host
// handler or of a bulk mark, answered in the record's page. Calls pass by the filter: they
// are requests, not records, and are neither counted nor traced as marks.
template <bool kSwap>
__attribute__((noinline, cold)) void on_call(unsigned int vcpu, uint64_t vaddr, uintptr_t host,
                                             const bd_record &guest, ThreadState &ids) noexcept {
  bd_record rec;
  decode_record<kSwap>(guest, rec);  // what is served is what was validated
  static handlers::HandlerSet no_handlers;
  handlers::HandlerSet &set = g_state.handlers != nullptr ? *g_state.handlers : no_handlers;
  plugin::CallContext ctx{vcpu, ids.pid, ids.tid, g_state.arch.c_str()};
  ctx.blob = [](const plugin::CallContext &c, uint32_t event, const uint8_t *data, uint32_t len) noexcept {
    lttng_ust_tracepoint(bdtrace, blob, c.vcpu, c.pid, c.tid, event, data, len, uint64_t{0});
  };
  ctx.called = [](const plugin::CallContext &c, uint32_t event, int status, uint32_t in_len, uint32_t out_len,
                  uint64_t ns) noexcept {
    lttng_ust_tracepoint(bdtrace, call, c.vcpu, c.pid, c.tid, event, status, in_len, out_len, ns);
  };
  RejectReason why = serve_user_call_step(set, ids.call, ctx, rec, vaddr, host, kSwap);
  if (why == RejectReason::CallBadStep) {
    g_state.rejects.reject(why, vcpu, ids.tid, vaddr);  // answered with a status
    why = RejectReason::Ok;
  }
  const int32_t reply = why == RejectReason::Ok ? BD_REPLY_OK : BD_REPLY_REJECTED;
  if (!ids.access.write_reply(vaddr, host, reply_in_guest_order<kSwap>(reply)) && why == RejectReason::Ok)
    why = RejectReason::NotWritable;
  if (why != RejectReason::Ok) g_state.rejects.reject(why, vcpu, ids.tid, vaddr);
}

// The record a trap at vaddr (host: its host address) loaded, whole and
// readable; null when its address is bad or its page went away (rejected
// and counted). Address first: never read a byte of a record that could
// span pages. The trap's own load just read this page and the record lies
// within it, so the whole record is readable (API 5: QEMU reads it and says
// when another thread unmapped it meanwhile).
__attribute__((always_inline)) inline const bd_record *fetch_record(ThreadState &ids, unsigned int vcpu,
                                                                    uint64_t vaddr, uintptr_t host) noexcept {
  const RejectReason why = check_record_address(vaddr);
  if (why != RejectReason::Ok) {
    g_state.rejects.reject(why, vcpu, ids.tid, vaddr);
    return nullptr;
  }
  const bd_record *src = ids.access.record(vaddr, host);
  if (__builtin_expect(src == nullptr, 0))
    g_state.rejects.reject(RejectReason::NotReadable, vcpu, ids.tid, vaddr);
  return src;
}

// The trap with a filter in force: validate, decide on kind and event as
// validated, reply OK or FILTERED, count, and emit only what the filter
// lets through. Like on_trap(), a private copy only when something records
// or the guest's byte order is not the host's.
template <bool kSwap>
__attribute__((noinline)) void on_trap_filtered(const filter::CompiledFilter &f, unsigned int vcpu,
                                                uint64_t vaddr, void *udata) noexcept {
  ThreadState &ids = thread_state();
  const uintptr_t host = reinterpret_cast<uintptr_t>(udata) + vaddr;
  const bd_record *src = fetch_record(ids, vcpu, vaddr, host);
  if (src == nullptr) return;
  const bd_record &guest = *src;
  const bool recording = any_record_event_enabled();
  bd_record rec;
  RejectReason why;
  uint32_t kind, event;
  if (kSwap || __builtin_expect(recording, 0)) {
    decode_record<kSwap>(guest, rec);
    why = check_record(rec, /*from_kernel=*/false);
    kind = rec.kind;
    event = rec.event;
  } else {
    // Nothing is emitted: the decision reads kind and event once more;
    // a guest that changes them meanwhile only fools its own filter.
    why = check_record(guest, /*from_kernel=*/false);
    kind = load_once(guest.kind);
    event = load_once(guest.event);
  }
  filter::Decision d{filter::Verdict::Record, false, filter::kDefaultRule};
  if (why == RejectReason::Ok) {
    if (__builtin_expect(kind == BD_KIND_QUERY, 0)) {
      // bd_enabled(): answered, not a record (neither counted nor traced).
      const int32_t answer = device::query_enabled(f, vcpu, event) ? BD_REPLY_OK : BD_REPLY_FILTERED;
      if (!ids.access.write_reply(vaddr, host, reply_in_guest_order<kSwap>(answer)))
        g_state.rejects.reject(RejectReason::NotWritable, vcpu, ids.tid, vaddr);
      return;
    }
    if (__builtin_expect(kind == BD_KIND_CALL, 0)) {
      on_call<kSwap>(vcpu, vaddr, host, guest, ids);
      return;
    }
    const filter::Subject who{vcpu, {ids.pid, ids.tid, f.fixed_comm_mask()}};
    d = f.decide(who, kind, event);
  }
  const int32_t reply = why != RejectReason::Ok                ? BD_REPLY_REJECTED
                        : d.verdict == filter::Verdict::Record ? BD_REPLY_OK
                                                               : BD_REPLY_FILTERED;
  if (!ids.access.write_reply(vaddr, host, reply_in_guest_order<kSwap>(reply)) && why == RejectReason::Ok)
    why = RejectReason::NotWritable;
  if (why != RejectReason::Ok) {
    g_state.rejects.reject(why, vcpu, ids.tid, vaddr);
    return;
  }
  filter::g_plugin_filter.account(vcpu, f, d);
  count_accepted(vcpu);  // a valid record, recorded or filtered
  if (d.verdict != filter::Verdict::Record) return;
  if (recording) emit_record(rec, EmitContext{vcpu, ids.pid, ids.tid});
}

// udata = guest_base (host address of guest address 0), fixed at translation.
// Only the trap instruction is instrumented and it is a pure load, so every
// call is the load of a record: no need to ask QEMU whether it was a store.
// vaddr is the load's address, the record, on every supported guest (rdi on
// x86_64, x0 on aarch64, a0 on riscv64, r2 on s390x).
//
// Byte order (<bd/abi.h>, BYTE ORDER): kSwap is true for a guest whose order
// is not the host's (s390x). Its record is always decoded into a private
// copy (a 128-byte copy and a dozen byte swaps), which is validated and
// emitted, and the reply is stored swapped. kSwap = false is the code of a
// guest of the host's order, unchanged: the instance is picked once, at
// install, so no trap tests the order.
template <bool kSwap>
void on_trap(unsigned int vcpu, qemu_plugin_meminfo_t, uint64_t vaddr, void *udata) noexcept {
  const filter::CompiledFilter *f = filter::g_plugin_filter.active();
  if (__builtin_expect(f != nullptr, 0)) {
    on_trap_filtered<kSwap>(*f, vcpu, vaddr, udata);
    return;
  }
  ThreadState &ids = thread_state();
  const uintptr_t host = reinterpret_cast<uintptr_t>(udata) + vaddr;
  const bd_record *src = fetch_record(ids, vcpu, vaddr, host);
  if (src == nullptr) return;
  const bd_record &guest = *src;
  const bool recording = any_record_event_enabled();
  bd_record rec;
  RejectReason why;
  if (kSwap || __builtin_expect(recording, 0)) {
    // What is emitted must be what was validated: copy first, since
    // other guest threads may scribble on the original meanwhile.
    decode_record<kSwap>(guest, rec);
    why = check_record(rec, /*from_kernel=*/false);
  } else {
    // Nothing is emitted: validating in place (each field read once)
    // decides the reply and the counts without a copy.
    why = check_record(guest, /*from_kernel=*/false);
  }
  if (why == RejectReason::Ok &&
      __builtin_expect((kSwap || recording ? rec.kind : load_once(guest.kind)) == BD_KIND_CALL, 0)) {
    on_call<kSwap>(vcpu, vaddr, host, guest, ids);
    return;
  }

  const int32_t reply = why == RejectReason::Ok ? BD_REPLY_OK : BD_REPLY_REJECTED;
  if (!ids.access.write_reply(vaddr, host, reply_in_guest_order<kSwap>(reply)) && why == RejectReason::Ok)
    why = RejectReason::NotWritable;
  if (why != RejectReason::Ok) {
    g_state.rejects.reject(why, vcpu, ids.tid, vaddr);
    return;
  }
  if (recording) emit_record(rec, EmitContext{vcpu, ids.pid, ids.tid});
  count_accepted(vcpu);
}

// Host handlers' hold on the code-tracing gate (set_code_tracing).
plugin::CodeRegions g_code_regions;

// --- process-gated code tracing ----------------------------------------------

// A trace_code rule selects the thread: its pid, tid and the program's comm
// (user mode: fixed for the thread's life).
__attribute__((noinline)) void refresh_gate(ThreadState &t, unsigned int vcpu,
                                            const filter::CompiledFilter *f, uint32_t epoch) noexcept {
  if (t.tid == 0) thread_state();
  t.code.settle(f, epoch,
                f != nullptr && g_code_regions.allows(t.pid) &&
                    f->trace_code_gate(vcpu, filter::Identity{t.pid, t.tid, f->fixed_comm_mask()}));
}

// Every executed block while trace_code is on and this vCPU's gate flag is
// set (code_gate.h; API 1 and 2: every block). A closed gate clears the flag,
// so QEMU stops calling until a reload, a fork, a new thread or a session
// that starts recording sets it.
void on_tb_exec(unsigned int vcpu, void *udata) noexcept {
  ThreadState &t = t_state;
  plugin::on_block(t.code, vcpu, t.pid, t.tid, udata,
                   [&](const filter::CompiledFilter *f, uint32_t epoch) { refresh_gate(t, vcpu, f, epoch); });
}

// A guest thread exits (on its own thread): its last batch goes out, its
// buffer passes to a later thread once drained.
void on_vcpu_exit(unsigned int) noexcept {
  plugin::CodeTraceState &c = t_state.code;
  if (c.blocks == nullptr) return;
  c.blocks->end_batch();
  c.blocks->retired.store(true, std::memory_order_release);
  c.blocks = nullptr;
}

void on_syscall(unsigned int, int64_t num, uint64_t a1, uint64_t a2) noexcept {
  if (changes_mappings(*g_state.target, num)) invalidate_writable_pages();
  if (g_state.trace_code && plugin::creates_thread(*g_state.target, num, a1, a2)) {
    plugin::g_code_gate.vcpu_announced();
    t_state.clone_announced = true;
  }
}

void on_syscall_ret(unsigned int, int64_t num, int64_t ret) noexcept {
  if (changes_mappings(*g_state.target, num)) invalidate_writable_pages();
  if (__builtin_expect(t_state.clone_announced, 0)) {
    t_state.clone_announced = false;
    if (ret < 0) plugin::g_code_gate.vcpu_announce_failed();  // no new thread
  }
}

void on_vcpu_init(unsigned int) noexcept { plugin::g_code_gate.vcpu_initialized(); }

// --- translation-time callback --------------------------------------------

// The trap's record is at the load's guest address; guest_base (host address
// of guest address 0) rides along as the callback's userdata.
void on_tb_trans(struct qemu_plugin_tb *tb) noexcept {
  if (g_state.count_blocks) plugin::g_block_counts.instrument(tb);
  if (g_state.trace_code)
    plugin::g_code_gate.register_block(
        tb, on_tb_exec, plugin::pack_block(qemu_plugin_tb_vaddr(tb), qemu_plugin_tb_n_insns(tb)));
  plugin::for_each_trap(tb, *g_state.target, [](struct qemu_plugin_insn *insn) {
    void *haddr = qemu_plugin_insn_haddr(insn);
    if (haddr == nullptr) return;  // no host mapping: cannot locate records
    const uintptr_t guest_base = reinterpret_cast<uintptr_t>(haddr) - qemu_plugin_insn_vaddr(insn);
    qemu_plugin_register_vcpu_mem_cb(insn, g_state.trap_cb, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW,
                                     reinterpret_cast<void *>(guest_base));
    g_state.instrumented.fetch_add(1, std::memory_order_relaxed);
  });
}

// --- exit -------------------------------------------------------------------

// stats=FILE: one line per QEMU process (forks included), appended in one
// write so that concurrent processes do not interleave.
void append_stats(const std::string &path, uint64_t accepted, uint64_t rejected) noexcept {
  char line[128];
  const int n = std::snprintf(line, sizeof line, "records %llu rejected %llu pid %d\n",
                              static_cast<unsigned long long>(accepted),
                              static_cast<unsigned long long>(rejected), static_cast<int>(getpid()));
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::fprintf(stderr, "bdtrace: cannot append to stats file %s: %s\n", path.c_str(), std::strerror(errno));
    return;
  }
  if (n > 0 && ::write(fd, line, static_cast<size_t>(n)) != n)
    std::fprintf(stderr, "bdtrace: cannot write stats file %s\n", path.c_str());
  ::close(fd);
}

// Counts mode: whether this process is selected, by its pid and comm now
// (any vCPU a rule lists; tid = pid, the main thread).
bool counts_selected() noexcept {
  const filter::CompiledFilter *f = filter::g_plugin_filter.active();
  if (f == nullptr) return false;
  const uint32_t pid = static_cast<uint32_t>(getpid());
  for (unsigned slot = 0; slot < filter::kVcpuSlots; ++slot)
    if (f->trace_code_gate(slot, filter::Identity{pid, pid, f->fixed_comm_mask()})) return true;
  return false;
}

void on_qemu_exit() noexcept {
  if (g_state.trace_code) plugin::g_block_batches.flush_all();
  if (g_state.count_blocks && counts_selected())
    plugin::g_block_counts.report(static_cast<uint32_t>(getpid()));
  filter::g_plugin_filter.finish();
  if (g_state.handlers != nullptr) {
    // The vCPUs are stopped: no call runs any more.
    if (g_state.handlers->errors() != 0 || g_state.options.verbose)
      std::fprintf(stderr, "bdtrace: pid %d: %llu calls to host handlers, %llu failed\n",
                   static_cast<int>(getpid()), static_cast<unsigned long long>(g_state.handlers->calls()),
                   static_cast<unsigned long long>(g_state.handlers->errors()));
    g_state.handlers->finish();
  }
  g_state.rejects.report_at_exit();
  const uint64_t accepted = g_state.accepted.total();
  if (!g_state.options.stats.empty()) append_stats(g_state.options.stats, accepted, g_state.rejects.total());
  try {
    if (g_state.options.verbose) {
      std::fprintf(stderr,
                   "bdtrace: pid %d: %llu trap translations instrumented, "
                   "%llu records accepted, %llu rejected\n",
                   static_cast<int>(getpid()),
                   static_cast<unsigned long long>(g_state.instrumented.load(std::memory_order_relaxed)),
                   static_cast<unsigned long long>(accepted),
                   static_cast<unsigned long long>(g_state.rejects.total()));
    }
  } catch (...) {
    // Out of memory while formatting: the counts are in the trace anyway.
  }
}

// What host handlers may ask of the plugin (<bd/handler.h>, services).
handlers::HostHooks handler_hooks() noexcept {
  handlers::HostHooks h;
  h.emit_mark = [](void *, const bd_handler_caller &who, uint32_t event, const uint64_t *args,
                   const char *text) noexcept {
    if (!any_record_event_enabled()) return 0;
    emit_record(plugin::handler_mark_record(who, event, args, text), EmitContext{who.vcpu, who.pid, who.tid});
    return 0;
  };
  h.recording = [](void *) noexcept { return any_record_event_enabled() ? 1 : 0; };
  // A region of interest for this guest process (code_regions.h); only
  // where a trace_code rule could open a gate here.
  h.set_code_tracing = [](void *, const bd_handler_caller &who, int on) noexcept {
    if (!g_state.trace_code) return -ENOTSUP;
    if (const int rc = g_code_regions.set(who.pid, on != 0); rc != 0) return rc;
    plugin::g_block_batches.redecide_gates();
    plugin::g_code_gate.wake_all();
    return 0;
  };
  return h;
}

}  // namespace

Status install_user(qemu_plugin_id_t id, const qemu_info_t &info, const GuestTarget &target,
                    const Options &options) {
  if (!options.channel.empty()) {
    return make_error(std::string("channel= is for system emulation (qemu-system-x86_64); qemu-") +
                      target.name + " needs no channel");
  }
  g_state.target = &target;
  g_state.trap_cb = target.byte_order == kHostByteOrder ? on_trap<false> : on_trap<true>;
  const std::string arch = info.target_name ? info.target_name : "";
  Options opts = options;
  if (opts.vm.empty()) opts.vm = "user";
  if (opts.program.empty()) opts.program = plugin::guess_guest_program();
  g_state.options = opts;

  if (!opts.filter.empty()) {
    // comm of a user-mode guest: its program's file name.
    const std::string &prog = g_state.options.program;
    const auto slash = prog.rfind('/');
    const std::string comm = slash == std::string::npos ? prog : prog.substr(slash + 1);
    // Each reload: every thread evaluates its code-tracing gate again.
    auto wake = [](uint64_t, const filter::CompiledFilter &) {
      if (g_state.trace_code) plugin::g_code_gate.wake_all();
    };
    if (Status loaded = filter::g_plugin_filter.load(opts.filter, comm, wake, opts.verbose); !loaded)
      return loaded;
    const filter::CompiledFilter *f = filter::g_plugin_filter.active();
    // The comm never changes in this QEMU (forks keep it): a trace_code
    // rule whose comm does not match can never open the gate here.
    g_state.trace_code = f != nullptr && f->trace_code_possible(f->fixed_comm_mask());
    if (g_state.trace_code && f->block_counts()) {
      g_state.count_blocks = true;
      g_state.trace_code = false;  // counted inline, never traced
    }
    if (g_state.trace_code) {
      if (Status gate = plugin::g_code_gate.init(/*initial_vcpus=*/1); !gate) return gate;
      plugin::g_block_batches.set_recording_hook([] { plugin::g_code_gate.wake_all(); });
      if (Status started = plugin::g_block_batches.start(); !started) return started;
    }
  }
  g_state.arch = arch;
  if (!opts.handlers.empty()) {
    g_state.handlers = new handlers::HandlerSet(handler_hooks());
    for (const std::string &spec : opts.handlers)
      if (Status loaded = g_state.handlers->load(spec); !loaded) return loaded;
  }
  if (pthread_atfork(nullptr, nullptr, on_fork_child) != 0) {
    return make_error("pthread_atfork failed; cannot follow forks");
  }
  qemu_api::register_tb_trans<on_tb_trans>(id);
  if (g_state.trace_code) {
    qemu_api::register_vcpu_init<on_vcpu_init>(id);
    qemu_api::register_vcpu_exit<on_vcpu_exit>(id);
  }
  qemu_api::register_syscall<on_syscall>(id);
  qemu_api::register_syscall_ret<on_syscall_ret>(id);
  qemu_api::register_atexit<on_qemu_exit>(id);

  lttng_ust_tracepoint(bdtrace, session, "user", arch.c_str(), g_state.options.program.c_str(),
                       BD_ABI_VERSION, static_cast<uint32_t>(getpid()), g_state.options.vm.c_str(), "trap",
                       g_state.options.qemu_version.c_str(), BDTRACE_QEMU_PLUGIN_API,
                       static_cast<uint32_t>(info.version.cur));
  filter::g_plugin_filter.begin();
  if (opts.verbose)
    std::fprintf(stderr, "bdtrace: loaded (user mode, %s, program '%s', vm '%s', pid %d)\n", arch.c_str(),
                 g_state.options.program.c_str(), g_state.options.vm.c_str(), static_cast<int>(getpid()));
  return Status::Ok();
}

}  // namespace bdtrace::usermode
