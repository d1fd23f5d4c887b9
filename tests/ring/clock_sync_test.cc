// SPDX-License-Identifier: MIT
// ClockSync: the host side of the sync area (<bd/ring.h>), against a thread
// that plays bd_sched's clock agent with a known TSC offset.
#include "bdtrace/ring/clock_sync.h"

#include "test_producer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <thread>

namespace bdtrace::ring {
namespace {

using test::TempRegion;

// The guest's TSC: the host's plus a VM offset (TCG), here a negative one.
constexpr uint64_t kOffset = static_cast<uint64_t>(-123'456'789'000ll);

uint64_t guest_tsc() { return read_tsc() + kOffset; }

// Answers every request the way bd_sched's probe does, with `clock` (this
// thread's TSC + kOffset by default), until stopped. `delay_us` > 0:
// answers that late.
class Agent {
 public:
  Agent(bd_ring_region *h, int delay_us = 0, std::function<uint64_t()> clock = guest_tsc)
      : thread_([this, h, delay_us, clock] {
          while (!stop_.load(std::memory_order_relaxed)) {
            const uint64_t req = __atomic_load_n(&h->sync_request, __ATOMIC_ACQUIRE);
            if (req == __atomic_load_n(&h->sync_ack, __ATOMIC_RELAXED)) continue;
            if (delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
            __atomic_store_n(&h->sync_guest_ts, clock(), __ATOMIC_RELAXED);
            __atomic_store_n(&h->sync_ack, req, __ATOMIC_RELEASE);
          }
        }) {}
  ~Agent() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct Fixture {
  TempRegion region{4, 16, BD_RING_MODE_SYSTEM, 2};
  MappedRegion mapped;
  TscClock host;
  LinearClockMap fit;
  Fixture() {
    EXPECT_TRUE(region.ok()) << region.error();
    const Status opened = test::open_region(region.path(), mapped);
    EXPECT_TRUE(opened) << opened.error();
    EXPECT_TRUE(host.calibrate());
  }
};

// The machine may be loaded (the agent spins on one CPU, the exchanges on
// another): exchanges go on until 40 were answered in time, and the error
// is judged against what the windows allow.
TEST(ClockSync, FitsTheGuestOffsetFromTimelyAnswers) {
  Fixture f;
  // No quiet period: the agent thread may start after the first spin.
  ClockSync sync(f.mapped, f.fit, f.host, true, 200'000, 0);
  Agent agent(f.mapped.header());
  for (int i = 0; i < 5000 && sync.answered() < 40; ++i) sync.exchange();
  EXPECT_GE(sync.answered(), 40u);
  ASSERT_TRUE(f.fit.ready());
  EXPECT_GT(sync.kept(), 0u);
  int64_t lo = 0, hi = 0;
  std::size_t used = 0;
  ASSERT_TRUE(sync.error_bounds(lo, hi, used));
  EXPECT_GT(used, 0u);
  EXPECT_LE(lo, hi);
  // A guest TSC read now maps to host now, within the bounds (plus the
  // time between the two readings below: the best of a few tries, as
  // this thread may be preempted in between).
  double best = HUGE_VAL;
  for (int i = 0; i < 5; ++i) {
    const uint64_t guest_now = read_tsc() + kOffset;
    const double err =
        static_cast<double>(f.fit.current().map(guest_now)) - static_cast<double>(f.host.now_ns());
    best = std::min(best, std::fabs(err));
  }
  EXPECT_LT(best, static_cast<double>(std::max(-lo, hi)) + 2000.0) << "ns off";
}

TEST(ClockSync, NoAgentNoMapAndNoSpinWhileTheRequestIsPending) {
  Fixture f;
  ClockSync sync(f.mapped, f.fit, f.host, true, 100'000, 50'000'000);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(sync.exchange());                                 // spins 100 us
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(sync.exchange());  // quiet: no spin
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(40));
  EXPECT_FALSE(f.fit.ready());
  EXPECT_FALSE(sync.use_estimate());
  EXPECT_EQ(sync.answered(), 0u);
}

TEST(ClockSync, ALateAnswerIsOnlyAnEstimate) {
  Fixture f;
  ClockSync sync(f.mapped, f.fit, f.host, true, 50'000, 0);
  {
    Agent agent(f.mapped.header(), 2000);  // answers after 2 ms
    EXPECT_FALSE(sync.exchange());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(f.fit.ready());
  ASSERT_TRUE(sync.use_estimate());
  EXPECT_TRUE(f.fit.ready());
  EXPECT_GE(sync.late_round_trip_ns(), 2'000'000u);
}

// A guest counter at its own fixed frequency (aarch64's cntvct_el0 under
// TCG: QEMU's virtual clock, the host's CLOCK_MONOTONIC, at 62.5 MHz here):
// the rate is fitted, then taken as exactly the candidate it matches.
TEST(ClockSync, TakesAFittedRateThatMatchesACandidateAsExact) {
  Fixture f;
  ClockSync sync(f.mapped, f.fit, f.host, false, 200'000, 0);
  sync.add_rate_candidate(16.0);
  sync.add_rate_candidate(1.0);
  Agent agent(f.mapped.header(), 0, [&f] { return f.host.now_ns() / 16 + 777'000'000; });
  for (int i = 0; i < 20000 && sync.snapped_rate() == 0; ++i) {
    sync.exchange();
    std::this_thread::sleep_for(std::chrono::microseconds(200));  // pairs spread in time
  }
  EXPECT_EQ(sync.snapped_rate(), 16.0) << "fitted " << f.fit.current().ns_per_tick;
  EXPECT_EQ(f.fit.current().ns_per_tick, 16.0);
}

// An idle guest answers few exchanges fast: two fast pairs far enough
// apart pin the rate down as well as many.
TEST(ClockSync, TwoFastPairsFarApartAreEnoughToTakeARate) {
  LinearClockMap fit;
  EXPECT_EQ(fit.rate_uncertainty(), HUGE_VAL);
  // A 62.5 MHz counter; windows of 10 us, 1 s apart.
  fit.add_exchange(1'000'000, 5'000'000'000, 5'000'010'000);
  EXPECT_EQ(fit.rate_uncertainty(), HUGE_VAL);
  fit.add_exchange(1'000'000 + 62'500'000, 6'000'000'000, 6'000'010'000);
  EXPECT_NEAR(fit.rate_uncertainty(), 2e-5, 1e-9);
  EXPECT_NEAR(fit.current().ns_per_tick, 16.0, 16.0 * 2e-5);
}

// A rate 3 % off every candidate stays fitted.
TEST(ClockSync, KeepsFittingARateThatMatchesNoCandidate) {
  Fixture f;
  ClockSync sync(f.mapped, f.fit, f.host, false, 200'000, 0);
  sync.add_rate_candidate(16.0);
  sync.add_rate_candidate(1.0);
  Agent agent(f.mapped.header(), 0, [&f] { return static_cast<uint64_t>(f.host.now_ns() / 16.5); });
  for (int i = 0; i < 20000 && f.fit.pairs() < 3 * ClockSync::kSnapPairs; ++i) {
    sync.exchange();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ASSERT_GE(f.fit.pairs(), 3 * ClockSync::kSnapPairs);
  EXPECT_EQ(sync.snapped_rate(), 0.0);
  EXPECT_NEAR(f.fit.current().ns_per_tick, 16.5, 16.5 * 0.002);
}

}  // namespace
}  // namespace bdtrace::ring
