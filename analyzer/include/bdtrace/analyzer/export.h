/* SPDX-License-Identifier: MIT */
// Exporters: bdtrace events as pictures and as traces for other viewers.
//
//   ChromeExporter  Chrome trace JSON (Trace Event Format), which
//                   ui.perfetto.dev and chrome://tracing open.
//   SvgExporter     a timeline picture: vCPUs (or threads) x time.
//
// Both are EventVisitors: hand them to ReadTraces, then call Finish(). They
// stream: memory holds state per VM, vCPU, thread, open region and name —
// never per event (the SVG keeps a bounded number of pixel columns per
// lane) — so a trace of millions of events exports in constant memory.
//
// Names. bd_name_event names an id for marks and regions, and its
// bdtrace:event_name may come anywhere in the trace — often after the marks
// it names (trace-gen's golden trace names its ids at the end). The SVG is
// written at Finish() and uses the final names. The Chrome JSON is written
// as events arrive, so on its own it can only use the names known so far
// (`event <id>` / `region <id>` before that; args always carry the id). For
// exact names read the trace twice: first into a NameCollector, then into a
// ChromeExporter given those (final) names.
#ifndef BDTRACE_ANALYZER_EXPORT_H
#define BDTRACE_ANALYZER_EXPORT_H

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bdtrace/analyzer/events.h"
#include "bdtrace/analyzer/runs.h"
#include "bdtrace/status.h"

namespace bdtrace::analyzer {

// Event/region id -> name (bdtrace:event_name; the last name given wins).
using EventNames = std::unordered_map<uint32_t, std::string>;

// Collects the names only (a cheap first pass for ChromeExporter).
class NameCollector final : public EventVisitor {
 public:
  const EventNames &names() const { return names_; }
  EventNames take_names() { return std::move(names_); }

  void OnEventName(const EventNameEvent &e) override { names_[e.event] = std::string(e.name); }
  bool WantsMarkDetails() const override { return false; }

 private:
  EventNames names_;
};

// Chrome trace JSON, written to `out` as events arrive:
//   {"traceEvents":[ ... ]}
// - One process per VM (per CTF trace): pid = trace index + 1, named by the
//   session's VM name (system mode) or "user: <program>" (user mode). With
//   several runs (SetVmNames) the run's VM name leads: "run1 (user: prog)".
// - System mode (the session says "system", or sched_switch was seen):
//   one thread track per vCPU (tid = vCPU index, named "vCPU N") holding the
//   guest thread that runs there as B/E slices named `comm[pid/tid]` (the
//   idle task is not drawn) and the marks made on that vCPU.
// - User mode: one track per guest thread (tid = guest tid, "tid N").
// - Marks: thread-scoped instants named after their event id, args a0..a3
//   (numbers; values above 2^53 as "0x..." strings), text, pid, tid, kind,
//   event, seq. Rejected records: instants named "rejected: <reason>".
// - Regions: async slices (b/e, cat "region"), one async track per
//   (thread, region id, nesting depth); begins still open at the end are
//   closed at the last timestamp, ends without a begin are dropped.
// - Code tracing: each recorded block a complete slice ("X", cat "block")
//   named by its pc, on its thread's (vCPU's) track, args pc and n_insns;
//   a batch's blocks are spread over its span by instructions. At most
//   kMaxBlocks are drawn (the first ones; narrow the export with
//   --from/--to), the rest counted in a "blocks not drawn" instant at the
//   end; blocks the plugin lost show as "blocks lost" instants.
// - ts: microseconds (3 decimals, i.e. exact ns) since the first event.
class ChromeExporter final : public EventVisitor {
 public:
  // Names as they come in the trace (one pass; see above).
  explicit ChromeExporter(std::ostream &out);
  // The final names, e.g. a NameCollector's from a first pass: the trace's
  // own bdtrace:event_name events are then ignored.
  ChromeExporter(std::ostream &out, EventNames final_names);
  ~ChromeExporter() override;
  ChromeExporter(const ChromeExporter &) = delete;
  ChromeExporter &operator=(const ChromeExporter &) = delete;

  // Each trace's VM name when several runs are read (ResolveVmNames,
  // runs.h), by trace number: each trace's process is named after its run.
  // Call before the first event.
  void SetVmNames(std::vector<std::string> names_by_trace);

  void OnMark(const MarkEvent &e) override;
  void OnRegion(const RegionEvent &e) override;
  void OnEventName(const EventNameEvent &e) override;
  void OnSession(const SessionEvent &e) override;
  void OnRejected(const RejectedEvent &e) override;
  void OnRejectedTotal(const RejectedTotalEvent &e) override;
  void OnSchedSwitch(const SchedSwitchEvent &e) override;
  void OnTbExec(const TbExecEvent &e) override;
  void OnCall(const CallEvent &e) override;
  void OnBlob(const BlobEvent &e) override;
  static constexpr uint64_t kMaxBlocks = 250000;
  void OnOtherEvent(int64_t ts_ns, std::string_view class_name) override;

  // Closes what is still open at the last timestamp and ends the JSON.
  // Errors if the stream failed. Call once; events after it are ignored.
  Status Finish();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

struct SvgOptions {
  int width = 1400;      // pixels, the whole picture
  int lane_height = 44;  // pixels per vCPU (or thread) lane
  int max_lanes = 128;   // more lanes are counted, not drawn
  std::string title = "bdtrace timeline";
  // The run of each trace (runs.h): with several, lanes are labelled by
  // each run's VM name.
  Runs runs;
};

// An SVG timeline, written at Finish():
// - one lane per vCPU (system mode; per VM when there are several) or per
//   guest thread (user mode), time left to right from the first event;
// - a rect per run of a guest thread on a vCPU, coloured by process name
//   (pid, comm: a process that exec'd is one entry per name, as in the text
//   report): the 12 busiest a palette colour each, the others one shared
//   colour; a <title> tooltip; the idle task is a gap; user-mode lanes show
//   the thread's active span (one colour);
// - regions as thin bars under the lane (up to 3 nesting levels), in colours
//   no process uses (8 region ids one each, the others one shared), marks
//   as ticks above it, a time axis and a legend holding every colour a lane
//   uses.
// Runs, regions and marks are kept per lane in time buckets that coarsen
// (by halving) as the trace grows, never more than 2 x plot width per
// lane, and drawn at >= 1 px: the file stays bounded (a few hundred bytes
// per lane pixel at worst) however long the trace.
class SvgExporter final : public EventVisitor {
 public:
  explicit SvgExporter(std::ostream &out, SvgOptions options = {});
  ~SvgExporter() override;
  SvgExporter(const SvgExporter &) = delete;
  SvgExporter &operator=(const SvgExporter &) = delete;

  void OnMark(const MarkEvent &e) override;
  void OnRegion(const RegionEvent &e) override;
  void OnEventName(const EventNameEvent &e) override;
  void OnSession(const SessionEvent &e) override;
  void OnRejected(const RejectedEvent &e) override;
  void OnRejectedTotal(const RejectedTotalEvent &e) override;
  void OnSchedSwitch(const SchedSwitchEvent &e) override;
  void OnOtherEvent(int64_t ts_ns, std::string_view class_name) override;

  // Ends open runs and regions at the last timestamp and writes the SVG.
  // Errors if the stream failed. Call once.
  Status Finish();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_EXPORT_H
