// SPDX-License-Identifier: MIT
// The filter inside the QEMU plugin (see plugin_filter.h).
#include "bdtrace/filter/plugin_filter.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <utility>

#include "bdtrace/bdtrace_tp.h"

namespace bdtrace::filter {

NoDestroy<PluginFilter> g_plugin_filter_storage;

Status PluginFilter::load(const std::string &given, const std::string &comm, PublishHook hook, bool verbose) {
  // An absolute path: in user mode the guest's chdir() moves QEMU too.
  std::string path = given;
  if (!path.empty() && path[0] != '/') {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) != nullptr) path = resolved;
  }
  runtime_.configure(path, comm);
  hook_ = std::move(hook);
  verbose_ = verbose;
  const LoadReport r = runtime_.reload();
  if (!r.ok) return make_error("filter config refused: " + r.message);
  if (pthread_atfork(before_fork, after_fork_parent, after_fork_child) != 0) {
    return make_error("pthread_atfork failed; cannot follow forks with a filter");
  }
  if (hook_) hook_(r.generation, *runtime_.current());
  first_ = r;
  return Status::Ok();
}

void PluginFilter::begin() {
  if (runtime_.current() == nullptr || watcher_) return;
  emit_filter_event(first_);
  if (verbose_)
    std::fprintf(stderr, "bdtrace: filter '%s' generation %" PRIu64 " (%zu rules, digest %s)\n",
                 runtime_.path().c_str(), first_.generation, first_.rules, first_.digest.c_str());
  watcher_ = std::make_unique<FileWatcher>(runtime_.path(), kWatchPeriod, [this] { reload_and_report(); });
}

void PluginFilter::emit_filter_event(const LoadReport &r) noexcept {
  lttng_ust_tracepoint(bdtrace, filter, r.generation, r.ok ? "ok" : "error", r.digest.c_str(),
                       runtime_.path().c_str(), r.message.c_str(), static_cast<uint32_t>(r.rules));
}

// On the watcher thread.
void PluginFilter::reload_and_report() noexcept {
  try {
    const LoadReport r = runtime_.reload();
    if (r.ok && hook_) hook_(r.generation, *runtime_.current());
    emit_filter_event(r);
    if (!r.ok) {
      std::fprintf(stderr, "bdtrace: filter reload refused, generation %" PRIu64 " stays: %s\n", r.generation,
                   r.message.c_str());
    } else if (verbose_) {
      std::fprintf(stderr, "bdtrace: filter generation %" PRIu64 " (digest %s) in force\n", r.generation,
                   r.digest.c_str());
    }
  } catch (...) {
    std::fprintf(stderr, "bdtrace: filter reload failed (out of memory?)\n");
  }
}

void PluginFilter::report_drop(uint32_t vcpu, const CompiledFilter &f, const Decision &d) noexcept {
  const DropReport r = f.take_drop_report(d.rule, vcpu);
  lttng_ust_tracepoint(bdtrace, dropped, vcpu_slot(vcpu), f.generation(), static_cast<uint32_t>(d.rule),
                       f.rule_label(d.rule).c_str(), r.count, r.total, 0);
}

void PluginFilter::finish() noexcept {
  if (runtime_.current() == nullptr) return;
  if (watcher_) watcher_->stop();
  try {
    runtime_.for_each_config([](uint64_t generation, const CompiledFilter &f) {
      f.drain_drops([&](int rule, unsigned slot, uint64_t pending, uint64_t total) {
        lttng_ust_tracepoint(bdtrace, dropped, slot, generation, static_cast<uint32_t>(rule),
                             f.rule_label(rule).c_str(), pending, total, 1);
      });
    });
  } catch (...) {
  }
  bool any = false;
  for (unsigned slot = 0; slot < kVcpuSlots; ++slot) {
    const VcpuCounts c = runtime_.counts(slot);
    if (c.recorded + c.filtered + c.rate_dropped == 0) continue;
    lttng_ust_tracepoint(bdtrace, filter_stats, slot, c.recorded, c.filtered, c.rate_dropped);
    any = true;
  }
  // No record at all (e.g. a guest traced for its code only): one event of
  // zeros still says the run ended normally and the filter dropped nothing.
  if (!any) lttng_ust_tracepoint(bdtrace, filter_stats, 0, 0, 0, 0);
  if (verbose_) {
    const VcpuCounts t = totals();
    std::fprintf(stderr,
                 "bdtrace: pid %d: filter let %" PRIu64 " records through, filtered %" PRIu64
                 ", rate-dropped %" PRIu64 "\n",
                 static_cast<int>(getpid()), t.recorded, t.filtered, t.rate_dropped);
  }
}

VcpuCounts PluginFilter::totals() const noexcept {
  VcpuCounts t;
  for (unsigned slot = 0; slot < kVcpuSlots; ++slot) {
    const VcpuCounts c = runtime_.counts(slot);
    t.recorded += c.recorded;
    t.filtered += c.filtered;
    t.rate_dropped += c.rate_dropped;
  }
  return t;
}

// Fork (user mode: the guest forked). The watcher thread does not exist in
// the child: its object is abandoned there (never joined or freed) and a
// new watcher is started, so the child follows the file too.
void PluginFilter::before_fork() noexcept { g_plugin_filter.runtime_.before_fork(); }

void PluginFilter::after_fork_parent() noexcept { g_plugin_filter.runtime_.after_fork(); }

void PluginFilter::after_fork_child() noexcept {
  PluginFilter &self = g_plugin_filter;
  self.runtime_.reset_counts();
  self.runtime_.after_fork();
  (void)self.watcher_.release();  // its thread is gone; leak it on purpose
  try {
    self.watcher_ = std::make_unique<FileWatcher>(self.runtime_.path(), kWatchPeriod,
                                                  [] { g_plugin_filter.reload_and_report(); });
  } catch (...) {
    std::fprintf(stderr,
                 "bdtrace: pid %d: cannot watch the filter file; reloads will not apply "
                 "to this process\n",
                 static_cast<int>(getpid()));
  }
}

}  // namespace bdtrace::filter
