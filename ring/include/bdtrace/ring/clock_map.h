/* SPDX-License-Identifier: MIT */
// Guest clock -> host CLOCK_MONOTONIC nanoseconds, for the ring consumer.
//
// A ring record carries the guest's clock at the call (bd_ring_record.ts,
// the guest TSC on x86_64, see <bd/ring.h> TIME). The consumer emits it as
// the event's guest_ts field in host CLOCK_MONOTONIC ns, the clock LTTng
// stamps events with, so marks from the ring and from the trap channel sort
// together. Every guest clock here is linear in host time over the spans
// that matter, so a map is one reference pair and a rate (LinearMap); the
// classes below differ in how they find them.
//
//   TscClock        user mode and native runs: the guest TSC IS the host
//                   TSC (measured: qemu-x86_64 returns it unchanged). The
//                   consumer samples (TSC, CLOCK_MONOTONIC) pairs itself.
//   LinearClockMap  system mode: guest = host_tsc * ratio + offset (TCG:
//                   ratio 1 and a per-VM offset; KVM: ratio != 1). Fitted
//                   from (guest clock, host time) pairs that an exchange
//                   with the guest provides (the sync area of <bd/ring.h>).
//
// Target: a mapped time within 2 us of the true host time.
#ifndef BDTRACE_RING_CLOCK_MAP_H
#define BDTRACE_RING_CLOCK_MAP_H

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#if !defined(__x86_64__)
#error "the ring consumer's clock reads the x86_64 TSC"
#endif
#include <x86intrin.h>

namespace bdtrace::ring {

// The host's TSC (not serialising: a few ns of reordering do not matter
// against a 2 us target).
inline uint64_t read_tsc() noexcept { return __rdtsc(); }

// Host CLOCK_MONOTONIC in ns.
uint64_t monotonic_ns() noexcept;

// host_ns = host_ref_ns + (guest - guest_ref) * ns_per_tick, where the
// difference is signed (a guest time may precede the reference). Total:
// any guest value (a hostile one too) maps to a value in [0, UINT64_MAX]
// without overflow or undefined conversions. ns_per_tick is finite and > 0.
struct LinearMap {
  uint64_t guest_ref = 0;
  uint64_t host_ref_ns = 0;
  double ns_per_tick = 1.0;

  uint64_t map(uint64_t guest) const noexcept {
    // Beyond +-2^62 ns (146 years) the value is garbage anyway: saturate
    // before converting, so the conversion is always defined.
    constexpr double kLimit = 4.6e18;
    const double d = static_cast<double>(static_cast<int64_t>(guest - guest_ref)) * ns_per_tick;
    if (d >= 0) {
      if (!(d < kLimit)) return UINT64_MAX;
      const uint64_t add = static_cast<uint64_t>(d + 0.5);
      return host_ref_ns > UINT64_MAX - add ? UINT64_MAX : host_ref_ns + add;
    }
    if (!(d > -kLimit)) return 0;  // also NaN, which a valid map never yields
    const uint64_t sub = static_cast<uint64_t>(-d + 0.5);
    return sub > host_ref_ns ? 0 : host_ref_ns - sub;
  }
};

// What the consumer needs from a clock: a fresh map once per drain pass.
class GuestClock {
 public:
  virtual ~GuestClock() = default;
  // Once per drain pass, before mapping: sample or refit if the method
  // does (cheap: one pair at most).
  virtual void refresh() noexcept {}
  // The map to use for the records of this pass.
  virtual LinearMap current() const noexcept = 0;
  // False while the clock cannot map yet and records would be mapped
  // wrongly: the pass then drains nothing, and the records wait for the
  // next one (RealtimeCounterClock: the counter's frequency is found from
  // the first record, which may land after this pass's refresh).
  virtual bool ready() const noexcept { return true; }
};

// The host TSC against CLOCK_MONOTONIC, measured by the consumer.
//
// A pair is rdtsc; clock_gettime(CLOCK_MONOTONIC); rdtsc, kept only when the
// two TSC readings are close (the thread was not preempted or interrupted in
// between); the pair's TSC is their midpoint. The rate (ns per tick) is
// estimated from the first kept pair to the latest, so it only gets better
// as the run goes on; calibrate() spaces the first two pairs ~10 ms apart
// so the rate is already good for the first record (pair jitter ~20-50 ns
// over 10 ms: a few ppm). A TSC value t maps to
//   latest.mono + (t - latest.tsc) * rate
// (t may be before the latest pair). With a pair per drain pass (every
// poll interval), the extrapolation spans little time and the error is
// dominated by the pair jitter: well below 2 us.
class TscClock final : public GuestClock {
 public:
  // Samples for about span_ns (sleeping in between). Returns false when no
  // tight pair could be taken or the TSC did not advance (then the map is
  // the identity-rate fallback and times are meaningless).
  bool calibrate(uint64_t span_ns = 10'000'000) noexcept;

  // Takes one pair (a few tries at most); true when one was kept.
  bool sample() noexcept;

  void refresh() noexcept override { sample(); }
  LinearMap current() const noexcept override { return LinearMap{latest_.tsc, latest_.mono, ns_per_tick_}; }

  // Host CLOCK_MONOTONIC ns now, from the TSC (no system call).
  uint64_t now_ns() const noexcept { return current().map(read_tsc()); }

  double ns_per_tick() const noexcept { return ns_per_tick_; }
  bool calibrated() const noexcept { return calibrated_; }

 private:
  struct Pair {
    uint64_t tsc = 0;
    uint64_t mono = 0;
  };
  // One raw pair; width = TSC ticks between the two readings.
  static Pair take(uint64_t &width) noexcept;
  // The tightest of n raw pairs.
  static Pair best_of(int n, uint64_t &width) noexcept;
  void accept(const Pair &p) noexcept;

  Pair first_;
  Pair latest_;
  double ns_per_tick_ = 1.0;
  uint64_t best_width_ = UINT64_MAX;
  bool have_first_ = false;
  bool calibrated_ = false;
};

// A guest clock that is a linear function of host time, fitted from pairs.
//
// METHOD. Each pair is (g, h): the guest read its clock g while the host's
// CLOCK_MONOTONIC was h. An exchange gives h as an interval, a window
// [before, after] around the guest's reading (the host writes a request,
// the guest answers with its clock, the host reads its clock before and
// after). The map
//   h = h0 + (g - g0) * slope
// has a slope that is either known (set_slope(): TCG, where guest ticks
// are host ticks, so slope = the host TSC's ns per tick) or fitted (KVM:
// ratio unknown) by least squares over the midpoints of the last `window`
// fast exchanges: those whose round trip is at most twice the best seen
// plus 1 us (a slower one was descheduled or interrupted, and its midpoint
// is noise). A fitted rate needs two pairs with different g.
//
// The offset comes from the windows themselves: at the chosen slope the
// line must pass through every window, so it is placed in the middle of
// their intersection. Midpoints would be biased: bd_sched answers at its
// next context switch, late in a window (measured: 3-9 us early). Every
// exchange counts here, however slow: a wide window cannot mislead, it
// only constrains less, and a narrow one from long ago still tightens the
// intersection. Newest windows first, stopping before one that contradicts
// the others: the guest's offset may step (QEMU 7.2's cpu_get_ticks()
// raises it whenever a host TSC reading is below the previous one) and a
// fitted rate may still settle; the newest windows describe now. But a
// newest window that alone disagrees with older ones that agree is set
// aside until the next answer confirms it (measured in CI, twice, at the
// end of a run: one answer 40 to 70 us off the windows before it, cause
// not found): a step is followed at its second answer. The map is
// anchored at the newest window's g, so extrapolation to new records
// spans little time.
class LinearClockMap final : public GuestClock {
 public:
  // `window`: fast exchanges kept for a fitted rate; every exchange is
  // kept for the offset, the last kMaxWindows of them.
  explicit LinearClockMap(std::size_t window = 64);
  static constexpr std::size_t kMaxWindows = 1024;

  // Host ns per guest tick, known; 0 = fit it (the default).
  void set_slope(double ns_per_tick) noexcept;

  // One exchange; false when the window runs backwards (host_after <
  // host_before: ignored) or when it is too slow for fitting the rate
  // (it still bounds the offset).
  bool add_exchange(uint64_t guest, uint64_t host_before_ns, uint64_t host_after_ns);
  // One exact pair (no round trip to weigh).
  void add_pair(uint64_t guest, uint64_t host_ns);

  // True once the pairs determine a map.
  bool ready() const noexcept { return ready_; }
  LinearMap current() const noexcept override { return map_; }
  // Fast pairs kept for fitting a rate.
  std::size_t pairs() const noexcept { return pairs_.size(); }
  // How closely the fast pairs pin a rate down: twice the widest of their
  // windows over the host time from the first to the last, a bound on the
  // relative error of a rate through them (HUGE_VAL with fewer than two).
  double rate_uncertainty() const noexcept;

  // How far the current map is from the truth, measured: every window
  // says the guest read g while the host clock was in [before, after],
  // so a correct map puts map(g) in it. With c = the correction the map
  // needs (truth = map + c), before - map(g) <= c <= after - map(g) for
  // every window: c lies in [lo, hi], the intersection over the newest
  // windows that agree with each other (`used` of them: older ones stop
  // agreeing when the guest's offset steps), after the one set aside
  // (set_aside()). In ns. False before the first exchange.
  bool error_bounds(int64_t &lo, int64_t &hi, std::size_t &used) const noexcept;
  // 1 while the newest window is set aside as an outlier, else 0.
  std::size_t set_aside() const noexcept { return skip_; }

 private:
  struct Window {
    uint64_t guest;
    uint64_t before;  // the guest read `guest` in
    uint64_t after;   // [before, after] (exact pairs: both the time)
    uint64_t mid() const noexcept { return before + (after - before) / 2; }
  };
  void add(const Window &w, bool fast);
  void fit() noexcept;

  std::size_t window_;
  std::deque<Window> pairs_;    // the last `window_` fast ones, oldest first
  std::deque<Window> windows_;  // the last kMaxWindows, oldest first
  double known_slope_ = 0;
  uint64_t best_round_trip_ = UINT64_MAX;
  LinearMap map_;
  std::size_t skip_ = 0;  // newest windows set aside (see fit)
  bool ready_ = false;
};

}  // namespace bdtrace::ring

#endif  // BDTRACE_RING_CLOCK_MAP_H
