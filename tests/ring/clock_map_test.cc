// SPDX-License-Identifier: MIT
// Guest clock -> host CLOCK_MONOTONIC: the linear map's arithmetic, the
// TSC clock against the real CLOCK_MONOTONIC, and fits of simulated system
// mode guests (TCG: ratio 1 and an offset; KVM: ratio != 1).
#include "bdtrace/ring/clock_map.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>

namespace bdtrace::ring {
namespace {

constexpr int64_t kTargetNs = 2000;  // the 2 us target

int64_t diff(uint64_t a, uint64_t b) { return static_cast<int64_t>(a - b); }

TEST(LinearMap, MapsBothSidesOfTheReference) {
  const LinearMap m{1000, 5'000'000, 0.5};
  EXPECT_EQ(m.map(1000), 5'000'000u);
  EXPECT_EQ(m.map(3000), 5'001'000u);
  EXPECT_EQ(m.map(0), 4'999'500u);
  EXPECT_EQ(m.map(1001), 5'000'001u);  // 0.5 rounds away from zero
}

TEST(LinearMap, SaturatesInsteadOfOverflowing) {
  const LinearMap m{1ull << 40, 1'000'000, 1.0};
  EXPECT_EQ(m.map(0), 0u);           // before the host clock's origin
  EXPECT_EQ(m.map(UINT64_MAX), 0u);  // a signed difference: far in the past
  EXPECT_EQ(m.map((1ull << 40) + (1ull << 62)), UINT64_MAX);
  const LinearMap huge{0, UINT64_MAX - 10, 1.0};
  EXPECT_EQ(huge.map(100), UINT64_MAX);
  const LinearMap fast{0, 0, 1e9};
  EXPECT_EQ(fast.map(1ull << 40), UINT64_MAX);
  // Hostile guest values anywhere: always some value, never a trap.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) (void)fast.map(rng());
}

// --------------------------------------------------------------- TscClock

// Maps fresh TSC readings and compares them with CLOCK_MONOTONIC read in
// between; only readings not interrupted in between count (their bracket is
// tight). Returns the worst error over `trials` such readings.
int64_t worst_fresh_error(const TscClock &c, int trials) {
  int64_t worst = 0;
  int done = 0;
  for (int attempt = 0; done < trials && attempt < trials * 100; ++attempt) {
    const uint64_t t1 = read_tsc();
    const uint64_t mono = monotonic_ns();
    const uint64_t t2 = read_tsc();
    // ~1 us at any plausible TSC rate: not interrupted.
    if (t2 < t1 || static_cast<double>(t2 - t1) * c.ns_per_tick() > 1000) continue;
    const int64_t err = std::llabs(diff(c.current().map(t1 + (t2 - t1) / 2), mono));
    worst = std::max(worst, err);
    ++done;
  }
  EXPECT_EQ(done, trials) << "no uninterrupted readings: is the machine overloaded?";
  return worst;
}

TEST(TscClock, CalibratesAPlausibleRate) {
  TscClock c;
  ASSERT_TRUE(c.calibrate());
  EXPECT_TRUE(c.calibrated());
  // 100 MHz .. 10 GHz.
  EXPECT_GT(c.ns_per_tick(), 0.1);
  EXPECT_LT(c.ns_per_tick(), 10.0);
}

TEST(TscClock, FreshRdtscWithin2usOfClockGettime) {
  TscClock c;
  ASSERT_TRUE(c.calibrate());
  EXPECT_LT(worst_fresh_error(c, 20), kTargetNs);
  c.sample();
  EXPECT_LT(worst_fresh_error(c, 20), kTargetNs);
}

// The rate must be good enough to extrapolate: after 50 ms without a new
// pair the map is still within 2 us (a 40 ppm rate error would break it).
TEST(TscClock, ExtrapolatesFromTheLatestPair) {
  TscClock c;
  ASSERT_TRUE(c.calibrate());
  const uint64_t start = monotonic_ns();
  while (monotonic_ns() - start < 50'000'000) {
  }
  EXPECT_LT(worst_fresh_error(c, 10), kTargetNs);
}

// Samples while time passes (what the consumer does once per pass): the map
// stays within 2 us and moves forward.
TEST(TscClock, StaysAccurateWhileSampling) {
  TscClock c;
  ASSERT_TRUE(c.calibrate(2'000'000));
  const uint64_t start = monotonic_ns();
  uint64_t last_now = c.now_ns();
  int kept = 0;
  while (monotonic_ns() - start < 200'000'000) {
    kept += c.sample() ? 1 : 0;
    const uint64_t now = c.now_ns();
    // Not a strict order (pair jitter), but never a real step back.
    EXPECT_GT(diff(now, last_now), -kTargetNs);
    last_now = now;
  }
  EXPECT_GT(kept, 0);
  EXPECT_LT(worst_fresh_error(c, 20), kTargetNs);
}

TEST(TscClock, MapsEarlierTscValuesBackwards) {
  TscClock c;
  ASSERT_TRUE(c.calibrate(1'000'000));
  const LinearMap m = c.current();
  const uint64_t ticks_per_ms = static_cast<uint64_t>(1e6 / c.ns_per_tick());
  const int64_t d = diff(m.map(m.guest_ref), m.map(m.guest_ref - ticks_per_ms));
  EXPECT_NEAR(static_cast<double>(d), 1e6, 10);
}

// ---------------------------------------------------------- LinearClockMap

// A simulated guest: host CLOCK_MONOTONIC h (ns), host TSC at 2.6 GHz, guest
// clock = host_tsc * ratio + offset (mod 2^64).
struct SimGuest {
  double ratio;
  uint64_t offset;
  static constexpr double kGhz = 2.6;
  static constexpr uint64_t kTscBase = 123'456'789'000ull;

  uint64_t guest_at(uint64_t h) const {
    const long double tsc = static_cast<long double>(kTscBase) + h * static_cast<long double>(kGhz);
    return static_cast<uint64_t>(std::llround(tsc * ratio)) + offset;
  }
  // True host time of a guest reading (inverse, for checking).
  double host_of(uint64_t g) const {
    const long double tsc = static_cast<long double>(g - offset) / ratio;
    return static_cast<double>((tsc - kTscBase) / kGhz);
  }
};

// Runs `exchanges` simulated exchanges 10 ms apart starting at host time
// h0: round trips 0.5..3 us with the guest's reading anywhere inside, and
// every 7th exchange preempted (a 300 us round trip). Returns the host time
// of the last exchange.
uint64_t feed(LinearClockMap &m, const SimGuest &g, std::mt19937_64 &rng, uint64_t h0, int exchanges) {
  std::uniform_int_distribution<uint64_t> rt(500, 3000);
  uint64_t h = h0;
  for (int i = 0; i < exchanges; ++i, h += 10'000'000) {
    const uint64_t trip = (i % 7 == 6) ? 300'000 : rt(rng);
    const uint64_t at = std::uniform_int_distribution<uint64_t>(0, trip)(rng);
    m.add_exchange(g.guest_at(h + at), h, h + trip);
  }
  return h - 10'000'000;
}

// Worst error of the map over guest readings from `from` to `from + span`
// host ns.
double worst_error(const LinearClockMap &m, const SimGuest &g, uint64_t from, uint64_t span) {
  double worst = 0;
  for (uint64_t h = from; h <= from + span; h += span / 64) {
    const uint64_t gs = g.guest_at(h);
    const double err = std::fabs(static_cast<double>(m.current().map(gs)) - g.host_of(gs));
    worst = std::max(worst, err);
  }
  return worst;
}

TEST(LinearClockMap, TcgOffsetWithKnownRate) {
  const SimGuest g{1.0, 987'654'321'000ull};
  LinearClockMap m;
  m.set_slope(1.0 / SimGuest::kGhz);
  std::mt19937_64 rng(1);
  EXPECT_FALSE(m.ready());
  const uint64_t last = feed(m, g, rng, 5'000'000'000ull, 1);
  EXPECT_TRUE(m.ready());  // one pair fixes the offset when the rate is known
  EXPECT_LT(worst_error(m, g, last, 20'000'000), kTargetNs);
  const uint64_t later = feed(m, g, rng, last + 10'000'000, 40);
  EXPECT_LT(worst_error(m, g, later - 200'000'000, 220'000'000), kTargetNs);
}

TEST(LinearClockMap, TcgOffsetWithFittedRate) {
  // A negative offset (the guest booted after the host): wraps mod 2^64.
  const SimGuest g{1.0, static_cast<uint64_t>(-100'000'000'000ll)};
  LinearClockMap m;
  std::mt19937_64 rng(2);
  const uint64_t last = feed(m, g, rng, 1'000'000'000ull, 30);
  ASSERT_TRUE(m.ready());
  EXPECT_NEAR(m.current().ns_per_tick, 1.0 / SimGuest::kGhz, 1e-5);
  EXPECT_LT(worst_error(m, g, last - 100'000'000, 120'000'000), kTargetNs);
}

TEST(LinearClockMap, KvmRatioAndOffset) {
  for (const double ratio : {0.8765, 1.25, 0.5}) {
    const SimGuest g{ratio, 4'242'424'242ull};
    LinearClockMap m;
    std::mt19937_64 rng(3);
    // Enough exchanges to fill the window (slow ones are dropped).
    const uint64_t last = feed(m, g, rng, 77'000'000'000ull, 200);
    ASSERT_TRUE(m.ready()) << ratio;
    EXPECT_EQ(m.pairs(), 64u);
    EXPECT_NEAR(m.current().ns_per_tick, 1.0 / (SimGuest::kGhz * ratio), 1e-5) << ratio;
    // Inside the fitted span and 20 ms beyond the last pair.
    EXPECT_LT(worst_error(m, g, last - 300'000'000, 320'000'000), kTargetNs) << ratio;
  }
}

// bd_sched answers at its next context switch: the guest's reading lies
// late in each window, so midpoints are biased by up to half a round
// trip. The intersection of the windows is not: the map lands within the
// tightest round trip of the truth.
TEST(LinearClockMap, GuestReadingsLateInTheirWindowsDoNotBiasTheOffset) {
  const SimGuest g{1.0, 555'000'000'000ull};
  LinearClockMap m;
  m.set_slope(1.0 / SimGuest::kGhz);
  std::mt19937_64 rng(4);
  std::uniform_int_distribution<uint64_t> rt(500, 20'000);
  uint64_t h = 1'000'000'000ull;
  for (int i = 0; i < 64; ++i, h += 10'000'000) {
    const uint64_t trip = i == 0 ? 20'000 : rt(rng);  // the first sets a lax filter
    m.add_exchange(g.guest_at(h + trip - 100), h, h + trip);
  }
  ASSERT_TRUE(m.ready());
  EXPECT_LT(worst_error(m, g, h - 100'000'000, 100'000'000), 600.0);
}

TEST(LinearClockMap, NeedsTwoGuestTimesToFitARate) {
  LinearClockMap m;
  m.add_pair(1000, 2000);
  EXPECT_FALSE(m.ready());
  m.add_pair(1000, 2100);  // same guest time: still no rate
  EXPECT_FALSE(m.ready());
  m.add_pair(3000, 4000);
  EXPECT_TRUE(m.ready());
}

TEST(LinearClockMap, DropsSlowExchangesWhileFittingTheRate) {
  LinearClockMap m;
  EXPECT_TRUE(m.add_exchange(100, 1000, 2000));    // 1 us: best so far
  EXPECT_TRUE(m.add_exchange(200, 5000, 7500));    // 2.5 us <= 2 * 1 + 1 us
  EXPECT_FALSE(m.add_exchange(300, 9000, 13000));  // 4 us: preempted
  EXPECT_FALSE(m.add_exchange(400, 2000, 1000));   // after before before
  EXPECT_EQ(m.pairs(), 2u);
}

TEST(LinearClockMap, SlowExchangesStillBoundTheOffset) {
  LinearClockMap m;
  m.set_slope(1.0);
  EXPECT_TRUE(m.add_exchange(100, 1000, 2000));     // offset in [900, 1900]
  EXPECT_FALSE(m.add_exchange(8000, 9000, 13000));  // 4 us: [1000, 5000]
  EXPECT_FALSE(m.add_exchange(400, 2000, 1000));    // after before before: ignored
  EXPECT_EQ(m.pairs(), 1u);
  int64_t lo = 0, hi = 0;
  std::size_t used = 0;
  ASSERT_TRUE(m.error_bounds(lo, hi, used));
  EXPECT_EQ(used, 2u);
  EXPECT_EQ(m.current().map(0), 1450u);  // the middle of [1000, 1900]
  EXPECT_EQ(lo, -450);
  EXPECT_EQ(hi, 450);
}

// A step of the guest's clock (QEMU 7.2 raises its tick offset when the
// host's TSC reads lower than before) seen by slow exchanges only: the
// first is set aside as an outlier, the second confirms it and the map
// follows, within their windows, instead of waiting for a fast one.
TEST(LinearClockMap, FollowsAStepSeenBySlowExchanges) {
  const SimGuest before{1.0, 555'000'000'000ull};
  const SimGuest after{1.0, before.offset + 40'000ull * 26 / 10};  // 40 us later
  LinearClockMap m;
  m.set_slope(1.0 / SimGuest::kGhz);
  uint64_t h = 1'000'000'000ull;
  for (int i = 0; i < 20; ++i, h += 10'000'000)  // fast exchanges: 0.5 us
    m.add_exchange(before.guest_at(h + 400), h, h + 500);
  const uint64_t trip = 3'000;  // 6x the best: dropped while fitting a rate
  m.add_exchange(after.guest_at(h + trip - 100), h, h + trip);
  ASSERT_TRUE(m.ready());
  EXPECT_EQ(m.set_aside(), 1u);
  EXPECT_LT(worst_error(m, before, h, 20'000'000), kTargetNs) << "one answer is not a step yet";
  h += 10'000'000;
  m.add_exchange(after.guest_at(h + trip - 200), h, h + trip);
  EXPECT_EQ(m.set_aside(), 0u);
  EXPECT_LT(worst_error(m, after, h, 20'000'000), kTargetNs);
}

// One answer far off the windows before it (as seen in CI at a run's end),
// never confirmed: the map and the error bounds keep to the others.
TEST(LinearClockMap, SetsASingleOutlierAside) {
  const SimGuest g{1.0, 555'000'000'000ull};
  LinearClockMap m;
  m.set_slope(1.0 / SimGuest::kGhz);
  uint64_t h = 1'000'000'000ull;
  for (int i = 0; i < 20; ++i, h += 10'000'000) m.add_exchange(g.guest_at(h + 400), h, h + 500);
  m.add_exchange(g.guest_at(h + 75'000), h, h + 1'000);  // read 74 us after the window
  EXPECT_EQ(m.set_aside(), 1u);
  EXPECT_LT(worst_error(m, g, h, 20'000'000), 500.0);
  int64_t lo = 0, hi = 0;
  std::size_t used = 0;
  ASSERT_TRUE(m.error_bounds(lo, hi, used));
  EXPECT_EQ(used, 20u);
  EXPECT_LE(lo, 0);
  EXPECT_GE(hi, 0);
  EXPECT_LE(hi - lo, 500);  // as narrow as the windows
}

// A clock step in the guest (e.g. a migrated VM): once the window holds only
// new pairs, the map follows.
TEST(LinearClockMap, WindowForgetsOldPairs) {
  LinearClockMap m(8);
  m.set_slope(1.0);
  for (uint64_t i = 0; i < 8; ++i) m.add_pair(1000 + i * 100, 5000 + i * 100);
  EXPECT_EQ(m.current().map(2000), 6000u);
  for (uint64_t i = 0; i < 8; ++i) m.add_pair(9000 + i * 100, 5000 + i * 100);
  EXPECT_EQ(m.current().map(10000), 6000u);
}

TEST(LinearClockMap, IgnoresUnusableSlopes) {
  LinearClockMap m;
  m.set_slope(-1.0);
  m.add_pair(100, 100);
  EXPECT_FALSE(m.ready());  // -1 was ignored: the rate must be fitted
  m.set_slope(std::nan(""));
  m.add_pair(200, 150);
  EXPECT_TRUE(m.ready());
  EXPECT_NEAR(m.current().ns_per_tick, 0.5, 1e-12);
  // Pairs that run backwards give no usable rate: the map is kept.
  m.add_pair(300, 10);
  EXPECT_NEAR(m.current().ns_per_tick, 0.5, 1e-12);
}

}  // namespace
}  // namespace bdtrace::ring
