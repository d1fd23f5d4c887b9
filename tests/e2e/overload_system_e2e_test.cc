// SPDX-License-Identifier: MIT
// Overload in full-system mode (issue #12): 4 guest threads mark as fast
// as they can (~8 M marks/s) into LTTng buffers of 2 x 4 KiB per CPU; every
// mark the guest issued is in the trace or counted as discarded, exactly,
// and bd-analyze splits the loss by stream. (User mode: usermode_e2e's
// Overload test.)
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "support.h"

namespace {

using bdtest::run;
using bdtest::RunResult;
using bdtest::TempDir;

const std::string kVmDir = BD_VM_DIR;

uint64_t after(const std::string& text, const std::string& key) {
  return std::stoull("0" + bdtest::text_after(text, key));
}

TEST(OverloadSystem, EveryIssuedMarkIsRecordedOrCountedAsDiscarded) {
  struct stat st;
  ASSERT_EQ(stat((kVmDir + "/initramfs.cpio.gz").c_str(), &st), 0) << "no test VM image: run ./bdtrace build";
  TempDir dir("e2e-overload-system");
  const std::string trace = dir.path() + "/trace";
  const RunResult r = run({"timeout", "600", BD_RUN, "--system", "--subbuf-size", "4096", "--subbuf-count",
                           "2", "--trace", trace, "--kernel", kVmDir + "/vmlinuz", "--initrd",
                           kVmDir + "/initramfs.cpio.gz", "--append", "bd.run=/etc/bd/overload-test.sh"});
  ASSERT_EQ(r.status, 0) << r.err << "\n--- console:\n" << r.out;
  const uint64_t marks = after(r.out, "bd-test: marks");
  ASSERT_GT(marks, 0u) << r.out;
  EXPECT_EQ(after(r.out, "bd-test: taken"), marks) << "the trap took every mark";

  const RunResult report = run({BD_ANALYZE, trace, "-f", "csv"});
  ASSERT_EQ(report.status, 0) << report.err;
  uint64_t events = 0, sessions = 0, discarded = 0, by_stream = 0;
  for (const std::string& l : bdtest::lines(report.out)) {
    if (l.rfind("summary,events,", 0) == 0) events = std::stoull(l.substr(15));
    if (l.rfind("summary,sessions,", 0) == 0) sessions = std::stoull(l.substr(17));
    if (l.rfind("summary,discarded,", 0) == 0) discarded = std::stoull(l.substr(18));
    if (l.rfind("summary,discarded_stream,", 0) == 0) by_stream += std::stoull(l.substr(l.rfind('=') + 1));
  }
  EXPECT_GT(discarded, 0u) << "the flood did not overflow the buffers";
  // Nothing else in this guest emits: its marks plus the plugin's session.
  EXPECT_EQ(events + discarded, marks + sessions) << report.out;
  EXPECT_EQ(by_stream, discarded) << report.out;
  // bd-run warned with the same count.
  EXPECT_NE(r.err.find("LTTng discarded " + std::to_string(discarded) + " events"), std::string::npos)
      << r.err;
}

}  // namespace
