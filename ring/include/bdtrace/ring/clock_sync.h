/* SPDX-License-Identifier: MIT */
// The host side of the ring region's sync area (<bd/ring.h>, SYNC AREA):
// full-system guests, whose TSC is not the host's.
//
// One exchange: the consumer reads its clock (before), writes a fresh
// sync_request, and spins until the guest agent (bd_sched, from its
// sched_switch probe) has echoed it in sync_ack, having first written its
// TSC into sync_guest_ts; then it reads sync_guest_ts and its clock again
// (after: after the read, so that whatever the guest wrote there was read
// from its clock before `after`). The guest read its TSC somewhere in
// [before, after], a window that goes to a LinearClockMap.
//
// The spin is bounded: a guest that does not answer in time (no switch on
// any vCPU meanwhile, or no agent at all) leaves the request pending and
// the consumer goes back to draining. An answer that arrives later is not
// a good pair (its window includes the consumer's own sleep) but is kept as
// an estimate, the best there is when no timely answer ever comes. While a
// request stays unanswered (the agent is not loaded yet, e.g. during the
// guest's boot) exchanges do not spin again for `quiet_ns`: spinning costs
// a host CPU that QEMU's vCPU threads want.
#ifndef BDTRACE_RING_CLOCK_SYNC_H
#define BDTRACE_RING_CLOCK_SYNC_H

#include <cstddef>
#include <cstdint>

#include "bdtrace/ring/clock_map.h"
#include "bdtrace/ring/log_histogram.h"
#include "bdtrace/ring/region_file.h"

namespace bdtrace::ring {

class ClockSync {
 public:
  // Every reference must outlive the object. `same_rate`: guest ticks
  // are host TSC ticks (TCG), so only the offset is fitted, at the host
  // TSC's rate; otherwise (KVM, possibly scaled) the rate is fitted too.
  // `spin_ns`: how long one exchange waits for the guest.
  ClockSync(const MappedRegion &region, LinearClockMap &fit, TscClock &host, bool same_rate,
            uint64_t spin_ns = 200'000, uint64_t quiet_ns = 20'000'000) noexcept;

  // One exchange (see above). True when the guest answered within the
  // spin; the pair went to the fit unless its round trip was too long.
  // False at once (no spin) while the last request is unanswered and
  // younger than quiet_ns.
  bool exchange() noexcept;

  // No timely answer yet: feed the best late answer to the fit as an
  // estimate. True when there was one (the map is then ready); its round
  // trip (the error bound) is late_round_trip_ns().
  bool use_estimate() noexcept;

  // A rate the guest's clock may run at, in host ns per guest tick, when
  // its rate is fitted (not `same_rate`): an aarch64 guest's cntvct_el0
  // under TCG counts QEMU's virtual clock (the host's CLOCK_MONOTONIC while
  // the VM runs) at the machine's fixed frequency, which the host is not
  // told. Once the fast exchanges pin the rate down (kSnapPairs of them,
  // or fewer spread over enough time: LinearClockMap::rate_uncertainty
  // below a tenth of kSnapTolerance; an idle guest answers few exchanges
  // fast) and the fitted rate lies within kSnapTolerance of a candidate,
  // that rate is taken as exact and only the offset is fitted from then
  // on: a fitted slope wanders a little with every pair, which widens the
  // windows' disagreement. Up to kMaxCandidates.
  void add_rate_candidate(double ns_per_tick) noexcept {
    if (candidates_n_ < kMaxCandidates) candidates_[candidates_n_++] = ns_per_tick;
  }
  static constexpr std::size_t kMaxCandidates = 4;
  static constexpr std::size_t kSnapPairs = 8;
  static constexpr double kSnapTolerance = 0.002;
  // The candidate taken (host ns per guest tick), 0 while none.
  double snapped_rate() const noexcept { return snapped_; }

  uint64_t exchanges() const noexcept { return exchanges_; }
  uint64_t answered() const noexcept { return answered_; }  // within the spin
  uint64_t kept() const noexcept { return kept_; }          // fast enough to fit a rate with
  // Round trips of the timely answers, in host ns.
  const LogHistogram &round_trips() const noexcept { return round_trips_; }
  uint64_t late_round_trip_ns() const noexcept { return late_rt_; }

  // How far the fit's current map is from the truth, measured by the
  // exchanges' windows (LinearClockMap::error_bounds). In ns.
  bool error_bounds(int64_t &lo, int64_t &hi, std::size_t &used) const noexcept {
    return fit_.error_bounds(lo, hi, used);
  }

 private:
  // A pending request answered since: remember it if it is the best
  // late answer so far.
  void collect_late() noexcept;
  // The rate fitted so far matches a candidate: take it (see above).
  void try_snap() noexcept;

  const MappedRegion &region_;
  LinearClockMap &fit_;
  TscClock &host_;
  bool same_rate_;
  double candidates_[kMaxCandidates] = {};
  std::size_t candidates_n_ = 0;
  double snapped_ = 0;
  uint64_t spin_ns_;
  uint64_t quiet_ns_;
  uint64_t request_ = 0;         // the last request written
  uint64_t pending_before_ = 0;  // its `before`, while unanswered
  bool pending_ = false;
  uint64_t late_guest_ = 0, late_host_ = 0, late_rt_ = UINT64_MAX;
  uint64_t exchanges_ = 0, answered_ = 0, kept_ = 0;
  LogHistogram round_trips_;
};

}  // namespace bdtrace::ring

#endif  // BDTRACE_RING_CLOCK_SYNC_H
