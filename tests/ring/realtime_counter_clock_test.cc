// SPDX-License-Identifier: MIT
// The clock of aarch64 guests under qemu-user (BD_RING_CLOCK_CNTVCT): the
// counter frequency found from the counter's own values, and the map to
// host CLOCK_MONOTONIC, against the real host clocks.
#include "bdtrace/ring/realtime_counter_clock.h"

#include <gtest/gtest.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "test_producer.h"

namespace bdtrace::ring {
namespace {

uint64_t now(clockid_t id) {
  struct timespec ts;
  ::clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

TEST(RealtimeCounter, PeriodFromTheCountItself) {
  const uint64_t real = now(CLOCK_REALTIME);
  EXPECT_EQ(realtime_counter_period(real, real), 1.0) << "1 GHz (QEMU >= 9)";
  EXPECT_EQ(realtime_counter_period(real / 16, real), 16.0) << "62.5 MHz (QEMU 7.2)";
  EXPECT_EQ(realtime_counter_period(real / 16 - 62'500'000, real), 16.0) << "a record a second old";
  EXPECT_FALSE(realtime_counter_period(12345, real)) << "no frequency fits";
  EXPECT_FALSE(realtime_counter_period(UINT64_MAX, real));
}

// A user-mode region with the aarch64 clock and one mark of count `ts`
// (none with std::nullopt; add_mark() writes one later).
class CntvctRegion {
 public:
  explicit CntvctRegion(std::optional<uint64_t> ts) {
    char tmpl[] = "/tmp/bdring-cntvct-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return;
    dir_ = tmpl;
    path_ = dir_ + "/region";
    ok_ = create_region_file(path_, 2, 16, BD_RING_MODE_USER, 0, 0, BD_RING_CLOCK_CNTVCT) &&
          test::open_region(path_, region_);
    if (!ok_) return;
    EXPECT_EQ(region_.layout().clock, static_cast<uint32_t>(BD_RING_CLOCK_CNTVCT));
    if (ts) ok_ = add_mark(*ts);
  }
  bool add_mark(uint64_t ts) {
    test::TestProducer p(region_.base(), region_.layout(), 1);
    p.claim(100, 101);
    return p.mark(1, 1, ts);
  }
  ~CntvctRegion() {
    if (!path_.empty()) ::unlink(path_.c_str());
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  bool ok() const { return ok_; }
  const MappedRegion &region() const { return region_; }

 private:
  std::string dir_, path_;
  MappedRegion region_;
  bool ok_ = false;
};

TEST(RealtimeCounter, FindsQemu72sFrequencyAndMapsToMonotonic) {
  const uint64_t ts = now(CLOCK_REALTIME) / 16;  // what qemu-aarch64 7.2 returns
  CntvctRegion r(ts);
  ASSERT_TRUE(r.ok());
  RealtimeCounterClock clock(r.region());
  ASSERT_TRUE(clock.frequency_known());
  EXPECT_EQ(clock.ns_per_tick(), 16.0);
  const int64_t off = static_cast<int64_t>(clock.current().map(ts) - now(CLOCK_MONOTONIC));
  EXPECT_LT(std::llabs(off), 5'000'000) << "mapped within a few ms of its creation";
}

TEST(RealtimeCounter, FindsOneGigahertzToo) {
  const uint64_t ts = now(CLOCK_REALTIME);  // qemu-aarch64 10.0 and 11.1
  CntvctRegion r(ts);
  ASSERT_TRUE(r.ok());
  RealtimeCounterClock clock(r.region());
  ASSERT_TRUE(clock.frequency_known());
  EXPECT_EQ(clock.ns_per_tick(), 1.0);
  const int64_t off = static_cast<int64_t>(clock.current().map(ts) - now(CLOCK_MONOTONIC));
  EXPECT_LT(std::llabs(off), 5'000'000);
}

TEST(RealtimeCounter, AHostileCountLeavesTheFrequencyOpen) {
  CntvctRegion r(42);
  ASSERT_TRUE(r.ok());
  RealtimeCounterClock clock(r.region());
  EXPECT_FALSE(clock.frequency_known());
  EXPECT_EQ(clock.ns_per_tick(), 1.0) << "1 GHz until a plausible count decides";
}

// The consumer drains nothing while the clock is not ready
// (GuestClock::ready): a first record that lands after a pass's refresh()
// looked for one waits a pass instead of being mapped at a frequency not
// yet known (which put QEMU 7.2's marks at guest_ts 0).
TEST(RealtimeCounter, NotReadyUntilARecordShowsTheFrequency) {
  CntvctRegion r(std::nullopt);
  RealtimeCounterClock clock(r.region());
  EXPECT_FALSE(clock.ready()) << "no record yet: the frequency is open";
  ASSERT_TRUE(r.add_mark(now(CLOCK_REALTIME) / 16));
  EXPECT_FALSE(clock.ready()) << "the record came after the last look";
  clock.refresh();
  EXPECT_TRUE(clock.ready());
  EXPECT_EQ(clock.ns_per_tick(), 16.0);
}

TEST(RealtimeCounter, ReadyWithRecordsOfNoKnownFrequency) {
  CntvctRegion r(42);
  ASSERT_TRUE(r.ok());
  RealtimeCounterClock clock(r.region());
  EXPECT_FALSE(clock.frequency_known());
  EXPECT_TRUE(clock.ready()) << "records never wait for a frequency no count can show";
}

// System mode runs x86_64 (TSC) and aarch64 (cntvct_el0) VMs; riscv64's
// rdtime is a user-mode clock only.
TEST(RealtimeCounter, SystemModeTakesTheTscAndCntvctOnly) {
  char tmpl[] = "/tmp/bdring-clock-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl, path = dir + "/region", path2 = dir + "/region2";
  Status created = create_region_file(path, 2, 16, BD_RING_MODE_SYSTEM, 1, 0, BD_RING_CLOCK_RISCV_TIME);
  ASSERT_TRUE(created) << created.error();
  const Expected<MappedRegion> region = MappedRegion::open(path);
  EXPECT_FALSE(region);
  const std::string error = region ? std::string() : region.error().message;
  EXPECT_NE(error.find("unknown clock 3"), std::string::npos) << error;
  created = create_region_file(path2, 2, 16, BD_RING_MODE_SYSTEM, 1, 0, BD_RING_CLOCK_CNTVCT);
  ASSERT_TRUE(created) << created.error();
  const Expected<MappedRegion> a64 = MappedRegion::open(path2);
  EXPECT_TRUE(a64) << (a64 ? std::string() : a64.error().message);
  ::unlink(path.c_str());
  ::unlink(path2.c_str());
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace bdtrace::ring
