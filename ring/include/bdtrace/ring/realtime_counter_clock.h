// The clock of an aarch64 guest under qemu-user (BD_RING_CLOCK_CNTVCT):
// cntvct_el0, which qemu-aarch64 derives from the host's CLOCK_REALTIME at
// the counter frequency it reports in cntfrq_el0 (measured 2026-11-26:
// 62.5 MHz in Debian's 7.2, 1 GHz in 10.0 and 11.1, where 10.0 even reads
// cntfrq_el0 as 0, so the guest cannot be asked). The consumer finds the
// frequency from the counter's own values: among the frequencies QEMU and
// hardware use, the one that puts a published record's count within a
// minute of the host's CLOCK_REALTIME (the candidates are 1.6x or more
// apart: at most one fits). Until a record decides, 1 GHz is assumed.
// A hostile guest can only mislead the mapping of its own times.
#ifndef BDTRACE_RING_REALTIME_COUNTER_CLOCK_H
#define BDTRACE_RING_REALTIME_COUNTER_CLOCK_H

#include <cstdint>
#include <optional>

#include "bdtrace/ring/clock_map.h"
#include "bdtrace/ring/region_file.h"

namespace bdtrace::ring {

// ns per tick of a counter at a frequency QEMU or hardware uses whose value
// `count` lies within a minute of `realtime_ns`; nothing when none fits.
std::optional<double> realtime_counter_period(uint64_t count, uint64_t realtime_ns) noexcept;

class RealtimeCounterClock final : public GuestClock {
public:
    // `region` must outlive the clock (its rings are peeked at for a count).
    explicit RealtimeCounterClock(const MappedRegion &region) : region_(region) { refresh(); }

    // A fresh (CLOCK_REALTIME, CLOCK_MONOTONIC) pair; while the frequency is
    // unknown, a look at the oldest unread record of each ring.
    void refresh() noexcept override;
    LinearMap current() const noexcept override { return map_; }
    bool frequency_known() const noexcept { return known_; }
    double ns_per_tick() const noexcept { return period_; }

private:
    void find_period(uint64_t realtime_ns) noexcept;

    const MappedRegion &region_;
    double period_ = 1.0;
    bool known_ = false;
    LinearMap map_;
};

}  // namespace bdtrace::ring

#endif  // BDTRACE_RING_REALTIME_COUNTER_CLOCK_H
