// SPDX-License-Identifier: MIT
// The selection decorator (see selection.h for what each selector keeps).
#include "bdtrace/analyzer/selection.h"
#include "value_ranges.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace bdtrace::analyzer {

namespace {

// Seconds beyond this do not fit int64 nanoseconds comfortably; no trace
// is this long.
constexpr double kMaxSeconds = 1e9;

int64_t ToNs(double s) { return static_cast<int64_t>(std::llround(s * 1e9)); }

std::string Seconds(double s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%gs", s);
  return buf;
}

template <typename T>
std::string JoinValues(const std::vector<T> &v) {
  std::string out;
  for (const T &x : v) {
    if (!out.empty()) out += ',';
    if constexpr (std::is_same_v<T, std::string>) {
      out += x;
    } else {
      out += std::to_string(x);
    }
  }
  return out;
}

}  // namespace

bool Selection::empty() const {
  return vms.empty() && vcpus.empty() && pids.empty() && tids.empty() && events.empty() && !since_s &&
         !until_s;
}

Status Selection::Validate() const {
  const auto check = [](const char *option, const std::optional<double> &s) -> Status {
    if (!s) return Status::Ok();
    if (!std::isfinite(*s) || *s < 0 || *s > kMaxSeconds) {
      return Error{std::string("--") + option +
                       " must be a number of seconds from 0 to 1e9 "
                       "(after the trace's first event), not " +
                       Seconds(*s),
                   {}};
    }
    return Status::Ok();
  };
  if (Status s = check("since", since_s); !s) return s;
  if (Status s = check("until", until_s); !s) return s;
  if (until_s && !(*until_s > 0)) {
    return Error{"--until must be after the trace start (more than 0 seconds)", {}};
  }
  if (since_s && until_s && !(*since_s < *until_s)) {
    return Error{"--since (" + Seconds(*since_s) + ") must be before --until (" + Seconds(*until_s) + ")",
                 {}};
  }
  for (const std::string &vm : vms) {
    if (vm.empty()) return Error{"--vm needs a VM name (as bd-run --vm or the session gave it)", {}};
  }
  return Status::Ok();
}

std::string Selection::ToString() const {
  std::string out;
  const auto add = [&](const std::string &part) {
    if (!out.empty()) out += ' ';
    out += part;
  };
  if (!vms.empty()) add("vm=" + JoinValues(vms));
  if (!vcpus.empty()) add("vcpu=" + JoinValues(vcpus));
  if (!pids.empty()) add("pid=" + JoinValues(pids));
  if (!tids.empty()) add("tid=" + JoinValues(tids));
  if (!events.empty()) add("event=" + JoinValues(events));
  if (since_s) add("since=" + Seconds(*since_s));
  if (until_s) add("until=" + Seconds(*until_s));
  return out;
}

namespace {

// Runs of ids a "what the trace holds" message names at most.
constexpr size_t kShownRuns = 24;

template <typename T>
void Insert(std::set<T> &set, bool &more, const T &value) {
  if (set.size() < TraceContents::kMaxValues) {
    set.insert(value);
  } else if (set.count(value) == 0) {
    more = true;
  }
}

}  // namespace

std::string TraceContents::ToString() const {
  std::string out;
  const auto add = [&out](const std::string &part) {
    if (!out.empty()) out += "; ";
    out += part;
  };
  if (any_time) {
    char span[96];
    const double s = static_cast<double>(last_ns - first_ns) / 1e9;
    std::snprintf(span, sizeof span, "%.6g s of events (--since/--until: 0 to %.6g)", s, s);
    add(span);
  }
  if (!vms.empty()) {
    std::string names;
    for (const std::string &v : vms) names += (names.empty() ? "" : ", ") + (v.empty() ? "(unnamed)" : v);
    add((vms.size() == 1 ? "VM " : "VMs ") + names);
  } else {
    add("no VM named (no bdtrace:session event)");
  }
  const auto set = [&](const char *one, const char *many, const std::set<uint32_t> &v, bool more) {
    if (!v.empty()) add(std::string(v.size() == 1 ? one : many) + " " + ValueRanges(v, kShownRuns, more));
  };
  set("vCPU", "vCPUs", vcpus, more_vcpus);
  set("pid", "pids", pids, more_pids);
  set("tid", "tids", tids, more_tids);
  set("mark/region id", "mark/region ids", ids, more_ids);
  if (vcpus.empty() && pids.empty() && tids.empty() && ids.empty()) {
    add("no mark, region or context switch at all");
  }
  return out;
}

void SelectingVisitor::Note(uint32_t vcpu, uint32_t pid, uint32_t tid, const uint32_t *id) {
  if (matched()) return;  // no need to say what else there is
  Insert(contents_.vcpus, contents_.more_vcpus, vcpu);
  Insert(contents_.pids, contents_.more_pids, pid);
  Insert(contents_.tids, contents_.more_tids, tid);
  if (id != nullptr) Insert(contents_.ids, contents_.more_ids, *id);
}

SelectingVisitor::IdSet::IdSet(std::vector<uint32_t> ids) : ids_(std::move(ids)) {
  std::sort(ids_.begin(), ids_.end());
  ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
}

bool SelectingVisitor::IdSet::contains(uint32_t id) const {
  if (ids_.size() <= 8) return std::find(ids_.begin(), ids_.end(), id) != ids_.end();
  return std::binary_search(ids_.begin(), ids_.end(), id);
}

SelectingVisitor::SelectingVisitor(const Selection &selection, EventVisitor &next)
    : next_(next),
      vms_(selection.vms),
      vcpus_(selection.vcpus),
      pids_(selection.pids),
      tids_(selection.tids),
      events_(selection.events),
      has_since_(selection.since_s.has_value()),
      has_until_(selection.until_s.has_value()) {
  if (has_since_) since_ns_ = ToNs(*selection.since_s);
  if (has_until_) until_ns_ = ToNs(*selection.until_s);
}

bool SelectingVisitor::InWindow(int64_t ts_ns) {
  ++seen_;
  if (!has_origin_) {
    // Events arrive in time order: the first one is the trace start.
    has_origin_ = true;
    origin_ns_ = ts_ns;
    contents_.any_time = true;
    contents_.first_ns = ts_ns;
  }
  if (ts_ns > contents_.last_ns) contents_.last_ns = ts_ns;
  if (!has_since_ && !has_until_) return true;
  const int64_t offset = ts_ns - origin_ns_;
  if (has_since_ && offset < since_ns_) return false;
  if (has_until_ && offset >= until_ns_) return false;
  return true;
}

bool SelectingVisitor::VmKept(uint32_t trace) const {
  if (vms_.empty()) return true;
  return trace < vm_kept_.size() && vm_kept_[trace] != 0;
}

bool SelectingVisitor::Common(int64_t ts_ns, uint32_t trace, uint32_t vcpu) {
  if (!InWindow(ts_ns)) return false;
  if (!VmKept(trace)) return false;
  if (vcpus_.any() && !vcpus_.contains(vcpu)) return false;
  return true;
}

bool SelectingVisitor::SelectsMark(int64_t ts_ns, uint32_t trace, uint32_t vcpu, uint32_t pid, uint32_t tid,
                                   uint32_t id) {
  Note(vcpu, pid, tid, &id);
  if (!Common(ts_ns, trace, vcpu)) return false;
  if (pids_.any() && !pids_.contains(pid)) return false;
  if (tids_.any() && !tids_.contains(tid)) return false;
  if (events_.any() && !events_.contains(id)) return false;
  KeepId();
  return true;
}

void SelectingVisitor::OnMark(const MarkEvent &e) {
  if (SelectsMark(e.ts_ns, e.trace, e.vcpu, e.pid, e.tid, e.event)) next_.OnMark(e);
}

void SelectingVisitor::OnRegion(const RegionEvent &e) {
  Note(e.vcpu, e.pid, e.tid, &e.region);
  if (!Common(e.ts_ns, e.trace, e.vcpu)) return;
  if (pids_.any() && !pids_.contains(e.pid)) return;
  if (tids_.any() && !tids_.contains(e.tid)) return;
  if (events_.any() && !events_.contains(e.region)) return;
  KeepId();
  next_.OnRegion(e);
}

void SelectingVisitor::OnSchedSwitch(const SchedSwitchEvent &e) {
  if (e.next_tid != 0) Note(e.vcpu, e.next_pid, e.next_tid, nullptr);
  if (!Common(e.ts_ns, e.trace, e.vcpu)) return;
  if (pids_.any() && !pids_.contains(e.prev_pid) && !pids_.contains(e.next_pid)) return;
  if (tids_.any() && !tids_.contains(e.prev_tid) && !tids_.contains(e.next_tid)) return;
  KeepActivity();
  next_.OnSchedSwitch(e);
}

void SelectingVisitor::OnTbExec(const TbExecEvent &e) {
  Note(e.vcpu, e.pid, e.tid, nullptr);
  if (!Common(e.ts_ns, e.trace, e.vcpu)) return;
  if (pids_.any() && !pids_.contains(e.pid)) return;
  if (tids_.any() && !tids_.contains(e.tid)) return;
  KeepActivity();
  next_.OnTbExec(e);
}

void SelectingVisitor::KeepVmTraces(const std::vector<uint32_t> &traces) {
  for (uint32_t t : traces) {
    if (t >= vm_kept_.size()) vm_kept_.resize(size_t{t} + 1, 0);
    vm_kept_[t] = 1;
  }
}

void SelectingVisitor::OnSession(const SessionEvent &e) {
  InWindow(e.ts_ns);  // fixes the origin; sessions pass regardless
  contents_.vms.emplace(VmName(e));
  if (!vms_.empty()) {
    if (e.trace >= vm_kept_.size()) vm_kept_.resize(size_t{e.trace} + 1, 0);
    const std::string_view name = VmName(e);
    // A trace with several sessions (per-UID buffers) is kept when any of
    // them names a selected VM.
    if (std::find(vms_.begin(), vms_.end(), name) != vms_.end()) vm_kept_[e.trace] = 1;
  }
  Keep();
  next_.OnSession(e);
}

void SelectingVisitor::OnEventName(const EventNameEvent &e) {
  InWindow(e.ts_ns);
  Keep();
  next_.OnEventName(e);
}

void SelectingVisitor::OnRejected(const RejectedEvent &e) {
  InWindow(e.ts_ns);
  Keep();
  next_.OnRejected(e);
}

void SelectingVisitor::OnRejectedTotal(const RejectedTotalEvent &e) {
  InWindow(e.ts_ns);
  Keep();
  next_.OnRejectedTotal(e);
}

// A bulk mark is selected like a mark: its event id, process and thread.
void SelectingVisitor::OnBlob(const BlobEvent &e) {
  if (SelectsMark(e.ts_ns, e.trace, e.vcpu, e.pid, e.tid, e.event)) next_.OnBlob(e);
}

// A call is selected like a mark: its event id, process and thread.
void SelectingVisitor::OnCall(const CallEvent &e) {
  if (SelectsMark(e.ts_ns, e.trace, e.vcpu, e.pid, e.tid, e.event)) next_.OnCall(e);
}

void SelectingVisitor::OnRingDropped(const RingDroppedEvent &e) {
  InWindow(e.ts_ns);
  Keep();
  next_.OnRingDropped(e);
}

void SelectingVisitor::OnFilter(const FilterEvent &e) {
  InWindow(e.ts_ns);
  Keep();
  next_.OnFilter(e);
}

void SelectingVisitor::OnFilterDropped(const FilterDroppedEvent &e) {
  InWindow(e.ts_ns);
  Keep();
  next_.OnFilterDropped(e);
}

void SelectingVisitor::OnFilterStats(const FilterStatsEvent &e) {
  InWindow(e.ts_ns);
  Keep();
  next_.OnFilterStats(e);
}

void SelectingVisitor::OnOtherEvent(int64_t ts_ns, std::string_view class_name) {
  if (!InWindow(ts_ns)) return;
  if (!vms_.empty() || vcpus_.any() || pids_.any() || tids_.any() || events_.any()) return;
  Keep();
  next_.OnOtherEvent(ts_ns, class_name);
}

void SelectingVisitor::OnDiscardedEvents(const DiscardedEventsMessage &d) { next_.OnDiscardedEvents(d); }

void SelectingVisitor::OnWarning(std::string message) { next_.OnWarning(std::move(message)); }

static_assert(ForwardsEveryEvent<SelectingVisitor>(),
              "SelectingVisitor is a decorator: it must pass every event on");
static_assert(ForwardsEveryEvent<TeeVisitor>(), "TeeVisitor is a decorator: it must pass every event on");

void TeeVisitor::OnMark(const MarkEvent &e) {
  for (EventVisitor *v : targets_) v->OnMark(e);
}
void TeeVisitor::OnRegion(const RegionEvent &e) {
  for (EventVisitor *v : targets_) v->OnRegion(e);
}
void TeeVisitor::OnEventName(const EventNameEvent &e) {
  for (EventVisitor *v : targets_) v->OnEventName(e);
}
void TeeVisitor::OnSession(const SessionEvent &e) {
  for (EventVisitor *v : targets_) v->OnSession(e);
}
void TeeVisitor::OnRejected(const RejectedEvent &e) {
  for (EventVisitor *v : targets_) v->OnRejected(e);
}
void TeeVisitor::OnRejectedTotal(const RejectedTotalEvent &e) {
  for (EventVisitor *v : targets_) v->OnRejectedTotal(e);
}
void TeeVisitor::OnSchedSwitch(const SchedSwitchEvent &e) {
  for (EventVisitor *v : targets_) v->OnSchedSwitch(e);
}
void TeeVisitor::OnTbExec(const TbExecEvent &e) {
  for (EventVisitor *v : targets_) v->OnTbExec(e);
}
void TeeVisitor::OnBlob(const BlobEvent &e) {
  for (EventVisitor *v : targets_) v->OnBlob(e);
}

void TeeVisitor::OnCall(const CallEvent &e) {
  for (EventVisitor *v : targets_) v->OnCall(e);
}

void TeeVisitor::OnRingDropped(const RingDroppedEvent &e) {
  for (EventVisitor *v : targets_) v->OnRingDropped(e);
}
void TeeVisitor::OnFilter(const FilterEvent &e) {
  for (EventVisitor *v : targets_) v->OnFilter(e);
}
void TeeVisitor::OnFilterDropped(const FilterDroppedEvent &e) {
  for (EventVisitor *v : targets_) v->OnFilterDropped(e);
}
void TeeVisitor::OnFilterStats(const FilterStatsEvent &e) {
  for (EventVisitor *v : targets_) v->OnFilterStats(e);
}
void TeeVisitor::OnOtherEvent(int64_t ts_ns, std::string_view class_name) {
  for (EventVisitor *v : targets_) v->OnOtherEvent(ts_ns, class_name);
}
void TeeVisitor::OnDiscardedEvents(const DiscardedEventsMessage &d) {
  for (EventVisitor *v : targets_) v->OnDiscardedEvents(d);
}
void TeeVisitor::OnWarning(std::string message) {
  for (EventVisitor *v : targets_) v->OnWarning(message);
}
bool TeeVisitor::WantsMarkDetails() const {
  for (const EventVisitor *v : targets_) {
    if (v->WantsMarkDetails()) return true;
  }
  return false;
}

}  // namespace bdtrace::analyzer
