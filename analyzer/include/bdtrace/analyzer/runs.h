/* SPDX-License-Identifier: MIT */
// Runs: which recording each trace read belongs to, and the VM name each
// gets when bd-analyze merges several runs into one report.
//
// A run is one recording (one bd-run, one LTTng session): the directory
// LTTng wrote the session into. A CTF trace directory X/ust/uid/<uid>/<bits>
// or X/ust/pid/<proc>/ belongs to the run X — where bd-run --trace put it,
// or where lttng-relayd wrote a streamed session
// (<output>/<host>/<session>-<date>). A trace directory not under a `ust`
// directory is a run of its own. One run can hold several traces (per-PID
// buffers: one per emitting process) and several bdtrace:session events
// (QEMU, the ring consumer, forked QEMUs); all of them are one VM.
//
// VM names. With one run every trace keeps the name its first session
// gives (model.h). With several runs all traces of a run share one name,
// unique per run: the name its sessions give (bd-run --vm, or the user-mode
// program) when no other run gives the same, else the shortest tail of the
// run's directory that no other run's directory ends with (usually its
// basename).
#ifndef BDTRACE_ANALYZER_RUNS_H
#define BDTRACE_ANALYZER_RUNS_H

#include <cstdint>
#include <string>
#include <vector>

#include "bdtrace/analyzer/events.h"

namespace bdtrace::analyzer {

// The run directory of one trace directory (see above).
std::string RunDirOf(const std::string &trace_dir);

struct Runs {
  std::vector<std::string> dirs;   // one per run, in the order first met
  std::vector<uint32_t> of_trace;  // trace number (index in trace_dirs) -> run index
  bool several() const { return dirs.size() > 1; }
};

// Groups trace directories (as FindTraceDirs returns them) into runs.
Runs GroupRuns(const std::vector<std::string> &trace_dirs);

// The names a run's directory can give its VM: its tails, shortest first
// ("/t/a/b" -> "b", "a/b", "/t/a/b"). bd-analyze --vm accepts them.
std::vector<std::string> DirNames(const std::string &run_dir);

// Collects the VM name each trace's first session gives (VmName), by trace
// number ("" for traces without one): what ResolveVmNames needs, for a
// first pass of outputs that name VMs before they read the events.
class SessionNames final : public EventVisitor {
 public:
  void OnSession(const SessionEvent &e) override;
  bool WantsMarkDetails() const override { return false; }
  const std::vector<std::string> &names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::vector<bool> named_;
};

// The VM name of each trace, given the name each trace's first session
// gave (empty: none; indexes past the end count as empty) — see above.
// Returns one name per trace of runs.of_trace.
std::vector<std::string> ResolveVmNames(const Runs &runs, const std::vector<std::string> &session_names);

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_RUNS_H
