// SPDX-License-Identifier: MIT
#include "bdtrace/analyzer/analyze.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>

#include "bdtrace/analyzer/progress.h"
#include "bdtrace/analyzer/runs.h"

namespace bdtrace::analyzer {

namespace {

std::string Join(const std::vector<std::string> &v) {
  std::string out;
  for (const std::string &s : v) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

bool Contains(const std::vector<uint32_t> &v, uint32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// --pid/--tid: the CPU tables keep only the selected tasks (the others'
// times are not meaningful: their switches were dropped).
void KeepSelectedTasks(const Selection &sel, report::Report &r) {
  if (sel.pids.empty() && sel.tids.empty()) return;
  const auto task_kept = [&](uint32_t pid, uint32_t tid) {
    return (sel.pids.empty() || Contains(sel.pids, pid)) && (sel.tids.empty() || Contains(sel.tids, tid));
  };
  for (report::VcpuStats &v : *r.mutable_vcpus()) {
    auto *threads = v.mutable_threads();
    threads->erase(std::remove_if(threads->begin(), threads->end(),
                                  [&](const report::VcpuThread &t) { return !task_kept(t.pid(), t.tid()); }),
                   threads->end());
  }
  if (!sel.pids.empty()) {
    auto *processes = r.mutable_processes();
    processes->erase(
        std::remove_if(processes->begin(), processes->end(),
                       [&](const report::ProcessCpu &p) { return !Contains(sel.pids, p.pid()); }),
        processes->end());
    auto *activity = r.mutable_process_activity();
    activity->erase(
        std::remove_if(activity->begin(), activity->end(),
                       [&](const report::ProcessActivity &p) { return !Contains(sel.pids, p.pid()); }),
        activity->end());
  }
  if (r.vcpus_size() > 0) {
    r.add_warnings(
        "--pid/--tid: only the selected tasks' CPU times are exact; vCPU busy and idle "
        "times also count the tasks switched to in between");
  }
}

std::string Millis(uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f ms", static_cast<double>(ns) / 1e6);
  return buf;
}

// How the reader placed ring events (see GuestTime in report.proto), and
// what the report cannot vouch for because of it.
void SetGuestTime(const ReorderStats &s, const ReorderOptions &o, report::Report &r) {
  if (s.guest_events == 0 && s.late_events == 0) return;  // no ring events
  report::GuestTime *g = r.mutable_guest_time();
  g->set_events(s.guest_events);
  g->set_max_lag_ns(s.max_lag_ns);
  g->set_window_ns(o.window_ns);
  g->set_late_events(s.late_events);
  g->set_max_late_ns(s.max_late_ns);
  g->set_after_emission(s.after_emission);
  g->set_max_after_emission_ns(s.max_after_emission_ns);
  g->set_early_releases(s.early_releases);
  // Early releases alone are no loss of order: only say so when an event
  // came too late, since they narrow the window.
  if (s.late_events > 0) {
    const std::string narrowed = s.early_releases > 0 ? ", narrower while more than " +
                                                            std::to_string(o.max_held) + " events were held"
                                                      : "";
    r.add_warnings(std::to_string(s.late_events) +
                   " events arrived too late to be put in time "
                   "order (emitted more than the " +
                   Millis(static_cast<uint64_t>(o.window_ns)) + " reorder window" + narrowed +
                   " after their guest time; up to " + Millis(s.max_late_ns) +
                   " before events already analyzed): they were "
                   "analyzed out of order; a taskless one may be given to the wrong task, and "
                   "the chrome and svg exports draw them late");
  }
  if (s.after_emission > 0) {
    r.add_warnings(std::to_string(s.after_emission) +
                   " ring events had a guest_ts after their "
                   "emission (by up to " +
                   Millis(s.max_after_emission_ns) + "): placed at their emission time");
  }
}

// Several runs: the traces whose run's directory --vm names (DirNames,
// runs.h: how the report names a run whose sessions' names collide), and
// the names that matched.
struct RunsNamed {
  std::vector<uint32_t> traces;
  std::set<std::string> names;
};
RunsNamed VmsNamingRuns(const Runs &runs, const Selection &sel) {
  RunsNamed out;
  if (!runs.several()) return out;
  for (uint32_t t = 0; t < runs.of_trace.size(); ++t) {
    for (const std::string &name : DirNames(runs.dirs[runs.of_trace[t]])) {
      if (std::find(sel.vms.begin(), sel.vms.end(), name) == sel.vms.end()) continue;
      out.traces.push_back(t);
      out.names.insert(name);
    }
  }
  return out;
}

// --vm names that no session (nor run directory) gave (the others matched
// something).
void WarnUnknownVms(const Selection &sel, const TraceContents &contents,
                    const std::set<std::string> &run_names, report::Report &r) {
  for (const std::string &vm : sel.vms) {
    if (contents.vms.count(vm) != 0 || run_names.count(vm) != 0) continue;
    std::string known;
    for (const std::string &v : contents.vms) known += (known.empty() ? "" : ", ") + v;
    r.add_warnings("--vm " + vm + " names no VM of these traces (they hold: " +
                   (known.empty() ? std::string("none") : known) + ")");
  }
}

}  // namespace

report::SelectionInfo ToProto(const Selection &selection) {
  report::SelectionInfo s;
  for (const std::string &vm : selection.vms) s.add_vms(vm);
  for (uint32_t v : selection.vcpus) s.add_vcpus(v);
  for (uint32_t v : selection.pids) s.add_pids(v);
  for (uint32_t v : selection.tids) s.add_tids(v);
  for (uint32_t v : selection.events) s.add_events(v);
  if (selection.since_s) {
    s.set_has_since(true);
    s.set_since_s(*selection.since_s);
  }
  if (selection.until_s) {
    s.set_has_until(true);
    s.set_until_s(*selection.until_s);
  }
  return s;
}

Expected<report::Report> Analyze(const std::vector<std::string> &paths, const ReaderOptions &options) {
  AnalyzeOptions o;
  o.reader = options;
  return Analyze(paths, o);
}

Expected<report::Report> Analyze(const std::vector<std::string> &paths, const AnalyzeOptions &options) {
  if (Status valid = options.selection.Validate(); !valid) return valid.take_error();
  Expected<std::vector<std::string>> dirs = FindTraceDirs(paths);
  if (!dirs) return dirs.take_error();

  ModelOptions model_options = options.model;
  model_options.runs = GroupRuns(*dirs);  // several runs: one VM each
  Model model(model_options);
  std::vector<EventVisitor *> targets = {&model};
  targets.insert(targets.end(), options.also.begin(), options.also.end());
  TeeVisitor tee(targets);
  EventVisitor &consumer = targets.size() == 1 ? static_cast<EventVisitor &>(model) : tee;
  SelectingVisitor selector(options.selection, consumer);
  const RunsNamed runs_named = VmsNamingRuns(model_options.runs, options.selection);
  selector.KeepVmTraces(runs_named.traces);
  if (options.on_selector) options.on_selector(selector);
  // Nothing to select and nobody asking for the selector's origin: hand the
  // events straight to the consumers (one virtual call less per event).
  // Every event then reaches the model, so its count is the selector's.
  const bool select = !options.selection.empty() || options.on_selector;
  EventVisitor &selected = select ? static_cast<EventVisitor &>(selector) : consumer;
  const auto seen = [&] { return select ? selector.seen() : model.events(); };

  std::unique_ptr<ProgressVisitor> progress;
  if (options.progress_fd >= 0) {
    Expected<TimeRange> range = QueryTimeRange(*dirs);
    progress = std::make_unique<ProgressVisitor>(selected, options.progress_fd,
                                                 range ? std::optional<TimeRange>(*range) : std::nullopt,
                                                 StreamBytes(*dirs));
  }
  EventVisitor &first = progress ? static_cast<EventVisitor &>(*progress) : selected;
  ReorderStats order;
  Status read = ReadTraces(*dirs, first, options.reader, &order);
  if (progress) progress->Clear();
  if (!read) return read.take_error();
  // A selection that keeps no mark, region, switch or block (with --event:
  // no mark or region) of a trace that has some, or names no VM the trace
  // has: an error that says what the trace does hold, rather than an empty
  // report. (A trace with nothing to select, e.g. only rejected records,
  // still gets its report.)
  const TraceContents &held = selector.contents();
  const bool vm_unknown =
      !options.selection.vms.empty() &&
      std::none_of(options.selection.vms.begin(), options.selection.vms.end(), [&](const std::string &vm) {
        return held.vms.count(vm) != 0 || runs_named.names.count(vm) != 0;
      });
  if (!options.selection.empty() && selector.seen() > 0 && !selector.matched() &&
      (held.HoldsSelectable() || vm_unknown)) {
    const std::string what =
        options.selection.events.empty() ? "mark, region or context switch" : "mark or region";
    return Error{"the selection (" + options.selection.ToString() + ") matches no " + what + " of the " +
                     std::to_string(selector.seen()) + " events in " + Join(*dirs) +
                     "; the trace holds: " + held.ToString(),
                 {}};
  }
  if (seen() == 0) {
    return Error{"trace has no events: " + Join(*dirs) +
                     " — was tracing started before the guest ran, and were bdtrace:* events "
                     "enabled?",
                 {}};
  }

  report::Report report;
  for (const std::string &p : paths) report.add_trace_paths(p);
  for (const std::string &d : *dirs) report.add_trace_dirs(d);
  *report.mutable_selection() = ToProto(options.selection);
  model.Finish(report);
  SetGuestTime(order, options.reader.reorder, report);
  KeepSelectedTasks(options.selection, report);
  if (!options.selection.empty())
    WarnUnknownVms(options.selection, selector.contents(), runs_named.names, report);
  return report;
}

}  // namespace bdtrace::analyzer
