// SPDX-License-Identifier: MIT
// Unit tests of libbdguest without a bdtrace host (natively, or under plain
// qemu-x86_64): return values, the records it builds, text truncation,
// signal safety, threads and fork.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bd/bd.h>
#include <bd/record_fill.h>

#include "internal.h"

namespace {

uint32_t current_tid() { return static_cast<uint32_t>(syscall(SYS_gettid)); }

const bd_record &slot0() { return *bd_internal_slot(0); }

TEST(GuestApi, EveryCallReturnsZeroWithoutHost) {
  EXPECT_EQ(bd_present(), 0);
  EXPECT_EQ(bd_mark(1), 0);
  EXPECT_EQ(bd_mark_args(1, 1, 2, 3, 4), 0);
  EXPECT_EQ(bd_mark_text(2, "text"), 0);
  EXPECT_EQ(bd_region_begin(100), 0);
  EXPECT_EQ(bd_region_end(100), 0);
  EXPECT_EQ(bd_name_event(1, "tick"), 0);
  EXPECT_EQ(bd_internal_depth(), 0u);
}

TEST(GuestApi, MisuseReturnsNegative) {
  EXPECT_EQ(bd_mark_text(2, nullptr), -EINVAL);
  EXPECT_EQ(bd_name_event(1, nullptr), -EINVAL);
  EXPECT_EQ(bd_name_event(1, ""), -EINVAL);
}

TEST(GuestApi, MarkFillsEveryField) {
  ASSERT_EQ(bd_mark_args(7, 11, 22, 33, 0xfeedULL), 0);
  const bd_record &r = slot0();
  EXPECT_EQ(r.magic, BD_MAGIC);
  EXPECT_EQ(r.version, BD_ABI_VERSION);
  EXPECT_EQ(r.kind, BD_KIND_MARK);
  EXPECT_EQ(r.event, 7u);
  EXPECT_EQ(r.text_len, 0u);
  EXPECT_EQ(r.flags, 0u);
  EXPECT_EQ(r.args[0], 11u);
  EXPECT_EQ(r.args[1], 22u);
  EXPECT_EQ(r.args[2], 33u);
  EXPECT_EQ(r.args[3], 0xfeedu);
  EXPECT_EQ(r.pid, static_cast<uint32_t>(getpid()));
  EXPECT_EQ(r.tid, current_tid());
  EXPECT_EQ(r.reply, BD_REPLY_NONE);
  EXPECT_EQ(r.reserved, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(&r) % BD_RECORD_SIZE, 0u);

  const uint64_t seq = r.seq;
  ASSERT_EQ(bd_region_begin(5), 0);
  EXPECT_EQ(r.kind, BD_KIND_REGION_BEGIN);
  EXPECT_EQ(r.event, 5u);
  EXPECT_EQ(r.args[0], 0u);
  EXPECT_EQ(r.seq, seq + 1);
  ASSERT_EQ(bd_region_end(5), 0);
  EXPECT_EQ(r.kind, BD_KIND_REGION_END);
  ASSERT_EQ(bd_present(), 0);
  EXPECT_EQ(r.kind, BD_KIND_HELLO);
  EXPECT_EQ(r.seq, seq + 3);
}

TEST(GuestApi, TextAndNameRecords) {
  const bd_record &r = slot0();
  ASSERT_EQ(bd_mark_text(2, "hello"), 0);
  EXPECT_EQ(r.kind, BD_KIND_MARK_TEXT);
  EXPECT_EQ(r.event, 2u);
  EXPECT_EQ(r.text_len, 5u);
  EXPECT_STREQ(r.text, "hello");
  ASSERT_EQ(bd_name_event(100, "phase"), 0);
  EXPECT_EQ(r.kind, BD_KIND_EVENT_NAME);
  EXPECT_EQ(r.event, 100u);
  EXPECT_EQ(r.text_len, 5u);
  EXPECT_STREQ(r.text, "phase");
  // A kind without text leaves no stale text behind.
  ASSERT_EQ(bd_mark(3), 0);
  EXPECT_EQ(r.text_len, 0u);
  EXPECT_STREQ(r.text, "");
}

TEST(GuestApi, LongTextIsTruncatedTo55Bytes) {
  const std::string long_text(200, 'x');
  ASSERT_EQ(bd_mark_text(2, long_text.c_str()), 0);
  const bd_record &r = slot0();
  EXPECT_EQ(r.text_len, BD_TEXT_MAX);
  EXPECT_EQ(std::string(r.text), long_text.substr(0, BD_TEXT_MAX));
  EXPECT_EQ(r.text[BD_TEXT_MAX], '\0');
}

// bd_record_fill_text on a record followed by a canary.
struct Guarded {
  bd_record rec;
  unsigned char canary[128];
};

TEST(RecordFill, TruncationNeverWritesPastTheRecord) {
  Guarded g;
  std::memset(&g, 0xa5, sizeof g);
  const std::string long_text(1000, 'y');
  EXPECT_EQ(bd_record_fill_text(&g.rec, long_text.c_str()), BD_TEXT_MAX);
  EXPECT_EQ(g.rec.text_len, BD_TEXT_MAX);
  EXPECT_EQ(g.rec.text[BD_TEXT_MAX], '\0');
  EXPECT_EQ(std::string(g.rec.text), long_text.substr(0, BD_TEXT_MAX));
  for (unsigned char c : g.canary) ASSERT_EQ(c, 0xa5);
}

TEST(RecordFill, LengthsAroundTheLimit) {
  bd_record r;
  for (size_t len : {size_t{0}, size_t{1}, size_t{54}, size_t{55}, size_t{56}}) {
    std::memset(&r, 0xff, sizeof r);
    const std::string text(len, 'z');
    const size_t want = len < BD_TEXT_MAX ? len : BD_TEXT_MAX;
    EXPECT_EQ(bd_record_fill_text(&r, text.c_str()), want) << len;
    EXPECT_EQ(r.text_len, want) << len;
    EXPECT_EQ(r.text[want], '\0') << len;
  }
}

TEST(RecordFill, ReadsAtMost55BytesOfUnterminatedText) {
  // 55 bytes without a NUL, right before an inaccessible page.
  const long page = sysconf(_SC_PAGESIZE);
  void *map = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(map, MAP_FAILED);
  char *base = static_cast<char *>(map);
  ASSERT_EQ(mprotect(base + page, page, PROT_NONE), 0);
  char *text = base + page - BD_TEXT_MAX;
  std::memset(text, 'q', BD_TEXT_MAX);
  bd_record r;
  EXPECT_EQ(bd_record_fill_text(&r, text), BD_TEXT_MAX);
  EXPECT_EQ(r.text[BD_TEXT_MAX], '\0');
  EXPECT_EQ(bd_mark_text(2, text), 0);
  munmap(map, 2 * page);
}

TEST(RecordFill, HeaderResetsEverythingButText) {
  bd_record r;
  std::memset(&r, 0xff, sizeof r);
  bd_record_fill_header(&r, BD_KIND_MARK, 9, 1, 2, 3, 4, 10, 11, 12);
  EXPECT_EQ(r.magic, BD_MAGIC);
  EXPECT_EQ(r.version, BD_ABI_VERSION);
  EXPECT_EQ(r.flags, 0u);
  EXPECT_EQ(r.reserved, 0u);
  EXPECT_EQ(r.reply, BD_REPLY_NONE);
  EXPECT_EQ(r.text_len, 0u);
  EXPECT_EQ(r.text[0], '\0');
  EXPECT_EQ(r.pid, 10u);
  EXPECT_EQ(r.tid, 11u);
  EXPECT_EQ(r.seq, 12u);
}

TEST(GuestThreads, EachThreadHasItsOwnTidAndSequence) {
  const uint32_t main_tid = current_tid();
  ASSERT_EQ(bd_mark(1), 0);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int k = 0; k < 4; k++) {
    threads.emplace_back([&bad, main_tid] {
      if (bd_mark(1) != 0) bad++;
      const bd_record &r = slot0();
      if (r.seq != 1 || r.tid != current_tid() || r.tid == main_tid ||
          r.pid != static_cast<uint32_t>(getpid()))
        bad++;
      for (int i = 0; i < 10000; i++)
        if (bd_mark_args(1, i, 0, 0, 0) != 0) bad++;
      if (r.seq != 10001) bad++;
    });
  }
  for (auto &t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

// Signal handler: marks while the main thread is in the middle of marks.
std::atomic<int> g_handler_calls{0};
std::atomic<int> g_handler_inside_mark{0};
std::atomic<int> g_handler_bad{0};

void on_alarm(int) {
  const int saved_errno = errno;
  if (bd_internal_depth() != 0) g_handler_inside_mark++;
  if (bd_mark_args(9, 1, 2, 3, 4) != 0) g_handler_bad++;
  if (bd_mark_text(10, "from a signal handler") != 0) g_handler_bad++;
  g_handler_calls++;
  errno = saved_errno;
}

TEST(GuestSignals, MarksFromASignalHandlerDuringMarks) {
  g_handler_calls = 0;
  g_handler_inside_mark = 0;
  g_handler_bad = 0;
  struct sigaction sa = {};
  struct sigaction old = {};
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ASSERT_EQ(sigaction(SIGALRM, &sa, &old), 0);
  // Read the starting sequence before the timer runs: a handler in between
  // would move it.
  ASSERT_EQ(bd_mark(1), 0);
  const uint64_t seq0 = slot0().seq;
  struct itimerval every_20us = {{0, 20}, {0, 20}};
  ASSERT_EQ(setitimer(ITIMER_REAL, &every_20us, nullptr), 0);
  uint64_t main_calls = 0;
  int bad = 0;
  for (uint64_t i = 0; g_handler_calls.load() < 2000 && i < 200000000; i++) {
    if (bd_mark_args(1, i, 0, 0, 0) != 0) bad++;
    main_calls++;
  }
  struct itimerval off = {};
  setitimer(ITIMER_REAL, &off, nullptr);
  sigaction(SIGALRM, &old, nullptr);

  EXPECT_EQ(bad, 0);
  EXPECT_EQ(g_handler_bad.load(), 0);
  EXPECT_GT(g_handler_calls.load(), 0);
  EXPECT_EQ(bd_internal_depth(), 0u);
  // Every record got its own sequence number: none lost, none shared.
  ASSERT_EQ(bd_mark(1), 0);
  EXPECT_EQ(slot0().seq, seq0 + main_calls + 2u * g_handler_calls.load() + 1)
      << "main calls " << main_calls << ", handler calls " << g_handler_calls.load();
  // Informational: how often the handler really interrupted a mark.
  RecordProperty("handler_calls", g_handler_calls.load());
  RecordProperty("handler_inside_mark", g_handler_inside_mark.load());
}

TEST(GuestFork, ChildGetsItsOwnPidTidAndSequence) {
  ASSERT_EQ(bd_mark(1), 0);
  const uint32_t parent_pid = static_cast<uint32_t>(getpid());
  ASSERT_EQ(slot0().pid, parent_pid);
  const uint64_t parent_seq = slot0().seq;

  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int code = 0;
    if (bd_mark(2) != 0) code |= 1;
    const bd_record &r = slot0();
    if (r.pid != static_cast<uint32_t>(getpid()) || r.pid == parent_pid) code |= 2;
    if (r.tid != current_tid()) code |= 4;
    if (r.seq != 1) code |= 8;
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "bit 1: call failed, 2: stale pid, 4: stale tid, 8: seq not reset";

  ASSERT_EQ(bd_mark(1), 0);
  EXPECT_EQ(slot0().pid, parent_pid);
  EXPECT_EQ(slot0().seq, parent_seq + 1);
}

}  // namespace
