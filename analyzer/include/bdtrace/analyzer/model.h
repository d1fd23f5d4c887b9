/* SPDX-License-Identifier: MIT */
// Aggregates bdtrace events into a Report.
//
// Memory is bounded by live state — threads, event ids, regions open right
// now, one duration histogram per (thread, region id), one rate series per
// event id — never by the number of events. Names (bdtrace:event_name) may
// come after the events they name: they are resolved in Finish().
//
// VMs: each trace is one VM, named by its first bdtrace:session (vm, or in
// user mode without one the program). Threads are (trace, pid, tid): equal
// ids in two traces are two threads. Rows carry the VM's name. When the
// traces come from several runs (ModelOptions::runs), each run is one VM
// and names all its traces, unique per run (runs.h; resolved in Finish,
// once every session is known).
//
// Times: every event is at ts_ns, which for ring events is their guest
// time (reader.h, "Guest time"); the reader delivers them in that order.
//
// Ring losses: bdtrace:ring_dropped counts add up per ring (and per owner
// thread) to the exact number of records the guest could not write.
//
// Attribution: a mark or region belongs to the guest (pid, tid) it carries
// (user mode: the thread that called bd_mark). In system mode a record
// with pid 0 and tid 0 (no task context, e.g. from an interrupt) is given
// to the task the vCPU's switch timeline says is running, if any; names
// (comm) come from the switch timeline.
//
// Guest CPU time (system mode) comes from bdtrace:sched_switch: per VM (one
// per trace: a VM's QEMU writes its own trace) and per vCPU, the task
// switched in runs until the next switch on that vCPU. Time before a vCPU's
// first switch is unknown; the last task switched in runs to the end of the
// trace. A switch costs one integer hash lookup; a comm is copied only the
// first time a (pid, tid) runs under that name on that vCPU.
#ifndef BDTRACE_ANALYZER_MODEL_H
#define BDTRACE_ANALYZER_MODEL_H

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string_view>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "bdtrace/analyzer/events.h"
#include "bdtrace/analyzer/histogram.h"
#include "bdtrace/analyzer/hot_blocks.h"
#include "bdtrace/analyzer/rates.h"
#include "bdtrace/analyzer/runs.h"
#include "report.pb.h"

namespace bdtrace::analyzer {

struct ModelOptions {
  // Width of the mark-rate buckets; 0: chosen from the trace's duration.
  uint64_t rate_bucket_ns = 0;
  // The run of each trace (runs.h): with several, each run is one VM and
  // its rows are named by the run. Empty: one run.
  Runs runs;
};

class Model final : public EventVisitor {
 public:
  Model() : Model(ModelOptions{}) {}
  explicit Model(const ModelOptions &options) : runs_(options.runs), rates_(options.rate_bucket_ns) {}

  void OnMark(const MarkEvent &e) override;
  void OnRegion(const RegionEvent &e) override;
  void OnEventName(const EventNameEvent &e) override;
  void OnSession(const SessionEvent &e) override;
  void OnRejected(const RejectedEvent &e) override;
  void OnRejectedTotal(const RejectedTotalEvent &e) override;
  void OnSchedSwitch(const SchedSwitchEvent &e) override;
  void OnTbExec(const TbExecEvent &e) override;
  void OnRingDropped(const RingDroppedEvent &e) override;
  void OnBlob(const BlobEvent &e) override;
  void OnCall(const CallEvent &e) override;
  void OnFilter(const FilterEvent &e) override;
  void OnFilterDropped(const FilterDroppedEvent &e) override;
  void OnFilterStats(const FilterStatsEvent &e) override;
  void OnOtherEvent(int64_t ts_ns, std::string_view class_name) override;
  void OnDiscardedEvents(const DiscardedEventsMessage &d) override;
  void OnWarning(std::string message) override;
  // Marks are counted by thread, kind and id: args, seq and text unused.
  bool WantsMarkDetails() const override { return false; }

  // Every event message seen so far.
  uint64_t events() const { return totals_.events(); }

  // Fills report (totals, threads, events, regions with percentiles per
  // thread, process and id, mark rates, sessions, vms, vcpus, processes,
  // process activity, discarded, rejected, warnings); leaves trace_paths,
  // trace_dirs, report_kind and selection to the caller.
  void Finish(report::Report &report) const;

  // Begins open at once per (thread, region id) beyond which further
  // begins are counted as unmatched instead of remembered (a guest that
  // never ends a region must not grow the model without bound).
  static constexpr size_t kMaxOpenRegions = 4096;

 private:
  struct RegionAccum {
    LogHistogram durations;
    uint64_t unmatched_ends = 0, overflowed_begins = 0;
    std::vector<int64_t> open;  // begin times, innermost last
  };
  struct ThreadKey {
    uint32_t trace, pid, tid;
    bool operator==(const ThreadKey &o) const { return trace == o.trace && pid == o.pid && tid == o.tid; }
  };
  struct ThreadKeyHash {
    size_t operator()(const ThreadKey &k) const {
      const uint64_t a = (uint64_t{k.pid} << 32) | k.tid;
      return std::hash<uint64_t>()(a * 0x9e3779b97f4a7c15ull ^ k.trace);
    }
  };
  struct ThreadState {
    uint32_t trace = 0, pid = 0, tid = 0;
    uint64_t marks = 0, text_marks = 0, region_begins = 0, region_ends = 0;
    int64_t first_ns = std::numeric_limits<int64_t>::max();
    int64_t last_ns = std::numeric_limits<int64_t>::min();
    std::unordered_map<uint32_t, uint64_t> event_counts;  // by event id
    std::unordered_map<uint32_t, RegionAccum> regions;    // by region id
  };
  struct Reason {
    std::string name;
    uint64_t count = 0;
  };
  static constexpr uint32_t kNoEntry = std::numeric_limits<uint32_t>::max();
  // One (pid, tid, comm) that ran on one vCPU.
  struct CpuThread {
    uint32_t pid = 0, tid = 0;
    std::string comm;
    uint64_t ns = 0, switches_in = 0;
    int64_t last_in_ns = 0;
    uint32_t next_same_tid = kNoEntry;  // another comm of the same (pid, tid)
  };
  struct VcpuState {
    bool started = false;         // a switch was seen: running/since are valid
    bool idle = false;            // the idle task runs (then `running` is unused)
    uint32_t running = kNoEntry;  // index in threads
    uint32_t running_pid = 0, running_tid = 0;
    int64_t since_ns = 0, first_ns = 0;
    uint64_t switches = 0, busy_ns = 0, idle_ns = 0, prev_mismatches = 0;
    std::vector<CpuThread> threads;
    std::unordered_map<uint64_t, uint32_t> by_tid;  // pid << 32 | tid -> first entry
  };
  struct VmState {
    bool seen = false;  // Vm() was asked for it (else a filler below a higher trace number)
    std::string name, mode, program;
    uint64_t sessions = 0, system_sessions = 0;
    std::vector<VcpuState> vcpus;  // by vCPU index
  };

  VmState &Vm(uint32_t trace);
  uint32_t CpuThreadIndex(VcpuState &c, uint32_t pid, uint32_t tid, std::string_view comm);

  // Finish's steps (each fills its part of the report; model.cc unless
  // said otherwise). Region begins and ends left unmatched, for the
  // warnings:
  struct UnmatchedRegions {
    uint64_t still_open = 0, ends = 0, overflowed = 0;
  };
  struct ThreadTally;  // model.cc
  // Totals, the trace's span, sessions and VMs.
  void FinishTotals(report::Report &report) const;
  // Threads, and the events and regions of all threads.
  UnmatchedRegions FinishThreads(report::Report &report) const;
  std::vector<const ThreadState *> SortedThreads() const;  // by VM name, pid, tid
  void FinishDiscarded(report::Report &report) const;
  void FinishRejected(report::Report &report) const;
  void FinishWarnings(const UnmatchedRegions &regions, report::Report &report) const;
  // model_cpu.cc: vCPU and process CPU time, and their warnings.
  struct CpuTally;
  void FinishCpu(report::Report &report) const;
  void FinishCpuWarnings(uint64_t mismatches, report::Report &report) const;
  // (trace, pid, tid) -> the comm it had when last switched in.
  std::unordered_map<ThreadKey, std::string, ThreadKeyHash> ThreadComms() const;
  const std::string &VmNameOf(uint32_t trace) const;
  // A record without task context (pid 0, tid 0) in system mode: the task
  // running on its vCPU, if the switch timeline knows one.
  void Attribute(uint32_t trace, uint32_t vcpu, uint32_t &pid, uint32_t &tid) const;
  void FinishRates(report::Report &report) const;
  void FinishActivity(report::Report &report) const;
  void FinishHotBlocks(report::Report &report) const;
  void FinishRingDrops(report::Report &report) const;
  // model_filter.cc: the FilterSummary, and its notes (run after the totals).
  void FinishFilter(report::Report &report) const;

  ThreadState &Thread(uint32_t trace, uint32_t pid, uint32_t tid, int64_t ts_ns);
  void Seen(int64_t ts_ns) {
    if (ts_ns < begin_ns_) begin_ns_ = ts_ns;
    if (ts_ns > end_ns_) end_ns_ = ts_ns;
  }

  report::Totals totals_;
  Runs runs_;
  // Each trace's VM name (runs.h), resolved at the start of Finish:
  // VmNameOf reads it.
  mutable std::vector<std::string> vm_names_;
  int64_t begin_ns_ = std::numeric_limits<int64_t>::max();
  int64_t end_ns_ = std::numeric_limits<int64_t>::min();
  std::unordered_map<ThreadKey, ThreadState, ThreadKeyHash> threads_;
  ThreadKey last_key_{0, 0, 0};
  ThreadState *last_thread_ = nullptr;
  // Mark counters of recent (thread, event id) pairs, direct-mapped by id:
  // a guest marks few ids, often interleaved, so most marks skip the hash
  // lookup. Pointers are stable: unordered_map never moves its values.
  struct CountSlot {
    const ThreadState *thread = nullptr;
    uint32_t event = 0;
    uint64_t *count = nullptr;
  };
  static constexpr size_t kCountSlots = 16;
  struct CountCache {  // a copy starts empty: it would point into the original
    CountCache() = default;
    CountCache(const CountCache &) {}
    CountCache &operator=(const CountCache &) {
      for (CountSlot &s : slots) s = CountSlot{};
      return *this;
    }
    CountSlot slots[kCountSlots];
  };
  CountCache count_cache_;
  std::unordered_map<uint32_t, std::string> names_;
  std::vector<report::SessionInfo> sessions_;
  std::vector<VmState> vms_;  // by trace number
  uint64_t ignored_vcpus_ = 0;
  std::map<uint32_t, Reason> rejected_counted_, rejected_total_;
  bool saw_rejected_total_ = false;
  report::DiscardedEvents discarded_;
  std::map<std::pair<uint32_t, std::string>, uint64_t> discarded_by_stream_;  // (trace, stream)
  std::vector<std::string> warnings_;
  uint64_t dropped_warnings_ = 0;
  RateCounter rates_;
  uint64_t attributed_ = 0;  // records given to the running task
  HotBlocks hot_blocks_;     // bdtrace:tb_exec per (trace, pid)
  // bdtrace:ring_dropped per (trace, ring): the counts per owner (pid, tid)
  // and the consumer's final total, to check the sum against.
  struct RingDropAccum {
    uint64_t sum = 0, final_total = 0;
    bool has_final = false;
    std::map<std::pair<uint32_t, uint32_t>, uint64_t> by_owner;
  };
  std::map<std::pair<uint32_t, uint32_t>, RingDropAccum> ring_drops_;
  // bdtrace:blob per event id (report.blobs).
  std::map<uint32_t, report::BlobStats> blobs_;
  // bdtrace:call per event id (report.calls).
  std::map<uint32_t, report::CallStats> calls_;
  // The filter's events (model_filter.cc): loads in order with their
  // trace, per (trace, vcpu) decisions, per (trace, generation, rule) drops.
  struct FilterRuleAccum {
    std::string name;
    uint64_t sum = 0;
    std::map<uint32_t, uint64_t> per_vcpu;
  };
  struct FilterAccum {
    std::vector<std::pair<uint32_t, report::FilterConfigLoad>> loads;
    std::map<std::pair<uint32_t, uint32_t>, report::FilterVcpu> vcpus;
    std::map<std::tuple<uint32_t, uint64_t, uint32_t>, FilterRuleAccum> rules;
  };
  FilterAccum filter_;
};

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_MODEL_H
