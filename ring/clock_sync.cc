// SPDX-License-Identifier: MIT
// Clock exchanges with a full-system guest (see clock_sync.h).
#include "bdtrace/ring/clock_sync.h"

#include <bd/ring.h>

#include <x86intrin.h>

namespace bdtrace::ring {
ClockSync::ClockSync(const MappedRegion &region, LinearClockMap &fit, TscClock &host, bool same_rate,
                     uint64_t spin_ns, uint64_t quiet_ns) noexcept
    : region_(region), fit_(fit), host_(host), same_rate_(same_rate), spin_ns_(spin_ns), quiet_ns_(quiet_ns) {
  // Continue after whatever an earlier consumer of the region asked.
  request_ = __atomic_load_n(&region_.header()->sync_request, __ATOMIC_RELAXED);
}

void ClockSync::collect_late() noexcept {
  bd_ring_region *h = region_.header();
  if (!pending_ || __atomic_load_n(&h->sync_ack, __ATOMIC_ACQUIRE) != request_) return;
  const uint64_t guest = __atomic_load_n(&h->sync_guest_ts, __ATOMIC_RELAXED);
  const uint64_t after = host_.now_ns();
  pending_ = false;
  if (after < pending_before_) return;
  const uint64_t rt = after - pending_before_;
  if (rt < late_rt_) {
    late_rt_ = rt;
    late_guest_ = guest;
    late_host_ = pending_before_ + rt / 2;
  }
}

bool ClockSync::exchange() noexcept {
  collect_late();
  if (pending_ && host_.now_ns() - pending_before_ < quiet_ns_) return false;
  bd_ring_region *h = region_.header();
  ++exchanges_;
  // A fresh non-zero value the guest has not acked (a guest that wrote
  // sync_ack itself gains nothing but a bad pair, dropped by the fit).
  if (++request_ == 0) ++request_;
  const uint64_t before = host_.now_ns();
  __atomic_store_n(&h->sync_request, request_, __ATOMIC_RELEASE);
  const uint64_t deadline = before + spin_ns_;
  uint64_t guest, after;
  for (;;) {
    if (__atomic_load_n(&h->sync_ack, __ATOMIC_ACQUIRE) == request_) {
      guest = __atomic_load_n(&h->sync_guest_ts, __ATOMIC_RELAXED);
      after = host_.now_ns();
      break;
    }
    if (host_.now_ns() >= deadline) {
      pending_ = true;
      pending_before_ = before;
      return false;
    }
    _mm_pause();
  }
  pending_ = false;
  ++answered_;
  round_trips_.add(after - before);
  // Same rate: the host TSC's, whose estimate keeps improving.
  if (same_rate_) fit_.set_slope(host_.ns_per_tick());
  if (fit_.add_exchange(guest, before, after)) ++kept_;
  if (!same_rate_ && snapped_ == 0) try_snap();
  return true;
}

void ClockSync::try_snap() noexcept {
  if (candidates_n_ == 0 || !fit_.ready()) return;
  if (fit_.pairs() < kSnapPairs && !(fit_.rate_uncertainty() < kSnapTolerance / 10)) return;
  const double fitted = fit_.current().ns_per_tick;
  for (std::size_t i = 0; i < candidates_n_; ++i) {
    const double c = candidates_[i];
    if (fitted >= c * (1 - kSnapTolerance) && fitted <= c * (1 + kSnapTolerance)) {
      snapped_ = c;
      fit_.set_slope(c);
      return;
    }
  }
}

bool ClockSync::use_estimate() noexcept {
  collect_late();
  if (late_rt_ == UINT64_MAX) return false;
  if (same_rate_) fit_.set_slope(host_.ns_per_tick());
  fit_.add_pair(late_guest_, late_host_);
  return fit_.ready();
}

}  // namespace bdtrace::ring
