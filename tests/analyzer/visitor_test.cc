// SPDX-License-Identifier: MIT
// EventVisitor's defaults, and that the decorators (SelectingVisitor,
// TeeVisitor, ProgressVisitor) pass every kind of event on.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "bdtrace/analyzer/events.h"
#include "bdtrace/analyzer/progress.h"
#include "bdtrace/analyzer/selection.h"

namespace {

using namespace bdtrace::analyzer;

// A decorator that forgot one method: the compile-time check must see it.
class ForgetfulDecorator final : public EventVisitor {
 public:
  explicit ForgetfulDecorator(EventVisitor &next) : next_(next) {}
  void OnMark(const MarkEvent &e) override { next_.OnMark(e); }
  void OnRegion(const RegionEvent &e) override { next_.OnRegion(e); }
  void OnEventName(const EventNameEvent &e) override { next_.OnEventName(e); }
  void OnSession(const SessionEvent &e) override { next_.OnSession(e); }
  void OnRejected(const RejectedEvent &e) override { next_.OnRejected(e); }
  void OnRejectedTotal(const RejectedTotalEvent &e) override { next_.OnRejectedTotal(e); }
  void OnSchedSwitch(const SchedSwitchEvent &e) override { next_.OnSchedSwitch(e); }
  void OnTbExec(const TbExecEvent &e) override { next_.OnTbExec(e); }
  void OnBlob(const BlobEvent &e) override { next_.OnBlob(e); }
  void OnCall(const CallEvent &e) override { next_.OnCall(e); }
  void OnRingDropped(const RingDroppedEvent &e) override { next_.OnRingDropped(e); }
  void OnFilter(const FilterEvent &e) override { next_.OnFilter(e); }
  void OnFilterDropped(const FilterDroppedEvent &e) override { next_.OnFilterDropped(e); }
  // OnFilterStats forgotten.
  void OnOtherEvent(int64_t ts_ns, std::string_view name) override { next_.OnOtherEvent(ts_ns, name); }
  void OnDiscardedEvents(const DiscardedEventsMessage &d) override { next_.OnDiscardedEvents(d); }
  void OnWarning(std::string message) override { next_.OnWarning(std::move(message)); }
  bool WantsMarkDetails() const override { return next_.WantsMarkDetails(); }

 private:
  EventVisitor &next_;
};
static_assert(!ForwardsEveryEvent<ForgetfulDecorator>(),
              "ForwardsEveryEvent must notice a method a decorator does not override");
static_assert(ForwardsEveryEvent<SelectingVisitor>() && ForwardsEveryEvent<TeeVisitor>() &&
              ForwardsEveryEvent<ProgressVisitor>());

// Overrides only OnOtherEvent: sees what the defaults hand to it.
class OtherOnly final : public EventVisitor {
 public:
  std::vector<std::string> others;
  void OnOtherEvent(int64_t, std::string_view name) override { others.emplace_back(name); }
};

// Overrides everything: names what reached it, one word per event.
class Everything final : public EventVisitor {
 public:
  std::vector<std::string> seen;
  void OnMark(const MarkEvent &) override { seen.push_back("mark"); }
  void OnRegion(const RegionEvent &) override { seen.push_back("region"); }
  void OnEventName(const EventNameEvent &) override { seen.push_back("event_name"); }
  void OnSession(const SessionEvent &) override { seen.push_back("session"); }
  void OnRejected(const RejectedEvent &) override { seen.push_back("rejected"); }
  void OnRejectedTotal(const RejectedTotalEvent &) override { seen.push_back("rejected_total"); }
  void OnSchedSwitch(const SchedSwitchEvent &) override { seen.push_back("sched_switch"); }
  void OnTbExec(const TbExecEvent &) override { seen.push_back("tb_exec"); }
  void OnBlob(const BlobEvent &) override { seen.push_back("blob"); }
  void OnCall(const CallEvent &) override { seen.push_back("call"); }
  void OnRingDropped(const RingDroppedEvent &) override { seen.push_back("ring_dropped"); }
  void OnFilter(const FilterEvent &) override { seen.push_back("filter"); }
  void OnFilterDropped(const FilterDroppedEvent &) override { seen.push_back("dropped"); }
  void OnFilterStats(const FilterStatsEvent &) override { seen.push_back("filter_stats"); }
  void OnOtherEvent(int64_t, std::string_view) override { seen.push_back("other"); }
  void OnDiscardedEvents(const DiscardedEventsMessage &) override { seen.push_back("discarded"); }
  void OnWarning(std::string) override { seen.push_back("warning"); }
  bool WantsMarkDetails() const override { return false; }
};

const std::vector<std::string> kEveryKind = {
    "session",      "event_name",   "mark",  "region",    "rejected",     "rejected_total",
    "sched_switch", "tb_exec",      "blob",  "call",      "ring_dropped", "filter",
    "dropped",      "filter_stats", "other", "discarded", "warning"};

// One event of each kind, in kEveryKind's order, all at time 1 s.
void FeedOneOfEach(EventVisitor &v) {
  constexpr int64_t t = 1000000000;
  v.OnSession(SessionEvent{t, "user", "x86_64", "prog", 1, 2, ""});
  v.OnEventName(EventNameEvent{t, 0, 10, 11, 1, "one"});
  v.OnMark(MarkEvent{t, 0, 10, 11, kKindMark, 1, {}, 1, ""});
  v.OnRegion(RegionEvent{t, 0, 10, 11, 1, 2, true});
  v.OnRejected(RejectedEvent{t, 0, 11, 1, "bad_magic", 0x1000});
  v.OnRejectedTotal(RejectedTotalEvent{t, 1, "bad_magic", 1});
  v.OnSchedSwitch(SchedSwitchEvent{t, 0, 10, 11, "a", 0, 20, 21, "b"});
  v.OnTbExec(TbExecEvent{t, 0, 10, 11, 0x400000, 3});
  v.OnBlob(BlobEvent{t, 0, 10, 11, 1, 4});
  v.OnCall(CallEvent{t, 0, 10, 11, 1, 0, 0, 0, 5});
  v.OnRingDropped(RingDroppedEvent{t, 0, 10, 11, 1, 1, false});
  v.OnFilter(FilterEvent{t, 1, "ok", "digest", "path", "", 1});
  v.OnFilterDropped(FilterDroppedEvent{t, 0, 1, 0, "rule", 1, 1, false});
  v.OnFilterStats(FilterStatsEvent{t, 0, 1, 0, 0});
  v.OnOtherEvent(t, "other:event");
  v.OnDiscardedEvents(DiscardedEventsMessage{});
  v.OnWarning("odd");
}

}  // namespace

TEST(EventVisitor, DefaultsHandNewerEventsToOnOtherEventAndIgnoreTheRest) {
  OtherOnly v;
  FeedOneOfEach(v);
  EXPECT_EQ(v.others, (std::vector<std::string>{"bdtrace:tb_exec", "bdtrace:blob", "bdtrace:call",
                                                "bdtrace:ring_dropped", "bdtrace:filter", "bdtrace:dropped",
                                                "bdtrace:filter_stats", "other:event"}));
  EXPECT_TRUE(v.WantsMarkDetails());
}

TEST(EventVisitor, TeePassesEveryKindToEachTarget) {
  Everything a, b;
  TeeVisitor tee({&a, &b});
  FeedOneOfEach(tee);
  EXPECT_EQ(a.seen, kEveryKind);
  EXPECT_EQ(b.seen, kEveryKind);
  EXPECT_FALSE(tee.WantsMarkDetails());
}

TEST(EventVisitor, EmptySelectionPassesEveryKind) {
  Everything e;
  SelectingVisitor s(Selection{}, e);
  FeedOneOfEach(s);
  EXPECT_EQ(e.seen, kEveryKind);
  EXPECT_FALSE(s.WantsMarkDetails());
}

TEST(EventVisitor, ProgressPassesEveryKind) {
  const int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  Everything e;
  {
    ProgressVisitor p(e, fd, std::nullopt, 0);
    FeedOneOfEach(p);
    EXPECT_FALSE(p.WantsMarkDetails());
  }
  close(fd);
  EXPECT_EQ(e.seen, kEveryKind);
}
