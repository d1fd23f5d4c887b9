/* SPDX-License-Identifier: GPL-2.0-or-later */
// The channel header's enable bitmaps (<bd/channel.h>, ENABLE BITMAPS)
// computed from a compiled filter config: what lets the guest skip the
// trap for records the plugin would drop anyway.
#ifndef BDTRACE_DEVICE_ENABLE_MAPS_H
#define BDTRACE_DEVICE_ENABLE_MAPS_H

#include <bd/channel.h>

#include <cstdint>

namespace bdtrace::filter {
class CompiledFilter;
}

namespace bdtrace::device {

struct EnableMaps {
  uint64_t vcpu[BD_CHANNEL_KERNEL_SLOTS][4];
  uint64_t unions[4];  // OR of vcpu[0..nr_vcpus-1]
};

// Maps for `f` (nullptr: no filter, all ones). nr_vcpus: the VM's vCPUs
// (0 or more than BD_CHANNEL_KERNEL_SLOTS: the union covers every map).
// Conservative: a bit is clear only when CompiledFilter::maybe_enabled()
// says no for every kind the bit stands for.
EnableMaps compute_enable_maps(const filter::CompiledFilter *f, uint32_t nr_vcpus);

// The answer to a BD_KIND_QUERY record (bd_enabled()) from `vcpu`: may a
// MARK, MARK_TEXT, REGION_BEGIN or REGION_END record with id `event` be
// recorded there? The same conservative test as one bit of the maps, for
// any id. Both backends answer queries with it.
bool query_enabled(const filter::CompiledFilter &f, uint32_t vcpu, uint32_t event) noexcept;

// One 256-bit map for vCPU `vcpu`.
void compute_enable_map(const filter::CompiledFilter &f, uint32_t vcpu, uint64_t out[4]);

}  // namespace bdtrace::device

#endif  // BDTRACE_DEVICE_ENABLE_MAPS_H
