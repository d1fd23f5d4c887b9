// SPDX-License-Identifier: MIT
// The filter as the plugin runs it (filter/plugin_filter.h), natively: the
// watcher thread reloads the file while "vCPU" threads decide and account
// on every record (the hot path: one atomic pointer, per-vCPU counters,
// rate cells, drop reports), then finish() reads everything at exit. Under
// ThreadSanitizer (label tsan), with reloads QEMU runs would rarely hit.
#include "bdtrace/filter/plugin_filter.h"

#include <bd/abi.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.h"

namespace bdtrace::filter {
namespace {

using Clock = std::chrono::steady_clock;

// Rate-limited marks (drop reports due now and then) and a DROP rule whose
// pid changes with each generation.
std::string config(int generation) {
  return "rule { name: \"no pid " + std::to_string(100 + generation) +
         "\" process { pid: " + std::to_string(100 + generation) +
         " } action: DROP }\n"
         "rule { name: \"limited\" kind: MARK rate_limit { events_per_second: 1000 burst: 10 } "
         "action: RECORD }\n";
}

// Written beside and renamed over, as an editor or a script would.
void write_file(const std::string &path, const std::string &text) {
  const std::string tmp = path + ".new";
  std::ofstream(tmp) << text;
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
}

std::atomic<uint64_t> g_published{0};

TEST(PluginFilter, ReloadsOnTheWatcherThreadWhileVcpusDecide) {
  bdtrace::testing::TempDir tmp;
  const std::string path = tmp / "filter.txtpb";
  write_file(path, config(1));
  const Status loaded = g_plugin_filter.load(
      path, "guest",
      [](uint64_t generation, const CompiledFilter &f) {
        EXPECT_EQ(f.generation(), generation);
        g_published.store(generation, std::memory_order_relaxed);
      },
      false);
  ASSERT_TRUE(loaded) << loaded.error();
  g_plugin_filter.begin();  // starts the watcher

  constexpr unsigned kVcpus = 3;
  std::atomic<bool> stop{false};
  std::vector<uint64_t> decided(kVcpus, 0);
  std::vector<std::thread> vcpus;
  for (unsigned v = 0; v < kVcpus; ++v) {
    vcpus.emplace_back([v, &stop, &decided] {
      while (!stop.load(std::memory_order_relaxed)) {
        const CompiledFilter *f = g_plugin_filter.active();
        if (f == nullptr) continue;
        const uint32_t pid = 100 + static_cast<uint32_t>(decided[v] % 4);
        const Subject s{v, Identity{pid, pid, f->fixed_comm_mask()}};
        const Decision d = f->decide(s, BD_KIND_MARK, 1);
        g_plugin_filter.account(v, *f, d);
        ++decided[v];
      }
    });
  }

  // Three rewrites, each picked up by the watcher (kWatchPeriod apart).
  for (int generation = 2; generation <= 4; ++generation) {
    std::this_thread::sleep_for(kWatchPeriod * 2);
    write_file(path, config(generation));
    const auto end = Clock::now() + std::chrono::seconds(10);
    while (g_plugin_filter.runtime().generation() < static_cast<uint64_t>(generation) && Clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_EQ(g_plugin_filter.runtime().generation(), static_cast<uint64_t>(generation));
  }
  stop.store(true);
  for (std::thread &t : vcpus) t.join();
  EXPECT_EQ(g_published.load(), 4u);
  EXPECT_EQ(g_plugin_filter.active()->generation(), 4u);

  g_plugin_filter.finish();  // stops the watcher, reads every counter
  const VcpuCounts total = g_plugin_filter.totals();
  uint64_t all = 0;
  for (uint64_t n : decided) all += n;
  EXPECT_EQ(total.recorded + total.filtered + total.rate_dropped, all);
  EXPECT_GT(total.filtered, 0u);
  EXPECT_GT(total.rate_dropped, 0u);
}

}  // namespace
}  // namespace bdtrace::filter
