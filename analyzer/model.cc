// SPDX-License-Identifier: MIT
#include "bdtrace/analyzer/model.h"

#include <algorithm>
#include <set>
#include <tuple>

#include <bd/ring.h>

namespace bdtrace::analyzer {

namespace {

// Beyond this many warnings, only count them: a broken trace must not make
// the report grow with its size.
constexpr size_t kMaxWarnings = 50;

}  // namespace

Model::ThreadState &Model::Thread(uint32_t trace, uint32_t pid, uint32_t tid, int64_t ts_ns) {
  const ThreadKey key{trace, pid, tid};
  if (last_thread_ == nullptr || !(key == last_key_)) {
    ThreadState &t = threads_[key];  // references stay valid across rehashes
    t.trace = trace;
    t.pid = pid;
    t.tid = tid;
    last_key_ = key;
    last_thread_ = &t;
  }
  ThreadState &t = *last_thread_;
  if (ts_ns < t.first_ns) t.first_ns = ts_ns;
  if (ts_ns > t.last_ns) t.last_ns = ts_ns;
  Seen(ts_ns);
  return t;
}

void Model::Attribute(uint32_t trace, uint32_t vcpu, uint32_t &pid, uint32_t &tid) const {
  if (pid != 0 || tid != 0 || trace >= vms_.size()) return;
  const VmState &vm = vms_[trace];
  if (vcpu >= vm.vcpus.size()) return;
  const VcpuState &c = vm.vcpus[vcpu];
  if (!c.started || c.idle) return;
  pid = c.running_pid;
  tid = c.running_tid;
}

void Model::OnMark(const MarkEvent &e) {
  totals_.set_events(totals_.events() + 1);
  uint32_t pid = e.pid, tid = e.tid;
  Attribute(e.trace, e.vcpu, pid, tid);
  if (pid != e.pid || tid != e.tid) ++attributed_;
  ThreadState &t = Thread(e.trace, pid, tid, e.ts_ns);
  if (e.kind == kKindMarkText) {
    totals_.set_text_marks(totals_.text_marks() + 1);
    ++t.text_marks;
  } else {
    totals_.set_marks(totals_.marks() + 1);
    ++t.marks;
  }
  CountSlot &slot = count_cache_.slots[e.event % kCountSlots];
  if (slot.thread != &t || slot.event != e.event) {
    slot.count = &t.event_counts[e.event];
    slot.thread = &t;
    slot.event = e.event;
  }
  ++*slot.count;
  // The rate buckets start at the first mark: the time before it (a VM
  // booting, a program starting) would only be empty buckets.
  if (!rates_.started()) rates_.Start(e.ts_ns);
  rates_.Add(e.ts_ns, e.event);
}

void Model::OnRegion(const RegionEvent &e) {
  totals_.set_events(totals_.events() + 1);
  uint32_t pid = e.pid, tid = e.tid;
  Attribute(e.trace, e.vcpu, pid, tid);
  if (pid != e.pid || tid != e.tid) ++attributed_;
  ThreadState &t = Thread(e.trace, pid, tid, e.ts_ns);
  RegionAccum &r = t.regions[e.region];
  if (e.begin) {
    totals_.set_region_begins(totals_.region_begins() + 1);
    ++t.region_begins;
    if (r.open.size() >= kMaxOpenRegions) {
      ++r.overflowed_begins;
    } else {
      r.open.push_back(e.ts_ns);
    }
    return;
  }
  totals_.set_region_ends(totals_.region_ends() + 1);
  ++t.region_ends;
  if (r.open.empty()) {
    ++r.unmatched_ends;
    return;
  }
  const int64_t begin = r.open.back();
  r.open.pop_back();
  // Events arrive in time order (a late ring event excepted: see
  // reorder.h), so this is hardly ever negative; clamp anyway.
  r.durations.Add(e.ts_ns > begin ? static_cast<uint64_t>(e.ts_ns - begin) : 0);
}

void Model::OnEventName(const EventNameEvent &e) {
  totals_.set_events(totals_.events() + 1);
  totals_.set_event_names(totals_.event_names() + 1);
  Seen(e.ts_ns);
  std::string &name = names_[e.event];
  if (!name.empty() && name != e.name) {
    OnWarning("event id " + std::to_string(e.event) + " named both '" + name + "' and '" +
              std::string(e.name) + "'; using the last");
  }
  name.assign(e.name);
}

void Model::OnSession(const SessionEvent &e) {
  totals_.set_events(totals_.events() + 1);
  totals_.set_sessions(totals_.sessions() + 1);
  Seen(e.ts_ns);
  report::SessionInfo s;
  s.set_mode(std::string(e.mode));
  s.set_arch(std::string(e.arch));
  s.set_program(std::string(e.program));
  s.set_abi_version(e.abi_version);
  s.set_host_pid(e.host_pid);
  s.set_vm(std::string(e.vm));
  s.set_timestamp_ns(e.ts_ns);
  s.set_channel(std::string(e.channel));
  s.set_qemu_version(std::string(e.qemu_version));
  s.set_plugin_api(e.plugin_api);
  s.set_qemu_api(e.qemu_api);
  sessions_.push_back(std::move(s));
  // The first session names the VM whose events share this trace.
  VmState &vm = Vm(e.trace);
  if (++vm.sessions == 1) {
    vm.name.assign(VmName(e));
    vm.mode.assign(e.mode);
    vm.program.assign(e.program);
  }
  if (e.mode == "system") ++vm.system_sessions;
}

void Model::OnRejected(const RejectedEvent &e) {
  totals_.set_events(totals_.events() + 1);
  totals_.set_rejected(totals_.rejected() + 1);
  Seen(e.ts_ns);
  Reason &r = rejected_counted_[e.reason];
  if (r.name.empty()) r.name.assign(e.reason_name);
  ++r.count;
}

void Model::OnRejectedTotal(const RejectedTotalEvent &e) {
  totals_.set_events(totals_.events() + 1);
  totals_.set_rejected_totals(totals_.rejected_totals() + 1);
  Seen(e.ts_ns);
  saw_rejected_total_ = true;
  // One per reason per QEMU process: several processes add up.
  Reason &r = rejected_total_[e.reason];
  if (r.name.empty()) r.name.assign(e.reason_name);
  r.count += e.count;
}

void Model::OnTbExec(const TbExecEvent &e) {
  if (e.first_of_event) totals_.set_events(totals_.events() + 1);
  totals_.set_tb_lost(totals_.tb_lost() + e.lost_before);
  if (e.lost_only) return;
  totals_.set_tb_execs(totals_.tb_execs() + e.times);
  Seen(e.ts_ns);
  hot_blocks_.Add(e.trace, e.pid, e.pc, e.n_insns, e.times);
}

void Model::OnRingDropped(const RingDroppedEvent &e) {
  totals_.set_events(totals_.events() + 1);
  totals_.set_ring_dropped(totals_.ring_dropped() + 1);
  Seen(e.ts_ns);
  RingDropAccum &r = ring_drops_[{e.trace, e.ring}];
  r.sum += e.count;
  if (e.count > 0) r.by_owner[{e.pid, e.tid}] += e.count;
  if (e.final) {
    r.has_final = true;
    r.final_total = e.total;
  }
}

void Model::OnBlob(const BlobEvent &e) {
  totals_.set_events(totals_.events() + 1);
  totals_.set_blobs(totals_.blobs() + 1);
  totals_.set_blob_bytes(totals_.blob_bytes() + e.bytes);
  Seen(e.ts_ns);
  report::BlobStats &b = blobs_[e.event];
  b.set_event(e.event);
  b.set_count(b.count() + 1);
  b.set_bytes(b.bytes() + e.bytes);
  b.set_max_bytes(std::max<uint64_t>(b.max_bytes(), e.bytes));
}

void Model::OnCall(const CallEvent &e) {
  totals_.set_events(totals_.events() + 1);
  totals_.set_calls(totals_.calls() + 1);
  Seen(e.ts_ns);
  report::CallStats &c = calls_[e.event];
  c.set_event(e.event);
  c.set_count(c.count() + 1);
  if (e.status != 0) c.set_failed(c.failed() + 1);
  c.set_in_bytes(c.in_bytes() + e.in_len);
  c.set_out_bytes(c.out_bytes() + e.out_len);
  c.set_total_ns(c.total_ns() + e.duration_ns);
  c.set_max_ns(std::max<uint64_t>(c.max_ns(), e.duration_ns));
}

void Model::FinishRingDrops(report::Report &report) const {
  report::RingDrops *out = report.mutable_ring_drops();
  out->set_events(totals_.ring_dropped());
  // A ring whose final total exceeds its reports' sum lost reports (LTTng
  // discarded them with the rest of a flood): its final total counts, and
  // the difference is a row of unknown owner (pid and tid 0).
  uint64_t total = 0;
  std::vector<report::RingDrop> rows;
  for (const auto &[key, r] : ring_drops_) {
    const auto [trace, ring] = key;
    for (const auto &[owner, count] : r.by_owner) {
      report::RingDrop &row = rows.emplace_back();
      row.set_vm(VmNameOf(trace));
      row.set_ring(ring);
      row.set_pid(owner.first);
      row.set_tid(owner.second);
      row.set_count(count);
    }
    const bool reports_lost = r.has_final && r.final_total > r.sum;
    total += reports_lost ? r.final_total : r.sum;
    if (reports_lost) {
      report::RingDrop &row = rows.emplace_back();
      row.set_vm(VmNameOf(trace));
      row.set_ring(ring);
      row.set_count(r.final_total - r.sum);
    }
    // The counts add up to the total unless ring_dropped events were lost.
    if (r.has_final && r.final_total != r.sum) {
      report.add_warnings(
          "ring " + std::to_string(ring) + " of " +
          (VmNameOf(trace).empty() ? "trace " + std::to_string(trace) : "VM " + VmNameOf(trace)) +
          ": its bdtrace:ring_dropped counts add up to " + std::to_string(r.sum) +
          " but its final total is " + std::to_string(r.final_total) + " (ring_dropped events lost?)");
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const report::RingDrop &a, const report::RingDrop &b) {
    return std::make_tuple(a.vm(), a.ring(), a.pid(), a.tid()) <
           std::make_tuple(b.vm(), b.ring(), b.pid(), b.tid());
  });
  for (report::RingDrop &row : rows) *out->add_rings() = std::move(row);
  out->set_total(total);
  uint64_t unowned = 0;  // <bd/ring.h>, UNOWNED DROPS
  for (const auto &[key, r] : ring_drops_)
    if (key.second == BD_RING_NO_RING)
      unowned += r.has_final && r.final_total > r.sum ? r.final_total : r.sum;
  if (total > unowned) {
    report.add_warnings("the guest's rings dropped " + std::to_string(total - unowned) +
                        " records (ring full, or calls nested in a signal handler): counts and "
                        "durations are incomplete; use larger rings (bd-run --ring-slots) or "
                        "mark less often");
  }
  if (unowned > 0) {
    report.add_warnings(std::to_string(unowned) +
                        " records were lost by guest threads that found no free ring (more "
                        "threads marking at once than user rings): counts and durations are "
                        "incomplete; give the region more rings (bd-run --rings)");
  }
}

void Model::FinishHotBlocks(report::Report &report) const {
  if (hot_blocks_.empty()) return;
  constexpr size_t kTop = 20;
  const auto comms = ThreadComms();
  std::vector<
      std::pair<std::string, const std::pair<const std::pair<uint32_t, uint32_t>, HotBlocks::Process> *>>
      rows;
  for (const auto &entry : hot_blocks_.processes()) rows.emplace_back(VmNameOf(entry.first.first), &entry);
  std::sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) {
    return std::tie(a.first, a.second->first.second, a.second->first.first) <
           std::tie(b.first, b.second->first.second, b.second->first.first);
  });
  for (const auto &[vm, entry] : rows) {
    const auto [trace, pid] = entry->first;
    const HotBlocks::Process &p = entry->second;
    report::ProcessHotBlocks *out = report.add_hot_blocks();
    out->set_vm(vm);
    out->set_pid(pid);
    // The main thread's sched_switch name, else (user mode) the program's file name.
    if (auto it = comms.find(ThreadKey{trace, pid, pid}); it != comms.end()) {
      out->set_comm(it->second);
    } else if (trace < vms_.size() && vms_[trace].mode == "user") {
      const std::string &prog = vms_[trace].program;
      const size_t slash = prog.rfind('/');
      out->set_comm(slash == std::string::npos ? prog : prog.substr(slash + 1));
    }
    out->set_executions(p.executions);
    out->set_instructions(p.instructions);
    out->set_distinct_blocks(p.blocks.size());
    out->set_evicted_blocks(p.evicted_blocks);
    for (int by_insns = 0; by_insns < 2; ++by_insns) {
      for (const HotBlocks::Block &b : HotBlocks::Top(p, kTop, by_insns != 0)) {
        report::HotBlock *hb = by_insns ? out->add_by_instructions() : out->add_by_executions();
        hb->set_pc(b.pc);
        hb->set_n_insns(b.n_insns);
        hb->set_executions(b.executions);
        hb->set_instructions(b.instructions);
      }
    }
  }
}

void Model::OnOtherEvent(int64_t ts_ns, std::string_view /*class_name*/) {
  totals_.set_events(totals_.events() + 1);
  totals_.set_other(totals_.other() + 1);
  Seen(ts_ns);
}

void Model::OnDiscardedEvents(const DiscardedEventsMessage &d) {
  discarded_.set_count(discarded_.count() + d.count);
  discarded_.set_messages(discarded_.messages() + 1);
  if (!d.count_known) discarded_.set_messages_without_count(discarded_.messages_without_count() + 1);
  discarded_by_stream_[{d.trace, std::string(d.stream)}] += d.count;
}

void Model::OnWarning(std::string message) {
  if (warnings_.size() < kMaxWarnings) {
    warnings_.push_back(std::move(message));
  } else {
    ++dropped_warnings_;
  }
}

const std::string &Model::VmNameOf(uint32_t trace) const {
  static const std::string kNone;
  return trace < vm_names_.size() ? vm_names_[trace] : kNone;
}

namespace {

// Fills the duration fields of a RegionStats from a histogram.
void SetDurations(const LogHistogram &h, report::RegionStats &rs) {
  rs.set_count(h.count());
  rs.set_total_ns(h.total());
  rs.set_min_ns(h.min());
  rs.set_mean_ns(h.count() > 0 ? h.total() / h.count() : 0);
  rs.set_max_ns(h.max());
  rs.set_p50_ns(h.Percentile(0.50));
  rs.set_p90_ns(h.Percentile(0.90));
  rs.set_p99_ns(h.Percentile(0.99));
  for (const LogHistogram::Bucket &b : h.Buckets()) {
    report::HistogramBucket *hb = rs.add_histogram();
    hb->set_lower_ns(b.lower);
    hb->set_upper_ns(b.upper);
    hb->set_count(b.count);
  }
}

// Region durations merged over threads, with their unmatched counts.
struct RegionMerge {
  LogHistogram durations;
  uint64_t unmatched_begins = 0, unmatched_ends = 0;
};

// A merged region row of report.region_processes or report.region_totals.
void SetMerged(uint32_t id, const std::string &name, const RegionMerge &m, report::RegionStats &rs) {
  rs.set_region_id(id);
  rs.set_name(name);
  SetDurations(m.durations, rs);
  rs.set_unmatched_begins(m.unmatched_begins);
  rs.set_unmatched_ends(m.unmatched_ends);
}

}  // namespace

// The events and regions of the threads, gathered in report order (threads
// sorted by VM, pid, tid): per event id with per-thread counts, per (region
// id, thread), per (region id, process) and per region id.
struct Model::ThreadTally {
  std::map<uint32_t, report::EventStats> events;
  std::map<std::pair<uint32_t, size_t>, report::RegionStats> regions;  // (id, thread order)
  std::map<std::tuple<uint32_t, std::string, uint32_t, uint32_t>, RegionMerge>
      by_process;  // (id, vm, pid, trace)
  std::map<uint32_t, RegionMerge> by_id;
  UnmatchedRegions unmatched;

  void AddEvents(const ThreadState &t, const std::string &vm);
  void AddRegions(const ThreadState &t, size_t order, const std::string &vm);
  // report.events, regions, region_processes and region_totals, named.
  void WriteTo(const std::unordered_map<uint32_t, std::string> &names, report::Report &report);
};

void Model::ThreadTally::AddEvents(const ThreadState &t, const std::string &vm) {
  std::vector<std::pair<uint32_t, uint64_t>> counts(t.event_counts.begin(), t.event_counts.end());
  std::sort(counts.begin(), counts.end());
  for (const auto &[id, count] : counts) {
    report::EventStats &es = events[id];
    es.set_event_id(id);
    es.set_count(es.count() + count);
    report::ThreadCount *tc = es.add_per_thread();
    tc->set_pid(t.pid);
    tc->set_tid(t.tid);
    tc->set_vm(vm);
    tc->set_count(count);
  }
}

void Model::ThreadTally::AddRegions(const ThreadState &t, size_t order, const std::string &vm) {
  for (const auto &[id, r] : t.regions) {
    report::RegionStats &rs = regions[{id, order}];
    rs.set_region_id(id);
    rs.set_vm(vm);
    rs.set_pid(t.pid);
    rs.set_tid(t.tid);
    SetDurations(r.durations, rs);
    const uint64_t open = r.open.size() + r.overflowed_begins;
    rs.set_unmatched_begins(open);
    rs.set_unmatched_ends(r.unmatched_ends);
    unmatched.still_open += open;
    unmatched.overflowed += r.overflowed_begins;
    unmatched.ends += r.unmatched_ends;
    for (RegionMerge *m : {&by_process[{id, vm, t.pid, t.trace}], &by_id[id]}) {
      m->durations.Merge(r.durations);
      m->unmatched_begins += open;
      m->unmatched_ends += r.unmatched_ends;
    }
  }
}

void Model::ThreadTally::WriteTo(const std::unordered_map<uint32_t, std::string> &names,
                                 report::Report &report) {
  const auto name_of = [&](uint32_t id) -> std::string {
    auto it = names.find(id);
    return it == names.end() ? std::string() : it->second;
  };
  for (auto &[id, es] : events) {
    es.set_name(name_of(id));
    *report.add_events() = std::move(es);
  }
  for (auto &[key, rs] : regions) {
    rs.set_name(name_of(rs.region_id()));
    *report.add_regions() = std::move(rs);
  }
  for (const auto &[key, m] : by_process) {
    const auto &[id, vm, pid, trace] = key;
    report::RegionStats *rs = report.add_region_processes();
    SetMerged(id, name_of(id), m, *rs);
    rs->set_vm(vm);
    rs->set_pid(pid);
  }
  for (const auto &[id, m] : by_id) SetMerged(id, name_of(id), m, *report.add_region_totals());
}

void Model::Finish(report::Report &report) const {
  std::vector<std::string> session_names;
  for (const VmState &vm : vms_) session_names.push_back(vm.name);
  if (runs_.several()) {
    vm_names_ = ResolveVmNames(runs_, session_names);
  } else {
    vm_names_ = std::move(session_names);
  }
  FinishTotals(report);
  const UnmatchedRegions unmatched = FinishThreads(report);
  FinishRates(report);
  FinishDiscarded(report);
  FinishRejected(report);
  FinishWarnings(unmatched, report);
  FinishRingDrops(report);
  for (const auto &[event, b] : blobs_) *report.add_blobs() = b;
  for (const auto &[event, c] : calls_) *report.add_calls() = c;
  FinishFilter(report);
  FinishCpu(report);
  FinishActivity(report);
  FinishHotBlocks(report);
}

void Model::FinishTotals(report::Report &report) const {
  *report.mutable_totals() = totals_;
  if (begin_ns_ <= end_ns_) {
    report.set_trace_begin_ns(begin_ns_);
    report.set_trace_end_ns(end_ns_);
    report.set_trace_duration_ns(end_ns_ - begin_ns_);
  }
  for (const report::SessionInfo &s : sessions_) *report.add_sessions() = s;
  for (uint32_t trace = 0; trace < vms_.size(); ++trace) {
    const VmState &vm = vms_[trace];
    if (!vm.seen) continue;  // a gap in the numbers: nothing told about this trace
    report::VmInfo *info = report.add_vms();
    info->set_trace(trace);
    info->set_name(VmNameOf(trace));
    if (trace < runs_.of_trace.size()) info->set_run(runs_.dirs[runs_.of_trace[trace]]);
    info->set_mode(vm.mode);
    info->set_sessions(static_cast<uint32_t>(vm.sessions));
  }
}

std::vector<const Model::ThreadState *> Model::SortedThreads() const {
  std::vector<const ThreadState *> threads;
  threads.reserve(threads_.size());
  for (const auto &[key, t] : threads_) threads.push_back(&t);
  std::sort(threads.begin(), threads.end(), [&](const ThreadState *a, const ThreadState *b) {
    return std::tie(VmNameOf(a->trace), a->pid, a->tid, a->trace) <
           std::tie(VmNameOf(b->trace), b->pid, b->tid, b->trace);
  });
  return threads;
}

Model::UnmatchedRegions Model::FinishThreads(report::Report &report) const {
  const std::vector<const ThreadState *> threads = SortedThreads();
  // System mode: name threads after what sched_switch called them.
  const auto comms = ThreadComms();
  ThreadTally tally;
  for (size_t order = 0; order < threads.size(); ++order) {
    const ThreadState &t = *threads[order];
    const std::string &vm = VmNameOf(t.trace);
    report::ThreadStats *ts = report.add_threads();
    ts->set_pid(t.pid);
    ts->set_tid(t.tid);
    ts->set_vm(vm);
    ts->set_marks(t.marks);
    ts->set_text_marks(t.text_marks);
    ts->set_region_begins(t.region_begins);
    ts->set_region_ends(t.region_ends);
    ts->set_events(t.marks + t.text_marks + t.region_begins + t.region_ends);
    ts->set_first_timestamp_ns(t.first_ns);
    ts->set_last_timestamp_ns(t.last_ns);
    if (auto it = comms.find(ThreadKey{t.trace, t.pid, t.tid}); it != comms.end()) {
      ts->set_comm(it->second);
    }
    tally.AddEvents(t, vm);
    tally.AddRegions(t, order, vm);
  }
  tally.WriteTo(names_, report);
  return tally.unmatched;
}

void Model::FinishDiscarded(report::Report &report) const {
  *report.mutable_discarded_events() = discarded_;
  // One row per (VM, stream), by VM name then stream name.
  using Entry = std::pair<const std::pair<uint32_t, std::string>, uint64_t>;
  std::vector<std::pair<std::string, const Entry *>> rows;
  for (const Entry &entry : discarded_by_stream_) {
    rows.emplace_back(VmNameOf(entry.first.first), &entry);
  }
  std::sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) {
    return std::tie(a.first, a.second->first.second) < std::tie(b.first, b.second->first.second);
  });
  for (const auto &[vm, entry] : rows) {
    report::DiscardedStream *s = report.mutable_discarded_events()->add_streams();
    s->set_vm(vm);
    s->set_stream(entry->first.second);
    s->set_count(entry->second);
  }
}

void Model::FinishRejected(report::Report &report) const {
  report::Rejected *rejected = report.mutable_rejected();
  const std::map<uint32_t, Reason> &reasons = saw_rejected_total_ ? rejected_total_ : rejected_counted_;
  rejected->set_source(saw_rejected_total_ ? report::Rejected::REJECTED_TOTAL
                       : reasons.empty()   ? report::Rejected::NONE
                                           : report::Rejected::COUNTED_EVENTS);
  for (const auto &[reason, r] : reasons) {
    report::RejectReason *rr = rejected->add_reasons();
    rr->set_reason(reason);
    rr->set_name(r.name);
    rr->set_count(r.count);
    rejected->set_total(rejected->total() + r.count);
  }
}

void Model::FinishWarnings(const UnmatchedRegions &regions, report::Report &report) const {
  for (const std::string &w : warnings_) report.add_warnings(w);
  if (dropped_warnings_ > 0) {
    report.add_warnings(std::to_string(dropped_warnings_) + " more warnings not shown");
  }
  if (discarded_.messages_without_count() > 0) {
    report.add_warnings(std::to_string(discarded_.messages_without_count()) +
                        " discarded-events messages carried no count; each was counted as 1, "
                        "so the real loss is higher");
  }
  if (discarded_.count() > 0) {
    report.add_warnings("the tracer discarded " + std::to_string(discarded_.count()) +
                        " events (ring buffer full): counts and durations are incomplete; "
                        "use larger or more sub-buffers");
  }
  if (regions.still_open > 0) {
    report.add_warnings(std::to_string(regions.still_open) + " region begins were never ended");
  }
  if (regions.ends > 0) {
    report.add_warnings(std::to_string(regions.ends) + " region ends had no open begin");
  }
  if (regions.overflowed > 0) {
    report.add_warnings(std::to_string(regions.overflowed) + " region begins found " +
                        std::to_string(kMaxOpenRegions) +
                        " regions of their id already open in their thread and were not "
                        "remembered (counted as never ended)");
  }
  if (attributed_ > 0) {
    report.add_warnings(std::to_string(attributed_) +
                        " marks/regions had no task (pid 0, tid 0) and were given to the task "
                        "running on their vCPU");
  }
}

void Model::FinishRates(report::Report &report) const {
  if (!rates_.started()) return;
  RateCounter rates = rates_;  // Close pads the series: a bounded copy
  rates.Close(end_ns_);
  report::MarkRates *mr = report.mutable_mark_rates();
  mr->set_origin_ns(rates.origin_ns());
  mr->set_bucket_ns(rates.bucket_ns());
  mr->set_buckets(static_cast<uint32_t>(rates.total().size()));
  for (uint64_t c : rates.total()) mr->add_total(c);
  std::vector<uint32_t> ids;
  ids.reserve(rates.per_event().size());
  for (const auto &[id, series] : rates.per_event()) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (uint32_t id : ids) {
    const std::vector<uint64_t> &series = rates.per_event().at(id);
    report::EventRate *er = mr->add_events();
    er->set_event_id(id);
    if (auto it = names_.find(id); it != names_.end()) er->set_name(it->second);
    uint64_t peak = 0;
    for (uint64_t c : series) {
      er->add_counts(c);
      peak = std::max(peak, c);
    }
    er->set_peak(peak);
    er->set_peak_per_s(static_cast<double>(peak) * 1e9 / static_cast<double>(rates.bucket_ns()));
  }
  if (rates.widened()) {
    report.add_warnings("the mark-rate bucket was widened to " + std::to_string(rates.bucket_ns()) +
                        " ns to stay under " + std::to_string(RateCounter::kMaxFixedBuckets) + " buckets");
  }
}

void Model::FinishActivity(report::Report &report) const {
  // (vm, pid, trace) -> activity, from the threads and the CPU table.
  std::map<std::tuple<std::string, uint32_t, uint32_t>, report::ProcessActivity> rows;
  std::map<std::tuple<std::string, uint32_t, uint32_t>, std::set<uint32_t>> tids;
  const auto row = [&](uint32_t trace, uint32_t pid) -> report::ProcessActivity & {
    report::ProcessActivity &a = rows[{VmNameOf(trace), pid, trace}];
    a.set_vm(VmNameOf(trace));
    a.set_pid(pid);
    return a;
  };
  for (const auto &[key, t] : threads_) {
    report::ProcessActivity &a = row(t.trace, t.pid);
    tids[{VmNameOf(t.trace), t.pid, t.trace}].insert(t.tid);
    a.set_marks(a.marks() + t.marks);
    a.set_text_marks(a.text_marks() + t.text_marks);
    a.set_region_begins(a.region_begins() + t.region_begins);
    a.set_region_ends(a.region_ends() + t.region_ends);
    a.set_events(a.events() + t.marks + t.text_marks + t.region_begins + t.region_ends);
  }
  // CPU time: every (pid, comm) of the VM's vCPUs; the comm of the main
  // thread (tid == pid) wins, else the one with the most time.
  std::map<std::tuple<std::string, uint32_t, uint32_t>, std::pair<bool, uint64_t>> comm_rank;
  for (uint32_t trace = 0; trace < vms_.size(); ++trace) {
    for (const VcpuState &c : vms_[trace].vcpus) {
      for (uint32_t i = 0; i < c.threads.size(); ++i) {
        const CpuThread &t = c.threads[i];
        const uint64_t tail =
            (!c.idle && i == c.running && end_ns_ > c.since_ns) ? uint64_t(end_ns_ - c.since_ns) : 0;
        report::ProcessActivity &a = row(trace, t.pid);
        a.set_cpu_ns(a.cpu_ns() + t.ns + tail);
        a.set_switches_in(a.switches_in() + t.switches_in);
        auto &rank = comm_rank[{VmNameOf(trace), t.pid, trace}];
        const std::pair<bool, uint64_t> mine{t.tid == t.pid, t.ns + tail};
        if (a.comm().empty() || mine > rank) {
          rank = mine;
          a.set_comm(t.comm);
        }
      }
    }
  }
  for (auto &[key, a] : rows) {
    a.set_threads(static_cast<uint32_t>(tids[key].size()));
    *report.add_process_activity() = std::move(a);
  }
}

}  // namespace bdtrace::analyzer
