// SPDX-License-Identifier: MIT
// RejectStats and emit_record: exact counts, summary text, reset (no LTTng session needed:
// without one the tracepoints are no-ops).
#include <bdtrace/emitter.h>

#include <gtest/gtest.h>

#include <cstring>

namespace bdtrace {
namespace {

TEST(RejectStats, CountsBeyondTheEventLimit) {
  RejectStats s;
  for (uint64_t i = 0; i < RejectStats::kEventsPerReason + 50; ++i)
    s.reject(RejectReason::BadMagic, 0, 1, 0x1000);
  s.reject(RejectReason::NotWritable, 1, 2, 0x2000);
  EXPECT_EQ(s.count(RejectReason::BadMagic), RejectStats::kEventsPerReason + 50);
  EXPECT_EQ(s.count(RejectReason::NotWritable), 1u);
  EXPECT_EQ(s.count(RejectReason::BadKind), 0u);
  EXPECT_EQ(s.total(), RejectStats::kEventsPerReason + 51);
  EXPECT_EQ(s.summary(), "rejected 151 guest records: bad_magic=150 not_writable=1");
  s.emit_totals();  // must not crash without a session
}

TEST(RejectStats, EmptySummaryAndReset) {
  RejectStats s;
  EXPECT_EQ(s.summary(), "");
  s.reject(RejectReason::Misaligned, 0, 1, 8);
  EXPECT_EQ(s.summary(), "rejected 1 guest record: misaligned=1");
  s.reset();
  EXPECT_EQ(s.total(), 0u);
  EXPECT_EQ(s.summary(), "");
}

TEST(RejectStats, ChannelReasons) {
  RejectStats s;
  s.reject(RejectReason::NoChannel, 0, 0, 0x1000);
  s.reject(RejectReason::OutsideChannel, 1, 0, 0x2000);
  s.reject(RejectReason::BadSlot, 1, 0, 0xfe800008);
  EXPECT_EQ(s.summary(), "rejected 3 guest records: outside_channel=1 no_channel=1 bad_slot=1");
}

// Emitting any kind of validated record is harmless (usually no session
// records; another user's session on the shared daemon may).
TEST(EmitRecord, EveryKind) {
  bd_record r;
  std::memset(&r, 0, sizeof r);
  r.magic = BD_MAGIC;
  r.version = BD_ABI_VERSION;
  std::strcpy(r.text, "prev");
  std::strcpy(r.text + BD_COMM_LEN, "next");
  for (uint16_t kind = BD_KIND_MARK; kind < BD_KIND_MAX_; ++kind) {
    r.kind = kind;
    emit_record(r, EmitContext{0, 1, 2});
  }
}

TEST(RejectStats, IgnoresOutOfRangeReason) {
  RejectStats s;
  s.reject(RejectReason::Count_, 0, 0, 0);
  EXPECT_EQ(s.total(), 0u);
}

}  // namespace
}  // namespace bdtrace
