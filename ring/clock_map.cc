// SPDX-License-Identifier: MIT
// Guest clock -> host CLOCK_MONOTONIC (see clock_map.h).
#include "bdtrace/ring/clock_map.h"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>

namespace bdtrace::ring {
namespace {

bool usable_slope(double s) noexcept { return std::isfinite(s) && s > 0; }

// h + d for a signed nanosecond offset d, saturating at 0 and UINT64_MAX.
uint64_t offset_ns(uint64_t h, double d) noexcept {
  constexpr double kLimit = 9.0e18;  // llround stays within int64_t
  if (!std::isfinite(d)) return h;
  if (d >= 0) {
    if (d >= kLimit || d >= static_cast<double>(UINT64_MAX - h)) return UINT64_MAX;
    return h + static_cast<uint64_t>(std::llround(d));
  }
  if (-d >= kLimit || -d >= static_cast<double>(h)) return 0;
  return h - static_cast<uint64_t>(std::llround(-d));
}

}  // namespace

uint64_t monotonic_ns() noexcept {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// ---------------------------------------------------------------- TscClock

TscClock::Pair TscClock::take(uint64_t &width) noexcept {
  const uint64_t t1 = read_tsc();
  const uint64_t mono = monotonic_ns();
  const uint64_t t2 = read_tsc();
  // t2 < t1 (another core's TSC after a migration): never a tight pair.
  width = t2 >= t1 ? t2 - t1 : UINT64_MAX;
  return Pair{t1 + (t2 >= t1 ? (t2 - t1) / 2 : 0), mono};
}

TscClock::Pair TscClock::best_of(int n, uint64_t &width) noexcept {
  width = UINT64_MAX;
  Pair best;
  for (int i = 0; i < n; ++i) {
    uint64_t w;
    const Pair p = take(w);
    if (w < width) {
      width = w;
      best = p;
    }
  }
  return best;
}

void TscClock::accept(const Pair &p) noexcept {
  if (!have_first_) {
    first_ = latest_ = p;
    have_first_ = true;
    return;
  }
  // Only forward: a pair at or before the latest adds nothing and would
  // make the extrapolation run backwards.
  if (p.tsc <= latest_.tsc || p.mono < latest_.mono) return;
  latest_ = p;
  const double s = static_cast<double>(p.mono - first_.mono) / static_cast<double>(p.tsc - first_.tsc);
  if (usable_slope(s)) ns_per_tick_ = s;
}

bool TscClock::sample() noexcept {
  for (int attempt = 0; attempt < 3; ++attempt) {
    uint64_t w;
    const Pair p = take(w);
    if (w == UINT64_MAX) continue;
    best_width_ = std::min(best_width_, w);
    // "Close": at most twice the tightest pair seen, plus a little slack
    // (~25 ns) so a very tight best does not reject every later pair.
    const uint64_t limit = best_width_ > UINT64_MAX / 4 ? UINT64_MAX : 2 * best_width_ + 64;
    if (w <= limit) {
      accept(p);
      return true;
    }
  }
  return false;
}

bool TscClock::calibrate(uint64_t span_ns) noexcept {
  uint64_t w1, w2;
  best_width_ = UINT64_MAX;
  have_first_ = false;
  const Pair a = best_of(8, w1);
  if (w1 == UINT64_MAX) return calibrated_ = false;
  accept(a);
  struct timespec left;
  left.tv_sec = static_cast<time_t>(span_ns / 1'000'000'000u);
  left.tv_nsec = static_cast<long>(span_ns % 1'000'000'000u);
  while (::clock_nanosleep(CLOCK_MONOTONIC, 0, &left, &left) == EINTR) {
  }
  const Pair b = best_of(8, w2);
  if (w2 == UINT64_MAX) return calibrated_ = false;
  best_width_ = std::min(w1, w2);
  accept(b);
  calibrated_ = latest_.tsc > first_.tsc && usable_slope(ns_per_tick_);
  return calibrated_;
}

// ----------------------------------------------------------- LinearClockMap

LinearClockMap::LinearClockMap(std::size_t window) : window_(std::max<std::size_t>(window, 2)) {}

void LinearClockMap::set_slope(double ns_per_tick) noexcept {
  known_slope_ = usable_slope(ns_per_tick) ? ns_per_tick : 0;
  fit();
}

bool LinearClockMap::add_exchange(uint64_t guest, uint64_t host_before_ns, uint64_t host_after_ns) {
  if (host_after_ns < host_before_ns) return false;
  const uint64_t rt = host_after_ns - host_before_ns;
  best_round_trip_ = std::min(best_round_trip_, rt);
  const uint64_t limit = best_round_trip_ > UINT64_MAX / 4 ? UINT64_MAX : 2 * best_round_trip_ + 1000;
  const bool fast = rt <= limit;
  add(Window{guest, host_before_ns, host_after_ns}, fast);
  return fast;
}

void LinearClockMap::add_pair(uint64_t guest, uint64_t host_ns) {
  add(Window{guest, host_ns, host_ns}, true);
}

void LinearClockMap::add(const Window &w, bool fast) {
  if (fast) {
    if (pairs_.size() == window_) pairs_.pop_front();
    pairs_.push_back(w);
  }
  if (windows_.size() == kMaxWindows) windows_.pop_front();
  windows_.push_back(w);
  fit();
}

double LinearClockMap::rate_uncertainty() const noexcept {
  if (pairs_.size() < 2) return HUGE_VAL;
  const uint64_t first = pairs_.front().mid(), last = pairs_.back().mid();
  if (last <= first) return HUGE_VAL;
  uint64_t widest = 0;
  for (const Window &p : pairs_) widest = std::max(widest, p.after - p.before);
  return 2.0 * static_cast<double>(widest) / static_cast<double>(last - first);
}

void LinearClockMap::fit() noexcept {
  if (windows_.empty()) return;
  // Coordinates relative to the newest window: small numbers, exact in a
  // double, and the anchor of the resulting map.
  const uint64_t g0 = windows_.back().guest, h0 = windows_.back().mid();
  auto x_of = [g0](const Window &w) { return static_cast<double>(static_cast<int64_t>(w.guest - g0)); };
  double slope = known_slope_;
  if (slope == 0) {
    const std::size_t n = pairs_.size();
    if (n == 0) return;
    double mx = 0, my = 0;
    for (const Window &p : pairs_) {
      mx += x_of(p);
      my += static_cast<double>(static_cast<int64_t>(p.mid() - h0));
    }
    mx /= static_cast<double>(n);
    my /= static_cast<double>(n);
    double sxx = 0, sxy = 0;
    for (const Window &p : pairs_) {
      const double x = x_of(p) - mx;
      const double y = static_cast<double>(static_cast<int64_t>(p.mid() - h0)) - my;
      sxx += x * x;
      sxy += x * y;
    }
    if (!(sxx > 0)) return;  // all pairs at one guest time: no rate yet
    slope = sxy / sxx;
    if (!usable_slope(slope)) return;  // keep the previous map
  }
  // The line's value at g0 must lie in [before - slope * x, after -
  // slope * x] for every window: the middle of the intersection of the
  // newest windows that agree (see the class comment), skipping `skip`
  // newest ones. Returns how many agree.
  auto chain = [&](std::size_t skip, double &lo, double &hi) {
    lo = -HUGE_VAL;
    hi = HUGE_VAL;
    std::size_t n = 0;
    for (auto w = windows_.rbegin() + static_cast<std::ptrdiff_t>(skip); w != windows_.rend(); ++w) {
      const double x = x_of(*w) * slope;
      const double wlo = std::max(lo, static_cast<double>(static_cast<int64_t>(w->before - h0)) - x);
      const double whi = std::min(hi, static_cast<double>(static_cast<int64_t>(w->after - h0)) - x);
      if (wlo > whi) break;
      lo = wlo;
      hi = whi;
      ++n;
    }
    return n;
  };
  double lo, hi;
  skip_ = 0;
  if (chain(0, lo, hi) == 1 && windows_.size() >= 3) {
    // The newest window alone disagrees with the ones before it, which
    // agree with each other: an outlier until the next one confirms it.
    double lo2, hi2;
    if (chain(1, lo2, hi2) >= 2) {
      lo = lo2;
      hi = hi2;
      skip_ = 1;
    }
  }
  map_ = LinearMap{g0, offset_ns(h0, (lo + hi) / 2), slope};
  ready_ = true;
}

bool LinearClockMap::error_bounds(int64_t &lo, int64_t &hi, std::size_t &used) const noexcept {
  if (windows_.empty() || !ready_) return false;
  lo = INT64_MIN;
  hi = INT64_MAX;
  used = 0;
  for (auto w = windows_.rbegin() + static_cast<std::ptrdiff_t>(skip_); w != windows_.rend(); ++w) {
    const uint64_t m = map_.map(w->guest);
    const int64_t wlo = std::max(lo, static_cast<int64_t>(w->before - m));
    const int64_t whi = std::min(hi, static_cast<int64_t>(w->after - m));
    if (wlo > whi) break;
    lo = wlo;
    hi = whi;
    ++used;
  }
  return used > 0;
}

}  // namespace bdtrace::ring
