/* SPDX-License-Identifier: MIT */
// bd-analyze --report timeline: per vCPU, the run intervals (start, end,
// pid, tid, comm) from bdtrace:sched_switch, written as they close — the
// one report whose size follows the trace's, so it is streamed, never
// stored. Between two switches on a vCPU the first one's next task runs;
// a vCPU's last interval is closed at the last event seen (open_ended).
// The time before a vCPU's first switch is unknown and not shown.
#ifndef BDTRACE_ANALYZER_TIMELINE_H
#define BDTRACE_ANALYZER_TIMELINE_H

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "bdtrace/analyzer/events.h"
#include "bdtrace/status.h"
#include "report.pb.h"

namespace bdtrace::analyzer {

enum class TimelineFormat { kText, kJson, kCsv };

struct TimelineOptions {
  TimelineFormat format = TimelineFormat::kText;
  // Intervals written at most (0: all); the rest are only counted.
  uint64_t limit = 0;
  // A vm column (text) — worth it when several traces are read.
  bool vm_column = false;
  // Several runs: each trace's VM name by trace number (ResolveVmNames,
  // runs.h). Empty: the name each trace's first session gives.
  std::vector<std::string> vm_names;
  // The trace start that text and CSV times count from (the first event of
  // all traces, as --since/--until do); default: the first event seen here.
  // Called once, at the first event this writer sees (during reading).
  std::function<std::optional<int64_t>()> origin;
};

class TimelineWriter final : public EventVisitor {
 public:
  TimelineWriter(std::ostream &out, TimelineOptions options);

  void OnMark(const MarkEvent &e) override { Seen(e.ts_ns); }
  void OnRegion(const RegionEvent &e) override { Seen(e.ts_ns); }
  void OnEventName(const EventNameEvent &e) override { Seen(e.ts_ns); }
  void OnSession(const SessionEvent &e) override;
  void OnRejected(const RejectedEvent &e) override { Seen(e.ts_ns); }
  void OnRejectedTotal(const RejectedTotalEvent &e) override { Seen(e.ts_ns); }
  void OnSchedSwitch(const SchedSwitchEvent &e) override;
  void OnOtherEvent(int64_t ts_ns, std::string_view) override { Seen(ts_ns); }
  bool WantsMarkDetails() const override { return false; }  // marks: only their time

  // Closes every vCPU's last interval and writes the end: intervals not
  // shown, and from summary (the Model's report of the same events) the
  // discarded and rejected counts and the warnings. Errors if the stream
  // failed.
  Status Finish(const report::Report &summary);

  uint64_t intervals() const { return intervals_; }

 private:
  struct Run {
    bool started = false;
    int64_t since_ns = 0;
    uint32_t pid = 0, tid = 0;
    std::string comm;
  };
  struct Vm {
    std::string name;
    bool named = false;
    std::vector<Run> vcpus;
  };

  void Seen(int64_t ts_ns) {
    if (!has_first_) {
      has_first_ = true;
      first_ns_ = ts_ns;
      // Asked now, while the trace is read: options_.origin may read a
      // visitor (the selection) that is gone once reading ended.
      Origin();
    }
    if (ts_ns > last_ns_) last_ns_ = ts_ns;
  }
  Vm &VmOf(uint32_t trace);
  int64_t Origin();
  void Header();
  void Write(const Vm &vm, uint32_t vcpu, const Run &run, int64_t end_ns, bool open_ended);

  std::ostream &out_;
  TimelineOptions options_;
  std::vector<Vm> vms_;  // by trace
  bool has_first_ = false, header_written_ = false, has_origin_ = false;
  int64_t first_ns_ = 0, last_ns_ = INT64_MIN, origin_ns_ = 0;
  uint64_t intervals_ = 0, written_ = 0;
  std::string line_;  // reused for every line
};

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_TIMELINE_H
