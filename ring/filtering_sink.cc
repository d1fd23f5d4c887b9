// SPDX-License-Identifier: MIT
// The filter on the ring channel (see filtering_sink.h).
#include "bdtrace/ring/filtering_sink.h"

#include <cstring>

#include "bdtrace/device/enable_maps.h"
#include "bdtrace/ring/guest_word.h"

namespace bdtrace::ring {

void FilteringSink::learn(uint32_t tid, const char *comm) noexcept {
  try {
    Task &t = tasks_[tid];
    if (std::strncmp(t.comm, comm, BD_COMM_LEN) != 0) {
      std::memcpy(t.comm, comm, BD_COMM_LEN);
      t.mask_for = nullptr;
    }
  } catch (...) {
    // Out of memory: the thread's records are decided with an unknown comm.
  }
}

uint64_t FilteringSink::comm_mask_of(const filter::CompiledFilter &f, uint32_t tid) noexcept {
  const auto it = tasks_.find(tid);
  if (it == tasks_.end()) return f.comm_mask(nullptr);  // not switched in yet: unknown
  Task &t = it->second;
  if (t.mask_for != &f) {  // glob matching once per task and config
    t.comm_mask = f.comm_mask(t.comm);
    t.mask_for = &f;
  }
  return t.comm_mask;
}

filter::Subject FilteringSink::subject(const filter::CompiledFilter &f, const bd_record &r,
                                       const EmitContext &ctx) noexcept {
  if (!system_) return filter::Subject{ctx.vcpu, {ctx.pid, ctx.tid, f.fixed_comm_mask()}};
  if (r.kind != BD_KIND_SCHED_SWITCH)
    return filter::Subject{ctx.vcpu, {ctx.pid, ctx.tid, comm_mask_of(f, ctx.tid)}};
  // Layout in <bd/channel.h>; the validator proved both comms terminated.
  const uint32_t prev_tid = static_cast<uint32_t>(r.args[0]);
  const uint32_t next_tid = static_cast<uint32_t>(r.args[1]);
  learn(prev_tid, r.text);
  learn(next_tid, r.text + BD_COMM_LEN);
  filter::Subject s{ctx.vcpu, {static_cast<uint32_t>(r.args[3]), prev_tid, comm_mask_of(f, prev_tid)}};
  s.has_alt = true;
  s.alt = {static_cast<uint32_t>(r.args[3] >> 32), next_tid, comm_mask_of(f, next_tid)};
  return s;
}

void FilteringSink::record(const bd_record &r, const EmitContext &ctx) noexcept {
  const filter::CompiledFilter *f = filter_.active();
  if (f != nullptr) {
    const filter::Decision d = f->decide(subject(*f, r, ctx), r.kind, r.event);
    filter_.account(ctx.vcpu, *f, d);
    if (d.verdict != filter::Verdict::Record) return;
  }
  inner_.record(r, ctx);
}

void publish_enable_map(const MappedRegion &region, const filter::CompiledFilter &f) noexcept {
  const uint32_t rings = region.layout().ring_count;
  // Up to 64 rings have maps of their own; with more, the union covers
  // every map (compute_enable_maps' 0).
  const device::EnableMaps maps =
      device::compute_enable_maps(&f, rings <= BD_CHANNEL_KERNEL_SLOTS ? rings : 0);
  bd_ring_region *h = region.header();
  // In the guest's byte order: the guest tests the words with plain loads.
  const ByteOrder order = region.layout().byte_order;
  for (int w = 0; w < 4; ++w) store_guest(order, &h->enable[w], maps.unions[w], __ATOMIC_RELAXED);
  // The consumer is generation's only writer, one publication at a time
  // (the first load, then the filter's one watcher thread): a load and a
  // store bump it.
  const uint64_t generation = load_guest(order, &h->generation, __ATOMIC_RELAXED);
  store_guest(order, &h->generation, generation + 1, __ATOMIC_RELEASE);
}

}  // namespace bdtrace::ring
