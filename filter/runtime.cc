// SPDX-License-Identifier: MIT
// Loading and publishing filter configs (see runtime.h).
#include "bdtrace/filter/runtime.h"

#include <utility>

namespace bdtrace::filter {

void FilterRuntime::configure(std::string path, std::string comm, Clock clock) {
  path_ = std::move(path);
  comm_ = std::move(comm);
  clock_ = clock;
}

LoadReport FilterRuntime::reload() {
  LoadReport report;
  const Expected<FilterConfig> config = load_config_file(path_);
  const bool ok = config.ok();
  std::unique_ptr<CompiledFilter> compiled;
  if (ok) compiled = CompiledFilter::compile(*config, comm_, clock_);

  std::lock_guard<std::mutex> lock(mu_);
  if (ok) {
    compiled->set_generation(history_.size() + 1);
    history_.push_back(compiled.get());
    current_.store(compiled.release(), std::memory_order_release);
  }
  report.ok = ok;
  report.message = ok ? std::string() : config.error().message;
  report.generation = history_.size();
  if (!history_.empty()) {
    report.digest = history_.back()->digest();
    report.rules = history_.back()->rule_count();
  }
  return report;
}

uint64_t FilterRuntime::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return history_.size();
}

VcpuCounts FilterRuntime::counts(unsigned slot) const noexcept {
  VcpuCounts c;
  if (slot >= kVcpuSlots) return c;
  c.recorded = counts_[slot].recorded.load(std::memory_order_relaxed);
  c.filtered = counts_[slot].filtered.load(std::memory_order_relaxed);
  c.rate_dropped = counts_[slot].rate_dropped.load(std::memory_order_relaxed);
  return c;
}

void FilterRuntime::reset_counts() noexcept {
  for (auto &c : counts_) {
    c.recorded.store(0, std::memory_order_relaxed);
    c.filtered.store(0, std::memory_order_relaxed);
    c.rate_dropped.store(0, std::memory_order_relaxed);
  }
  const CompiledFilter *f = current();
  if (f != nullptr) f->reset_drops();
  // Older configs' drop counts belong to the parent too.
  for (const CompiledFilter *old : history_) old->reset_drops();
}

}  // namespace bdtrace::filter
