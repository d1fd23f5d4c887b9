// SPDX-License-Identifier: MIT
// Ring regions in the guest's byte order (<bd/ring.h>, BYTE ORDER): a
// big-endian region, as bd-run creates it for an s390x guest and as such a
// guest writes it, checked byte by byte where the host writes (header,
// tail) and drained by the consumer exactly like a little-endian one; a
// region read in the wrong order is refused with a message that says so.
#include "bdtrace/filter/compiled.h"
#include "bdtrace/filter/config.h"
#include "bdtrace/ring/consumer.h"
#include "bdtrace/ring/filtering_sink.h"
#include "bdtrace/ring/realtime_counter_clock.h"

#include "capture_sink.h"
#include "test_producer.h"

#include <gtest/gtest.h>
#include <time.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace bdtrace::ring {
namespace {

using test::CaptureSink;
using test::open_region;
using test::TempRegion;
using test::TestProducer;

static_assert(kHostByteOrder == ByteOrder::Little, "these tests run on x86_64 hosts");

using Bytes = std::vector<unsigned char>;

Bytes bytes_at(const void *base, std::size_t offset, std::size_t n) {
  const auto *p = static_cast<const unsigned char *>(base) + offset;
  return Bytes(p, p + n);
}

TEST(RegionByteOrder, BigEndianHeaderAsAnS390xGuestReadsIt) {
  TempRegion r(8, 64, BD_RING_MODE_USER, 0, ByteOrder::Big, BD_RING_CLOCK_S390X_TOD);
  ASSERT_TRUE(r.ok()) << r.error();
  Expected<MappedRegion> opened = MappedRegion::open(r.path(), ByteOrder::Big);
  ASSERT_TRUE(opened) << opened.error();
  MappedRegion &m = *opened;
  const RegionLayout &l = m.layout();
  EXPECT_EQ(l.byte_order, ByteOrder::Big);
  EXPECT_EQ(l.ring_count, 8u);
  EXPECT_EQ(l.ring_slots, 64u);
  EXPECT_EQ(l.clock, static_cast<uint32_t>(BD_RING_CLOCK_S390X_TOD));
  EXPECT_EQ(l.data_offset, bd_ring_data_offset(8));
  // The header's bytes, spelled out: every field big-endian.
  const unsigned char *h = m.base();
  EXPECT_EQ(bytes_at(h, offsetof(bd_ring_region, magic), 4), (Bytes{'b', 'd', 'r', 'g'}));
  EXPECT_EQ(bytes_at(h, offsetof(bd_ring_region, version), 2), (Bytes{0, 1}));
  EXPECT_EQ(bytes_at(h, offsetof(bd_ring_region, slot_size), 2), (Bytes{0, 64}));
  EXPECT_EQ(bytes_at(h, offsetof(bd_ring_region, ring_count), 4), (Bytes{0, 0, 0, 8}));
  EXPECT_EQ(bytes_at(h, offsetof(bd_ring_region, ring_slots), 4), (Bytes{0, 0, 0, 64}));
  EXPECT_EQ(bytes_at(h, offsetof(bd_ring_region, claims_offset), 4), (Bytes{0, 0, 0x10, 0}));
  EXPECT_EQ(bytes_at(h, offsetof(bd_ring_region, mode), 4), (Bytes{0, 0, 0, BD_RING_MODE_USER}));
  EXPECT_EQ(bytes_at(h, offsetof(bd_ring_region, clock), 4), (Bytes{0, 0, 0, BD_RING_CLOCK_S390X_TOD}));
  const uint64_t size = bd_ring_region_size(8, 64);
  Bytes size_be;
  for (int i = 7; i >= 0; --i) size_be.push_back(static_cast<unsigned char>(size >> (8 * i)));
  EXPECT_EQ(bytes_at(h, offsetof(bd_ring_region, region_size), 8), size_be);
  EXPECT_EQ(bytes_at(h, offsetof(bd_ring_region, enable), 32), Bytes(32, 0xff));
}

TEST(RegionByteOrder, WrongOrderIsRefusedSayingSo) {
  {
    TempRegion big(2, 16, BD_RING_MODE_USER, 0, ByteOrder::Big, BD_RING_CLOCK_S390X_TOD);
    ASSERT_TRUE(big.ok()) << big.error();
    const Expected<MappedRegion> m = MappedRegion::open(big.path());
    ASSERT_FALSE(m);
    const std::string err = m.error().message;
    EXPECT_NE(err.find("a region in big-endian byte order, read as little-endian"), std::string::npos) << err;
    EXPECT_NE(err.find("--arch"), std::string::npos) << err;
    EXPECT_FALSE(m);
  }
  {
    TempRegion little(2, 16);
    ASSERT_TRUE(little.ok()) << little.error();
    const Expected<MappedRegion> m = MappedRegion::open(little.path(), ByteOrder::Big);
    ASSERT_FALSE(m);
    const std::string err = m.error().message;
    EXPECT_NE(err.find("a region in little-endian byte order, read as big-endian"), std::string::npos) << err;
  }
}

TEST(RegionByteOrder, SystemModeIsTheHostsOrderOnly) {
  std::string err;
  TempRegion r(4, 16, BD_RING_MODE_SYSTEM, 2, ByteOrder::Big);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error().find("system mode serves x86_64 guests"), std::string::npos) << r.error();
}

TEST(RegionByteOrder, EnableMapAndGenerationAsTheGuestReadsThem) {
  TempRegion r(2, 16, BD_RING_MODE_USER, 0, ByteOrder::Big, BD_RING_CLOCK_S390X_TOD);
  ASSERT_TRUE(r.ok()) << r.error();
  Expected<MappedRegion> opened = MappedRegion::open(r.path(), ByteOrder::Big);
  ASSERT_TRUE(opened) << opened.error();
  MappedRegion &m = *opened;
  const Expected<filter::FilterConfig> config =
      filter::parse_config("rule { events { id: 5 } action: DROP }", "t.txtpb");
  ASSERT_TRUE(config) << config.error();
  const auto f = filter::CompiledFilter::compile(*config, "");
  publish_enable_map(m, *f);
  // Bit 5 of word 0 is clear: to a big-endian guest that bit (0x20) lives
  // in the word's last byte; every other bit stays set.
  EXPECT_EQ(bytes_at(m.base(), offsetof(bd_ring_region, enable), 8),
            (Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xdf}));
  EXPECT_EQ(bytes_at(m.base(), offsetof(bd_ring_region, enable) + 8, 24), Bytes(24, 0xff));
  EXPECT_EQ(bytes_at(m.base(), offsetof(bd_ring_region, generation), 8), (Bytes{0, 0, 0, 0, 0, 0, 0, 1}));
  publish_enable_map(m, *f);
  EXPECT_EQ(bytes_at(m.base(), offsetof(bd_ring_region, generation), 8), (Bytes{0, 0, 0, 0, 0, 0, 0, 2}));
}

// The consumer over a big-endian region: what ConsumerTest checks for the
// host's order, with a producer that stores big-endian.
class BigEndianConsumer : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(host_.calibrate(1'000'000));
    identity_.set_slope(1.0);
    identity_.add_pair(0, 0);
    temp_ =
        std::make_unique<TempRegion>(4, 16, BD_RING_MODE_USER, 0, ByteOrder::Big, BD_RING_CLOCK_S390X_TOD);
    ASSERT_TRUE(temp_->ok()) << temp_->error();
    const Status consumer_view = open_region(temp_->path(), region_, ByteOrder::Big);
    ASSERT_TRUE(consumer_view) << consumer_view.error();
    const Status guest_view = open_region(temp_->path(), guest_, ByteOrder::Big);
    ASSERT_TRUE(guest_view) << guest_view.error();
    sink_ = std::make_unique<CaptureSink>();
    consumer_ = std::make_unique<RingConsumer>(region_, identity_, host_, *sink_);
  }
  TestProducer producer(uint32_t ring) { return TestProducer(guest_.base(), guest_.layout(), ring); }

  TscClock host_;
  LinearClockMap identity_;
  std::unique_ptr<TempRegion> temp_;
  MappedRegion region_, guest_;
  std::unique_ptr<CaptureSink> sink_;
  std::unique_ptr<RingConsumer> consumer_;
};

TEST_F(BigEndianConsumer, DrainsEveryFieldExactly) {
  TestProducer p = producer(2);
  p.claim(0x1234, 0x56789a);
  ASSERT_TRUE(p.mark(0x102, 1, 0x0102030408u, 0x1234, 0x56789a));
  ASSERT_TRUE(p.text(BD_KIND_MARK_TEXT, 0x20304, "hello", 2, 0x0102030409u, 0x1234, 0x56789a));
  ASSERT_TRUE(p.write(TestProducer::make(BD_KIND_REGION_BEGIN, 10, 3, 0x010203040au, 0x1234, 0x56789a)));
  ASSERT_TRUE(p.text(BD_KIND_EVENT_NAME, 0x102, "tick", 4, 0x010203040bu, 0x1234, 0x56789a));

  EXPECT_EQ(consumer_->drain_once(), 1u + 2 + 1 + 2);
  EXPECT_EQ(consumer_->rejected(), 0u) << consumer_->rejects().summary();
  EXPECT_EQ(sink_->invalid, 0u);
  const auto &r = sink_->records;
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].rec.kind, BD_KIND_MARK);
  EXPECT_EQ(r[0].rec.event, 0x102u);
  EXPECT_EQ(r[0].rec.args[0], 3u);
  EXPECT_EQ(r[0].rec.args[1], 0x102u);
  EXPECT_EQ(r[0].rec.args[2], ~uint64_t{1});
  EXPECT_EQ(r[0].rec.args[3], 42u);
  EXPECT_EQ(r[0].rec.seq, 1u);
  EXPECT_EQ(r[0].rec.pid, 0x1234u);
  EXPECT_EQ(r[0].rec.tid, 0x56789au);
  EXPECT_EQ(r[0].ctx.vcpu, 2u);
  // Byte-swapped it would be 0x0804030201000000.
  EXPECT_EQ(r[0].ctx.guest_ts, 0x0102030408u) << "ts decoded big-endian";
  EXPECT_EQ(r[1].rec.kind, BD_KIND_MARK_TEXT);
  EXPECT_EQ(r[1].rec.event, 0x20304u);
  EXPECT_EQ(r[1].rec.text_len, 5u);
  EXPECT_STREQ(r[1].rec.text, "hello");
  EXPECT_EQ(r[2].rec.kind, BD_KIND_REGION_BEGIN);
  EXPECT_EQ(r[3].rec.kind, BD_KIND_EVENT_NAME);
  EXPECT_STREQ(r[3].rec.text, "tick");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(r[i].rec.seq, static_cast<uint64_t>(i + 1));
  // The tail the consumer gave back, as the guest reads it: 6 big-endian.
  EXPECT_EQ(bytes_at(guest_.ctl(2), offsetof(bd_ring_ctl, tail), 8), (Bytes{0, 0, 0, 0, 0, 0, 0, 6}));
  EXPECT_EQ(consumer_->drain_once(), 0u);
}

TEST_F(BigEndianConsumer, DropsAndOwnersInTheGuestsOrder) {
  TestProducer p = producer(1);
  p.claim(77, 78);
  for (uint64_t seq = 1; seq <= 16; ++seq) ASSERT_TRUE(p.mark(4, seq, seq));
  EXPECT_FALSE(p.mark(4, 17, 17));  // full: the producer counts a drop
  EXPECT_FALSE(p.mark(4, 18, 18));
  EXPECT_EQ(bytes_at(guest_.ctl(1), offsetof(bd_ring_ctl, dropped), 8), (Bytes{0, 0, 0, 0, 0, 0, 0, 2}));
  EXPECT_EQ(consumer_->drain_once(), 16u);
  consumer_->finish();
  EXPECT_EQ(consumer_->records(), 16u);
  EXPECT_EQ(consumer_->dropped(), 2u);
  ASSERT_EQ(sink_->drops.size(), 2u);  // the increase, then the final report
  EXPECT_EQ(sink_->drops[0].count, 2u);
  EXPECT_EQ(sink_->drops[0].pid, 77u) << "claim read as two big-endian fields";
  EXPECT_EQ(sink_->drops[0].tid, 78u);
  EXPECT_TRUE(sink_->drops[1].final);
  EXPECT_EQ(sink_->drops[1].total, 2u);
  EXPECT_EQ(consumer_->rejected(), 0u);
}

TEST_F(BigEndianConsumer, HostileIndicesAreJudgedInTheGuestsOrder) {
  TestProducer p = producer(0);
  ASSERT_TRUE(p.mark(1, 1, 1));
  EXPECT_EQ(consumer_->drain_once(), 1u);
  // head = 1 + 17 (more than a ring ahead of tail 1) stored big-endian;
  // read in the host's order it would be 18 << 56.
  const uint64_t lie = 18;
  __atomic_store_n(&guest_.ctl(0)->head, byte_swap(lie), __ATOMIC_RELEASE);
  EXPECT_EQ(consumer_->drain_once(), 1u);
  EXPECT_EQ(consumer_->rejects().count(RejectReason::RingBadIndex), 1u);
  EXPECT_EQ(bytes_at(guest_.ctl(0), offsetof(bd_ring_ctl, tail), 8), (Bytes{0, 0, 0, 0, 0, 0, 0, 18}))
      << "resynchronised to the head, written back big-endian";
  // A record whose kind is only valid in the other order: 01 00 is 256.
  bd_ring_record r = TestProducer::make(BD_KIND_MARK, 1, 2, 2);
  TestProducer q = producer(0);
  r.kind = byte_swap(uint16_t{BD_KIND_MARK});
  ASSERT_TRUE(q.write(r));
  EXPECT_EQ(consumer_->drain_once(), 1u);
  EXPECT_EQ(consumer_->rejects().count(RejectReason::BadKind), 1u);
  EXPECT_EQ(sink_->invalid, 0u);
  EXPECT_EQ(consumer_->records(), 1u);
}

uint64_t now(clockid_t id) {
  struct timespec ts;
  ::clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// The TOD value qemu-s390x returns at host CLOCK_REALTIME `real_ns`
// (measured, <bd/ring.h>): (real_ns + 70 years) * 4.096, in 128 bits.
uint64_t tod_at(uint64_t real_ns) {
  const unsigned __int128 since_1900 = static_cast<unsigned __int128>(real_ns) + kTodEpochToUnixNs;
  return static_cast<uint64_t>(since_1900 * 512 / 125);
}

TEST(TodClock, MapsQemuS390xsTodToMonotonic) {
  TempRegion r(2, 16, BD_RING_MODE_USER, 0, ByteOrder::Big, BD_RING_CLOCK_S390X_TOD);
  ASSERT_TRUE(r.ok()) << r.error();
  Expected<MappedRegion> opened = MappedRegion::open(r.path(), ByteOrder::Big);
  ASSERT_TRUE(opened) << opened.error();
  MappedRegion &m = *opened;
  RealtimeCounterClock clock(m, RealtimeCounterClock::Counter::S390xTod);
  EXPECT_TRUE(clock.frequency_known()) << "the TOD clock's rate is fixed";
  EXPECT_DOUBLE_EQ(clock.ns_per_tick(), 1000.0 / 4096.0);
  // A count taken now maps to now in CLOCK_MONOTONIC, within the time
  // between the readings.
  const uint64_t mono0 = now(CLOCK_MONOTONIC);
  const uint64_t tod = tod_at(now(CLOCK_REALTIME));
  const uint64_t mono1 = now(CLOCK_MONOTONIC);
  clock.refresh();
  const uint64_t mapped = clock.current().map(tod);
  EXPECT_GE(mapped + 1000, mono0) << "at most the rounding of a TOD unit and the step early";
  EXPECT_LE(mapped, mono1 + 1000);
  // One second of TOD units is one second.
  EXPECT_EQ(clock.current().map(tod + 4'096'000'000u) - mapped, 1'000'000'000u);
  // The TOD clock wraps in September 2042: counts are compared modulo
  // 2^64, so a count of 0 is the wrap, years ahead, not 1900.
  EXPECT_GT(clock.current().map(0), mapped + 10ull * 365 * 86400 * 1'000'000'000u);
}

TEST(TodClock, TheRegionsClockFieldAcceptsTodInUserModeOnly) {
  TempRegion user(2, 16, BD_RING_MODE_USER, 0, ByteOrder::Big, BD_RING_CLOCK_S390X_TOD);
  ASSERT_TRUE(user.ok()) << user.error();
  char tmpl[] = "/tmp/bdring-tod-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl, path = dir + "/region";
  const Status created = create_region_file(path, 2, 16, BD_RING_MODE_SYSTEM, 1, 0, BD_RING_CLOCK_S390X_TOD);
  ASSERT_TRUE(created) << created.error();
  const Expected<MappedRegion> region = MappedRegion::open(path);
  EXPECT_FALSE(region);
  const std::string error = region ? std::string() : region.error().message;
  EXPECT_NE(error.find("unknown clock 4"), std::string::npos) << error;
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace bdtrace::ring
