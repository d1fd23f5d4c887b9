// SPDX-License-Identifier: GPL-2.0-or-later
// Full-system backend: QEMU callbacks around the Channel (channel.h).
//
// Translation: find the exact trap instruction of the guest architecture
// (3e 48 8b 07 on x86_64, ldr xzr, [x0] on aarch64), decide once whether it
// runs in guest kernel space (its virtual address is at or above the
// architecture's kernel_space_start, plugin/guest_targets.cc), and attach
// one of two memory callbacks accordingly.
// Execution: ask QEMU for the physical address the trap loaded (the only two
// QEMU calls), let the Channel classify, validate and answer it through the
// plugin's own mapping of the backing file, then emit or count. Nothing on
// that path takes a lock, allocates or uses stdio, and guest memory is never
// read through its virtual address.
//
// With a filter (filter=FILE) every trap takes on_trap_filtered() instead,
// which also follows the task each vCPU runs (from SCHED_SWITCH records) so
// that process selectors can match on comm.
#include "bdtrace/device/device_backend.h"

#include <bd/abi.h>
#include <bd/channel.h>
#include <bdtrace/emitter.h>
#include <bdtrace/filter/plugin_filter.h>
#include <bdtrace/handlers/handler_set.h>
#include <bdtrace/qemu_plugin_callbacks.h>
#include <bdtrace/qemu_plugin_insn.h>
#include <bdtrace/record.h>

#include "bdtrace/bdtrace_tp.h"
#include "bdtrace/device/call_pages.h"
#include "bdtrace/device/channel.h"
#include "bdtrace/device/channel_file.h"
#include "bdtrace/device/enable_maps.h"
#include "bdtrace/plugin/block_batches.h"
#include "bdtrace/plugin/block_udata.h"
#include "bdtrace/plugin/code_gate.h"
#include "bdtrace/plugin/code_regions.h"
#include "bdtrace/plugin/code_trace.h"
#include "bdtrace/plugin/trap_scan.h"
#include "bdtrace/plugin/vcpu_counters.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

namespace bdtrace::device {
namespace {

// The guest architecture's row (its trap and where its kernel space
// starts), set once in install_system before any translation; the table is
// constant.
const plugin::GuestTarget *g_target = nullptr;

// Everything the callbacks share. The hot path touches the Channel and
// atomics only.
struct State {
  plugin::Options config;
  RejectStats rejects;
  Channel channel;
  plugin::VcpuCounters accepted;  // with verbose=on only: the exit summary
  std::atomic<uint64_t> instrumented{0};
  bool verbose = false;
  // Host handlers (handler=), loaded in install_system; their calls and
  // bulk marks travel through the data pages (call_pages.h).
  handlers::HandlerSet *handlers = nullptr;
  CallPages call_pages;
  std::string arch;  // QEMU's target name, for the handlers' caller
};
// Never destroyed: QEMU (system emulation) runs the exit callback after
// the plugin's static destructors.
filter::NoDestroy<State> g_state_storage;
State &g_state = g_state_storage.value;

// The mapping the Channel points into. Unmapped by its destructor at exit,
// when QEMU (qemu_cleanup -> vm_shutdown) has already stopped the vCPUs.
ChannelMapping g_mapping;

// --- filter: the task each vCPU runs ------------------------------------------

// The config at start has a trace_code rule: user-space blocks get an exec
// callback (set once in install_system, before any translation).
bool g_trace_code = false;

// The guest task a vCPU runs, as the last SCHED_SWITCH record from it said,
// and the comm mask of that task for the config it was computed with.
// Touched only by the vCPU's own thread (a vCPU runs on one thread at a
// time), so plain fields suffice. vCPUs >= 64 are not followed.
struct alignas(64) VcpuTask {
  bool known = false;
  char comm[BD_COMM_LEN] = {};
  const filter::CompiledFilter *mask_for = nullptr;
  uint64_t comm_mask = 0;
  // Code tracing (Rule.trace_code): the task switched in and its gate.
  uint32_t pid = 0, tid = 0;
  plugin::CodeTraceState code;
};
VcpuTask g_tasks[filter::kMaxVcpus];

uint64_t current_comm_mask(const filter::CompiledFilter &f, unsigned vcpu) noexcept {
  if (vcpu >= filter::kMaxVcpus) return f.comm_mask(nullptr);
  VcpuTask &t = g_tasks[vcpu];
  if (t.mask_for != &f) {
    t.comm_mask = f.comm_mask(t.known ? t.comm : nullptr);
    t.mask_for = &f;
  }
  return t.comm_mask;
}

// The subject of a SCHED_SWITCH record: prev (who), next (alt); and the
// vCPU now runs next. Layout in <bd/channel.h>; comms validated.
filter::Subject switch_subject(const filter::CompiledFilter &f, unsigned vcpu, const bd_record &r) noexcept {
  const uint64_t tgids = r.args[3];
  const char *prev = r.text;
  const char *next = r.text + BD_COMM_LEN;
  filter::Subject s{vcpu,
                    {static_cast<uint32_t>(tgids), static_cast<uint32_t>(r.args[0]), f.comm_mask(prev)}};
  s.has_alt = true;
  s.alt = {static_cast<uint32_t>(tgids >> 32), static_cast<uint32_t>(r.args[1]), f.comm_mask(next)};
  if (vcpu < filter::kMaxVcpus) {
    VcpuTask &t = g_tasks[vcpu];
    std::memcpy(t.comm, next, BD_COMM_LEN);
    t.known = true;
    t.mask_for = &f;
    t.comm_mask = s.alt.comm_mask;
    // The code-tracing gate follows the task switched in: decided once
    // per switch, so a block's exec callback is a load and a branch.
    t.pid = s.alt.pid;
    t.tid = s.alt.tid;
    t.code.gate_for = nullptr;  // decided at the next user-space block
    // From this vCPU's own trap: the previous task's batch ends here,
    // and the next user-space block looks at the gate.
    if (t.code.blocks != nullptr) t.code.blocks->end_batch();
    if (g_trace_code) plugin::g_code_gate.wake_own(vcpu);
  }
  return s;
}

// --- process-gated code tracing ------------------------------------------------

// Host handlers' hold on the code-tracing gate (set_code_tracing).
plugin::CodeRegions g_code_regions;

// After a switch, a reload or a change of recording: whether a trace_code
// rule selects the task the vCPU runs, for config f.
__attribute__((noinline)) void refresh_gate(VcpuTask &t, unsigned int vcpu, const filter::CompiledFilter *f,
                                            uint32_t epoch) noexcept {
  t.code.settle(f, epoch,
                f != nullptr && t.known && g_code_regions.allows(t.pid) &&
                    f->trace_code_gate(vcpu, filter::Identity{t.pid, t.tid, current_comm_mask(*f, vcpu)}));
}

// udata: plugin::pack_block (user-space blocks only, see on_tb_trans).
// Called while the vCPU's gate flag is set (code_gate.h; API 1 and 2: on
// every block); a closed gate clears it until the next switch or reload.
void on_tb_exec(unsigned int vcpu, void *udata) noexcept {
  if (__builtin_expect(vcpu >= filter::kMaxVcpus, 0)) return;
  VcpuTask &t = g_tasks[vcpu];
  plugin::on_block(t.code, vcpu, t.pid, t.tid, udata,
                   [&](const filter::CompiledFilter *f, uint32_t epoch) { refresh_gate(t, vcpu, f, epoch); });
}

// --- calls to host handlers and bulk marks ------------------------------------

// A trap on a data page (<bd/channel.h>, CALLS): one step of a call or of a
// bulk mark, served from the page and answered in it. Calls pass by the
// filter: they are requests, not records.
__attribute__((noinline, cold)) void on_call(unsigned int vcpu, uint32_t offset, uint64_t phys) noexcept {
  bd_record rec;
  RejectReason why = g_state.channel.take_call(offset, rec);
  if (why != RejectReason::Ok) {
    g_state.rejects.reject(why, vcpu, 0, phys);
    return;
  }
  CallPages::Page *state = g_state.call_pages.at(offset);
  unsigned char *bytes = g_state.channel.data_page(offset);
  if (state == nullptr || bytes == nullptr) {  // take_call checked the offset
    g_state.rejects.reject(RejectReason::CallBadPage, vcpu, rec.tid, phys);
    return;
  }
  MappedCallPage page(bytes);
  if (state->busy.exchange(true, std::memory_order_acquire)) {
    why = plugin::refuse_call_step(page, -EBUSY, false);
  } else {
    static handlers::HandlerSet no_handlers;
    handlers::HandlerSet &set = g_state.handlers != nullptr ? *g_state.handlers : no_handlers;
    // pid/tid are what the guest says: only it knows its tasks.
    plugin::CallContext ctx{vcpu, rec.pid, rec.tid, g_state.arch.c_str(), BD_HANDLER_MODE_SYSTEM};
    ctx.blob = [](const plugin::CallContext &c, uint32_t event, const uint8_t *data, uint32_t len) noexcept {
      if (any_system_record_event_enabled())
        lttng_ust_tracepoint(bdtrace, blob, c.vcpu, c.pid, c.tid, event, data, len, uint64_t{0});
    };
    ctx.called = [](const plugin::CallContext &c, uint32_t event, int status, uint32_t in_len,
                    uint32_t out_len, uint64_t ns) noexcept {
      lttng_ust_tracepoint(bdtrace, call, c.vcpu, c.pid, c.tid, event, status, in_len, out_len, ns);
    };
    why = plugin::serve_call_step(set, state->buffers, ctx, rec, page, false);
    state->busy.store(false, std::memory_order_release);
  }
  if (why == RejectReason::CallBadStep) {
    g_state.rejects.reject(why, vcpu, rec.tid, phys);  // answered with a status
    why = RejectReason::Ok;
  }
  g_state.channel.set_reply(offset, why == RejectReason::Ok ? BD_REPLY_OK : BD_REPLY_REJECTED);
  if (why != RejectReason::Ok) g_state.rejects.reject(why, vcpu, rec.tid, phys);
}

// What host handlers may ask of the plugin (<bd/handler.h>, services).
handlers::HostHooks handler_hooks() noexcept {
  handlers::HostHooks h;
  h.emit_mark = [](void *, const bd_handler_caller &who, uint32_t event, const uint64_t *args,
                   const char *text) noexcept {
    if (!any_system_record_event_enabled()) return 0;
    emit_record(plugin::handler_mark_record(who, event, args, text), EmitContext{who.vcpu, who.pid, who.tid});
    return 0;
  };
  h.recording = [](void *) noexcept { return any_system_record_event_enabled() ? 1 : 0; };
  // A region of interest for the caller's guest process (code_regions.h).
  h.set_code_tracing = [](void *, const bd_handler_caller &who, int on) noexcept {
    if (!g_trace_code) return -ENOTSUP;
    if (const int rc = g_code_regions.set(who.pid, on != 0); rc != 0) return rc;
    plugin::g_block_batches.redecide_gates();
    plugin::g_code_gate.wake_all();
    return 0;
  };
  return h;
}

// --- execution-time callback (hot path) --------------------------------------

// The trap with a filter in force: always a private copy, then decide;
// a filtered record's reply becomes BD_REPLY_FILTERED.
template <bool kFromKernel>
__attribute__((noinline)) void on_trap_filtered(const filter::CompiledFilter &f, unsigned int vcpu,
                                                uint64_t phys) noexcept {
  bd_record rec;
  const Verdict v = g_state.channel.trap<kFromKernel>(phys, &rec);
  if (v.outcome == Outcome::Rejected) {
    g_state.rejects.reject(v.reason, vcpu, v.tid, phys);
    return;
  }
  if (v.outcome == Outcome::CallStep) {
    on_call(vcpu, v.offset, phys);
    return;
  }
  if (v.outcome != Outcome::Accepted) return;
  if (__builtin_expect(rec.kind == BD_KIND_QUERY, 0)) {
    // bd_enabled() asks (libbdguest reads the bitmaps instead; answered
    // for any guest that asks): not a record, neither counted nor traced.
    if (!query_enabled(f, vcpu, rec.event)) g_state.channel.set_reply(v.offset, BD_REPLY_FILTERED);
    return;
  }
  const filter::Subject s = kFromKernel && rec.kind == BD_KIND_SCHED_SWITCH
                                ? switch_subject(f, vcpu, rec)
                                : filter::Subject{vcpu, {rec.pid, rec.tid, current_comm_mask(f, vcpu)}};
  const filter::Decision d = f.decide(s, rec.kind, rec.event);
  filter::g_plugin_filter.account(vcpu, f, d);
  if (d.verdict != filter::Verdict::Record) {
    g_state.channel.set_reply(v.offset, BD_REPLY_FILTERED);
    return;
  }
  if (any_system_record_event_enabled()) emit_record(rec, EmitContext{vcpu, rec.pid, rec.tid});
  if (__builtin_expect(g_state.verbose, 0)) {
    g_state.accepted.count(vcpu);
  }
}

template <bool kFromKernel>
void on_trap(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *) noexcept {
  struct qemu_plugin_hwaddr *hw = qemu_plugin_get_hwaddr(info, vaddr);
  if (__builtin_expect(hw == nullptr, 0)) {
    // No physical address: cannot be the channel. addr = the vaddr.
    g_state.rejects.reject(RejectReason::OutsideChannel, vcpu, 0, vaddr);
    return;
  }
  const uint64_t phys = qemu_plugin_hwaddr_phys_addr(hw);
  const filter::CompiledFilter *f = filter::g_plugin_filter.active();
  if (__builtin_expect(f != nullptr, 0)) {
    on_trap_filtered<kFromKernel>(*f, vcpu, phys);
    return;
  }
  const bool recording = any_system_record_event_enabled();
  bd_record rec;
  const Verdict v = g_state.channel.trap<kFromKernel>(phys, recording ? &rec : nullptr);
  switch (v.outcome) {
    case Outcome::Accepted:
      // pid/tid are what the guest says: only it knows its tasks.
      if (recording) emit_record(rec, EmitContext{vcpu, rec.pid, rec.tid});
      if (__builtin_expect(g_state.verbose, 0)) {
        g_state.accepted.count(vcpu);
      }
      break;
    case Outcome::Handshake:
      break;  // counted by the Channel
    case Outcome::Rejected:
      // addr: the guest-physical address the trap loaded.
      g_state.rejects.reject(v.reason, vcpu, v.tid, phys);
      break;
    case Outcome::CallStep:
      on_call(vcpu, v.offset, phys);
      break;
  }
}

// --- translation-time callback -------------------------------------------------

// Whether a trap runs in the guest kernel is decided here, once per
// translation, from the instruction's address.
void on_tb_trans(struct qemu_plugin_tb *tb) noexcept {
  const plugin::GuestTarget &target = *g_target;
  // Code tracing instruments user-space blocks only: they run only while
  // their task is current, so the per-vCPU gate attributes them exactly.
  if (g_trace_code) {
    const uint64_t pc = qemu_plugin_tb_vaddr(tb);
    if (pc < target.kernel_space_start)
      plugin::g_code_gate.register_block(tb, on_tb_exec, plugin::pack_block(pc, qemu_plugin_tb_n_insns(tb)));
  }
  plugin::for_each_trap(tb, target, [&target](struct qemu_plugin_insn *insn) {
    const bool kernel = qemu_plugin_insn_vaddr(insn) >= target.kernel_space_start;
    qemu_plugin_register_vcpu_mem_cb(insn, kernel ? on_trap<true> : on_trap<false>, QEMU_PLUGIN_CB_NO_REGS,
                                     QEMU_PLUGIN_MEM_RW, nullptr);
    g_state.instrumented.fetch_add(1, std::memory_order_relaxed);
  });
}

void on_vcpu_init(unsigned int) noexcept { plugin::g_code_gate.vcpu_initialized(); }

// --- exit ------------------------------------------------------------------------

void on_qemu_exit() noexcept {
  if (g_trace_code) plugin::g_block_batches.flush_all();  // the vCPUs are stopped
  filter::g_plugin_filter.finish();
  if (g_state.handlers != nullptr) {
    // The vCPUs are stopped: no call runs any more.
    if (g_state.handlers->errors() != 0 || g_state.verbose)
      std::fprintf(stderr, "bdtrace: vm '%s': %llu calls to host handlers, %llu failed\n",
                   g_state.config.vm.c_str(), static_cast<unsigned long long>(g_state.handlers->calls()),
                   static_cast<unsigned long long>(g_state.handlers->errors()));
    g_state.handlers->finish();
  }
  g_state.rejects.report_at_exit();
  try {
    if (g_state.verbose) {
      const uint64_t accepted = g_state.accepted.total();
      const uint64_t base = g_state.channel.base();
      char base_text[32] = "none";
      if (base != Channel::kNoBase) std::snprintf(base_text, sizeof base_text, "0x%" PRIx64, base);
      std::fprintf(stderr,
                   "bdtrace: vm '%s': %" PRIu64 " trap translations instrumented, %" PRIu64
                   " handshakes (channel at %s), %" PRIu64 " records accepted, %" PRIu64 " rejected\n",
                   g_state.config.vm.c_str(), g_state.instrumented.load(std::memory_order_relaxed),
                   g_state.channel.handshakes(), base_text, accepted, g_state.rejects.total());
    }
  } catch (...) {
    // Out of memory while formatting: the counts are in the trace anyway.
  }
}

}  // namespace

Status install_system(qemu_plugin_id_t id, const qemu_info_t &info, const plugin::GuestTarget &target,
                      const plugin::Options &config) {
  if (!target.system_emulation || target.kernel_space_start == 0) {
    return make_error(
        "internal error: the guest architecture's row has no full-system trap or "
        "kernel-space bound");
  }
  Expected<ChannelMapping> mapping = ChannelMapping::open(config.channel);
  if (!mapping) return mapping.take_error();

  const int smp = info.system.smp_vcpus;
  const uint32_t nr_vcpus = smp > 0 ? static_cast<uint32_t>(smp) : 0;
  if (nr_vcpus > BD_CHANNEL_KERNEL_SLOTS)
    std::fprintf(stderr,
                 "bdtrace: warning: %u vCPUs but the channel has %u kernel slots; "
                 "context switches of CPUs %u and up cannot be recorded\n",
                 nr_vcpus, BD_CHANNEL_KERNEL_SLOTS, BD_CHANNEL_KERNEL_SLOTS);

  g_state.config = config;
  if (g_state.config.vm.empty()) g_state.config.vm = "system";
  if (g_state.config.program.empty()) g_state.config.program = g_state.config.vm;
  g_state.verbose = config.verbose;
  g_mapping = std::move(*mapping);
  g_target = &target;
  g_state.channel.attach(g_mapping.data());
  g_state.channel.init_header(nr_vcpus);
  if (!config.filter.empty()) {
    // Each published config writes the enable bitmaps (the guest skips
    // the trap for what it would drop), then bumps the header's
    // generation (release: a guest that sees it sees the maps).
    auto bump = [nr_vcpus](uint64_t generation, const filter::CompiledFilter &f) {
      const auto maps = std::make_unique<EnableMaps>(compute_enable_maps(&f, nr_vcpus));
      g_state.channel.set_enable_maps(maps->vcpu, maps->unions);
      g_state.channel.set_generation(generation);
      // Every vCPU evaluates its code-tracing gate again.
      if (g_trace_code) plugin::g_code_gate.wake_all();
    };
    if (Status loaded = filter::g_plugin_filter.load(config.filter, "", bump, config.verbose); !loaded)
      return loaded;
    const filter::CompiledFilter *f = filter::g_plugin_filter.active();
    g_trace_code = f != nullptr && f->any_trace_code();
    if (g_trace_code && f->block_counts())
      std::fprintf(stderr,
                   "bdtrace: note: code_events BLOCK_COUNTS counts per process in user "
                   "mode only; this VM records its blocks as batches (tb_batch)\n");
    if (g_trace_code) {
      if (Status gate = plugin::g_code_gate.init(nr_vcpus); !gate) return gate;
      plugin::g_block_batches.set_recording_hook([] { plugin::g_code_gate.wake_all(); });
      if (Status started = plugin::g_block_batches.start(); !started) return started;
    }
  }

  g_state.arch = info.target_name ? info.target_name : "";
  if (!config.handlers.empty()) {
    g_state.handlers = new handlers::HandlerSet(handler_hooks());
    for (const std::string &spec : config.handlers)
      if (Status loaded = g_state.handlers->load(spec); !loaded) return loaded;
  }
  qemu_api::register_tb_trans<on_tb_trans>(id);
  if (g_trace_code) qemu_api::register_vcpu_init<on_vcpu_init>(id);
  qemu_api::register_atexit<on_qemu_exit>(id);

  const char *arch = info.target_name ? info.target_name : "";
  lttng_ust_tracepoint(bdtrace, session, "system", arch, g_state.config.program.c_str(), BD_ABI_VERSION,
                       static_cast<uint32_t>(getpid()), g_state.config.vm.c_str(), "trap",
                       g_state.config.qemu_version.c_str(), BDTRACE_QEMU_PLUGIN_API,
                       static_cast<uint32_t>(info.version.cur));
  filter::g_plugin_filter.begin();
  if (config.verbose)
    std::fprintf(stderr, "bdtrace: loaded (system mode, %s, %u vCPUs, vm '%s', channel '%s', pid %d)\n", arch,
                 nr_vcpus, g_state.config.vm.c_str(), config.channel.c_str(), static_cast<int>(getpid()));
  return Status::Ok();
}

}  // namespace bdtrace::device
