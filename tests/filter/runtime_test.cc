// SPDX-License-Identifier: MIT
// Publication and reloads from a file, and the file watcher.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "bdtrace/filter/runtime.h"
#include "bdtrace/filter/watcher.h"

using namespace bdtrace::filter;

namespace {

class TempFile {
 public:
  TempFile() {
    char tmpl[] = "/tmp/bdfilter-test-XXXXXX";
    const int fd = mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = tmpl;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  // Written beside and renamed over: readers see the old or the new file.
  void write(const std::string &text) {
    const std::string tmp = path_ + ".new";
    std::ofstream(tmp) << text;
    ASSERT_EQ(std::rename(tmp.c_str(), path_.c_str()), 0);
  }
  const std::string &path() const { return path_; }

 private:
  std::string path_;
};

TEST(Runtime, ReloadPublishesValidConfigsAndKeepsTheOldOnError) {
  TempFile file;
  file.write("rule { events { id: 1 } action: DROP }");
  FilterRuntime rt;
  EXPECT_EQ(rt.current(), nullptr);
  rt.configure(file.path(), "");
  LoadReport r = rt.reload();
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.generation, 1u);
  EXPECT_EQ(r.rules, 1u);
  const CompiledFilter *first = rt.current();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->generation(), 1u);
  EXPECT_EQ(first->digest(), r.digest);

  file.write("rule { events { id: 1 } action: DRAP }");
  r = rt.reload();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message, file.path() + ":1:33: Unknown enumeration value of \"DRAP\" for field \"action\".");
  EXPECT_EQ(r.generation, 1u);
  EXPECT_EQ(rt.current(), first);

  file.write("rule { events { id: 2 } action: DROP }");
  r = rt.reload();
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.generation, 2u);
  EXPECT_NE(rt.current(), first);
  EXPECT_NE(r.digest, first->digest());
  // The old config stays valid for readers that still hold it.
  EXPECT_EQ(first->decide(Subject{0, {1, 1, ~0ull}}, BD_KIND_MARK, 1).verdict, Verdict::Drop);
  int n = 0;
  rt.for_each_config([&](uint64_t g, const CompiledFilter &f) {
    EXPECT_EQ(f.generation(), g);
    ++n;
  });
  EXPECT_EQ(n, 2);
}

TEST(Runtime, CountsPerVcpu) {
  FilterRuntime rt;
  rt.count(0, Verdict::Record);
  rt.count(0, Verdict::Drop);
  rt.count(5, Verdict::RateDrop);
  rt.count(99, Verdict::Drop);
  rt.count(64, Verdict::Drop);
  EXPECT_EQ(rt.counts(0).recorded, 1u);
  EXPECT_EQ(rt.counts(0).filtered, 1u);
  EXPECT_EQ(rt.counts(5).rate_dropped, 1u);
  EXPECT_EQ(rt.counts(64).filtered, 2u);
  rt.reset_counts();
  EXPECT_EQ(rt.counts(64).filtered, 0u);
}

TEST(Watcher, SeesARewriteWithinAFewPeriods) {
  TempFile file;
  file.write("a");
  std::atomic<int> changes{0};
  FileWatcher w(file.path(), std::chrono::milliseconds(20), [&] { ++changes; });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(changes.load(), 0);
  file.write("bb");
  const auto t0 = std::chrono::steady_clock::now();
  while (changes.load() == 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(changes.load(), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
  // Removing the file is not a change.
  std::remove(file.path().c_str());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(changes.load(), 1);
  w.stop();
  file.write("ccc");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(changes.load(), 1);
}

}  // namespace
