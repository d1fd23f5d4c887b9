// SPDX-License-Identifier: MIT
// Selection, region percentiles, mark rates, CSV, the report kinds and the
// bd-analyze command line (every --report x --format on the golden traces).
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bdtrace/analyzer/analyze.h"
#include "bdtrace/analyzer/histogram.h"
#include "bdtrace/analyzer/model.h"
#include "bdtrace/analyzer/progress.h"
#include "bdtrace/analyzer/rates.h"
#include "bdtrace/analyzer/report_format.h"
#include "bdtrace/analyzer/selection.h"
#include "file_bytes.h"

namespace fs = std::filesystem;
using namespace bdtrace::analyzer;
namespace report = bdtrace::report;

namespace {

const std::string kDataDir = BD_TEST_DATA_DIR;
const std::string kUserTrace = kDataDir + "/small-trace";
const std::string kSystemTrace = kDataDir + "/system-trace";
const std::string kRingTrace = kDataDir + "/ring-trace";
constexpr int64_t kS = 1000000000;

// Records what reaches it, one short line per event.
class Recorder final : public EventVisitor {
 public:
  std::vector<std::string> seen;

  void OnMark(const MarkEvent &e) override {
    seen.push_back("mark t" + std::to_string(e.trace) + " pid" + std::to_string(e.pid) + " tid" +
                   std::to_string(e.tid) + " v" + std::to_string(e.vcpu) + " e" + std::to_string(e.event));
  }
  void OnRegion(const RegionEvent &e) override {
    seen.push_back(std::string(e.begin ? "begin" : "end") + " e" + std::to_string(e.region) + " pid" +
                   std::to_string(e.pid));
  }
  void OnEventName(const EventNameEvent &e) override { seen.push_back("name " + std::string(e.name)); }
  void OnSession(const SessionEvent &e) override { seen.push_back("session " + std::string(VmName(e))); }
  void OnRejected(const RejectedEvent &) override { seen.push_back("rejected"); }
  void OnRejectedTotal(const RejectedTotalEvent &) override { seen.push_back("rejected_total"); }
  void OnSchedSwitch(const SchedSwitchEvent &e) override {
    seen.push_back("switch v" + std::to_string(e.vcpu) + " " + std::to_string(e.prev_pid) + "->" +
                   std::to_string(e.next_pid));
  }
  void OnOtherEvent(int64_t, std::string_view) override { seen.push_back("other"); }
  void OnDiscardedEvents(const DiscardedEventsMessage &d) override {
    seen.push_back("discarded " + std::to_string(d.count));
  }
  void OnWarning(std::string) override { seen.push_back("warning"); }
};

MarkEvent Mark(int64_t ts, uint32_t trace, uint32_t vcpu, uint32_t pid, uint32_t tid, uint32_t event) {
  MarkEvent m{ts, vcpu, pid, tid, kKindMark, event, {}, 1, ""};
  m.trace = trace;
  return m;
}

SchedSwitchEvent Switch(int64_t ts, uint32_t trace, uint32_t vcpu, uint32_t prev_pid, uint32_t next_pid) {
  return SchedSwitchEvent{ts, vcpu, prev_pid, prev_pid, "p", 0, next_pid, next_pid, "n", trace};
}

// One of everything, over two VMs (traces 0 and 1) and a trace without a
// session (2); times 0..10 s.
std::vector<std::string> Feed(const Selection &sel) {
  Recorder rec;
  SelectingVisitor s(sel, rec);
  s.OnSession(SessionEvent{0, "system", "x86_64", "vmlinuz", 1, 1, "vm-a", 0});
  s.OnSession(SessionEvent{1 * kS / 2, "user", "x86_64", "prog-b", 1, 2, "", 1});
  s.OnMark(Mark(1 * kS, 0, 0, 10, 11, 1));
  s.OnMark(Mark(2 * kS, 1, 1, 20, 21, 2));
  s.OnMark(Mark(3 * kS, 2, 0, 30, 31, 1));
  RegionEvent rb{4 * kS, 0, 10, 11, 7, 1, true};
  s.OnRegion(rb);
  RegionEvent re{5 * kS, 1, 20, 21, 8, 2, false};
  re.trace = 1;
  s.OnRegion(re);
  s.OnSchedSwitch(Switch(6 * kS, 0, 0, 10, 20));
  s.OnSchedSwitch(Switch(7 * kS, 0, 1, 30, 40));
  s.OnEventName(EventNameEvent{8 * kS, 0, 10, 11, 1, "one"});
  s.OnRejected(RejectedEvent{8 * kS, 0, 11, 1, "bad_magic", 0});
  s.OnRejectedTotal(RejectedTotalEvent{9 * kS, 1, "bad_magic", 3});
  s.OnOtherEvent(9 * kS, "x:y");
  s.OnDiscardedEvents(DiscardedEventsMessage{5, true, 0, "bdtrace_0"});
  s.OnWarning("w");
  s.OnMark(Mark(10 * kS, 0, 0, 10, 11, 3));
  return rec.seen;
}

// What always passes, in Feed's order.
const std::vector<std::string> kAlways = {"session vm-a",   "session prog-b", "name one", "rejected",
                                          "rejected_total", "discarded 5",    "warning"};

std::vector<std::string> Without(std::vector<std::string> v, const std::vector<std::string> &drop) {
  for (const std::string &d : drop) v.erase(std::remove(v.begin(), v.end(), d), v.end());
  return v;
}

std::vector<std::string> Only(const std::vector<std::string> &v) { return Without(v, kAlways); }

}  // namespace

// ---- selection -------------------------------------------------------------------

TEST(Selection, EmptyKeepsEverything) {
  const auto all = Feed(Selection{});
  EXPECT_EQ(all.size(), 16u);
  EXPECT_EQ(Only(all), (std::vector<std::string>{"mark t0 pid10 tid11 v0 e1", "mark t1 pid20 tid21 v1 e2",
                                                 "mark t2 pid30 tid31 v0 e1", "begin e7 pid10",
                                                 "end e8 pid20", "switch v0 10->20", "switch v1 30->40",
                                                 "other", "mark t0 pid10 tid11 v0 e3"}));
}

TEST(Selection, VmKeepsTheTracesItNamesAndUserModeIsNamedByProgram) {
  Selection sel;
  sel.vms = {"prog-b"};
  const auto kept = Feed(sel);
  EXPECT_EQ(Only(kept), (std::vector<std::string>{"mark t1 pid20 tid21 v1 e2", "end e8 pid20"}));
  for (const std::string &a : kAlways) {
    EXPECT_NE(std::find(kept.begin(), kept.end(), a), kept.end()) << a << " always passes";
  }
  sel.vms = {"vm-a"};
  EXPECT_EQ(Only(Feed(sel)),
            (std::vector<std::string>{"mark t0 pid10 tid11 v0 e1", "begin e7 pid10", "switch v0 10->20",
                                      "switch v1 30->40", "mark t0 pid10 tid11 v0 e3"}));
}

TEST(Selection, VcpuKeepsMarksRegionsAndSwitchesOnIt) {
  Selection sel;
  sel.vcpus = {1};
  EXPECT_EQ(Only(Feed(sel)),
            (std::vector<std::string>{"mark t1 pid20 tid21 v1 e2", "end e8 pid20", "switch v1 30->40"}));
}

TEST(Selection, PidKeepsSwitchesWherePrevOrNextIsIt) {
  Selection sel;
  sel.pids = {20};
  EXPECT_EQ(Only(Feed(sel)),
            (std::vector<std::string>{"mark t1 pid20 tid21 v1 e2", "end e8 pid20", "switch v0 10->20"}));
  sel.pids = {30, 10};
  EXPECT_EQ(Only(Feed(sel)), (std::vector<std::string>{
                                 "mark t0 pid10 tid11 v0 e1", "mark t2 pid30 tid31 v0 e1", "begin e7 pid10",
                                 "switch v0 10->20", "switch v1 30->40", "mark t0 pid10 tid11 v0 e3"}));
}

TEST(Selection, TidSelectsByThread) {
  Selection sel;
  sel.tids = {31};
  EXPECT_EQ(Only(Feed(sel)), (std::vector<std::string>{"mark t2 pid30 tid31 v0 e1"}));
  sel.tids = {31, 40};  // the switch's next task
  EXPECT_EQ(Only(Feed(sel)), (std::vector<std::string>{"mark t2 pid30 tid31 v0 e1", "switch v1 30->40"}));
}

TEST(Selection, EventKeepsMarkAndRegionIdsAndLeavesSwitches) {
  Selection sel;
  sel.events = {1, 8};
  EXPECT_EQ(Only(Feed(sel)),
            (std::vector<std::string>{"mark t0 pid10 tid11 v0 e1", "mark t2 pid30 tid31 v0 e1",
                                      "end e8 pid20", "switch v0 10->20", "switch v1 30->40"}));
}

TEST(Selection, TimeWindowIsHalfOpenFromTheFirstEvent) {
  Selection sel;
  sel.since_s = 2.0;  // the first event (t=0) is the origin
  sel.until_s = 6.0;
  EXPECT_EQ(Only(Feed(sel)),
            (std::vector<std::string>{"mark t1 pid20 tid21 v1 e2", "mark t2 pid30 tid31 v0 e1",
                                      "begin e7 pid10", "end e8 pid20"}));
  sel.since_s = 9.0;
  sel.until_s = std::nullopt;
  EXPECT_EQ(Only(Feed(sel)), (std::vector<std::string>{"other", "mark t0 pid10 tid11 v0 e3"}));
}

TEST(Selection, SelectorsCombineWithAnd) {
  Selection sel;
  sel.vcpus = {0};
  sel.events = {1};
  sel.vms = {"vm-a"};
  // --event does not apply to switches.
  EXPECT_EQ(Only(Feed(sel)), (std::vector<std::string>{"mark t0 pid10 tid11 v0 e1", "switch v0 10->20"}));
}

TEST(Selection, ValidateNamesTheBadOption) {
  Selection s;
  s.since_s = -1;
  ASSERT_FALSE(s.Validate().ok());
  EXPECT_NE(s.Validate().error().message.find("--since"), std::string::npos);
  s.since_s = 2;
  s.until_s = 1;
  ASSERT_FALSE(s.Validate().ok());
  EXPECT_NE(s.Validate().error().message.find("--until"), std::string::npos);
  s.until_s = NAN;
  EXPECT_FALSE(s.Validate().ok());
  s.until_s = 3;
  EXPECT_TRUE(s.Validate().ok());
  EXPECT_EQ(s.ToString(), "since=2s until=3s");
  EXPECT_TRUE(Selection{}.empty());
}

TEST(Selection, ModelBehindTheSelectionCountsOnlyKeptEvents) {
  Model m;
  Selection sel;
  sel.pids = {10};
  SelectingVisitor s(sel, m);
  s.OnMark(Mark(1, 0, 0, 10, 10, 1));
  s.OnMark(Mark(2, 0, 0, 11, 11, 1));
  s.OnRejected(RejectedEvent{3, 0, 11, 1, "bad_magic", 0});
  report::Report r;
  m.Finish(r);
  EXPECT_EQ(r.totals().marks(), 1u);
  EXPECT_EQ(r.rejected().total(), 1u);
  EXPECT_EQ(s.seen(), 3u);
  EXPECT_EQ(s.kept(), 2u);
}

// ---- histogram percentiles ---------------------------------------------------------

namespace {

uint64_t ExactPercentile(std::vector<uint64_t> v, double p) {
  std::sort(v.begin(), v.end());
  uint64_t rank = static_cast<uint64_t>(std::ceil(p * static_cast<double>(v.size())));
  rank = std::clamp<uint64_t>(rank, 1, v.size());
  return v[rank - 1];
}

void CheckPercentiles(const std::vector<uint64_t> &values, const char *what) {
  LogHistogram h;
  uint64_t total = 0;
  for (uint64_t v : values) {
    h.Add(v);
    total += v;
  }
  EXPECT_EQ(h.count(), values.size()) << what;
  EXPECT_EQ(h.total(), total) << what;
  EXPECT_EQ(h.min(), *std::min_element(values.begin(), values.end())) << what;
  EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end())) << what;
  for (double p : {0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    const double exact = static_cast<double>(ExactPercentile(values, p));
    const double est = static_cast<double>(h.Percentile(p));
    EXPECT_LE(std::fabs(est - exact), exact * LogHistogram::kMaxRelativeError + 1e-9)
        << what << " p" << p << ": exact " << exact << " estimate " << est;
  }
}

}  // namespace

TEST(Histogram, BucketsTileTheRange) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    const uint32_t b = LogHistogram::BucketOf(v);
    ASSERT_LT(b, LogHistogram::kBuckets);
    ASSERT_LE(LogHistogram::BucketLower(b), v);
    if (b + 1 < LogHistogram::kBuckets) {
      ASSERT_LT(v, LogHistogram::BucketUpper(b));
    }
  }
  for (uint64_t v = 0; v < 10000; ++v) {
    const uint32_t b = LogHistogram::BucketOf(v);
    ASSERT_LE(LogHistogram::BucketLower(b), v);
    ASSERT_LT(v, LogHistogram::BucketUpper(b));
    ASSERT_LE(LogHistogram::BucketUpper(b) - LogHistogram::BucketLower(b),
              std::max<uint64_t>(1, LogHistogram::BucketLower(b) / 8));
  }
  EXPECT_EQ(LogHistogram::BucketOf(~uint64_t{0}), LogHistogram::kBuckets - 1);
}

TEST(Histogram, PercentilesWithinTheDocumentedErrorOnKnownDistributions) {
  std::mt19937_64 rng(42);
  std::vector<uint64_t> uniform, exponential, lognormal, bimodal, small;
  std::uniform_int_distribution<uint64_t> u(1, 10000000);
  std::exponential_distribution<double> ex(1.0 / 50000);
  std::lognormal_distribution<double> ln(12.0, 2.0);
  std::uniform_int_distribution<uint64_t> tiny(0, 20);
  for (int i = 0; i < 20000; ++i) {
    uniform.push_back(u(rng));
    exponential.push_back(static_cast<uint64_t>(ex(rng)));
    lognormal.push_back(static_cast<uint64_t>(ln(rng)));
    bimodal.push_back(i % 10 == 0 ? 5000000 + u(rng) % 1000 : 1000 + u(rng) % 100);
    small.push_back(tiny(rng));
  }
  CheckPercentiles(uniform, "uniform");
  CheckPercentiles(exponential, "exponential");
  CheckPercentiles(lognormal, "lognormal");
  CheckPercentiles(bimodal, "bimodal");
  CheckPercentiles(small, "small (exact below 8)");
  CheckPercentiles({123456789}, "one value");
  CheckPercentiles({5, 5, 5, 5}, "constant");
}

TEST(Histogram, MergeEqualsAddingEverything) {
  LogHistogram a, b, all;
  for (uint64_t v = 1; v < 5000; v += 7) {
    (v % 2 ? a : b).Add(v * 13);
    all.Add(v * 13);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.total(), all.total());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_EQ(a.Percentile(0.9), all.Percentile(0.9));
  EXPECT_EQ(a.Buckets().size(), all.Buckets().size());
}

TEST(Histogram, EmptyIsZero) {
  LogHistogram h;
  EXPECT_EQ(h.Percentile(0.5), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_TRUE(h.Buckets().empty());
}

// ---- the model: regions per id, process, thread; VMs; rates --------------------------

TEST(ModelRegions, PercentilesAndHistogramsPerIdProcessAndThread) {
  Model m;
  auto region = [&](int64_t ts, uint32_t pid, uint32_t tid, bool begin) {
    m.OnRegion(RegionEvent{ts, 0, pid, tid, 5, 0, begin});
  };
  // pid 1: tid 1 takes 100, 200; tid 2 takes 1000. pid 2: tid 3 takes 50.
  region(0, 1, 1, true);
  region(100, 1, 1, false);
  region(100, 1, 2, true);
  region(200, 1, 1, true);
  region(400, 1, 1, false);
  region(1100, 1, 2, false);
  region(2000, 2, 3, true);
  region(2050, 2, 3, false);
  report::Report r;
  m.Finish(r);
  ASSERT_EQ(r.regions_size(), 3);
  EXPECT_EQ(r.regions(0).tid(), 1u);
  EXPECT_EQ(r.regions(0).count(), 2u);
  EXPECT_EQ(r.regions(0).min_ns(), 100u);
  EXPECT_EQ(r.regions(0).max_ns(), 200u);
  EXPECT_GE(r.regions(0).histogram_size(), 2);
  ASSERT_EQ(r.region_processes_size(), 2);
  EXPECT_EQ(r.region_processes(0).pid(), 1u);
  EXPECT_EQ(r.region_processes(0).tid(), 0u);
  EXPECT_EQ(r.region_processes(0).count(), 3u);
  EXPECT_EQ(r.region_processes(0).total_ns(), 1300u);
  EXPECT_EQ(r.region_processes(0).max_ns(), 1000u);
  EXPECT_EQ(r.region_processes(1).count(), 1u);
  EXPECT_EQ(r.region_processes(1).p50_ns(), 50u);
  ASSERT_EQ(r.region_totals_size(), 1);
  const report::RegionStats &t = r.region_totals(0);
  EXPECT_EQ(t.region_id(), 5u);
  EXPECT_EQ(t.count(), 4u);
  EXPECT_EQ(t.total_ns(), 1350u);
  EXPECT_EQ(t.min_ns(), 50u);
  EXPECT_EQ(t.max_ns(), 1000u);
  EXPECT_NEAR(static_cast<double>(t.p50_ns()), 100.0, 100.0 / 16);  // nearest rank: 2nd of 4
  EXPECT_NEAR(static_cast<double>(t.p90_ns()), 1000.0, 1000.0 / 16);
  uint64_t in_buckets = 0;
  for (const auto &b : t.histogram()) {
    EXPECT_LT(b.lower_ns(), b.upper_ns());
    in_buckets += b.count();
  }
  EXPECT_EQ(in_buckets, 4u);
}

TEST(ModelVms, RowsCarryTheVmNameAndTracesKeepThreadsApart) {
  Model m;
  m.OnSession(SessionEvent{0, "user", "x86_64", "prog-a", 1, 1, "", 0});
  m.OnSession(SessionEvent{0, "system", "x86_64", "vmlinuz", 1, 2, "vm-b", 1});
  m.OnMark(Mark(10, 0, 0, 5, 5, 1));
  m.OnMark(Mark(20, 1, 0, 5, 5, 1));  // the same pid/tid in another VM
  report::Report r;
  m.Finish(r);
  ASSERT_EQ(r.vms_size(), 2);
  EXPECT_EQ(r.vms(0).name(), "prog-a");
  EXPECT_EQ(r.vms(1).name(), "vm-b");
  EXPECT_EQ(r.vms(1).mode(), "system");
  ASSERT_EQ(r.threads_size(), 2);
  EXPECT_EQ(r.threads(0).vm(), "prog-a");
  EXPECT_EQ(r.threads(1).vm(), "vm-b");
  ASSERT_EQ(r.events_size(), 1);
  ASSERT_EQ(r.events(0).per_thread_size(), 2);
  EXPECT_EQ(r.events(0).per_thread(1).vm(), "vm-b");
  const std::string text = FormatText(r);
  EXPECT_NE(text.find("  vm      pid  tid"), std::string::npos) << text;
  EXPECT_NE(text.find("prog-a/5:1 vm-b/5:1"), std::string::npos) << text;
}

TEST(ModelAttribution, TasklessMarksGoToTheRunningTask) {
  Model m;
  m.OnSchedSwitch(Switch(0, 0, 2, 0, 77));
  m.OnMark(Mark(10, 0, 2, 0, 0, 1));  // no task context, on vCPU 2
  report::Report r;
  m.Finish(r);
  ASSERT_EQ(r.threads_size(), 1);
  EXPECT_EQ(r.threads(0).pid(), 77u);
  EXPECT_EQ(r.threads(0).comm(), "n");
  ASSERT_EQ(r.process_activity_size(), 1);
  EXPECT_EQ(r.process_activity(0).marks(), 1u);
  EXPECT_EQ(r.process_activity(0).cpu_ns(), 10u);
}

TEST(Rates, AutomaticWidthKeepsAtMost128BucketsAndEveryMark) {
  RateCounter rc;
  rc.Start(0);
  uint64_t n = 0;
  for (int64_t t = 0; t < 3 * kS; t += 1000003, ++n) rc.Add(t, static_cast<uint32_t>(n % 3));
  rc.Close(3 * kS);
  EXPECT_LE(rc.total().size(), RateCounter::kAutoBuckets);
  EXPECT_GE(rc.total().size(), RateCounter::kAutoBuckets / 2);
  EXPECT_GE(rc.bucket_ns() * rc.total().size(), static_cast<uint64_t>(3 * kS));
  uint64_t sum = 0;
  for (uint64_t c : rc.total()) sum += c;
  EXPECT_EQ(sum, n);
  uint64_t per = 0;
  for (const auto &[id, series] : rc.per_event()) {
    EXPECT_EQ(series.size(), rc.total().size());
    for (uint64_t c : series) per += c;
  }
  EXPECT_EQ(per, n);
}

TEST(Rates, FixedWidthIsKept) {
  RateCounter rc(kS / 10);
  rc.Start(5);
  rc.Add(5, 1);
  rc.Add(5 + kS / 10, 1);
  rc.Add(5 + kS, 2);
  rc.Close(5 + kS);
  EXPECT_EQ(rc.bucket_ns(), static_cast<uint64_t>(kS / 10));
  ASSERT_EQ(rc.total().size(), 11u);
  EXPECT_EQ(rc.total()[0], 1u);
  EXPECT_EQ(rc.total()[1], 1u);
  EXPECT_EQ(rc.total()[10], 1u);
  EXPECT_FALSE(rc.widened());
}

TEST(Rates, ModelReportsRatesPerEventWithNames) {
  Model m;
  for (int i = 0; i < 100; ++i) m.OnMark(Mark(i * kS / 100, 0, 0, 1, 1, i % 2 ? 4 : 9));
  m.OnEventName(EventNameEvent{kS, 0, 1, 1, 4, "four"});
  report::Report r;
  m.Finish(r);
  const report::MarkRates &mr = r.mark_rates();
  ASSERT_EQ(mr.events_size(), 2);
  EXPECT_EQ(mr.events(0).event_id(), 4u);
  EXPECT_EQ(mr.events(0).name(), "four");
  EXPECT_EQ(mr.buckets(), static_cast<uint32_t>(mr.total_size()));
  uint64_t sum = 0;
  for (uint64_t c : mr.total()) sum += c;
  EXPECT_EQ(sum, 100u);
  EXPECT_GT(mr.events(0).peak_per_s(), 0.0);
}

// ---- CSV -----------------------------------------------------------------------------

namespace {

// A strict RFC 4180 reader for the tests: rows of fields.
std::vector<std::vector<std::string>> ParseCsv(const std::string &text, std::string *error) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  size_t i = 0;
  bool quoted = false, after_quote = false;
  while (i < text.size()) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        after_quote = true;
      } else {
        field += c;
      }
      ++i;
      continue;
    }
    if (c == '"') {
      if (!field.empty() || after_quote) {
        *error = "quote inside an unquoted field at byte " + std::to_string(i);
        return {};
      }
      quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      after_quote = false;
    } else if (c == '\r') {
      if (i + 1 >= text.size() || text[i + 1] != '\n') {
        *error = "CR without LF at byte " + std::to_string(i);
        return {};
      }
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
      after_quote = false;
      ++i;
    } else if (c == '\n') {
      *error = "LF without CR at byte " + std::to_string(i);
      return {};
    } else {
      if (after_quote) {
        *error = "text after a closing quote at byte " + std::to_string(i);
        return {};
      }
      field += c;
    }
    ++i;
  }
  if (quoted) *error = "unterminated quote";
  if (!field.empty() || !row.empty()) *error = "last row does not end in CRLF";
  return rows;
}

}  // namespace

TEST(Csv, QuotingFollowsRfc4180) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("cr\r"), "\"cr\r\"");
  EXPECT_EQ(CsvRow({"a", "b,c", ""}), "a,\"b,c\",\r\n");
  std::string error;
  const auto rows =
      ParseCsv(CsvRow({"x", "he said \"a, b\"\r\nthen", "z"}) + CsvRow({"1", "2", "3"}), &error);
  ASSERT_EQ(error, "");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][1], "he said \"a, b\"\r\nthen");
  EXPECT_EQ(rows[1][2], "3");
}

TEST(Csv, CommsWithCommasAreQuotedInReports) {
  Model m;
  SchedSwitchEvent s{0, 0, 0, 0, "swapper/0", 0, 9, 9, "odd,\"name\"", 0};
  m.OnSchedSwitch(s);
  m.OnMark(Mark(5, 0, 0, 9, 9, 1));
  report::Report r;
  m.Finish(r);
  for (ReportKind kind : {ReportKind::kSummary, ReportKind::kProcesses}) {
    std::string error;
    const auto rows = ParseCsv(FormatCsv(r, kind), &error);
    ASSERT_EQ(error, "") << ReportKindName(kind);
    ASSERT_GE(rows.size(), 2u);
    // The summary's thread row is its last (after the summary items).
    EXPECT_NE(std::find(rows.back().begin(), rows.back().end(), "odd,\"name\""), rows.back().end());
  }
}

// ---- bd-analyze: every report in every format -------------------------------------------

namespace {

struct RunResult {
  int exit_code;
  std::string out, err;
};

using analyzer_test_files::ReadFile;

RunResult RunCli(const std::string &args) {
  char dir[] = "/tmp/bd-kinds-test-XXXXXX";
  if (mkdtemp(dir) == nullptr) std::abort();
  const fs::path out = fs::path(dir) / "out", err = fs::path(dir) / "err";
  const std::string cmd =
      std::string("'") + BD_ANALYZE_BIN + "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "'";
  const int status = std::system(cmd.c_str());
  RunResult r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out), ReadFile(err)};
  fs::remove_all(dir);
  return r;
}

void CheckWellFormed(const std::string &kind, const std::string &format, const RunResult &r) {
  SCOPED_TRACE("--report " + kind + " --format " + format);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Only notes of losses a CSV, SVG or Chrome file cannot carry.
  std::istringstream err(r.err);
  for (std::string line; std::getline(err, line);) {
    EXPECT_EQ(line.rfind("bd-analyze: note: ", 0), 0u) << line;
    EXPECT_TRUE(format == "csv" || format == "chrome" || format == "svg") << line;
  }
  ASSERT_FALSE(r.out.empty());
  if (format == "json") {
    if (kind == "timeline") {
      report::Timeline t;
      const auto st = google::protobuf::util::JsonStringToMessage(r.out, &t);
      ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << r.out;
    } else {
      auto parsed = ParseJson(r.out);
      ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
      EXPECT_EQ(parsed->report_kind(), kind);
      EXPECT_GT(parsed->totals().events(), 0u);
    }
  } else if (format == "csv") {
    std::string error;
    const auto rows = ParseCsv(r.out, &error);
    ASSERT_EQ(error, "") << r.out;
    ASSERT_GE(rows.size(), 1u);
    for (const auto &row : rows) EXPECT_EQ(row.size(), rows[0].size()) << r.out;
  } else if (format == "chrome") {
    google::protobuf::Struct doc;
    const auto st = google::protobuf::util::JsonStringToMessage(r.out, &doc);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_TRUE(doc.fields().count("traceEvents"));
  } else if (format == "svg") {
    EXPECT_EQ(r.out.rfind("<?xml", 0), 0u);
    EXPECT_NE(r.out.find("</svg>"), std::string::npos);
  } else {
    EXPECT_EQ(r.out.back(), '\n');
  }
}

}  // namespace

class EveryReport : public testing::TestWithParam<std::string> {};

TEST_P(EveryReport, EveryKindAndFormatIsWellFormed) {
  for (const char *kind : {"summary", "processes", "regions", "marks", "timeline"}) {
    for (const char *format : {"text", "json", "csv", "chrome", "svg"}) {
      CheckWellFormed(
          kind, format,
          RunCli("--report " + std::string(kind) + " --format " + format + " '" + GetParam() + "'"));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(GoldenTraces, EveryReport,
                         testing::Values(kUserTrace, kSystemTrace, kUserTrace + "' '" + kSystemTrace,
                                         kRingTrace),
                         [](const testing::TestParamInfo<std::string> &info) {
                           return info.index == 0   ? std::string("user")
                                  : info.index == 1 ? std::string("system")
                                  : info.index == 2 ? std::string("both")
                                                    : std::string("ring");
                         });

TEST(CliKinds, TwoTracesAreTwoVmsWithAVmColumn) {
  RunResult r = RunCli("--format json '" + kUserTrace + "' '" + kSystemTrace + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto p = ParseJson(r.out);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->vms_size(), 2);
  std::vector<std::string> names = {p->vms(0).name(), p->vms(1).name()};
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"golden", "golden-vm"}));
  for (const auto &t : p->threads()) EXPECT_FALSE(t.vm().empty());
  RunResult text = RunCli("'" + kUserTrace + "' '" + kSystemTrace + "'");
  EXPECT_NE(text.out.find("  vm          pid   tid  comm"), std::string::npos) << text.out;
  RunResult one = RunCli("--vm golden-vm --format json '" + kUserTrace + "' '" + kSystemTrace + "'");
  auto q = ParseJson(one.out);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->totals().marks(), 4u);
  EXPECT_EQ(q->totals().sched_switches(), 10u);
  EXPECT_EQ(q->totals().sessions(), 2u) << "sessions always pass";
  ASSERT_EQ(q->selection().vms_size(), 1);
}

TEST(CliKinds, PidSelectionKeepsThatProcessAndItsCpuTime) {
  RunResult r = RunCli("--report processes --format json --pid 100 '" + kSystemTrace + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto p = ParseJson(r.out);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->totals().marks(), 2u);
  ASSERT_EQ(p->processes_size(), 1);
  EXPECT_EQ(p->processes(0).pid(), 100u);
  for (const auto &v : p->vcpus()) {
    for (const auto &t : v.threads()) EXPECT_EQ(t.pid(), 100u);
  }
  // Its own time is exact: the same as without the selection.
  RunResult all = RunCli("--format json '" + kSystemTrace + "'");
  auto a = ParseJson(all.out);
  ASSERT_TRUE(a.ok());
  for (const auto &proc : a->processes()) {
    if (proc.pid() == 100) {
      EXPECT_EQ(proc.total_ns(), p->processes(0).total_ns());
    }
  }
}

TEST(CliKinds, WindowBeyondTheEndIsAnErrorThatSaysWhatTheTraceHolds) {
  // The user trace spans about 1.3 ms: nothing is 100 s after its start.
  RunResult r = RunCli("--since 100 '" + kUserTrace + "'");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(r.out, "") << "no empty report";
  EXPECT_NE(r.err.find("bd-analyze: error: the selection (since=100s) matches no mark, region or "
                       "context switch"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(" s of events (--since/--until: 0 to "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("VM golden;"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("vCPUs 0, 1; pid 4242; tids 4242, 4243; mark/region ids 1-3, 10-13"),
            std::string::npos)
      << r.err;
}

TEST(CliKinds, UnknownVmIsAnErrorThatNamesTheVms) {
  for (const char *format : {"text", "json", "csv", "svg"}) {
    RunResult r =
        RunCli("--vm nope --format " + std::string(format) + " '" + kSystemTrace + "' '" + kUserTrace + "'");
    EXPECT_EQ(r.exit_code, 1) << format << ": " << r.out;
    EXPECT_NE(r.err.find("the selection (vm=nope) matches no mark"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("VMs golden, golden-vm;"), std::string::npos) << r.err;
  }
}

TEST(CliKinds, SelectorsMatchingNothingSayWhatThereIs) {
  // Each alone matches nothing in the system trace (vCPUs 0-1, pids 100-400).
  for (const char *sel : {"--vcpu 7", "--pid 999", "--tid 5", "--event 42 --vcpu 0",
                          "--vm golden-vm --pid 4242", "--since 0.5"}) {
    RunResult r = RunCli(std::string(sel) + " '" + kSystemTrace + "'");
    EXPECT_EQ(r.exit_code, 1) << sel;
    EXPECT_NE(r.err.find("bd-analyze: error: the selection ("), std::string::npos) << sel;
    EXPECT_NE(r.err.find(") matches no mark"), std::string::npos) << sel << ": " << r.err;
    EXPECT_EQ(r.out, "") << sel;
    EXPECT_NE(r.err.find("VM golden-vm; vCPUs 0, 1; pids 100, 200, 300, 400; "
                         "tids 100, 101, 200, 300, 400; mark/region ids 1-3"),
              std::string::npos)
        << sel << ": " << r.err;
  }
  // --event names marks and regions: context switches (which have no id)
  // passing does not make it a match.
  RunResult ids = RunCli("--event 42 '" + kSystemTrace + "'");
  EXPECT_EQ(ids.exit_code, 1);
  EXPECT_NE(ids.err.find("the selection (event=42) matches no mark or region of the "), std::string::npos)
      << ids.err;
  EXPECT_NE(ids.err.find("mark/region ids 1-3"), std::string::npos) << ids.err;
  // A selection that matches: no error, and a --vm name that matched
  // nothing next to one that did is a warning.
  RunResult ok = RunCli("--vm golden-vm,nope '" + kSystemTrace + "'");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("--vm nope names no VM of these traces (they hold: golden-vm)"), std::string::npos)
      << ok.out;
}

TEST(CliKinds, UnwritableOutputSaysWhy) {
  RunResult r = RunCli("-o /nonexistent/dir/x '" + kUserTrace + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "bd-analyze: error: cannot write the report to /nonexistent/dir/x: No such "
            "file or directory\n");
  RunResult svg = RunCli("-f svg -o /nonexistent/dir/x.svg '" + kSystemTrace + "'");
  EXPECT_EQ(svg.exit_code, 1);
  EXPECT_NE(svg.err.find("cannot write the report to /nonexistent/dir/x.svg: No such file or "
                         "directory"),
            std::string::npos)
      << svg.err;
}

TEST(CliKinds, TimelineLimitAndBucket) {
  RunResult r = RunCli("--report timeline --limit 3 '" + kSystemTrace + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("+7 more intervals"), std::string::npos) << r.out;
  RunResult m = RunCli("--report marks --format json --bucket 0.001 '" + kSystemTrace + "'");
  ASSERT_EQ(m.exit_code, 0) << m.err;
  auto p = ParseJson(m.out);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->mark_rates().bucket_ns(), 1000000u);
  EXPECT_GE(p->mark_rates().buckets(), 27u);
}

TEST(CliKinds, BadSelectionValuesExitTwoWithAMessage) {
  for (const char *args :
       {"--since -1", "--since abc", "--until 1 --since 2", "--until 0", "--vcpu -1", "--vcpu 99999",
        "--vcpu x", "--pid x", "--bucket 0", "--report nope", "--limit -3", "--since nan"}) {
    SCOPED_TRACE(args);
    RunResult r = RunCli(std::string(args) + " '" + kUserTrace + "'");
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_EQ(r.err.rfind("bd-analyze: error: ", 0), 0u) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

TEST(CliKinds, NoProgressBarWithoutATerminal) {
  RunResult r = RunCli("'" + kUserTrace + "'");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
}

TEST(Progress, DrawsAtMostTenTimesASecondAndClearsItsLine) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  Recorder rec;
  {
    ProgressVisitor p(rec, fds[1], TimeRange{0, 2000}, 3u << 20);
    for (int i = 0; i < 1024; ++i) p.OnMark(Mark(i, 0, 0, 1, 1, 1));  // too soon to draw
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
    for (int i = 0; i < 2048; ++i) p.OnMark(Mark(1000, 0, 0, 1, 1, 1));  // draws once
    EXPECT_EQ(rec.seen.size(), 3072u) << "every event passes through";
  }  // the destructor clears the line
  close(fds[1]);
  std::string drawn;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) drawn.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  EXPECT_EQ(std::count(drawn.begin(), drawn.end(), '\r'), 2) << drawn;  // one bar, one clear
  EXPECT_NE(drawn.find(" 50%"), std::string::npos) << drawn;
  EXPECT_NE(drawn.find("events/s"), std::string::npos) << drawn;
  EXPECT_NE(drawn.find("3.1 MB of streams"), std::string::npos) << drawn;
  EXPECT_EQ(drawn.substr(drawn.size() - 4), "\r\x1b[K") << "cleared at the end";
}

TEST(CliKinds, HelpNamesReportsFormatsAndSelectors) {
  RunResult r = RunCli("--help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char *s : {"--report", "timeline", "--format", "csv", "chrome", "svg", "--vm", "--vcpu", "--pid",
                        "--tid", "--event", "--since", "--until", "--bucket", "--limit"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
}

// ---- the filter's decisions (issue #9) ------------------------------------------------

namespace {

constexpr int64_t kMs = 1000000;

FilterEvent FilterLoad(int64_t ts, uint64_t generation, std::string_view status,
                       std::string_view message = {}) {
  return FilterEvent{ts, generation, status, "0123456789abcdef", "/tmp/only-vcpu0.txtpb", message, 2, 0};
}

FilterStatsEvent Stats(uint32_t vcpu, uint64_t recorded, uint64_t filtered, uint64_t rate) {
  return FilterStatsEvent{30 * kMs, vcpu, recorded, filtered, rate, 0};
}

FilterDroppedEvent Dropped(int64_t ts, uint32_t vcpu, uint32_t rule, uint64_t count, uint64_t total,
                           bool final) {
  return FilterDroppedEvent{ts, vcpu, 1, rule, rule == 1 ? "limited" : "rule[0]", count, total, final, 0};
}

// A user-mode run whose filter records only vCPU 0 (the main thread) while
// three worker threads (vCPUs 1-3) marked: the trace holds names and the
// filter's events, no mark. A forked child reports vCPU 1 again.
void FeedFilteredRun(Model &m, bool with_marks) {
  m.OnSession(SessionEvent{0, "user", "x86_64", "app", 1, 77, "", 0});
  m.OnFilter(FilterLoad(1 * kMs, 1, "ok"));
  m.OnEventName(EventNameEvent{2 * kMs, 0, 10, 10, 1, "tick"});
  if (with_marks) {
    m.OnMark(Mark(3 * kMs, 0, 0, 10, 10, 1));
    m.OnMark(Mark(4 * kMs, 0, 1, 10, 11, 1));
  }
  m.OnFilter(FilterLoad(5 * kMs, 1, "error", "/tmp/only-vcpu0.txtpb:3:1: Expected identifier"));
  m.OnFilterDropped(Dropped(6 * kMs, 0, 1, 4, 4, false));
  m.OnFilterDropped(Dropped(7 * kMs, 2, 1, 1, 1, false));
  m.OnFilterDropped(Dropped(29 * kMs, 0, 1, 2, 6, true));
  m.OnFilterStats(Stats(0, with_marks ? 2 : 1, 0, 6));
  m.OnFilterStats(Stats(1, with_marks ? 1 : 0, 10, 0));
  m.OnFilterStats(Stats(2, 0, 7, 1));
  m.OnFilterStats(Stats(3, 0, 5, 0));
  m.OnFilterStats(Stats(1, 0, 3, 0));  // the forked child's vCPU 1
}

}  // namespace

TEST(FilterReport, CountsPerVcpuAndRuleAreExact) {
  Model m;
  FeedFilteredRun(m, false);
  report::Report r;
  m.Finish(r);
  ASSERT_TRUE(r.has_filter());
  const report::FilterSummary &f = r.filter();
  EXPECT_EQ(r.totals().filter_configs(), 2u);
  EXPECT_EQ(r.totals().filter_dropped(), 3u);
  EXPECT_EQ(r.totals().filter_stats(), 5u);
  EXPECT_EQ(r.totals().other(), 0u) << "filter events are not 'other' any more";
  ASSERT_EQ(f.configs_size(), 2);
  EXPECT_EQ(f.configs(0).status(), "ok");
  EXPECT_EQ(f.configs(1).status(), "error");
  EXPECT_EQ(f.configs(1).message(), "/tmp/only-vcpu0.txtpb:3:1: Expected identifier");
  EXPECT_EQ(f.configs(0).vm(), "app");
  ASSERT_EQ(f.vcpus_size(), 4);
  const uint64_t expected[4][4] = {{0, 1, 0, 6}, {1, 0, 13, 0}, {2, 0, 7, 1}, {3, 0, 5, 0}};
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(f.vcpus(i).vcpu(), expected[i][0]);
    EXPECT_EQ(f.vcpus(i).recorded(), expected[i][1]);
    EXPECT_EQ(f.vcpus(i).filtered(), expected[i][2]);
    EXPECT_EQ(f.vcpus(i).rate_dropped(), expected[i][3]);
    EXPECT_EQ(f.vcpus(i).sent(), expected[i][1] + expected[i][2] + expected[i][3]);
  }
  EXPECT_EQ(f.recorded(), 1u);
  EXPECT_EQ(f.filtered(), 25u);
  EXPECT_EQ(f.rate_dropped(), 7u);
  EXPECT_TRUE(f.has_stats());
  ASSERT_EQ(f.rules_size(), 1);
  EXPECT_EQ(f.rules(0).generation(), 1u);
  EXPECT_EQ(f.rules(0).rule(), 1u);
  EXPECT_EQ(f.rules(0).name(), "limited");
  EXPECT_EQ(f.rules(0).rate_dropped(), 7u) << "4 + 1 + 2: the counts, not the running totals";
  ASSERT_EQ(f.rules(0).per_vcpu_size(), 2);
  EXPECT_EQ(f.rules(0).per_vcpu(0).vcpu(), 0u);
  EXPECT_EQ(f.rules(0).per_vcpu(0).count(), 6u);
  EXPECT_EQ(f.rules(0).per_vcpu(1).vcpu(), 2u);
  EXPECT_EQ(f.rules(0).per_vcpu(1).count(), 1u);

  // The same in JSON and back.
  auto json = FormatJson(r);
  ASSERT_TRUE(json.ok());
  auto back = ParseJson(*json);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->filter().vcpus(1).filtered(), 13u);
  EXPECT_EQ(back->filter().rules(0).rate_dropped(), 7u);
  EXPECT_EQ(back->filter().notes_size(), 1);
}

TEST(FilterReport, EmptyMarksAreExplainedByTheFilter) {
  Model m;
  FeedFilteredRun(m, false);
  report::Report r;
  m.Finish(r);
  ASSERT_EQ(r.filter().notes_size(), 1);
  EXPECT_EQ(r.filter().notes(0),
            "the filter left no mark or region of the guest in the trace: it dropped 32 records "
            "the guest sent on vCPUs 0-3; the rules recorded only 1 record on vCPU 0 (event "
            "names and bd_present() calls count as records); the config in force: "
            "/tmp/only-vcpu0.txtpb (generation 1, 2 rules, digest 0123456789abcdef)");
  const std::string text = FormatText(r);
  EXPECT_NE(text.find("filter:     1 records recorded, 25 filtered, 7 rate-limited (of 33 the "
                      "guest sent), 2 config loads\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("filter decisions per vCPU (records the guest sent; "
                      "bdtrace:filter_stats)\n"
                      "   vcpu  sent  recorded  filtered  rate-limited\n"
                      "      0     7         1         0             6\n"
                      "      1    13         0        13             0\n"
                      "      2     8         0         7             1\n"
                      "      3     5         0         5             0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("      1     1  limited             7  0:6 2:1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("generation 1 error: /tmp/only-vcpu0.txtpb, 2 rules, digest "
                      "0123456789abcdef (/tmp/only-vcpu0.txtpb:3:1: Expected identifier)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  note: the filter left no mark or region of the guest"), std::string::npos);
  EXPECT_NE(text.find(" 10 filter events, 0 other\n"), std::string::npos) << text;
}

TEST(FilterReport, VcpusWhoseRecordsWereAllDroppedAreNamed) {
  Model m;
  FeedFilteredRun(m, true);
  report::Report r;
  m.Finish(r);
  ASSERT_EQ(r.filter().notes_size(), 1);
  EXPECT_EQ(r.filter().notes(0),
            "every record sent on vCPUs 2, 3 (13 records) was dropped by the filter; records "
            "were kept on vCPUs 0, 1; the config in force: /tmp/only-vcpu0.txtpb (generation 1, "
            "2 rules, digest 0123456789abcdef)");
}

TEST(FilterReport, NoFilterNoSection) {
  Model m;
  m.OnSession(SessionEvent{0, "user", "x86_64", "app", 1, 77, "", 0});
  m.OnMark(Mark(1, 0, 0, 10, 10, 1));
  report::Report r;
  m.Finish(r);
  EXPECT_FALSE(r.has_filter());
  const std::string text = FormatText(r);
  EXPECT_EQ(text.find("filter"), std::string::npos) << text;
}

TEST(FilterReport, ConfigWithoutStatsSaysTheCountsAreUnknown) {
  Model m;
  m.OnSession(SessionEvent{0, "user", "x86_64", "app", 1, 77, "", 0});
  m.OnFilter(FilterLoad(1, 1, "ok"));
  report::Report r;
  m.Finish(r);
  EXPECT_FALSE(r.filter().has_stats());
  ASSERT_EQ(r.filter().notes_size(), 1);
  EXPECT_NE(r.filter().notes(0).find("no bdtrace:filter_stats"), std::string::npos);
  EXPECT_NE(FormatText(r).find("filter:     decisions unknown (no bdtrace:filter_stats)"), std::string::npos);
}

TEST(FilterReport, FilterEventsPassEverySelection) {
  Model m;
  Selection sel;
  sel.vcpus = {0};
  sel.since_s = 0.0025;
  SelectingVisitor s(sel, m);
  s.OnSession(SessionEvent{0, "user", "x86_64", "app", 1, 77, "", 0});
  s.OnFilter(FilterLoad(1 * kMs, 1, "ok"));
  s.OnMark(Mark(3 * kMs, 0, 0, 10, 10, 1));
  s.OnFilterDropped(Dropped(6 * kMs, 2, 1, 4, 4, true));
  s.OnFilterStats(Stats(3, 0, 5, 0));
  report::Report r;
  m.Finish(r);
  EXPECT_EQ(r.filter().configs_size(), 1);
  EXPECT_EQ(r.filter().rules_size(), 1);
  EXPECT_EQ(r.filter().filtered(), 5u);
}

TEST(FilterReport, CsvSummaryCarriesTheFilterCounts) {
  Model m;
  FeedFilteredRun(m, false);
  report::Report r;
  m.Finish(r);
  std::string error;
  const auto rows = ParseCsv(FormatCsv(r, ReportKind::kSummary), &error);
  ASSERT_EQ(error, "");
  std::map<std::string, std::vector<std::string>> items;
  for (const auto &row : rows) {
    if (row[0] == "summary") items[row[1]].push_back(row[2]);
  }
  EXPECT_EQ(items["filter_recorded"], std::vector<std::string>{"1"});
  EXPECT_EQ(items["filter_filtered"], std::vector<std::string>{"25"});
  EXPECT_EQ(items["filter_rate_dropped"], std::vector<std::string>{"7"});
  EXPECT_EQ(items["filter_vcpu"].size(), 4u);
  EXPECT_EQ(items["filter_vcpu"][1], "app/1 recorded=0 filtered=13 rate_dropped=0");
  EXPECT_EQ(items["filter_rule"], std::vector<std::string>{"app/generation 1 rule 1 limited "
                                                           "rate_dropped=7"});
  EXPECT_EQ(items["filter_note"].size(), 1u);
}

// ---- the CSV summary and the marks report (issue #9) ------------------------------------

TEST(CliKinds, CsvSummaryCarriesTheSummary) {
  RunResult r = RunCli("--report summary --format csv '" + kUserTrace + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string error;
  const auto rows = ParseCsv(r.out, &error);
  ASSERT_EQ(error, "");
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(rows[0][0], "section");
  EXPECT_EQ(rows[0][1], "item");
  EXPECT_EQ(rows[0][2], "value");
  std::map<std::string, std::vector<std::string>> items;
  int threads = 0;
  for (const auto &row : rows) {
    ASSERT_EQ(row.size(), rows[0].size());
    if (row[0] == "summary") items[row[1]].push_back(row[2]);
    if (row[0] == "thread") ++threads;
  }
  // The numbers of the text summary (expected-summary.txt).
  EXPECT_EQ(items["events"], std::vector<std::string>{"34"});
  EXPECT_EQ(items["marks"], std::vector<std::string>{"12"});
  EXPECT_EQ(items["text_marks"], std::vector<std::string>{"1"});
  EXPECT_EQ(items["region_begins"], std::vector<std::string>{"6"});
  EXPECT_EQ(items["region_ends"], std::vector<std::string>{"6"});
  EXPECT_EQ(items["event_names"], std::vector<std::string>{"5"});
  EXPECT_EQ(items["rejected"], std::vector<std::string>{"4"});
  EXPECT_EQ(items["rejected_reason"], (std::vector<std::string>{"bad_magic=3", "bad_kind=1"}));
  EXPECT_EQ(items["discarded"], std::vector<std::string>{"0"});
  EXPECT_EQ(items["duration_s"], std::vector<std::string>{"0.001322156"}) << "1.322 ms";
  EXPECT_EQ(items["session"], std::vector<std::string>{"mode=user arch=x86_64 program=trace-gen abi=1 "
                                                       "host_pid=4242 vm=golden"});
  EXPECT_EQ(items["warning"].size(), 2u) << "never-ended and stray regions";
  EXPECT_EQ(threads, 2);
}

namespace {

// A VM that boots for 22 ms (switches only) and then marks from 22 to 30 ms.
report::Report LateMarks() {
  Model m;
  m.OnSession(SessionEvent{0, "system", "x86_64", "vmlinuz", 1, 1, "vm", 0});
  for (int64_t t = 1; t < 22; ++t) m.OnSchedSwitch(Switch(t * kMs, 0, 0, 0, 5));
  for (int64_t t = 22; t <= 30; ++t) m.OnMark(Mark(t * kMs, 0, 0, 5, 5, 1));
  report::Report r;
  m.Finish(r);
  return r;
}

}  // namespace

TEST(MarkRates, BucketsStartAtTheFirstMark) {
  const report::Report r = LateMarks();
  const report::MarkRates &mr = r.mark_rates();
  EXPECT_EQ(mr.origin_ns(), 22 * kMs);
  ASSERT_GT(mr.total_size(), 0);
  EXPECT_GT(mr.total(0), 0u) << "the first bucket holds the first mark";
  uint64_t sum = 0;
  for (uint64_t c : mr.total()) sum += c;
  EXPECT_EQ(sum, 9u);
  // 8 ms of marks in at most 128 buckets (1 us doubled until they fit):
  // 64 us each, buckets 0 to 125 (8 ms / 64 us = 125).
  EXPECT_EQ(mr.bucket_ns(), 64000u);
  EXPECT_EQ(mr.buckets(), 126u);

  // Text: the first row is at the first mark, +22.000 ms.
  const std::string text = FormatText(r, ReportKind::kMarks);
  const size_t table = text.find("marks per bucket (start: ms after the first event)\n");
  ASSERT_NE(table, std::string::npos) << text;
  const size_t first_row = text.find('\n', text.find('\n', table) + 1) + 1;
  EXPECT_EQ(text.substr(first_row, text.find('\n', first_row) - first_row), "   22.000    1  1") << text;
  EXPECT_NE(text.find("from the first mark, at +22.000 ms"), std::string::npos) << text;

  // CSV: the same first bucket.
  std::string error;
  const auto rows = ParseCsv(FormatCsv(r, ReportKind::kMarks), &error);
  ASSERT_EQ(error, "");
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(rows[1][0], "0");
  EXPECT_EQ(rows[1][1], "0.022000000");
  EXPECT_EQ(rows[1][3], "1");
  EXPECT_EQ(rows.size(), 1u + 126u);
}
