// SPDX-License-Identifier: MIT
// Ring-channel traces: events placed at their guest_ts and put back into
// time order (bdtrace/analyzer/reorder.h), and ring drops reported exactly.
//
// The Reorderer is tested on crafted events; the analyzer on
// data/ring-trace, captured from `trace-gen --ring` (capture-golden.sh
// BUILD ring). Its expected values come from RingMode's timeline in
// trace_gen.cc: guest times are B + fixed offsets, so every duration
// between two ring events is exact, while their LTTng (emission) times
// are 2 to 90 ms later and out of order across threads.
// Regenerate the text golden deliberately with BD_UPDATE_GOLDEN=1.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "bdtrace/analyzer/analyze.h"
#include "bdtrace/analyzer/reorder.h"
#include "bdtrace/analyzer/report_format.h"
#include "file_bytes.h"

namespace fs = std::filesystem;
using namespace bdtrace::analyzer;
using bdtrace::Expected;
namespace report = bdtrace::report;

namespace {

const std::string kDataDir = BD_TEST_DATA_DIR;
const std::string kRingTrace = kDataDir + "/ring-trace";
const std::string kUserTrace = kDataDir + "/small-trace";
const std::string kSystemTrace = kDataDir + "/system-trace";
constexpr int64_t kUs = 1000;
constexpr int64_t kMs = 1000000;

// ---- the Reorderer on crafted events ----------------------------------------------------

// Records what reaches it: "mark 3 text" / "session ring" / ..., and when.
class Recorder final : public EventVisitor {
 public:
  std::vector<std::pair<std::string, int64_t>> got;

  void OnMark(const MarkEvent &e) override {
    got.emplace_back("mark " + std::to_string(e.event) + " " + std::string(e.text), e.ts_ns);
  }
  void OnRegion(const RegionEvent &e) override { got.emplace_back("region", e.ts_ns); }
  void OnEventName(const EventNameEvent &e) override {
    got.emplace_back("name " + std::string(e.name), e.ts_ns);
  }
  void OnSession(const SessionEvent &e) override {
    got.emplace_back("session " + std::string(e.vm) + " " + std::string(e.channel), e.ts_ns);
  }
  void OnRejected(const RejectedEvent &e) override { got.emplace_back("rejected", e.ts_ns); }
  void OnRejectedTotal(const RejectedTotalEvent &e) override { got.emplace_back("rejected_total", e.ts_ns); }
  void OnSchedSwitch(const SchedSwitchEvent &e) override {
    got.emplace_back("switch " + std::string(e.prev_comm) + ">" + std::string(e.next_comm), e.ts_ns);
  }
  void OnRingDropped(const RingDroppedEvent &e) override {
    got.emplace_back("ring_dropped " + std::to_string(e.count), e.ts_ns);
  }
  void OnOtherEvent(int64_t ts_ns, std::string_view name) override {
    got.emplace_back("other " + std::string(name), ts_ns);
  }

  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    for (const auto &[what, ts] : got) out.push_back(what);
    return out;
  }
  std::vector<int64_t> Times() const {
    std::vector<int64_t> out;
    for (const auto &[what, ts] : got) out.push_back(ts);
    return out;
  }
};

MarkEvent Mark(int64_t ts, uint32_t event, std::string_view text = {}) {
  MarkEvent e{};
  e.ts_ns = ts, e.event = event, e.text = text, e.kind = kKindMark, e.tid = 1;
  return e;
}

using Strings = std::vector<std::string>;
using Times = std::vector<int64_t>;

}  // namespace

TEST(Reorder, TrapEventsPassStraightThrough) {
  Recorder rec;
  Reorderer order(rec);
  order.Add(Mark(300, 1), 300, false);
  order.Add(OtherEvent{200, "x:y"}, 200, false);  // no clock games: arrival order
  EXPECT_EQ(rec.Names(), (Strings{"mark 1 ", "other x:y"}));
  EXPECT_FALSE(order.holding());
  EXPECT_EQ(order.stats().guest_events, 0u);
}

TEST(Reorder, RingEventsComeOutInGuestTimeOrderOnceTheWindowPassed) {
  Recorder rec;
  Reorderer order(rec, ReorderOptions{1000, 100});
  order.Add(Mark(500, 1), 600, true);
  order.Add(Mark(300, 2), 650, true);
  order.Add(Mark(700, 3), 700, false);  // a trap event, held with the rest now
  order.Add(Mark(700, 4), 900, true);   // ties keep arrival order
  EXPECT_TRUE(rec.got.empty()) << "nothing is safe before emission time - window passes it";
  order.Add(Mark(1350, 5), 1400, true);  // safe up to 400
  EXPECT_EQ(rec.Names(), (Strings{"mark 2 "}));
  order.Add(Mark(1600, 6), 1750, true);  // safe up to 750
  EXPECT_EQ(rec.Names(), (Strings{"mark 2 ", "mark 1 ", "mark 3 ", "mark 4 "}));
  order.Flush();
  EXPECT_EQ(rec.Times(), (Times{300, 500, 700, 700, 1350, 1600}));
  EXPECT_EQ(order.stats().guest_events, 5u);
  EXPECT_EQ(order.stats().max_lag_ns, 350u);  // mark 2: emitted at 650
  EXPECT_EQ(order.stats().late_events, 0u);
  EXPECT_EQ(order.stats().early_releases, 0u);
}

TEST(Reorder, AHoldStartsBeforeTheFirstRingEvent) {
  Recorder rec;
  Reorderer order(rec, ReorderOptions{1000, 100});
  SessionEvent s{};
  s.ts_ns = 100, s.vm = "vm", s.channel = "ring";
  order.Hold();  // what the reader does for a ring session
  order.Add(s, 100, false);
  order.Add(Mark(50, 1), 200, true);  // called before the session was recorded
  order.Flush();
  EXPECT_EQ(rec.Names(), (Strings{"mark 1 ", "session vm ring"}));
  EXPECT_EQ(order.stats().late_events, 0u);
}

TEST(Reorder, HeldStringsOutliveTheBuffersTheyCameFrom) {
  Recorder rec;
  Reorderer order(rec);
  std::string text = "hello, ring";
  std::string prev = "a-long-enough-comm-to-leave-sso", next = "b";
  order.Add(Mark(10, 1, text), 20, true);
  SchedSwitchEvent sw{};
  sw.ts_ns = 5, sw.prev_comm = prev, sw.next_comm = next;
  order.Add(sw, 20, true);
  order.Add(EventNameEvent{30, 0, 1, 1, 1, text}, 40, true);
  text.assign(text.size(), 'X');  // babeltrace2 reuses its buffers
  prev.assign(prev.size(), 'Y');
  for (int i = 0; i < 1000; ++i) order.Add(Mark(100 + i, 9, text), 100 + i, true);  // reuse slots
  order.Flush();
  ASSERT_GE(rec.got.size(), 3u);
  EXPECT_EQ(rec.got[0].first, "switch a-long-enough-comm-to-leave-sso>b");
  EXPECT_EQ(rec.got[1].first, "mark 1 hello, ring");
  EXPECT_EQ(rec.got[2].first, "name hello, ring");
  EXPECT_EQ(rec.got.back().first, "mark 9 " + text);
}

TEST(Reorder, LateEventsArePassedOnAtOnceAtTheirTimeAndCounted) {
  Recorder rec;
  Reorderer order(rec, ReorderOptions{100, 100});
  order.Add(Mark(1000, 1), 1000, true);
  order.Add(Mark(1200, 2), 1200, true);  // releases mark 1
  order.Add(Mark(900, 3), 1250, true);   // lagged 350 > 100: mark 1 is out already
  EXPECT_EQ(rec.Names(), (Strings{"mark 1 ", "mark 3 "}));
  order.Flush();
  EXPECT_EQ(rec.Times(), (Times{1000, 900, 1200}));
  EXPECT_EQ(order.stats().late_events, 1u);
  EXPECT_EQ(order.stats().max_late_ns, 100u);
}

TEST(Reorder, TheMemoryBoundReleasesEarlyAndSaysSo) {
  Recorder rec;
  Reorderer order(rec, ReorderOptions{1000000, 2});
  order.Add(Mark(30, 1), 100, true);
  order.Add(Mark(10, 2), 100, true);
  order.Add(Mark(20, 3), 100, true);  // 3 held > 2: the earliest goes
  EXPECT_EQ(rec.Names(), (Strings{"mark 2 "}));
  order.Add(Mark(5, 4), 100, true);  // before what went: late
  order.Flush();
  EXPECT_EQ(rec.Times(), (Times{10, 5, 20, 30}));
  EXPECT_EQ(order.stats().early_releases, 1u);
  EXPECT_EQ(order.stats().late_events, 1u);
}

TEST(Reorder, AGuestTimeAfterItsEmissionIsPlacedAtTheEmission) {
  Recorder rec;
  Reorderer order(rec);
  order.Add(Mark(500, 1), 400, true);
  order.Flush();
  EXPECT_EQ(rec.Times(), (Times{400}));
  EXPECT_EQ(order.stats().after_emission, 1u);
  EXPECT_EQ(order.stats().max_after_emission_ns, 100u);
}

// ---- data/ring-trace ---------------------------------------------------------------------

namespace {

std::string ErrorText(const Expected<report::Report> &r) {
  return r.ok() ? std::string("(no error)") : r.error().ToString();
}

report::Report AnalyzeRing(AnalyzeOptions options = {}) {
  auto r = Analyze({kRingTrace}, options);
  EXPECT_TRUE(r.ok()) << ErrorText(r);
  return r.ok() ? *r : report::Report{};
}

const report::ThreadStats *FindThread(const report::Report &r, uint32_t tid) {
  for (const auto &t : r.threads()) {
    if (t.tid() == tid) return &t;
  }
  return nullptr;
}

std::string Warnings(const report::Report &r) {
  std::string out;
  for (const auto &w : r.warnings()) out += w + "\n";
  return out;
}

using analyzer_test_files::ReadFile;

std::string ReplaceAll(std::string s, const std::string &from, const std::string &to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

struct RunResult {
  int exit_code;
  std::string out, err;
};

RunResult RunCli(const std::string &args) {
  char dir[] = "/tmp/bd-ring-test-XXXXXX";
  if (mkdtemp(dir) == nullptr) std::abort();
  const fs::path out = fs::path(dir) / "out", err = fs::path(dir) / "err";
  const std::string cmd =
      std::string("'") + BD_ANALYZE_BIN + "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "'";
  const int status = std::system(cmd.c_str());
  RunResult r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out), ReadFile(err)};
  fs::remove_all(dir);
  return r;
}

std::vector<std::string> SplitCsvLine(const std::string &line) {
  std::vector<std::string> cells;
  std::stringstream ss(line);
  for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
  return cells;
}

}  // namespace

TEST(RingTrace, SessionSaysRingAndDropsAreExact) {
  const report::Report r = AnalyzeRing();
  ASSERT_EQ(r.sessions_size(), 1);
  EXPECT_EQ(r.sessions(0).channel(), "ring");
  EXPECT_EQ(r.sessions(0).vm(), "ring-vm");

  // ring 1: 5 + 2 (final total 7); ring 2: 3 (final).
  const report::RingDrops &d = r.ring_drops();
  EXPECT_EQ(d.total(), 10u);
  EXPECT_EQ(d.events(), 3u);
  ASSERT_EQ(d.rings_size(), 2);
  EXPECT_EQ(d.rings(0).ring(), 1u);
  EXPECT_EQ(d.rings(0).pid(), 500u);
  EXPECT_EQ(d.rings(0).tid(), 501u);
  EXPECT_EQ(d.rings(0).count(), 7u);
  EXPECT_EQ(d.rings(0).vm(), "ring-vm");
  EXPECT_EQ(d.rings(1).ring(), 2u);
  EXPECT_EQ(d.rings(1).tid(), 502u);
  EXPECT_EQ(d.rings(1).count(), 3u);
  EXPECT_EQ(r.totals().ring_dropped(), 3u);
  EXPECT_EQ(r.totals().other(), 0u) << "ring_dropped is not an unknown event";
  EXPECT_EQ(r.discarded_events().count(), 0u) << "ring drops are not LTTng's losses";
  EXPECT_NE(Warnings(r).find("rings dropped 10 records"), std::string::npos) << Warnings(r);
  EXPECT_EQ(Warnings(r).find("final total"), std::string::npos) << "the counts add up";

  const std::string text = FormatText(r);
  EXPECT_NE(text.find("vm=ring-vm channel=ring\n"), std::string::npos) << text;
  EXPECT_NE(
      text.find("discarded:  0 events lost by the tracer\n"
                "ring drops: 10 records the guest could not write (ring full, nested call, or no ring free): "
                "ring 1 tid 501 7, ring 2 tid 502 3\n"),
      std::string::npos)
      << text;
}

TEST(RingTrace, RegionDurationsAndCpuTimesComeFromGuestTimes) {
  const report::Report r = AnalyzeRing();
  // Region 10: 2 to 5 ms on 501, 6.5 to 9 ms on 502, to the nanosecond
  // (their emission times are ~12 ms, microseconds apart).
  ASSERT_EQ(r.regions_size(), 2);
  EXPECT_EQ(r.regions(0).tid(), 501u);
  EXPECT_EQ(r.regions(0).name(), "work");
  EXPECT_EQ(r.regions(0).count(), 1u);
  EXPECT_EQ(r.regions(0).total_ns(), uint64_t(3 * kMs));
  EXPECT_EQ(r.regions(1).tid(), 502u);
  EXPECT_EQ(r.regions(1).total_ns(), uint64_t(2500 * kUs));
  ASSERT_EQ(r.region_totals_size(), 1);
  EXPECT_EQ(r.region_totals(0).min_ns(), uint64_t(2500 * kUs));
  EXPECT_EQ(r.region_totals(0).max_ns(), uint64_t(3 * kMs));

  // vCPU 0: 501 ran 1 to 6 ms, 502 6 to 10 ms, then idle to the end.
  ASSERT_EQ(r.vcpus_size(), 1);
  const report::VcpuStats &v = r.vcpus(0);
  EXPECT_EQ(v.switches(), 3u);
  EXPECT_EQ(v.busy_ns(), uint64_t(9 * kMs));
  ASSERT_NE(FindThread(r, 501), nullptr);
  EXPECT_EQ(FindThread(r, 501)->first_timestamp_ns() - v.first_switch_timestamp_ns(), 1 * kMs);
  EXPECT_EQ(v.prev_mismatches(), 0u);
  ASSERT_EQ(v.threads_size(), 2);
  EXPECT_EQ(v.threads(0).tid(), 501u);
  EXPECT_EQ(v.threads(0).ns(), uint64_t(5 * kMs));
  EXPECT_EQ(v.threads(1).tid(), 502u);
  EXPECT_EQ(v.threads(1).ns(), uint64_t(4 * kMs));
  ASSERT_EQ(r.processes_size(), 1);
  EXPECT_EQ(r.processes(0).comm(), "ring-app");
  EXPECT_EQ(r.processes(0).total_ns(), uint64_t(9 * kMs));
}

TEST(RingTrace, MarksArePlacedAtTheirGuestTimesInTheEventTimesFrame) {
  const report::Report r = AnalyzeRing();
  const report::ThreadStats *t501 = FindThread(r, 501), *t502 = FindThread(r, 502),
                            *t503 = FindThread(r, 503);
  ASSERT_TRUE(t501 && t502 && t503);
  // First/last: 501 2 (region begin) to 60 ms, 502 6.5 to 115, 503 at 30.
  EXPECT_EQ(t501->last_timestamp_ns() - t501->first_timestamp_ns(), 58 * kMs);
  EXPECT_EQ(t502->first_timestamp_ns() - t501->first_timestamp_ns(), 4500 * kUs);
  EXPECT_EQ(t502->last_timestamp_ns() - t502->first_timestamp_ns(), 108500 * kUs);
  EXPECT_EQ(t503->first_timestamp_ns() - t501->first_timestamp_ns(), 28 * kMs);
  EXPECT_EQ(t501->marks(), 3u) << "2 of its own and the taskless one";
  EXPECT_EQ(t502->marks(), 2u);

  // The frame: B was read just before the session event, the trace's
  // first event, so 501's first event (B + 2 ms) is a little under 2 ms
  // after it. Without the clock class offset it would be decades off.
  EXPECT_EQ(r.trace_begin_ns(), r.sessions(0).timestamp_ns());
  const int64_t after = t501->first_timestamp_ns() - r.trace_begin_ns();
  EXPECT_GT(after, 1 * kMs);
  EXPECT_LE(after, 2 * kMs);

  // Mark rates count every mark where it happened: all 6 in the buckets.
  uint64_t counted = 0;
  for (uint64_t c : r.mark_rates().total()) counted += c;
  EXPECT_EQ(counted, 6u);

  const report::GuestTime &g = r.guest_time();
  EXPECT_EQ(g.events(), 15u) << "marks, regions, names and switches with a guest_ts";
  EXPECT_EQ(g.window_ns(), 50 * kMs);
  EXPECT_GT(g.max_lag_ns(), uint64_t(90 * kMs)) << "503's mark: called at 30, emitted after 120";
  EXPECT_EQ(g.after_emission(), 0u);
  EXPECT_EQ(g.early_releases(), 0u);
}

TEST(RingTrace, ATasklessMarkGoesToTheTaskRunningAtItsGuestTime) {
  // Called at 4.5 ms, while 501 ran; emitted after the 6 ms switch to 502
  // and after the 10 ms switch to idle.
  const report::Report r = AnalyzeRing();
  EXPECT_EQ(FindThread(r, 0), nullptr);
  const report::EventStats *taskless = nullptr;
  for (const auto &e : r.events()) {
    if (e.event_id() == 2) taskless = &e;
  }
  ASSERT_NE(taskless, nullptr);
  ASSERT_EQ(taskless->per_thread_size(), 1);
  EXPECT_EQ(taskless->per_thread(0).tid(), 501u);
}

TEST(RingTrace, AnEventLaterThanTheWindowIsCountedAndWarnedAbout) {
  // 503's mark (called at 30 ms) arrives after 501's 60 ms mark was out.
  const report::Report r = AnalyzeRing();
  EXPECT_EQ(r.guest_time().late_events(), 1u);
  EXPECT_EQ(r.guest_time().max_late_ns(), uint64_t(30 * kMs));
  EXPECT_NE(Warnings(r).find("1 events arrived too late to be put in time order"), std::string::npos)
      << Warnings(r);
  EXPECT_NE(FormatText(r).find(", 1 too late for the 50.000 ms reorder window\n"), std::string::npos);
}

TEST(RingTrace, ASmallerWindowCountsMoreLateEventsButKeepsEachThreadExact) {
  AnalyzeOptions o;
  o.reader.reorder.window_ns = 1 * kMs;  // the first batch lags 2 to 11 ms
  const report::Report r = AnalyzeRing(o);
  EXPECT_GT(r.guest_time().late_events(), 1u);
  EXPECT_NE(Warnings(r).find("too late"), std::string::npos);
  // Each ring keeps its order, so per-thread pairs stay exact.
  ASSERT_EQ(r.regions_size(), 2);
  EXPECT_EQ(r.regions(0).total_ns(), uint64_t(3 * kMs));
  EXPECT_EQ(r.regions(1).total_ns(), uint64_t(2500 * kUs));
}

TEST(RingTrace, SinceAndUntilCountFromGuestTimes) {
  // Up to 5.5 ms: the 1 ms switch, region 10 of 501 (2 to 5), its mark at
  // 3 and the taskless one at 4.5; nothing by emission time (>= 12 ms).
  AnalyzeOptions until;
  until.selection.until_s = 0.0055;
  const report::Report a = AnalyzeRing(until);
  EXPECT_EQ(a.totals().marks(), 2u);
  EXPECT_EQ(a.totals().region_begins(), 1u);
  EXPECT_EQ(a.totals().region_ends(), 1u);
  EXPECT_EQ(a.totals().sched_switches(), 1u);

  // From 50 ms: the marks at 60 and 115 ms (the late one at 30 is out,
  // although it was emitted last).
  AnalyzeOptions since;
  since.selection.since_s = 0.05;
  const report::Report b = AnalyzeRing(since);
  EXPECT_EQ(b.totals().marks(), 2u);
  EXPECT_EQ(b.totals().region_begins(), 0u);
  EXPECT_EQ(b.ring_drops().total(), 10u) << "losses are in every report";
}

TEST(RingTrace, TextReportMatchesByteForByte) {
  const std::string text = ReplaceAll(FormatText(AnalyzeRing()), kDataDir, "@DATA@");
  const fs::path golden = kDataDir + "/expected-ring-summary.txt";
  if (std::getenv("BD_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(golden, std::ios::binary | std::ios::trunc) << text;
    GTEST_SKIP() << "rewrote " << golden << "; review the diff";
  }
  EXPECT_EQ(ReadFile(golden), text)
      << "the text report changed; if that is intended, rerun with BD_UPDATE_GOLDEN=1";
}

TEST(RingCli, TimelineIntervalsUseGuestTimes) {
  RunResult r = RunCli("--report timeline --format csv '" + kRingTrace + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("rings dropped 10 records"), std::string::npos) << r.err;
  std::istringstream in(r.out);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "vm,vcpu,start_s,end_s,duration_ns,pid,tid,comm,open_ended\r");
  std::vector<std::vector<std::string>> rows;
  while (std::getline(in, line)) rows.push_back(SplitCsvLine(line));
  ASSERT_EQ(rows.size(), 3u) << r.out;
  EXPECT_EQ(rows[0][4], "5000000");
  EXPECT_EQ(rows[0][6], "501");
  EXPECT_EQ(rows[1][4], "4000000");
  EXPECT_EQ(rows[1][6], "502");
  EXPECT_EQ(rows[2][6], "0");
  EXPECT_EQ(rows[2][8], "1\r") << "idle until the end";
  // The first interval starts at 1 ms after B, just under 1 ms after the
  // trace's first event.
  const double start = std::stod(rows[0][2]);
  EXPECT_GT(start, 0.0);
  EXPECT_LE(start, 0.001);
}

TEST(RingCli, JsonCarriesDropsGuestTimeAndTheChannel) {
  RunResult r = RunCli("--format json '" + kRingTrace + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto parsed = ParseJson(r.out);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->ring_drops().total(), 10u);
  EXPECT_EQ(parsed->guest_time().late_events(), 1u);
  EXPECT_EQ(parsed->sessions(0).channel(), "ring");
  RunResult timeline = RunCli("--report timeline --format json '" + kRingTrace + "'");
  ASSERT_EQ(timeline.exit_code, 0) << timeline.err;
  EXPECT_NE(timeline.out.find("\"ring_drops\""), std::string::npos) << timeline.out;
}

TEST(OldTraces, HaveNoChannelNoRingDropsAndNoGuestTimes) {
  for (const std::string &trace : {kUserTrace, kSystemTrace}) {
    auto r = Analyze({trace});
    ASSERT_TRUE(r.ok()) << ErrorText(r);
    ASSERT_GT(r->sessions_size(), 0);
    EXPECT_EQ(r->sessions(0).channel(), "") << "written before the field existed";
    EXPECT_EQ(r->ring_drops().total(), 0u);
    EXPECT_EQ(r->ring_drops().events(), 0u);
    EXPECT_EQ(r->guest_time().events(), 0u);
    EXPECT_EQ(FormatText(*r).find("ring drops:"), std::string::npos);
  }
}
