/* SPDX-License-Identifier: MIT */
// The filter in force in a plugin: loading (and reloading) the config file,
// publishing compiled configs through one atomic pointer, and per-vCPU
// counts of what the filter decided.
//
// Publication: reload() compiles a new CompiledFilter and swaps the
// pointer (release); readers load it (acquire) on every trap. Old configs
// are never freed (bounded by the number of reloads): a vCPU may still use
// the one it loaded, and nothing frees them at exit either, so a vCPU that
// still runs while static destructors do never sees a freed config.
#ifndef BDTRACE_FILTER_RUNTIME_H
#define BDTRACE_FILTER_RUNTIME_H

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "bdtrace/filter/compiled.h"

namespace bdtrace::filter {

// The outcome of one (re)load, for bdtrace:filter and messages.
struct LoadReport {
  bool ok = false;
  uint64_t generation = 0;  // of the config in force afterwards (0: none)
  std::string digest;       // of the config in force afterwards
  std::string message;      // "" when ok, else the file:line:column error
  size_t rules = 0;
};

// Per vCPU slot: what the filter decided. Recorded counts records the
// filter let through (the emitter may still find no session recording).
struct VcpuCounts {
  uint64_t recorded = 0;
  uint64_t filtered = 0;      // DROP rule or DROP default
  uint64_t rate_dropped = 0;  // over a rate limit
};

class FilterRuntime {
 public:
  FilterRuntime() = default;
  FilterRuntime(const FilterRuntime &) = delete;
  FilterRuntime &operator=(const FilterRuntime &) = delete;

  // Before the first reload(). comm: see CompiledFilter::compile.
  void configure(std::string path, std::string comm, Clock clock = monotonic_now_ns);

  // Reads, validates and compiles the file; on success publishes it as
  // the next generation. On failure keeps the config in force.
  LoadReport reload();

  // The config in force, or nullptr when none was ever loaded.
  const CompiledFilter *current() const noexcept { return current_.load(std::memory_order_acquire); }

  // Counts one decision on `vcpu`. Single writer per slot below 64
  // (plain load + store); the shared slot 64 uses an atomic add.
  void count(uint32_t vcpu, Verdict v) noexcept {
    const unsigned slot = vcpu_slot(vcpu);
    std::atomic<uint64_t> &c = v == Verdict::Record ? counts_[slot].recorded
                               : v == Verdict::Drop ? counts_[slot].filtered
                                                    : counts_[slot].rate_dropped;
    if (slot < kMaxVcpus)
      c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    else
      c.fetch_add(1, std::memory_order_relaxed);
  }
  VcpuCounts counts(unsigned slot) const noexcept;
  void reset_counts() noexcept;  // forked child

  // fn(generation, const CompiledFilter &) for every config ever published.
  template <class Fn>
  void for_each_config(Fn &&fn) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < history_.size(); ++i) fn(uint64_t{i + 1}, *history_[i]);
  }
  uint64_t generation() const;
  const std::string &path() const noexcept { return path_; }

  // Around fork() (pthread_atfork): the child must not inherit mu_ held
  // by a thread that does not exist there.
  void before_fork() noexcept { mu_.lock(); }
  void after_fork() noexcept { mu_.unlock(); }

 private:
  struct alignas(64) Counts {
    std::atomic<uint64_t> recorded{0};
    std::atomic<uint64_t> filtered{0};
    std::atomic<uint64_t> rate_dropped{0};
  };

  std::string path_;
  std::string comm_;
  Clock clock_ = monotonic_now_ns;
  std::atomic<const CompiledFilter *> current_{nullptr};
  mutable std::mutex mu_;                        // guards history_
  std::vector<const CompiledFilter *> history_;  // never freed, see above
  Counts counts_[kVcpuSlots];
};

}  // namespace bdtrace::filter

#endif  // BDTRACE_FILTER_RUNTIME_H
