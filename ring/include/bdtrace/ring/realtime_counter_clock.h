/* SPDX-License-Identifier: MIT */
// Guest clocks that count host CLOCK_REALTIME under qemu-user, mapped to
// host CLOCK_MONOTONIC for the ring consumer:
//
//   aarch64 cntvct_el0 (BD_RING_CLOCK_CNTVCT): qemu-aarch64 derives it from
//     the host's CLOCK_REALTIME at the counter frequency it reports in
//     cntfrq_el0 (measured 2026-11-26: 62.5 MHz in Debian's 7.2, 1 GHz in
//     10.0 and 11.1, where 10.0 even reads cntfrq_el0 as 0, so the guest
//     cannot be asked). The consumer finds the frequency from the counter's
//     own values: among the frequencies QEMU and hardware use, the one that
//     puts a published record's count within a minute of the host's
//     CLOCK_REALTIME (the candidates are 1.6x or more apart: at most one
//     fits). Until a record decides, 1 GHz is assumed.
//   s390x TOD clock (BD_RING_CLOCK_S390X_TOD, stckf): 4096 units per us
//     since 1900-01-01; qemu-s390x 7.2, 10.0 and 11.1 return host
//     CLOCK_REALTIME in that form, without offset (measured 2026-11-26,
//     see <bd/ring.h>). Rate and epoch are known: nothing to find.
//
// A count maps as realtime ns = count * ns_per_tick - epoch, the rate kept
// as an exact fraction (TOD: 125/512 ns per unit) and the reference pair
// computed in integers, so 64-bit counts (TOD's exceed a double's 53 bits)
// lose no precision. A hostile guest can only mislead the mapping of its
// own times.
#ifndef BDTRACE_RING_REALTIME_COUNTER_CLOCK_H
#define BDTRACE_RING_REALTIME_COUNTER_CLOCK_H

#include <cstdint>
#include <optional>

#include "bdtrace/ring/clock_map.h"
#include "bdtrace/ring/region_file.h"

namespace bdtrace::ring {

// ns per tick of a counter at a frequency QEMU or hardware uses whose value
// `count` lies within a minute of `realtime_ns` (counting from the Unix
// epoch, as cntvct_el0 does under qemu-aarch64); nothing when none fits.
std::optional<double> realtime_counter_period(uint64_t count, uint64_t realtime_ns) noexcept;

// Nanoseconds from the TOD clock's epoch (1900-01-01 00:00 UTC) to the
// Unix epoch: 70 years with 17 leap days.
inline constexpr uint64_t kTodEpochToUnixNs = 2'208'988'800ull * 1'000'000'000ull;

class RealtimeCounterClock final : public GuestClock {
 public:
  enum class Counter {
    Cntvct,    // aarch64: frequency found from the counts
    S390xTod,  // s390x: 125/512 ns per unit since 1900
  };

  // `region` must outlive the clock (its rings are peeked at for a count,
  // in the region's byte order).
  explicit RealtimeCounterClock(const MappedRegion &region, Counter counter = Counter::Cntvct);

  // A fresh (CLOCK_REALTIME, CLOCK_MONOTONIC) pair; while the frequency is
  // unknown, a look at the oldest unread record of each ring.
  void refresh() noexcept override;
  LinearMap current() const noexcept override { return map_; }
  bool frequency_known() const noexcept { return known_; }
  // Known, or records were there but none matched a known frequency (then
  // they are mapped with 1 ns per tick rather than held forever).
  bool ready() const noexcept override { return known_ || unmatched_; }
  double ns_per_tick() const noexcept {
    return static_cast<double>(rate_.num) / static_cast<double>(rate_.den);
  }

  // ns per tick as a fraction.
  struct Rate {
    uint32_t num = 1;
    uint32_t den = 1;
  };

 private:
  void find_rate(uint64_t realtime_ns) noexcept;

  const MappedRegion &region_;
  Rate rate_;
  uint64_t epoch_ns_ = 0;  // realtime ns = count * rate - epoch_ns_
  bool known_ = false;
  bool unmatched_ = false;  // find_rate saw records, none of a known rate
  LinearMap map_;
};

}  // namespace bdtrace::ring

#endif  // BDTRACE_RING_REALTIME_COUNTER_CLOCK_H
