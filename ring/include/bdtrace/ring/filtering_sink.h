/* SPDX-License-Identifier: MIT */
// The filter config (filter/README.md) on the ring channel's host side:
// every record the consumer validated is decided by the same compiled
// filter the QEMU plugin uses, with the ring index standing for the vCPU
// (one ring per guest thread, as QEMU gives each user-mode thread its own
// vCPU index; a kernel ring's index is its CPU). The comm: user mode and
// native, the guest program's name (the filter's fixed comm); full-system
// mode, the name the guest kernel last gave the sending thread in a
// context switch (as the plugin's system backend follows the task each
// vCPU runs): a SCHED_SWITCH record is decided for prev and next, like the
// plugin does, and teaches the sink both names. What the filter drops
// never reaches the inner sink; decisions are counted and reported
// (bdtrace:filter, bdtrace:dropped, bdtrace:filter_stats) by the process's
// one PluginFilter, exactly as in the plugin.
//
// The guest-side half is the region's enable bitmap (<bd/ring.h>): after
// each load of the config, publish_enable_map() writes the union of the
// maps of every ring, so libbdguest skips records the consumer would drop
// for certain, without writing them.
#ifndef BDTRACE_RING_FILTERING_SINK_H
#define BDTRACE_RING_FILTERING_SINK_H

#include <unordered_map>

#include "bdtrace/filter/plugin_filter.h"
#include "bdtrace/ring/consumer.h"
#include "bdtrace/ring/region_file.h"

namespace bdtrace::ring {

class FilteringSink final : public RecordSink {
 public:
  // system: full-system mode (comms from context switches).
  FilteringSink(filter::PluginFilter &filter, RecordSink &inner, bool system) noexcept
      : filter_(filter), inner_(inner), system_(system) {}

  void record(const bd_record &r, const EmitContext &ctx) noexcept override;
  void ring_dropped(uint32_t ring, uint32_t pid, uint32_t tid, uint64_t count, uint64_t total,
                    bool final) noexcept override {
    inner_.ring_dropped(ring, pid, tid, count, total, final);
  }
  void blob(uint32_t event, const uint8_t *data, uint32_t len, const EmitContext &ctx) noexcept override {
    inner_.blob(event, data, len, ctx);  // not filtered (consumer.h)
  }

 private:
  // A guest thread's name as the last context switch gave it, and its
  // comm mask for the config it was computed with.
  struct Task {
    char comm[BD_COMM_LEN] = {};
    const filter::CompiledFilter *mask_for = nullptr;
    uint64_t comm_mask = 0;
  };
  filter::Subject subject(const filter::CompiledFilter &f, const bd_record &r,
                          const EmitContext &ctx) noexcept;
  uint64_t comm_mask_of(const filter::CompiledFilter &f, uint32_t tid) noexcept;
  void learn(uint32_t tid, const char *comm) noexcept;

  filter::PluginFilter &filter_;
  RecordSink &inner_;
  const bool system_;
  std::unordered_map<uint32_t, Task> tasks_;  // system mode: by guest tid
};

// Writes the enable bitmap of `f` into the region's header (the union over
// its rings), then bumps the header's generation (release): a guest that
// sees the generation sees the map.
void publish_enable_map(const MappedRegion &region, const filter::CompiledFilter &f) noexcept;

}  // namespace bdtrace::ring

#endif  // BDTRACE_RING_FILTERING_SINK_H
