// SPDX-License-Identifier: MIT
// Tests of bdanalyzer and bd-analyze on a small golden trace captured with
// trace-gen (see capture-golden.sh) and on broken copies of it.
//
// Regenerate the golden report deliberately with
//   BD_UPDATE_GOLDEN=1 build/tests/bin/analyzer_test
// and review the diff.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bdtrace/analyzer/analyze.h"
#include "bdtrace/analyzer/model.h"
#include "bdtrace/analyzer/reader.h"
#include "bdtrace/analyzer/report_format.h"
#include "file_bytes.h"

namespace fs = std::filesystem;
using namespace bdtrace::analyzer;
using bdtrace::Expected;
namespace report = bdtrace::report;

namespace {

const std::string kDataDir = BD_TEST_DATA_DIR;
const std::string kGoldenTrace = kDataDir + "/small-trace";
const std::string kStreamDir = "ust/uid/0/64-bit";

using analyzer_test_files::ReadFile;
using analyzer_test_files::WriteFile;

std::string ReplaceAll(std::string s, const std::string &from, const std::string &to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

// A temporary directory removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "bd-analyzer-test-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) std::abort();
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const fs::path &path() const { return path_; }

 private:
  fs::path path_;
};

// A copy of the golden trace in a temp dir, to break.
class TraceCopy {
 public:
  TraceCopy() { fs::copy(kGoldenTrace, dir(), fs::copy_options::recursive); }
  fs::path dir() const { return tmp_.path() / "trace"; }
  fs::path streams() const { return dir() / kStreamDir; }

 private:
  TempDir tmp_;
};

struct RunResult {
  int exit_code;
  std::string out, err;
};

// Runs bd-analyze with args (shell words, already quoted where needed).
RunResult RunBdAnalyze(const std::string &args) {
  TempDir tmp;
  const fs::path out = tmp.path() / "out", err = tmp.path() / "err";
  const std::string cmd =
      std::string("'") + BD_ANALYZE_BIN + "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "'";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out), ReadFile(err)};
}

std::string ErrorText(const Expected<report::Report> &r) {
  return r.ok() ? std::string("(no error)") : r.error().ToString();
}

}  // namespace

// ---- golden trace ---------------------------------------------------------

TEST(Golden, TextReportMatchesByteForByte) {
  auto r = Analyze({kGoldenTrace});
  ASSERT_TRUE(r.ok()) << ErrorText(r);
  // The report names the trace path; make it independent of the checkout.
  const std::string text = ReplaceAll(FormatText(*r), kDataDir, "@DATA@");
  const fs::path golden = kDataDir + "/expected-summary.txt";
  if (std::getenv("BD_UPDATE_GOLDEN") != nullptr) {
    WriteFile(golden, text);
    GTEST_SKIP() << "rewrote " << golden << "; review the diff";
  }
  EXPECT_EQ(ReadFile(golden), text)
      << "the text report changed; if that is intended, rerun with BD_UPDATE_GOLDEN=1";
}

TEST(Golden, JsonRoundTripsAndHasTheCapturedContent) {
  auto r = Analyze({kGoldenTrace});
  ASSERT_TRUE(r.ok()) << ErrorText(r);
  auto json = FormatJson(*r);
  ASSERT_TRUE(json.ok()) << json.error().ToString();
  // Primitive fields are printed even when zero, with proto field names.
  EXPECT_NE(json->find("\"discarded_events\""), std::string::npos);
  EXPECT_NE(json->find("\"unmatched_ends\""), std::string::npos);
  EXPECT_NE(json->find("\"other\": \"0\""), std::string::npos);

  auto parsed = ParseJson(*json);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  const report::Report &p = *parsed;

  ASSERT_EQ(p.trace_paths_size(), 1);
  ASSERT_EQ(p.trace_dirs_size(), 1);
  EXPECT_EQ(p.trace_dirs(0), kGoldenTrace + "/" + kStreamDir);

  ASSERT_EQ(p.sessions_size(), 1);
  EXPECT_EQ(p.sessions(0).mode(), "user");
  EXPECT_EQ(p.sessions(0).arch(), "x86_64");
  EXPECT_EQ(p.sessions(0).program(), "trace-gen");
  EXPECT_EQ(p.sessions(0).abi_version(), 1u);
  EXPECT_EQ(p.sessions(0).vm(), "golden");

  const report::Totals &t = p.totals();
  EXPECT_EQ(t.events(), 34u);
  EXPECT_EQ(t.marks(), 12u);
  EXPECT_EQ(t.text_marks(), 1u);
  EXPECT_EQ(t.region_begins(), 6u);
  EXPECT_EQ(t.region_ends(), 6u);
  EXPECT_EQ(t.event_names(), 5u);
  EXPECT_EQ(t.rejected(), 1u);
  EXPECT_EQ(t.rejected_totals(), 2u);
  EXPECT_EQ(t.sessions(), 1u);
  EXPECT_EQ(t.other(), 0u);
  EXPECT_GT(p.trace_duration_ns(), 0);
  EXPECT_EQ(p.trace_end_ns() - p.trace_begin_ns(), p.trace_duration_ns());

  ASSERT_EQ(p.threads_size(), 2);
  EXPECT_EQ(p.threads(0).tid(), 4242u);
  EXPECT_EQ(p.threads(0).marks(), 8u);
  EXPECT_EQ(p.threads(0).text_marks(), 1u);
  EXPECT_EQ(p.threads(0).region_begins(), 4u);
  EXPECT_EQ(p.threads(0).region_ends(), 3u);
  EXPECT_EQ(p.threads(1).tid(), 4243u);
  EXPECT_EQ(p.threads(1).marks(), 4u);
  for (const auto &th : p.threads()) {
    EXPECT_EQ(th.pid(), 4242u);
    EXPECT_LE(p.trace_begin_ns(), th.first_timestamp_ns());
    EXPECT_LE(th.first_timestamp_ns(), th.last_timestamp_ns());
    EXPECT_LE(th.last_timestamp_ns(), p.trace_end_ns());
  }

  // Names were emitted after the marks: resolved at the end.
  ASSERT_EQ(p.events_size(), 3);
  EXPECT_EQ(p.events(0).event_id(), 1u);
  EXPECT_EQ(p.events(0).name(), "tick");
  EXPECT_EQ(p.events(0).count(), 9u);
  ASSERT_EQ(p.events(0).per_thread_size(), 2);
  EXPECT_EQ(p.events(0).per_thread(0).tid(), 4242u);
  EXPECT_EQ(p.events(0).per_thread(0).count(), 5u);
  EXPECT_EQ(p.events(0).per_thread(1).tid(), 4243u);
  EXPECT_EQ(p.events(0).per_thread(1).count(), 4u);
  EXPECT_EQ(p.events(1).name(), "work");
  EXPECT_EQ(p.events(1).count(), 3u);
  EXPECT_EQ(p.events(2).name(), "note");
  EXPECT_EQ(p.events(2).count(), 1u);

  // (10, main) nests (11, main) twice; (10, worker) twice; 12: stray end;
  // 13: never ended.
  ASSERT_EQ(p.regions_size(), 5);
  const auto &outer_main = p.regions(0);
  EXPECT_EQ(outer_main.region_id(), 10u);
  EXPECT_EQ(outer_main.name(), "outer");
  EXPECT_EQ(outer_main.tid(), 4242u);
  EXPECT_EQ(outer_main.count(), 1u);
  const auto &outer_worker = p.regions(1);
  EXPECT_EQ(outer_worker.tid(), 4243u);
  EXPECT_EQ(outer_worker.count(), 2u);
  const auto &inner = p.regions(2);
  EXPECT_EQ(inner.region_id(), 11u);
  EXPECT_EQ(inner.name(), "inner");
  EXPECT_EQ(inner.count(), 2u);
  // The outer region contains both inner ones.
  EXPECT_GE(outer_main.total_ns(), inner.total_ns());
  for (int i = 0; i < 3; ++i) {
    const auto &g = p.regions(i);
    EXPECT_GT(g.min_ns(), 0u);
    EXPECT_LE(g.min_ns(), g.mean_ns());
    EXPECT_LE(g.mean_ns(), g.max_ns());
    EXPECT_EQ(g.mean_ns(), g.total_ns() / g.count());
    EXPECT_EQ(g.unmatched_begins(), 0u);
    EXPECT_EQ(g.unmatched_ends(), 0u);
  }
  EXPECT_EQ(p.regions(3).region_id(), 12u);
  EXPECT_EQ(p.regions(3).count(), 0u);
  EXPECT_EQ(p.regions(3).unmatched_ends(), 1u);
  EXPECT_EQ(p.regions(4).region_id(), 13u);
  EXPECT_EQ(p.regions(4).unmatched_begins(), 1u);

  EXPECT_EQ(p.discarded_events().count(), 0u);
  EXPECT_EQ(p.discarded_events().messages(), 0u);

  // rejected_total (3 + 1) wins over the single rate-limited event.
  EXPECT_EQ(p.rejected().source(), report::Rejected::REJECTED_TOTAL);
  EXPECT_EQ(p.rejected().total(), 4u);
  ASSERT_EQ(p.rejected().reasons_size(), 2);
  EXPECT_EQ(p.rejected().reasons(0).name(), "bad_magic");
  EXPECT_EQ(p.rejected().reasons(0).count(), 3u);
  EXPECT_EQ(p.rejected().reasons(1).name(), "bad_kind");
  EXPECT_EQ(p.rejected().reasons(1).count(), 1u);
}

TEST(Golden, SameTraceGivenTwiceIsReadOnce) {
  auto dirs = FindTraceDirs({kGoldenTrace, kGoldenTrace + "/ust"});
  ASSERT_TRUE(dirs.ok()) << dirs.error().ToString();
  EXPECT_EQ(dirs->size(), 1u);
}

// ---- bad input: the library -------------------------------------------------

TEST(Errors, MissingDirectory) {
  auto r = Analyze({"/nonexistent/bd-trace"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("does not exist: /nonexistent/bd-trace"), std::string::npos)
      << ErrorText(r);
}

TEST(Errors, DirectoryWithoutMetadata) {
  TempDir tmp;
  fs::create_directories(tmp.path() / "ust/uid/0");
  WriteFile(tmp.path() / "ust/uid/0/readme", "not a trace");
  auto r = Analyze({tmp.path().string()});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not a CTF trace: no 'metadata' file under " + tmp.path().string()),
            std::string::npos)
      << ErrorText(r);
  EXPECT_NE(r.error().message.find("bd-run --trace"), std::string::npos);
}

TEST(Errors, EmptyStreamFilesMeanNoEvents) {
  TraceCopy copy;
  for (const auto &entry : fs::directory_iterator(copy.streams())) {
    if (entry.path().filename() != "metadata") fs::resize_file(entry.path(), 0);
  }
  auto r = Analyze({copy.dir().string()});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("trace has no events"), std::string::npos) << ErrorText(r);
}

TEST(Errors, MetadataOnlyMeansNoEvents) {
  TraceCopy copy;
  for (const auto &entry : fs::directory_iterator(copy.streams())) {
    if (entry.path().filename() != "metadata") fs::remove(entry.path());
  }
  auto r = Analyze({copy.dir().string()});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("trace has no events"), std::string::npos) << ErrorText(r);
}

TEST(Errors, TruncatedStreamFileIsAnErrorWithBabeltraceCauses) {
  TraceCopy copy;
  const fs::path stream = copy.streams() / "ch_0";
  ASSERT_TRUE(fs::exists(stream));
  fs::resize_file(stream, fs::file_size(stream) / 2);
  auto r = Analyze({copy.dir().string()});
  ASSERT_FALSE(r.ok()) << "a truncated trace must not give a partial report";
  EXPECT_NE(r.error().message.find(copy.streams().string()), std::string::npos) << ErrorText(r);
  ASSERT_FALSE(r.error().causes.empty()) << ErrorText(r);
  EXPECT_NE(r.error().ToString().find("ch_0"), std::string::npos) << ErrorText(r);
}

TEST(Errors, TruncatedMetadataIsAnError) {
  // babeltrace2 2.0.4 itself would spin forever on this one.
  TraceCopy copy;
  const fs::path metadata = copy.streams() / "metadata";
  fs::resize_file(metadata, fs::file_size(metadata) / 2 - 100);
  auto r = Analyze({copy.dir().string()});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("truncated CTF metadata"), std::string::npos) << ErrorText(r);
}

TEST(Errors, GarbageMetadataIsAnError) {
  TraceCopy copy;
  std::string garbage(3000, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 131 + 7) % 251);
  WriteFile(copy.streams() / "metadata", garbage);
  auto r = Analyze({copy.dir().string()});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cannot open the CTF trace"), std::string::npos) << ErrorText(r);
}

TEST(Errors, CorruptStreamBytesAreAnError) {
  TraceCopy copy;
  const fs::path stream = copy.streams() / "ch_0";
  std::string data = ReadFile(stream);
  ASSERT_GT(data.size(), 8u);
  data.replace(0, 4, "XXXX");  // the packet magic number
  WriteFile(stream, data);
  auto r = Analyze({copy.dir().string()});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().ToString().find("magic"), std::string::npos) << ErrorText(r);
}

// ---- trace discovery ----------------------------------------------------------

TEST(FindTraceDirs, FindsPerPidAndPerUidLayouts) {
  TempDir tmp;
  for (const char *d : {"ust/pid/a-1-2024/", "ust/pid/b-2-2024/", "ust/uid/0/64-bit/"}) {
    fs::create_directories(tmp.path() / d);
    WriteFile(tmp.path() / d / "metadata", "");
  }
  fs::create_directories(tmp.path() / "ust/uid/0/64-bit/index");
  auto dirs = FindTraceDirs({tmp.path().string()});
  ASSERT_TRUE(dirs.ok()) << dirs.error().ToString();
  ASSERT_EQ(dirs->size(), 3u);
  EXPECT_EQ((*dirs)[0], (tmp.path() / "ust/pid/a-1-2024").string());
  EXPECT_EQ((*dirs)[2], (tmp.path() / "ust/uid/0/64-bit").string());
}

TEST(FindTraceDirs, AFileIsNotATraceDirectory) {
  auto dirs = FindTraceDirs({kGoldenTrace + "/" + kStreamDir + "/metadata"});
  ASSERT_FALSE(dirs.ok());
  EXPECT_NE(dirs.error().message.find("not a directory"), std::string::npos);
}

// ---- the model on synthetic events ---------------------------------------------

TEST(Model, MatchesNestedRegionsPerThreadAndCountsStrays) {
  Model m;
  auto region = [&](int64_t ts, uint32_t tid, uint32_t id, bool begin) {
    m.OnRegion(RegionEvent{ts, 0, 1, tid, id, 0, begin});
  };
  region(100, 7, 5, true);
  region(110, 8, 5, true);   // another thread: its own stack
  region(120, 7, 5, true);   // recursion
  region(150, 7, 5, false);  // 30
  region(200, 7, 5, false);  // 100
  region(300, 8, 5, false);  // 190
  region(310, 8, 5, false);  // stray
  region(400, 8, 6, true);   // open
  report::Report r;
  m.Finish(r);
  ASSERT_EQ(r.regions_size(), 3);
  EXPECT_EQ(r.regions(0).tid(), 7u);
  EXPECT_EQ(r.regions(0).count(), 2u);
  EXPECT_EQ(r.regions(0).min_ns(), 30u);
  EXPECT_EQ(r.regions(0).max_ns(), 100u);
  EXPECT_EQ(r.regions(0).mean_ns(), 65u);
  EXPECT_EQ(r.regions(0).total_ns(), 130u);
  EXPECT_EQ(r.regions(1).tid(), 8u);
  EXPECT_EQ(r.regions(1).count(), 1u);
  EXPECT_EQ(r.regions(1).total_ns(), 190u);
  EXPECT_EQ(r.regions(1).unmatched_ends(), 1u);
  EXPECT_EQ(r.regions(2).region_id(), 6u);
  EXPECT_EQ(r.regions(2).unmatched_begins(), 1u);
  EXPECT_EQ(r.regions(2).min_ns(), 0u);
  EXPECT_EQ(r.trace_duration_ns(), 300);
}

TEST(Model, CountsRejectedEventsWhenThereIsNoTotal) {
  Model m;
  m.OnRejected(RejectedEvent{1, 0, 1, 2, "bad_version", 0});
  m.OnRejected(RejectedEvent{2, 0, 1, 2, "bad_version", 0});
  m.OnRejected(RejectedEvent{3, 0, 1, 1, "bad_magic", 0});
  report::Report r;
  m.Finish(r);
  EXPECT_EQ(r.rejected().source(), report::Rejected::COUNTED_EVENTS);
  EXPECT_EQ(r.rejected().total(), 3u);
  ASSERT_EQ(r.rejected().reasons_size(), 2);
  EXPECT_EQ(r.rejected().reasons(0).name(), "bad_magic");
  EXPECT_EQ(r.rejected().reasons(1).count(), 2u);
}

TEST(Model, RingDropsWhoseReportsWereLostCountByTheFinalTotal) {
  // Ring 3 reported 5 drops, then LTTng discarded a report of 4 more: its
  // final total (9) says so. Ring 4's reports add up.
  Model m;
  m.OnRingDropped(RingDroppedEvent{10, 3, 500, 501, 5, 5, false});
  m.OnRingDropped(RingDroppedEvent{20, 3, 500, 501, 0, 9, true});
  m.OnRingDropped(RingDroppedEvent{30, 4, 500, 502, 2, 2, false});
  m.OnRingDropped(RingDroppedEvent{40, 4, 500, 502, 0, 2, true});
  report::Report r;
  m.Finish(r);
  EXPECT_EQ(r.ring_drops().total(), 11u);
  ASSERT_EQ(r.ring_drops().rings_size(), 3);
  EXPECT_EQ(r.ring_drops().rings(0).tid(), 0u);  // the lost reports' drops: owner unknown
  EXPECT_EQ(r.ring_drops().rings(0).count(), 4u);
  EXPECT_EQ(r.ring_drops().rings(1).tid(), 501u);
  EXPECT_EQ(r.ring_drops().rings(1).count(), 5u);
  EXPECT_EQ(r.ring_drops().rings(2).count(), 2u);
  std::string warnings;
  for (const auto &w : r.warnings()) warnings += w + "\n";
  EXPECT_NE(warnings.find("final total is 9"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("rings dropped 11 records"), std::string::npos) << warnings;
}

TEST(Model, DiscardedEventsAndUnknownCountsAreReported) {
  Model m;
  m.OnMark(MarkEvent{5, 0, 1, 1, kKindMark, 9, {}, 1, ""});
  m.OnDiscardedEvents(DiscardedEventsMessage{30, true, 0, "bdtrace_1"});
  m.OnDiscardedEvents(DiscardedEventsMessage{10, true, 0, "bdtrace_0"});
  m.OnDiscardedEvents(DiscardedEventsMessage{1, false, 0, "bdtrace_1"});
  report::Report r;
  m.Finish(r);
  EXPECT_EQ(r.discarded_events().count(), 41u);
  EXPECT_EQ(r.discarded_events().messages(), 3u);
  EXPECT_EQ(r.discarded_events().messages_without_count(), 1u);
  // Per stream, in stream order.
  ASSERT_EQ(r.discarded_events().streams_size(), 2);
  EXPECT_EQ(r.discarded_events().streams(0).stream(), "bdtrace_0");
  EXPECT_EQ(r.discarded_events().streams(0).count(), 10u);
  EXPECT_EQ(r.discarded_events().streams(1).stream(), "bdtrace_1");
  EXPECT_EQ(r.discarded_events().streams(1).count(), 31u);
  EXPECT_NE(FormatText(r).find("bdtrace_0 10, bdtrace_1 31"), std::string::npos) << FormatText(r);
  std::string warnings;
  for (const auto &w : r.warnings()) warnings += w + "\n";
  EXPECT_NE(warnings.find("discarded 41 events"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("carried no count"), std::string::npos) << warnings;
  EXPECT_NE(FormatText(r).find("discarded:  41 events"), std::string::npos);
}

TEST(Format, Durations) {
  EXPECT_EQ(FormatDuration(0), "0 ns");
  EXPECT_EQ(FormatDuration(999), "999 ns");
  EXPECT_EQ(FormatDuration(12345), "12.345 us");
  EXPECT_EQ(FormatDuration(1500000), "1.500 ms");
  EXPECT_EQ(FormatDuration(2000000000), "2.000 s");
}

// ---- bad input: the bd-analyze program ---------------------------------------

TEST(Cli, TextReportOnGoldenTrace) {
  RunResult r = RunBdAnalyze("'" + kGoldenTrace + "'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(ReplaceAll(r.out, kDataDir, "@DATA@"), ReadFile(kDataDir + "/expected-summary.txt"));
}

TEST(Cli, JsonToFile) {
  TempDir tmp;
  const fs::path out = tmp.path() / "report.json";
  RunResult r = RunBdAnalyze("--format json -o '" + out.string() + "' '" + kGoldenTrace + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  auto parsed = ParseJson(ReadFile(out));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->totals().events(), 34u);
}

TEST(Cli, MissingDirectoryExitsOne) {
  RunResult r = RunBdAnalyze("/nonexistent/bd-trace");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("bd-analyze: error: trace directory does not exist", 0), 0u) << r.err;
}

TEST(Cli, DirectoryWithoutMetadataExitsOne) {
  TempDir tmp;
  RunResult r = RunBdAnalyze("'" + tmp.path().string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("bd-analyze: error: not a CTF trace", 0), 0u) << r.err;
}

TEST(Cli, EmptyTraceExitsOne) {
  TraceCopy copy;
  for (const auto &entry : fs::directory_iterator(copy.streams())) {
    if (entry.path().filename() != "metadata") fs::resize_file(entry.path(), 0);
  }
  RunResult r = RunBdAnalyze("'" + copy.dir().string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("bd-analyze: error: trace has no events", 0), 0u) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(Cli, TruncatedTraceExitsOneWithCauses) {
  TraceCopy copy;
  const fs::path stream = copy.streams() / "ch_1";
  fs::resize_file(stream, fs::file_size(stream) / 2);
  RunResult r = RunBdAnalyze("'" + copy.dir().string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("bd-analyze: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("caused by:"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "") << "no partial report";
}

TEST(Cli, UsageErrorsExitTwo) {
  RunResult none = RunBdAnalyze("");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(none.err.rfind("bd-analyze: error: ", 0), 0u) << none.err;
  RunResult bad = RunBdAnalyze("--format xml '" + kGoldenTrace + "'");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err.rfind("bd-analyze: error: ", 0), 0u) << bad.err;
}

TEST(Cli, HelpExplains) {
  RunResult r = RunBdAnalyze("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("TRACE_DIR"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--format"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bd-run --trace"), std::string::npos) << r.out;
}
