// SPDX-License-Identifier: MIT
// RingConsumer against a test producer: exact drains, two-slot records
// across the ring's end, drop accounting, every rejection, time order.
#include "bdtrace/ring/consumer.h"

#include "capture_sink.h"
#include "test_producer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>

namespace bdtrace::ring {
namespace {

using test::CaptureSink;
using test::open_region;
using test::TempRegion;
using test::TestProducer;

// Values appear in traces: they never change.
TEST(RingRejectReasons, StableValuesAndNames) {
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::RingBadIndex), 16u);
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::RingTruncated), 17u);
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::RingForbiddenKind), 18u);
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::RingDroppedDecreased), 19u);
  EXPECT_STREQ(reject_reason_name(RejectReason::RingBadIndex), "ring_bad_index");
  EXPECT_STREQ(reject_reason_name(RejectReason::RingTruncated), "ring_truncated");
  EXPECT_STREQ(reject_reason_name(RejectReason::RingForbiddenKind), "ring_forbidden_kind");
  EXPECT_STREQ(reject_reason_name(RejectReason::RingDroppedDecreased), "ring_dropped_decreased");
}

class ConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(host_.calibrate(1'000'000));
    // Guest ts n maps to n ns: tests compare guest_ts with ts exactly.
    identity_.set_slope(1.0);
    identity_.add_pair(0, 0);
  }

  void make(uint32_t rings, uint32_t slots, bd_ring_mode mode = BD_RING_MODE_USER,
            uint32_t kernel_rings = 0) {
    temp_ = std::make_unique<TempRegion>(rings, slots, mode, kernel_rings);
    ASSERT_TRUE(temp_->ok()) << temp_->error();
    const Status consumer_view = open_region(temp_->path(), region_);
    ASSERT_TRUE(consumer_view) << consumer_view.error();
    // The guest's own mapping of the same file.
    const Status guest_view = open_region(temp_->path(), guest_);
    ASSERT_TRUE(guest_view) << guest_view.error();
    sink_ = std::make_unique<CaptureSink>(kernel_rings);
    consumer_ = std::make_unique<RingConsumer>(region_, identity_, host_, *sink_);
  }

  TestProducer producer(uint32_t ring) { return TestProducer(guest_.base(), guest_.layout(), ring); }
  bd_ring_ctl *ctl(uint32_t ring) { return guest_.ctl(ring); }
  uint64_t rejected(RejectReason r) const { return consumer_->rejects().count(r); }

  TscClock host_;
  LinearClockMap identity_;
  std::unique_ptr<TempRegion> temp_;
  MappedRegion region_, guest_;
  std::unique_ptr<CaptureSink> sink_;
  std::unique_ptr<RingConsumer> consumer_;  // last: destroyed first
};

TEST_F(ConsumerTest, DrainsEveryRecordExactly) {
  ASSERT_NO_FATAL_FAILURE(make(4, 64));
  TestProducer p0 = producer(0), p3 = producer(3);
  const std::string longest(BD_TEXT_MAX, 'z');
  ASSERT_TRUE(p0.mark(1, 1, 1000));
  ASSERT_TRUE(p0.text(BD_KIND_MARK_TEXT, 2, "hello", 2, 1001));
  ASSERT_TRUE(p0.write(TestProducer::make(BD_KIND_REGION_BEGIN, 10, 3, 1002)));
  ASSERT_TRUE(p0.write(TestProducer::make(BD_KIND_REGION_END, 10, 4, 1003)));
  ASSERT_TRUE(p0.text(BD_KIND_EVENT_NAME, 5, "tick", 5, 1004));
  ASSERT_TRUE(p0.text(BD_KIND_MARK_TEXT, 6, longest.c_str(), 6, 1005));
  ASSERT_TRUE(p0.text(BD_KIND_MARK_TEXT, 7, "", 7, 1006));
  for (uint64_t i = 1; i <= 3; ++i) ASSERT_TRUE(p3.mark(30, i, 2000 + i, 300, 300 + i));

  EXPECT_EQ(consumer_->drain_once(), 1u + 2 + 1 + 1 + 2 + 2 + 2 + 3);
  ASSERT_EQ(sink_->records.size(), 10u);
  EXPECT_EQ(sink_->invalid, 0u);
  const auto &r = sink_->records;
  EXPECT_EQ(r[0].rec.kind, BD_KIND_MARK);
  EXPECT_EQ(r[0].rec.event, 1u);
  EXPECT_EQ(r[0].rec.args[0], 3u);
  EXPECT_EQ(r[0].rec.args[1], 1u);
  EXPECT_EQ(r[0].rec.args[2], ~uint64_t{1});
  EXPECT_EQ(r[0].rec.args[3], 42u);
  EXPECT_EQ(r[0].rec.seq, 1u);
  EXPECT_EQ(r[0].rec.pid, 100u);
  EXPECT_EQ(r[0].rec.tid, 101u);
  EXPECT_EQ(r[0].ctx.vcpu, 0u);
  EXPECT_EQ(r[0].ctx.pid, 100u);
  EXPECT_EQ(r[0].ctx.tid, 101u);
  EXPECT_EQ(r[0].ctx.guest_ts, 1000u);
  EXPECT_EQ(r[1].rec.kind, BD_KIND_MARK_TEXT);
  EXPECT_STREQ(r[1].rec.text, "hello");
  EXPECT_EQ(r[1].rec.text_len, 5u);
  EXPECT_EQ(r[1].ctx.guest_ts, 1001u);
  EXPECT_EQ(r[2].rec.kind, BD_KIND_REGION_BEGIN);
  EXPECT_EQ(r[2].rec.event, 10u);
  EXPECT_EQ(r[3].rec.kind, BD_KIND_REGION_END);
  EXPECT_EQ(r[4].rec.kind, BD_KIND_EVENT_NAME);
  EXPECT_STREQ(r[4].rec.text, "tick");
  EXPECT_EQ(r[5].rec.text, longest);
  EXPECT_STREQ(r[6].rec.text, "");
  for (int i = 0; i < 7; ++i) EXPECT_EQ(r[i].rec.seq, static_cast<uint64_t>(i + 1));
  for (int i = 7; i < 10; ++i) {
    EXPECT_EQ(r[i].ctx.vcpu, 3u);
    EXPECT_EQ(r[i].ctx.tid, static_cast<uint32_t>(300 + i - 6));
    EXPECT_EQ(r[i].ctx.guest_ts, static_cast<uint64_t>(2000 + i - 6));
  }
  // Consumed slots are given back; nothing is left.
  EXPECT_EQ(__atomic_load_n(&ctl(0)->tail, __ATOMIC_ACQUIRE), p0.head());
  EXPECT_EQ(__atomic_load_n(&ctl(3)->tail, __ATOMIC_ACQUIRE), p3.head());
  EXPECT_EQ(consumer_->drain_once(), 0u);
  EXPECT_EQ(consumer_->records(), 10u);
  EXPECT_EQ(consumer_->ring_records(0), 7u);
  EXPECT_EQ(consumer_->ring_records(3), 3u);
  EXPECT_EQ(consumer_->rejected(), 0u);
  EXPECT_EQ(consumer_->delay().count(), 10u);
}

// Bulk marks (<bd/ring.h>, BULK MARKS): the bytes exactly, across the
// ring's end, beside marks; a count beyond BD_CALL_IO_MAX is rejected and
// only its record's slot skipped; one published only in part is truncated.
TEST_F(ConsumerTest, BulkMarksCarryTheirBytesAcrossTheRingEnd) {
  ASSERT_NO_FATAL_FAILURE(make(1, 2048));
  TestProducer p = producer(0);
  auto bytes = [](std::size_t len) {
    std::vector<uint8_t> b(len);
    for (std::size_t i = 0; i < len; ++i) b[i] = static_cast<uint8_t>(i * 13 + len);
    return b;
  };
  uint64_t seq = 0;
  for (int i = 0; i < 1500; ++i) {  // the first blob below wraps
    ++seq;
    ASSERT_TRUE(p.mark(1, seq, seq));
  }
  EXPECT_EQ(consumer_->drain_once(), 1500u);
  const std::vector<std::size_t> lens = {0, 1, 63, 64, 65, 4096, BD_CALL_IO_MAX};
  for (std::size_t len : lens) {
    seq += 2;
    ASSERT_TRUE(p.blob(77, bytes(len), seq - 1, 5000 + seq - 1, len)) << len;
    ASSERT_TRUE(p.mark(2, seq, 5000 + seq));
    consumer_->drain_once();
  }
  ASSERT_EQ(sink_->blobs.size(), lens.size());
  for (std::size_t k = 0; k < lens.size(); ++k) {
    EXPECT_EQ(sink_->blobs[k].event, 77u);
    EXPECT_EQ(sink_->blobs[k].bytes, bytes(lens[k])) << lens[k];
    EXPECT_EQ(sink_->blobs[k].ctx.tid, 101u);
    EXPECT_GT(sink_->blobs[k].ctx.guest_ts, 5000u);
  }
  EXPECT_EQ(consumer_->blobs(), lens.size());
  EXPECT_EQ(sink_->records.size(), 1500u + lens.size());  // the marks between came through
  EXPECT_EQ(consumer_->rejected(), 0u);

  // A count no blob may have: the record is rejected, the slots after it
  // are read as records (here a mark, which comes through).
  ASSERT_TRUE(p.blob(78, {}, seq + 1, 9000, BD_CALL_IO_MAX + 1));
  ASSERT_TRUE(p.mark(3, seq + 2, 9001));
  seq += 2;
  consumer_->drain_once();
  EXPECT_EQ(rejected(RejectReason::RingBadBlob), 1u);
  EXPECT_EQ(sink_->records.back().rec.event, 3u);
  EXPECT_EQ(sink_->blobs.size(), lens.size());

  // A head that ends inside a blob's bytes: truncated, skipped.
  const uint64_t head = p.head();
  ASSERT_TRUE(p.blob(79, bytes(640), seq + 1, 9100, 640));  // 11 slots
  __atomic_store_n(&ctl(0)->head, head + 5, __ATOMIC_RELEASE);
  consumer_->drain_once();
  EXPECT_EQ(rejected(RejectReason::RingTruncated), 1u);
  EXPECT_EQ(sink_->blobs.size(), lens.size());
}

// Two-slot records at every position, including the last slot (the text
// then sits in slot 0 of the ring).
TEST_F(ConsumerTest, TwoSlotRecordsWrapAtTheRingEnd) {
  ASSERT_NO_FATAL_FAILURE(make(1, 16));
  TestProducer p = producer(0);
  uint64_t seq = 0, wrapped = 0;
  for (int round = 0; round < 64; ++round) {
    for (int i = 0; i < round % 3; ++i) {
      ++seq;
      ASSERT_TRUE(p.mark(1, seq, seq));
    }
    if ((p.head() & 15) == 15) ++wrapped;
    const std::string text = "text-" + std::to_string(round);
    ++seq;
    ASSERT_TRUE(p.text(BD_KIND_MARK_TEXT, 2, text.c_str(), seq, seq));
    consumer_->drain_once();
    ASSERT_FALSE(sink_->records.empty());
    EXPECT_EQ(sink_->records.back().rec.text, text);
    EXPECT_EQ(sink_->records.back().rec.seq, seq);
  }
  EXPECT_GT(wrapped, 0u);
  EXPECT_EQ(consumer_->records(), seq);
  EXPECT_EQ(sink_->invalid, 0u);
  EXPECT_EQ(consumer_->rejected(), 0u);

  // A full ring of two-slot records, the first one across the end.
  while ((p.head() & 15) != 15) {
    ++seq;
    ASSERT_TRUE(p.mark(1, seq, seq));
    consumer_->drain_once();
  }
  for (int i = 0; i < 8; ++i) {
    ++seq;
    ASSERT_TRUE(p.text(BD_KIND_EVENT_NAME, 9, "name", seq, seq));
  }
  EXPECT_FALSE(p.mark(1, seq + 1, seq + 1));  // full: dropped
  EXPECT_EQ(consumer_->drain_once(), 16u);
  EXPECT_EQ(consumer_->records(), seq);
  EXPECT_STREQ(sink_->records.back().rec.text, "name");
  EXPECT_EQ(consumer_->dropped(), 1u);
}

// issued = drained + dropped, and the ring_dropped counts add up.
TEST_F(ConsumerTest, FullRingDropAccounting) {
  ASSERT_NO_FATAL_FAILURE(make(2, 16));
  TestProducer p = producer(1);
  p.claim(77, 78);
  std::mt19937 rng(5);
  uint64_t issued = 0, written = 0, seq = 0;
  for (int burst = 0; burst < 500; ++burst) {
    const int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      ++issued;
      ++seq;
      const bool ok = (rng() % 4 == 0) ? p.text(BD_KIND_MARK_TEXT, 3, "x", seq, seq) : p.mark(4, seq, seq);
      written += ok ? 1 : 0;
    }
    consumer_->drain_once();
  }
  consumer_->finish();
  const uint64_t dropped = issued - written;
  ASSERT_GT(dropped, 0u);
  EXPECT_EQ(__atomic_load_n(&ctl(1)->dropped, __ATOMIC_RELAXED), dropped);
  EXPECT_EQ(consumer_->records(), written);
  EXPECT_EQ(consumer_->dropped(), dropped);
  EXPECT_EQ(consumer_->ring_dropped_total(1), dropped);
  EXPECT_EQ(consumer_->records() + consumer_->dropped(), issued);
  uint64_t sum = 0, finals = 0;
  for (const auto &d : sink_->drops) {
    EXPECT_EQ(d.ring, 1u);
    EXPECT_EQ(d.pid, 77u);
    EXPECT_EQ(d.tid, 78u);
    if (d.final) {
      ++finals;
      EXPECT_EQ(d.total, dropped);
      EXPECT_EQ(d.count, 0u);
    } else {
      EXPECT_GT(d.count, 0u);
      sum += d.count;
      EXPECT_EQ(d.total, sum);
    }
  }
  EXPECT_EQ(sum, dropped);
  EXPECT_EQ(finals, 1u);  // only the ring that dropped something
  // Seq numbers of what was written arrive in order.
  for (std::size_t i = 1; i < sink_->records.size(); ++i)
    EXPECT_LT(sink_->records[i - 1].rec.seq, sink_->records[i].rec.seq);
  EXPECT_EQ(consumer_->rejected(), 0u);
}

TEST_F(ConsumerTest, RejectsHelloQueryAndCall) {
  ASSERT_NO_FATAL_FAILURE(make(1, 16));
  TestProducer p = producer(0);
  ASSERT_TRUE(p.write(TestProducer::make(BD_KIND_HELLO, 0, 1, 1)));
  ASSERT_TRUE(p.write(TestProducer::make(BD_KIND_QUERY, 5, 2, 2)));
  ASSERT_TRUE(p.write(TestProducer::make(BD_KIND_CALL, 7000, 3, 3)));
  ASSERT_TRUE(p.mark(1, 4, 4));
  EXPECT_EQ(consumer_->drain_once(), 4u);
  EXPECT_EQ(rejected(RejectReason::RingForbiddenKind), 3u);
  ASSERT_EQ(sink_->records.size(), 1u);
  EXPECT_EQ(sink_->records[0].rec.seq, 4u);
}

// The one validator (check_record) decides: each malformed record is
// rejected with its reason and the ring goes on.
TEST_F(ConsumerTest, RejectsMalformedRecordsWithTheValidatorsReasons) {
  ASSERT_NO_FATAL_FAILURE(make(1, 64));
  TestProducer p = producer(0);
  ASSERT_TRUE(p.write(TestProducer::make(BD_KIND_INVALID, 0, 1, 1)));
  ASSERT_TRUE(p.write(TestProducer::make(99, 0, 2, 2)));
  bd_ring_record r = TestProducer::make(BD_KIND_MARK, 0, 3, 3);
  r.text_len = BD_TEXT_MAX + 1;
  ASSERT_TRUE(p.write(r));
  // Text kinds: no NUL at text_len, a NUL inside, a length beyond the slot.
  bd_ring_text t;
  std::memset(&t, 'a', sizeof t);
  r = TestProducer::make(BD_KIND_MARK_TEXT, 0, 4, 4);
  r.text_len = 10;
  ASSERT_TRUE(p.write(r, &t));
  t.text[10] = '\0';
  t.text[3] = '\0';
  r.seq = 5;
  ASSERT_TRUE(p.write(r, &t));
  r.text_len = 60;
  ASSERT_TRUE(p.write(r, &t));
  // SCHED_SWITCH only from a kernel ring (none in user mode).
  bd_ring_text comms;
  std::memset(&comms, 0, sizeof comms);
  std::strcpy(comms.text, "prev");
  std::strcpy(comms.text + BD_COMM_LEN, "next");
  ASSERT_TRUE(p.write(TestProducer::make(BD_KIND_SCHED_SWITCH, 0, 7, 7), &comms));
  ASSERT_TRUE(p.mark(1, 8, 8));
  consumer_->drain_once();
  EXPECT_EQ(rejected(RejectReason::BadKind), 2u);
  EXPECT_EQ(rejected(RejectReason::TextTooLong), 2u);
  EXPECT_EQ(rejected(RejectReason::TextNotTerminated), 1u);
  EXPECT_EQ(rejected(RejectReason::TextEmbeddedNul), 1u);
  EXPECT_EQ(rejected(RejectReason::KernelOnlyKind), 1u);
  EXPECT_EQ(consumer_->rejected(), 7u);
  ASSERT_EQ(sink_->records.size(), 1u);
  EXPECT_EQ(sink_->records[0].rec.seq, 8u);
}

TEST_F(ConsumerTest, SchedSwitchOnlyFromKernelRings) {
  ASSERT_NO_FATAL_FAILURE(make(4, 16, BD_RING_MODE_SYSTEM, 2));
  bd_ring_text comms;
  std::memset(&comms, 0, sizeof comms);
  std::strcpy(comms.text, "prev");
  std::strcpy(comms.text + BD_COMM_LEN, "next");
  bd_ring_record r = TestProducer::make(BD_KIND_SCHED_SWITCH, 0, 1, 1);
  r.args[3] = 5 | (uint64_t{6} << 32);
  TestProducer k = producer(1), u = producer(2);
  ASSERT_TRUE(k.write(r, &comms));
  ASSERT_TRUE(u.write(r, &comms));
  consumer_->drain_once();
  EXPECT_EQ(rejected(RejectReason::KernelOnlyKind), 1u);
  ASSERT_EQ(sink_->records.size(), 1u);
  EXPECT_EQ(sink_->records[0].ctx.vcpu, 1u);
  EXPECT_STREQ(sink_->records[0].rec.text, "prev");
  EXPECT_STREQ(sink_->records[0].rec.text + BD_COMM_LEN, "next");
  EXPECT_EQ(sink_->invalid, 0u);
}

// head more than a ring ahead: one rejection, tail jumps to head, and an
// honest producer carries on from there.
TEST_F(ConsumerTest, BadIndexResynchronises) {
  ASSERT_NO_FATAL_FAILURE(make(1, 16));
  __atomic_store_n(&ctl(0)->head, uint64_t{17}, __ATOMIC_RELEASE);
  EXPECT_EQ(consumer_->drain_once(), 1u);
  EXPECT_EQ(rejected(RejectReason::RingBadIndex), 1u);
  EXPECT_EQ(__atomic_load_n(&ctl(0)->tail, __ATOMIC_ACQUIRE), 17u);
  EXPECT_EQ(sink_->count, 0u);
  // head behind tail is the same lie (a huge unsigned difference).
  __atomic_store_n(&ctl(0)->head, uint64_t{3}, __ATOMIC_RELEASE);
  consumer_->drain_once();
  EXPECT_EQ(rejected(RejectReason::RingBadIndex), 2u);
  TestProducer p = producer(0);  // starts at head 3 = tail
  ASSERT_TRUE(p.mark(1, 1, 1));
  ASSERT_TRUE(p.text(BD_KIND_MARK_TEXT, 1, "ok", 2, 2));
  EXPECT_EQ(consumer_->drain_once(), 3u);
  EXPECT_EQ(sink_->count, 2u);
  EXPECT_EQ(consumer_->rejected(), 2u);
}

// A ready count that ends inside a two-slot record.
TEST_F(ConsumerTest, TruncatedTwoSlotRecordIsSkipped) {
  ASSERT_NO_FATAL_FAILURE(make(1, 16));
  TestProducer p = producer(0);
  ASSERT_TRUE(p.mark(1, 1, 1));
  ASSERT_TRUE(p.text(BD_KIND_MARK_TEXT, 1, "half", 2, 2));
  __atomic_store_n(&ctl(0)->head, uint64_t{2}, __ATOMIC_RELEASE);  // 1 of its 2 slots
  EXPECT_EQ(consumer_->drain_once(), 2u);
  EXPECT_EQ(rejected(RejectReason::RingTruncated), 1u);
  EXPECT_EQ(sink_->count, 1u);
  EXPECT_EQ(__atomic_load_n(&ctl(0)->tail, __ATOMIC_ACQUIRE), 2u);
}

TEST_F(ConsumerTest, DroppedCountGoingDownIsResynchronised) {
  ASSERT_NO_FATAL_FAILURE(make(2, 16));
  producer(0).claim(10, 11);
  __atomic_store_n(&ctl(0)->dropped, uint64_t{10}, __ATOMIC_RELAXED);
  consumer_->drain_once();
  ASSERT_EQ(sink_->drops.size(), 1u);
  EXPECT_EQ(sink_->drops[0].count, 10u);
  EXPECT_EQ(sink_->drops[0].total, 10u);
  EXPECT_EQ(sink_->drops[0].pid, 10u);
  EXPECT_EQ(sink_->drops[0].tid, 11u);
  EXPECT_FALSE(sink_->drops[0].final);
  __atomic_store_n(&ctl(0)->dropped, uint64_t{4}, __ATOMIC_RELAXED);
  consumer_->drain_once();
  EXPECT_EQ(sink_->drops.size(), 1u);  // nothing negative reported
  EXPECT_EQ(rejected(RejectReason::RingDroppedDecreased), 1u);
  consumer_->drain_once();
  EXPECT_EQ(rejected(RejectReason::RingDroppedDecreased), 1u);  // resynchronised
  __atomic_store_n(&ctl(0)->dropped, uint64_t{6}, __ATOMIC_RELAXED);
  producer(0).claim(20, 21);  // the ring changed hands meanwhile
  consumer_->drain_once();
  ASSERT_EQ(sink_->drops.size(), 2u);
  EXPECT_EQ(sink_->drops[1].count, 2u);
  EXPECT_EQ(sink_->drops[1].total, 12u);
  EXPECT_EQ(sink_->drops[1].tid, 21u);
  consumer_->finish();
  ASSERT_EQ(sink_->drops.size(), 3u);
  EXPECT_TRUE(sink_->drops[2].final);
  EXPECT_EQ(sink_->drops[2].total, 12u);
  EXPECT_EQ(consumer_->dropped(), 12u);
}

// With a report interval, new drops wait for the next look at the counter
// (they accumulate in the ring) and finish() reports them all.
TEST_F(ConsumerTest, DropReportsWaitForTheirIntervalAndFinishReportsAll) {
  ASSERT_NO_FATAL_FAILURE(make(2, 16));
  producer(1).claim(5, 6);
  consumer_->set_drop_report_interval_ns(3'600'000'000'000);  // an hour
  __atomic_store_n(&ctl(1)->dropped, uint64_t{3}, __ATOMIC_RELAXED);
  consumer_->drain_once();  // the first look
  ASSERT_EQ(sink_->drops.size(), 1u);
  EXPECT_EQ(sink_->drops[0].count, 3u);
  __atomic_store_n(&ctl(1)->dropped, uint64_t{10}, __ATOMIC_RELAXED);
  consumer_->drain_once();
  consumer_->drain_once();
  EXPECT_EQ(sink_->drops.size(), 1u) << "looked again within the interval";
  consumer_->finish();
  ASSERT_EQ(sink_->drops.size(), 3u);
  EXPECT_EQ(sink_->drops[1].count, 7u);
  EXPECT_FALSE(sink_->drops[1].final);
  EXPECT_TRUE(sink_->drops[2].final);
  EXPECT_EQ(sink_->drops[2].total, 10u);
}

// UNOWNED DROPS of <bd/ring.h>: the header's guest-written counter is
// reported like a ring's drops, as ring BD_RING_NO_RING with no owner; a
// decrease is rejected, and the final report carries the total.
TEST_F(ConsumerTest, DropsOfThreadsWithoutARingAreReported) {
  ASSERT_NO_FATAL_FAILURE(make(2, 16));
  auto *counter = const_cast<bd_u64 *>(&guest_.header()->unowned_dropped);
  consumer_->drain_once();
  EXPECT_TRUE(sink_->drops.empty());
  __atomic_store_n(counter, uint64_t{5}, __ATOMIC_RELAXED);
  consumer_->drain_once();
  ASSERT_EQ(sink_->drops.size(), 1u);
  EXPECT_EQ(sink_->drops[0].ring, BD_RING_NO_RING);
  EXPECT_EQ(sink_->drops[0].pid, 0u);
  EXPECT_EQ(sink_->drops[0].tid, 0u);
  EXPECT_EQ(sink_->drops[0].count, 5u);
  EXPECT_EQ(sink_->drops[0].total, 5u);
  __atomic_store_n(counter, uint64_t{3}, __ATOMIC_RELAXED);
  consumer_->drain_once();
  EXPECT_EQ(rejected(RejectReason::RingDroppedDecreased), 1u);
  __atomic_store_n(counter, uint64_t{4}, __ATOMIC_RELAXED);
  consumer_->finish();
  ASSERT_EQ(sink_->drops.size(), 3u);
  EXPECT_EQ(sink_->drops[1].count, 1u);
  EXPECT_TRUE(sink_->drops[2].final);
  EXPECT_EQ(sink_->drops[2].ring, BD_RING_NO_RING);
  EXPECT_EQ(sink_->drops[2].total, 6u);
  EXPECT_EQ(consumer_->dropped(), 6u);
  EXPECT_EQ(consumer_->ring_dropped_total(BD_RING_NO_RING), 6u);
}

// Checks order on the fly (storing 400k records would cost 100 MB): per
// ring, seq increasing and guest_ts non-decreasing; keeps the extreme
// guest_ts for a check against the run's start and end.
class OrderSink final : public RecordSink {
 public:
  void record(const bd_record &r, const EmitContext &ctx) noexcept override {
    ++count;
    if (ctx.vcpu >= 2 || check_record(r, false) != RejectReason::Ok) {
      ++invalid;
      return;
    }
    if (r.seq <= last_seq[ctx.vcpu]) ++seq_disorder;
    if (ctx.guest_ts < last_ts[ctx.vcpu]) ++ts_disorder;
    min_ts = std::min(min_ts, ctx.guest_ts);
    max_ts = std::max(max_ts, ctx.guest_ts);
    last_seq[ctx.vcpu] = r.seq;
    last_ts[ctx.vcpu] = ctx.guest_ts;
  }
  void ring_dropped(uint32_t, uint32_t, uint32_t, uint64_t, uint64_t, bool) noexcept override {}

  uint64_t count = 0, invalid = 0, seq_disorder = 0, ts_disorder = 0;
  uint64_t min_ts = UINT64_MAX, max_ts = 0;
  uint64_t last_seq[2] = {0, 0}, last_ts[2] = {0, 0};
};

// Honest producers on their own threads, stamping records with the TSC as
// libbdguest does: everything arrives once, in order, with non-decreasing
// guest_ts close to the host clock.
TEST_F(ConsumerTest, ConcurrentProducersKeepOrderAndTime) {
  ASSERT_NO_FATAL_FAILURE(make(2, 256));
  TscClock guest_clock;
  ASSERT_TRUE(guest_clock.calibrate());
  OrderSink sink;
  const uint64_t from = monotonic_ns();
  RingConsumer consumer(region_, guest_clock, guest_clock, sink);
  constexpr uint64_t kPerRing = 200'000;
  std::atomic<int> running{2};
  uint64_t written[2] = {0, 0};
  auto produce = [&](uint32_t ring) {
    TestProducer p = producer(ring);
    for (uint64_t seq = 1; seq <= kPerRing; ++seq) {
      const bool ok = (seq % 5 == 0) ? p.text(BD_KIND_MARK_TEXT, ring, "t", seq, read_tsc(), 1, ring)
                                     : p.mark(ring, seq, read_tsc(), 1, ring);
      written[ring] += ok ? 1 : 0;
    }
    running.fetch_sub(1);
  };
  std::thread a(produce, 0), b(produce, 1);
  while (running.load() > 0) consumer.drain_once();
  a.join();
  b.join();
  const uint64_t to = monotonic_ns();
  consumer.finish();

  EXPECT_EQ(sink.invalid, 0u);
  EXPECT_EQ(sink.seq_disorder, 0u);
  EXPECT_EQ(sink.ts_disorder, 0u);
  // Stamped between the start and the end, give or take the 2 us target.
  EXPECT_GT(sink.min_ts + 2000, from);
  EXPECT_LT(sink.max_ts, to + 2000);
  EXPECT_EQ(consumer.rejected(), 0u);
  for (uint32_t ring = 0; ring < 2; ++ring) {
    EXPECT_EQ(consumer.ring_records(ring), written[ring]);
    EXPECT_EQ(consumer.ring_records(ring) + consumer.ring_dropped_total(ring), kPerRing);
  }
  EXPECT_EQ(sink.count, written[0] + written[1]);
  EXPECT_GT(sink.count, 0u);
  std::printf("[ ordered  ] %llu of %llu records drained (the rest dropped: ring full)\n",
              static_cast<unsigned long long>(sink.count), static_cast<unsigned long long>(2 * kPerRing));
  EXPECT_EQ(consumer.delay().count(), written[0] + written[1]);
  EXPECT_GT(consumer.delay().max(), 0u);
}

}  // namespace
}  // namespace bdtrace::ring
