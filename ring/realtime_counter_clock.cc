// SPDX-License-Identifier: MIT
#include "bdtrace/ring/realtime_counter_clock.h"

#include <time.h>

#include <cmath>

#include "bdtrace/byte_order.h"
#include "bdtrace/ring/guest_word.h"
#include "bdtrace/ring/shared_copy.h"

namespace bdtrace::ring {
namespace {

using Rate = RealtimeCounterClock::Rate;

uint64_t clock_ns(clockid_t id) noexcept {
  struct timespec ts;
  ::clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// cntvct_el0 frequencies in use, as ns per tick: QEMU's 1 GHz and 62.5 MHz
// (before 9.0), and common hardware ones (19.2, 24, 25, 50, 100 MHz).
constexpr Rate kCntvctRates[] = {{1, 1}, {16, 1}, {625, 12}, {125, 3}, {40, 1}, {20, 1}, {10, 1}};
// The TOD clock: bit 51 is 1 us, so 4096 units per us, 1000/4096 ns each.
constexpr Rate kTodRate = {125, 512};
constexpr double kToleranceNs = 60e9;

std::optional<Rate> cntvct_rate(uint64_t count, uint64_t realtime_ns) noexcept {
  for (const Rate &r : kCntvctRates) {
    const double ns = static_cast<double>(count) * r.num / r.den;
    if (std::fabs(ns - static_cast<double>(realtime_ns)) < kToleranceNs) return r;
  }
  return std::nullopt;
}

}  // namespace

std::optional<double> realtime_counter_period(uint64_t count, uint64_t realtime_ns) noexcept {
  if (std::optional<Rate> r = cntvct_rate(count, realtime_ns)) return static_cast<double>(r->num) / r->den;
  return std::nullopt;
}

RealtimeCounterClock::RealtimeCounterClock(const MappedRegion &region, Counter counter) : region_(region) {
  if (counter == Counter::S390xTod) {
    rate_ = kTodRate;
    epoch_ns_ = kTodEpochToUnixNs;
    known_ = true;
  }
  refresh();
}

void RealtimeCounterClock::find_rate(uint64_t realtime_ns) noexcept {
  const RegionLayout &l = region_.layout();
  for (uint32_t r = l.kernel_rings; r < l.ring_count && !known_; ++r) {
    const uint64_t head = load_guest(l.byte_order, &region_.ctl(r)->head, __ATOMIC_ACQUIRE);
    const uint64_t tail = load_guest(l.byte_order, &region_.ctl(r)->tail, __ATOMIC_RELAXED);
    if (head == tail) continue;
    // The first word of a record slot is its ts (<bd/ring.h>).
    uint64_t ts = 0;
    copy_from_shared(&ts, region_.slot(r, tail), 1);
    if (l.byte_order != kHostByteOrder) ts = byte_swap(ts);
    if (std::optional<Rate> rate = cntvct_rate(ts, realtime_ns)) {
      rate_ = *rate;
      known_ = true;
    } else {
      unmatched_ = true;
    }
  }
}

void RealtimeCounterClock::refresh() noexcept {
  const uint64_t real = clock_ns(CLOCK_REALTIME);
  const uint64_t mono = clock_ns(CLOCK_MONOTONIC);
  if (!known_) find_rate(real);
  // The reference count is a whole number of `den`-tick steps, which last
  // exactly `num` ns: take the last step boundary at or before `real`, so
  // count and time of the reference pair are both exact. The count is the
  // counter's own 64-bit value (it fits; the product may not, hence 128
  // bits).
  const uint64_t since_zero = real + epoch_ns_;
  const uint64_t steps = since_zero / rate_.num;
  const auto ref = static_cast<uint64_t>(static_cast<unsigned __int128>(steps) * rate_.den);
  const uint64_t ref_ns = steps * rate_.num - epoch_ns_;  // <= real
  map_ = LinearMap{ref, mono - (real - ref_ns), ns_per_tick()};
}

}  // namespace bdtrace::ring
