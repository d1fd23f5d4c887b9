// RejectStats: exact counts, summary text, reset (no LTTng session needed:
// without one the tracepoints are no-ops).
#include <bdtrace/emitter.h>

#include <gtest/gtest.h>

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

TEST(RejectStats, IgnoresOutOfRangeReason) {
    RejectStats s;
    s.reject(RejectReason::Count_, 0, 0, 0);
    EXPECT_EQ(s.total(), 0u);
}

}  // namespace
}  // namespace bdtrace
