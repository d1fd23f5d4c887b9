// The filter on the ring channel (see filtering_sink.h).
#include "bdtrace/ring/filtering_sink.h"

#include <algorithm>

#include "bdtrace/device/enable_maps.h"

namespace bdtrace::ring {

void FilteringSink::record(const bd_record &r, const EmitContext &ctx) noexcept {
    const filter::CompiledFilter *f = filter_.active();
    if (f != nullptr) {
        const filter::Subject who{ctx.vcpu, {ctx.pid, ctx.tid, f->fixed_comm_mask()}};
        const filter::Decision d = f->decide(who, r.kind, r.event);
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
    for (int w = 0; w < 4; ++w) __atomic_store_n(&h->enable[w], maps.unions[w], __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->generation, 1, __ATOMIC_RELEASE);
}

}  // namespace bdtrace::ring
