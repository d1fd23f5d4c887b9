// SPDX-License-Identifier: MIT
// The code-tracing batches (plugin/block_batches.h) with their real drain
// thread, natively: producer threads stand for vCPU threads, an LTTng
// session records tb_batch so that the drain thread reads every chunk it
// emits. Under ThreadSanitizer (label tsan) every access is checked here,
// where in QEMU (qemu_tsan_test.sh) only the plugin's side is; and a check
// that every batch arrives exactly once.
#include "bdtrace/plugin/block_batches.h"

#include <gtest/gtest.h>
#include <lttng/lttng.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "bdtrace/tools/lttng_session.h"
#include "temp_dir.h"

namespace bdtrace::plugin {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<int> g_hook_calls{0};
void count_hook() { g_hook_calls.fetch_add(1, std::memory_order_relaxed); }

// Polls `done` every millisecond for up to `limit`.
template <class Pred>
bool wait_for(Pred done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto end = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// tb_batch events of this process in `dir`, by tid (babeltrace2's text
// output: one line per event).
// `sample`: the first line read, for a failure message.
std::map<uint32_t, int> batches_by_tid(const std::string &dir, std::string &sample) {
  std::map<uint32_t, int> by_tid;
  const std::string cmd = "babeltrace2 '" + dir + "' 2>/dev/null";
  FILE *in = ::popen(cmd.c_str(), "r");
  if (in == nullptr) return by_tid;
  // The payload's fields, not the vpid/vtid context before them.
  const std::string pid = ", pid = " + std::to_string(::getpid()) + ", tid = ";
  char line[1 << 16];  // an event's line is ~6 KB; a longer one is cut, counted once
  while (std::fgets(line, sizeof line, in) != nullptr) {
    const std::string l = line;
    if (sample.empty()) sample = l.substr(0, 300);
    if (l.find("bdtrace:tb_batch:") == std::string::npos || l.find(pid) == std::string::npos) continue;
    ++by_tid[static_cast<uint32_t>(std::stoul(l.substr(l.find(pid) + pid.size())))];
  }
  ::pclose(in);
  return by_tid;
}

TEST(BlockBatches, DrainThreadEmitsEveryBatchOfConcurrentProducers) {
  ASSERT_EQ(lttng_session_daemon_alive(), 1)
      << "no lttng-sessiond is running: start one with `lttng-sessiond --daemonize` "
         "or run the tests through ./bdtrace test, which starts it";
  bdtrace::testing::TempDir tmp;
  tools::SessionOptions o;
  o.output_dir = tmp / "trace";
  o.event_pattern = "bdtrace:tb_batch";
  o.only_included_processes = true;  // sessions are machine-wide
  o.subbuf_size = 1u << 20;
  o.subbuf_count = 8;
  Expected<tools::LttngSession> session = tools::LttngSession::create(o);
  ASSERT_TRUE(session.ok()) << session.error();
  ASSERT_TRUE(session->include_process(::getpid()).ok());
  ASSERT_TRUE(session->start().ok());

  g_block_batches.set_recording_hook(count_hook);
  const Status started = g_block_batches.start();
  ASSERT_TRUE(started) << started.error();
  // The drain thread polls LTTng every kDrainPeriod.
  ASSERT_TRUE(wait_for([] { return g_block_batches.recording(); }))
      << "the drain thread never saw the session recording tb_batch";

  // Each thread: its own producer, full batches only, fewer than a ring
  // holds (no wait, no loss whatever the drain thread's pace); then it
  // exits like a guest thread (last batch out, producer retired).
  constexpr int kThreads = 4;
  constexpr int kBatches = 300;
  std::vector<BlockProducer *> used(kThreads, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &used] {
      BlockProducer *p = g_block_batches.acquire();
      if (p == nullptr) return;
      used[t] = p;
      const uint32_t tid = 1000 + t;
      for (uint32_t i = 0; i < kBatches * BlockProducer::kBlocks; ++i)
        p->add(t, ::getpid(), tid, 0x400000 + 4 * i, 1 + i % 7);
      p->end_batch();
      p->retired.store(true, std::memory_order_release);
    });
  }
  for (std::thread &t : threads) t.join();
  for (BlockProducer *p : used) ASSERT_NE(p, nullptr);

  // Once the drain thread emptied a retired producer, another thread gets
  // it back (a later guest thread in user mode).
  BlockProducer *again = nullptr;
  ASSERT_TRUE(wait_for([&] {
    for (BlockProducer *p : used)
      if (p->retired.load() && p->drained()) return true;
    return false;
  })) << "the drain thread did not empty the retired rings";
  std::thread reuser([&] { again = g_block_batches.acquire(); });
  reuser.join();
  bool reused = false;
  for (BlockProducer *p : used) reused = reused || p == again;
  EXPECT_TRUE(reused) << "acquire() did not reuse a drained, retired producer";
  if (again != nullptr) {
    again->add(0, ::getpid(), 2000, 0x500000, 3);  // one partial batch, flushed at exit
  }

  g_block_batches.flush_all();  // joins the drain thread, emits the rest
  ASSERT_TRUE(session->stop().ok());
  // recording() went from false to true: the hook ran (on the drain thread,
  // or in start() when a session already recorded).
  EXPECT_GE(g_hook_calls.load(), 1);
  Expected<uint64_t> discarded = session->discarded_events();
  ASSERT_TRUE(discarded.ok()) << discarded.error();
  ASSERT_EQ(discarded.value(), 0u) << "LTTng discarded events: the counts below would not add up";

  std::string sample;
  const std::map<uint32_t, int> got = batches_by_tid(session->output_dir(), sample);
  for (int t = 0; t < kThreads; ++t) {
    const auto it = got.find(1000 + t);
    EXPECT_EQ(it == got.end() ? 0 : it->second, kBatches)
        << "tid " << 1000 + t << "; the trace's first line: " << sample;
  }
  const auto last = got.find(2000);
  EXPECT_EQ(last == got.end() ? 0 : last->second, 1) << "the partial batch flushed at exit";
}

}  // namespace
}  // namespace bdtrace::plugin
