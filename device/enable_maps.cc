// SPDX-License-Identifier: GPL-2.0-or-later
// Enable bitmaps from a compiled filter (enable_maps.h).
#include "bdtrace/device/enable_maps.h"

#include <bdtrace/filter/compiled.h>

#include <cstring>

namespace bdtrace::device {
namespace {

// The kinds that share one event-id bit.
constexpr uint32_t kIdKinds[] = {BD_KIND_MARK, BD_KIND_MARK_TEXT, BD_KIND_REGION_BEGIN, BD_KIND_REGION_END};

void set_bit(uint64_t map[4], unsigned bit) { map[bit / 64] |= uint64_t{1} << (bit % 64); }

}  // namespace

bool query_enabled(const filter::CompiledFilter &f, uint32_t vcpu, uint32_t event) noexcept {
  for (uint32_t kind : kIdKinds)
    if (f.maybe_enabled(vcpu, kind, event)) return true;
  return false;
}

void compute_enable_map(const filter::CompiledFilter &f, uint32_t vcpu, uint64_t out[4]) {
  // Reserved bits 192..253 stay set; the rest start clear.
  out[0] = out[1] = out[2] = 0;
  out[3] = ~uint64_t{0} & ~(uint64_t{1} << (BD_ENABLE_BIT_SCHED % 64)) &
           ~(uint64_t{1} << (BD_ENABLE_BIT_HIGH_IDS % 64));
  for (uint32_t kind : kIdKinds) {
    for (const filter::Span &s : f.enabled_events(vcpu, kind)) {
      if (s.lo >= BD_ENABLE_EVENT_BITS) {
        set_bit(out, BD_ENABLE_BIT_HIGH_IDS);
        continue;
      }
      const uint32_t hi = s.hi < BD_ENABLE_EVENT_BITS ? s.hi : BD_ENABLE_EVENT_BITS - 1;
      for (uint32_t e = s.lo; e <= hi; ++e) set_bit(out, e);
      if (s.hi >= BD_ENABLE_EVENT_BITS) set_bit(out, BD_ENABLE_BIT_HIGH_IDS);
    }
  }
  if (f.maybe_enabled(vcpu, BD_KIND_SCHED_SWITCH, 0)) set_bit(out, BD_ENABLE_BIT_SCHED);
}

EnableMaps compute_enable_maps(const filter::CompiledFilter *f, uint32_t nr_vcpus) {
  EnableMaps m;
  std::memset(&m, 0xff, sizeof m);
  if (f == nullptr) return m;
  const uint32_t n = nr_vcpus == 0 || nr_vcpus > BD_CHANNEL_KERNEL_SLOTS ? BD_CHANNEL_KERNEL_SLOTS : nr_vcpus;
  for (auto &w : m.unions) w = 0;
  for (uint32_t v = 0; v < BD_CHANNEL_KERNEL_SLOTS; ++v) {
    compute_enable_map(*f, v, m.vcpu[v]);
    if (v < n)
      for (unsigned w = 0; w < 4; ++w) m.unions[w] |= m.vcpu[v][w];
  }
  return m;
}

}  // namespace bdtrace::device
