/* SPDX-License-Identifier: MIT */
// The filter as the QEMU plugin runs it (both backends): the initial load
// (a bad file stops QEMU from starting), the watcher thread that reloads
// the file, the bdtrace:filter / bdtrace:dropped / bdtrace:filter_stats
// events, and fork handling (user mode: a guest fork is a QEMU fork).
//
// One instance per process: g_plugin_filter. Backends test
// g_plugin_filter.active() (one load of a pointer) on every trap and only
// then call decide()/account().
#ifndef BDTRACE_FILTER_PLUGIN_FILTER_H
#define BDTRACE_FILTER_PLUGIN_FILTER_H

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "bdtrace/filter/compiled.h"
#include "bdtrace/filter/runtime.h"
#include "bdtrace/filter/watcher.h"
#include "bdtrace/status.h"

namespace bdtrace::filter {

class PluginFilter {
 public:
  // Called after each successful publication with its generation (system
  // mode: bump the channel header's generation). From the thread that
  // loaded it (install or the watcher).
  using PublishHook = std::function<void(uint64_t generation, const CompiledFilter &)>;

  // Loads and publishes `path` (refusing a bad file with its
  // file:line:column message) and registers the fork handlers.
  // comm: the guest program's basename in user mode, "" in system mode.
  // Call once, from qemu_plugin_install, before any trap can run.
  Status load(const std::string &path, const std::string &comm, PublishHook hook, bool verbose);
  // Then, after bdtrace:session: emits bdtrace:filter for generation 1
  // and starts the watcher thread. No-op without load().
  void begin();

  // The config in force; nullptr when no filter was configured.
  const CompiledFilter *active() const noexcept { return runtime_.current(); }

  // After decide(): counts the decision and emits bdtrace:dropped when the
  // rate limiter says a report is due. Hot path: no lock, no allocation.
  void account(uint32_t vcpu, const CompiledFilter &f, const Decision &d) noexcept {
    runtime_.count(vcpu, d.verdict);
    if (__builtin_expect(d.report_due, 0)) report_drop(vcpu, f, d);
  }

  // At QEMU exit: stops the watcher, emits the last bdtrace:dropped of
  // every rate-limited rule and vCPU (final = 1, with the totals) and one
  // bdtrace:filter_stats per vCPU slot that saw records (one of zeros for
  // slot 0 when none did).
  void finish() noexcept;

  // Total filtered / rate-dropped / recorded (summary line).
  VcpuCounts totals() const noexcept;

  FilterRuntime &runtime() noexcept { return runtime_; }

 private:
  void reload_and_report() noexcept;
  void report_drop(uint32_t vcpu, const CompiledFilter &f, const Decision &d) noexcept;
  void emit_filter_event(const LoadReport &r) noexcept;
  static void before_fork() noexcept;
  static void after_fork_parent() noexcept;
  static void after_fork_child() noexcept;

  FilterRuntime runtime_;
  PublishHook hook_;
  bool verbose_ = false;
  LoadReport first_;
  std::unique_ptr<FileWatcher> watcher_;
};

// Storage for an object that is constructed at load time and never
// destroyed: in system emulation QEMU runs the plugin's exit callback
// after the plugin's static destructors, and vCPU threads may still trap
// while they run. Same address and access cost as a plain global.
template <class T>
union NoDestroy {
  T value;
  NoDestroy() : value() {}
  ~NoDestroy() {}
};

extern NoDestroy<PluginFilter> g_plugin_filter_storage;
// The one instance (a reference to a constant address: no indirection).
inline PluginFilter &g_plugin_filter = g_plugin_filter_storage.value;

// The watcher's polling period.
inline constexpr std::chrono::milliseconds kWatchPeriod{100};

}  // namespace bdtrace::filter

#endif  // BDTRACE_FILTER_PLUGIN_FILTER_H
