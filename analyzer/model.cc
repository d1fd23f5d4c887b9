#include "bdtrace/analyzer/model.h"

#include <algorithm>
#include <tuple>

namespace bdtrace::analyzer {

namespace {

// Beyond this many warnings, only count them: a broken trace must not make
// the report grow with its size.
constexpr size_t kMaxWarnings = 50;

uint64_t Key(uint32_t pid, uint32_t tid) { return (uint64_t{pid} << 32) | tid; }

}  // namespace

Model::ThreadState &Model::Thread(uint32_t pid, uint32_t tid, int64_t ts_ns) {
  const uint64_t key = Key(pid, tid);
  if (last_thread_ == nullptr || key != last_key_) {
    ThreadState &t = threads_[key];  // references stay valid across rehashes
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

void Model::OnMark(const MarkEvent &e) {
  totals_.set_events(totals_.events() + 1);
  ThreadState &t = Thread(e.pid, e.tid, e.ts_ns);
  if (e.kind == kKindMarkText) {
    totals_.set_text_marks(totals_.text_marks() + 1);
    ++t.text_marks;
  } else {
    totals_.set_marks(totals_.marks() + 1);
    ++t.marks;
  }
  ++t.event_counts[e.event];
}

void Model::OnRegion(const RegionEvent &e) {
  totals_.set_events(totals_.events() + 1);
  ThreadState &t = Thread(e.pid, e.tid, e.ts_ns);
  RegionAccum &r = t.regions[e.region];
  if (e.begin) {
    totals_.set_region_begins(totals_.region_begins() + 1);
    ++t.region_begins;
    r.open.push_back(e.ts_ns);
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
  // Events arrive in time order, so this is never negative; clamp anyway.
  const uint64_t d = e.ts_ns > begin ? static_cast<uint64_t>(e.ts_ns - begin) : 0;
  ++r.count;
  r.total_ns += d;
  r.min_ns = std::min(r.min_ns, d);
  r.max_ns = std::max(r.max_ns, d);
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
  sessions_.push_back(std::move(s));
  if (e.mode == "system") {
    // Names the VM whose sched_switch events share this trace.
    VmState &vm = Vm(e.trace);
    if (++vm.system_sessions == 1) vm.name.assign(e.vm);
  }
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

void Model::OnOtherEvent(int64_t ts_ns, std::string_view /*class_name*/) {
  totals_.set_events(totals_.events() + 1);
  totals_.set_other(totals_.other() + 1);
  Seen(ts_ns);
}

void Model::OnDiscardedEvents(uint64_t count, bool count_known) {
  discarded_.set_count(discarded_.count() + count);
  discarded_.set_messages(discarded_.messages() + 1);
  if (!count_known) discarded_.set_messages_without_count(discarded_.messages_without_count() + 1);
}

void Model::OnWarning(std::string message) {
  if (warnings_.size() < kMaxWarnings) {
    warnings_.push_back(std::move(message));
  } else {
    ++dropped_warnings_;
  }
}

void Model::Finish(report::Report &report) const {
  *report.mutable_totals() = totals_;
  if (begin_ns_ <= end_ns_) {
    report.set_trace_begin_ns(begin_ns_);
    report.set_trace_end_ns(end_ns_);
    report.set_trace_duration_ns(end_ns_ - begin_ns_);
  }
  for (const report::SessionInfo &s : sessions_) *report.add_sessions() = s;

  const auto name_of = [&](uint32_t id) -> std::string {
    auto it = names_.find(id);
    return it == names_.end() ? std::string() : it->second;
  };

  std::vector<const ThreadState *> threads;
  threads.reserve(threads_.size());
  for (const auto &[key, t] : threads_) threads.push_back(&t);
  std::sort(threads.begin(), threads.end(), [](const ThreadState *a, const ThreadState *b) {
    return std::tie(a->pid, a->tid) < std::tie(b->pid, b->tid);
  });
  // System mode: name threads after what sched_switch called them.
  const std::unordered_map<uint64_t, std::string> comms = ThreadComms();

  // Events: per id, the per-thread counts in thread order.
  std::map<uint32_t, report::EventStats> events;
  // Regions: sorted by (region id, pid, tid).
  std::map<std::tuple<uint32_t, uint32_t, uint32_t>, report::RegionStats> regions;
  uint64_t still_open = 0, unmatched_ends = 0;
  for (const ThreadState *t : threads) {
    report::ThreadStats *ts = report.add_threads();
    ts->set_pid(t->pid);
    ts->set_tid(t->tid);
    ts->set_marks(t->marks);
    ts->set_text_marks(t->text_marks);
    ts->set_region_begins(t->region_begins);
    ts->set_region_ends(t->region_ends);
    ts->set_events(t->marks + t->text_marks + t->region_begins + t->region_ends);
    ts->set_first_timestamp_ns(t->first_ns);
    ts->set_last_timestamp_ns(t->last_ns);
    if (auto it = comms.find(Key(t->pid, t->tid)); it != comms.end()) ts->set_comm(it->second);

    std::vector<std::pair<uint32_t, uint64_t>> counts(t->event_counts.begin(), t->event_counts.end());
    std::sort(counts.begin(), counts.end());
    for (const auto &[id, count] : counts) {
      report::EventStats &es = events[id];
      es.set_event_id(id);
      es.set_count(es.count() + count);
      report::ThreadCount *tc = es.add_per_thread();
      tc->set_pid(t->pid);
      tc->set_tid(t->tid);
      tc->set_count(count);
    }
    for (const auto &[id, r] : t->regions) {
      report::RegionStats &rs = regions[{id, t->pid, t->tid}];
      rs.set_region_id(id);
      rs.set_pid(t->pid);
      rs.set_tid(t->tid);
      rs.set_count(r.count);
      rs.set_total_ns(r.total_ns);
      rs.set_min_ns(r.count > 0 ? r.min_ns : 0);
      rs.set_mean_ns(r.count > 0 ? r.total_ns / r.count : 0);
      rs.set_max_ns(r.max_ns);
      rs.set_unmatched_begins(r.open.size());
      rs.set_unmatched_ends(r.unmatched_ends);
      still_open += r.open.size();
      unmatched_ends += r.unmatched_ends;
    }
  }
  for (auto &[id, es] : events) {
    es.set_name(name_of(id));
    *report.add_events() = std::move(es);
  }
  for (auto &[key, rs] : regions) {
    rs.set_name(name_of(rs.region_id()));
    *report.add_regions() = std::move(rs);
  }

  *report.mutable_discarded_events() = discarded_;
  report::Rejected *rejected = report.mutable_rejected();
  const std::map<uint32_t, Reason> &reasons =
      saw_rejected_total_ ? rejected_total_ : rejected_counted_;
  rejected->set_source(saw_rejected_total_    ? report::Rejected::REJECTED_TOTAL
                       : reasons.empty()      ? report::Rejected::NONE
                                              : report::Rejected::COUNTED_EVENTS);
  for (const auto &[reason, r] : reasons) {
    report::RejectReason *rr = rejected->add_reasons();
    rr->set_reason(reason);
    rr->set_name(r.name);
    rr->set_count(r.count);
    rejected->set_total(rejected->total() + r.count);
  }

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
  if (still_open > 0) {
    report.add_warnings(std::to_string(still_open) + " region begins were never ended");
  }
  if (unmatched_ends > 0) {
    report.add_warnings(std::to_string(unmatched_ends) + " region ends had no open begin");
  }
  FinishCpu(report);
}

}  // namespace bdtrace::analyzer
