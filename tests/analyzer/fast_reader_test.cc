// SPDX-License-Identifier: MIT
// The fast reader in process (issue #15): the same Report as babeltrace2's
// reading, whether it reads the streams ahead on threads of their own or
// all on the caller's thread, and what ReadTraces says it used. (The
// shell tests readers_agree and ctf_lttng compare bd-analyze's output
// bytes; the end-to-end tests run every bd-analyze call with both readers.)
#include <gtest/gtest.h>

#include <google/protobuf/util/message_differencer.h>

#include <string>
#include <vector>

#include "bdtrace/analyzer/analyze.h"
#include "bdtrace/analyzer/reader.h"

namespace ba = bdtrace::analyzer;

namespace {

const std::string kDataDir = BD_TEST_DATA_DIR;

bdtrace::report::Report ReportOf(const std::vector<std::string> &paths, ba::ReaderKind kind,
                                 ba::ReadAhead read_ahead) {
  ba::ReaderOptions options;
  options.kind = kind;
  options.read_ahead = read_ahead;
  bdtrace::Expected<bdtrace::report::Report> r = ba::Analyze(paths, options);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  return r.ok() ? *r : bdtrace::report::Report{};
}

class FastReader : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(FastReader, SameReportAsBabeltrace2AheadOrNot) {
  std::vector<std::string> paths;
  for (const std::string &t : GetParam()) paths.push_back(kDataDir + "/" + t);
  const bdtrace::report::Report bt = ReportOf(paths, ba::ReaderKind::kBabeltrace2, ba::ReadAhead::kNever);
  ASSERT_GT(bt.totals().events(), 0u);
  for (ba::ReadAhead ahead : {ba::ReadAhead::kAlways, ba::ReadAhead::kNever}) {
    const bdtrace::report::Report fast = ReportOf(paths, ba::ReaderKind::kFast, ahead);
    std::string diff;
    google::protobuf::util::MessageDifferencer d;
    d.ReportDifferencesToString(&diff);
    EXPECT_TRUE(d.Compare(bt, fast)) << (ahead == ba::ReadAhead::kAlways ? "read ahead: " : "one thread: ")
                                     << diff;
  }
}

INSTANTIATE_TEST_SUITE_P(
    CapturedTraces, FastReader,
    ::testing::Values(std::vector<std::string>{"small-trace"}, std::vector<std::string>{"system-trace"},
                      std::vector<std::string>{"ring-trace"},
                      std::vector<std::string>{"small-trace", "system-trace", "ring-trace"}));

// A counting visitor: how many events ReadTraces delivered.
struct Counter : ba::EventVisitor {
  void OnMark(const ba::MarkEvent &) override { ++marks; }
  uint64_t marks = 0;
};

TEST(FastReaderUse, ReadTracesSaysWhichReaderItUsed) {
  bdtrace::Expected<std::vector<std::string>> dirs = ba::FindTraceDirs({kDataDir + "/small-trace"});
  ASSERT_TRUE(dirs.ok());
  Counter fast, bt;
  ba::ReadInfo info;
  ASSERT_TRUE(ba::ReadTraces(*dirs, fast, {}, nullptr, &info).ok());
  EXPECT_EQ(info.used, ba::ReaderKind::kFast);
  EXPECT_TRUE(info.fallback_reason.empty());
  ba::ReaderOptions bt_only;
  bt_only.kind = ba::ReaderKind::kBabeltrace2;
  ASSERT_TRUE(ba::ReadTraces(*dirs, bt, bt_only, nullptr, &info).ok());
  EXPECT_EQ(info.used, ba::ReaderKind::kBabeltrace2);
  EXPECT_GT(fast.marks, 0u);
  EXPECT_EQ(fast.marks, bt.marks);
}

}  // namespace
