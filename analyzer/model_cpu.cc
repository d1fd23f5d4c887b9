// SPDX-License-Identifier: MIT
// Guest CPU time from bdtrace:sched_switch: per-vCPU timelines and the
// per-process table (the Model's system-mode half; see model.h).
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "bdtrace/analyzer/model.h"

namespace bdtrace::analyzer {

namespace {

// QEMU's vCPU index; a larger value is not a vCPU of a real VM and must not
// make the model allocate for it.
constexpr uint32_t kMaxVcpus = 4096;

uint64_t TidKey(uint32_t pid, uint32_t tid) { return (uint64_t{pid} << 32) | tid; }

uint64_t Elapsed(int64_t from, int64_t to) { return to > from ? static_cast<uint64_t>(to - from) : 0; }

double Share(uint64_t part, uint64_t whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

}  // namespace

Model::VmState &Model::Vm(uint32_t trace) {
  if (trace >= vms_.size()) vms_.resize(size_t{trace} + 1);
  vms_[trace].seen = true;
  return vms_[trace];
}

uint32_t Model::CpuThreadIndex(VcpuState &c, uint32_t pid, uint32_t tid, std::string_view comm) {
  auto [it, inserted] = c.by_tid.try_emplace(TidKey(pid, tid), kNoEntry);
  uint32_t last = kNoEntry;
  for (uint32_t i = it->second; i != kNoEntry; i = c.threads[i].next_same_tid) {
    if (c.threads[i].comm == comm) return i;
    last = i;
  }
  // First time this thread runs here under this name.
  const auto index = static_cast<uint32_t>(c.threads.size());
  CpuThread &t = c.threads.emplace_back();
  t.pid = pid;
  t.tid = tid;
  t.comm.assign(comm);
  if (last == kNoEntry) {
    it->second = index;
  } else {
    c.threads[last].next_same_tid = index;
  }
  return index;
}

void Model::OnSchedSwitch(const SchedSwitchEvent &e) {
  totals_.set_events(totals_.events() + 1);
  totals_.set_sched_switches(totals_.sched_switches() + 1);
  Seen(e.ts_ns);
  if (e.vcpu >= kMaxVcpus) {
    ++ignored_vcpus_;
    return;
  }
  VmState &vm = Vm(e.trace);
  if (e.vcpu >= vm.vcpus.size()) vm.vcpus.resize(size_t{e.vcpu} + 1);
  VcpuState &c = vm.vcpus[e.vcpu];

  if (c.started) {
    // The muxer delivers events in time order; never count backwards anyway.
    const int64_t now = std::max(e.ts_ns, c.since_ns);
    const uint64_t d = Elapsed(c.since_ns, now);
    if (c.idle) {
      c.idle_ns += d;
    } else {
      // A thread that exec'd while it ran leaves under its new name: the
      // time goes to that name (a process exec'd from a shell would
      // otherwise spend its whole first slice, often all of its run, as
      // the shell).
      uint32_t charged = c.running;
      if (e.prev_tid == c.running_tid && e.prev_pid == c.running_pid &&
          e.prev_comm != c.threads[c.running].comm) {
        charged = CpuThreadIndex(c, e.prev_pid, e.prev_tid, e.prev_comm);
      }
      c.threads[charged].ns += d;
      c.busy_ns += d;
    }
    if (e.prev_tid != c.running_tid || e.prev_pid != c.running_pid) ++c.prev_mismatches;
    c.since_ns = now;
  } else {
    // What ran before is unknown: the timeline starts here.
    c.started = true;
    c.first_ns = e.ts_ns;
    c.since_ns = e.ts_ns;
  }
  ++c.switches;
  c.running_pid = e.next_pid;
  c.running_tid = e.next_tid;
  c.idle = e.next_tid == 0;
  if (c.idle) {
    c.running = kNoEntry;
    return;
  }
  c.running = CpuThreadIndex(c, e.next_pid, e.next_tid, e.next_comm);
  CpuThread &t = c.threads[c.running];
  ++t.switches_in;
  t.last_in_ns = c.since_ns;
}

std::unordered_map<Model::ThreadKey, std::string, Model::ThreadKeyHash> Model::ThreadComms() const {
  // The name a thread had when it was last switched in, on any vCPU of its VM.
  std::unordered_map<ThreadKey, std::pair<int64_t, const std::string *>, ThreadKeyHash> latest;
  for (uint32_t trace = 0; trace < vms_.size(); ++trace) {
    for (const VcpuState &c : vms_[trace].vcpus) {
      for (const CpuThread &t : c.threads) {
        auto [it, inserted] = latest.try_emplace(ThreadKey{trace, t.pid, t.tid}, t.last_in_ns, &t.comm);
        if (!inserted && t.last_in_ns > it->second.first) it->second = {t.last_in_ns, &t.comm};
      }
    }
  }
  std::unordered_map<ThreadKey, std::string, ThreadKeyHash> comms;
  comms.reserve(latest.size());
  for (const auto &[key, v] : latest) comms.emplace(key, *v.second);
  return comms;
}

// FinishCpu's tally: a row per vCPU that saw a switch (its timeline closed
// at the trace's end), and each process name's time over the vCPUs of its
// VM.
struct Model::CpuTally {
  struct ProcessAccum {
    std::map<uint32_t, uint64_t> per_vcpu;
    uint64_t total_ns = 0, switches_in = 0;
    std::set<uint32_t> tids;
  };
  // (vm name, trace, pid, comm) -> accumulated time.
  std::map<std::tuple<std::string, uint32_t, uint32_t, std::string>, ProcessAccum> processes;
  std::vector<report::VcpuStats> vcpus;
  std::map<uint32_t, uint64_t> observed_per_trace;
  std::map<uint32_t, std::vector<uint32_t>> vcpus_per_trace;
  uint64_t mismatches = 0;

  void AddVcpu(const std::string &vm, uint32_t trace, uint32_t v, const VcpuState &c, int64_t end);
  // The threads that ran on vCPU v, busiest first; adds them to processes.
  std::vector<report::VcpuThread> AddThreads(const std::string &vm, uint32_t trace, uint32_t v,
                                             const VcpuState &c, uint64_t tail, uint64_t observed);
  void WriteVcpus(report::Report &report);
  void WriteProcesses(report::Report &report);
};

void Model::FinishCpu(report::Report &report) const {
  CpuTally tally;
  for (uint32_t trace = 0; trace < vms_.size(); ++trace) {
    const VmState &vm = vms_[trace];
    for (uint32_t v = 0; v < vm.vcpus.size(); ++v) {
      // The last task switched in on a vCPU runs until the trace ends.
      if (vm.vcpus[v].started) tally.AddVcpu(VmNameOf(trace), trace, v, vm.vcpus[v], end_ns_);
    }
  }
  tally.WriteVcpus(report);
  tally.WriteProcesses(report);
  FinishCpuWarnings(tally.mismatches, report);
}

void Model::CpuTally::AddVcpu(const std::string &vm, uint32_t trace, uint32_t v, const VcpuState &c,
                              int64_t end) {
  const uint64_t tail = Elapsed(c.since_ns, end);
  const uint64_t busy = c.busy_ns + (c.idle ? 0 : tail);
  const uint64_t idle = c.idle_ns + (c.idle ? tail : 0);
  const uint64_t observed = busy + idle;
  observed_per_trace[trace] += observed;
  vcpus_per_trace[trace].push_back(v);
  mismatches += c.prev_mismatches;

  report::VcpuStats s;
  s.set_vm(vm);
  s.set_vcpu(v);
  s.set_switches(c.switches);
  s.set_busy_ns(busy);
  s.set_idle_ns(idle);
  s.set_observed_ns(observed);
  s.set_busy_share(Share(busy, observed));
  s.set_first_switch_timestamp_ns(c.first_ns);
  s.set_end_timestamp_ns(std::max(end, c.since_ns));
  s.set_prev_mismatches(c.prev_mismatches);
  for (report::VcpuThread &vt : AddThreads(vm, trace, v, c, tail, observed)) {
    *s.add_threads() = std::move(vt);
  }
  vcpus.push_back(std::move(s));
}

std::vector<report::VcpuThread> Model::CpuTally::AddThreads(const std::string &vm, uint32_t trace, uint32_t v,
                                                            const VcpuState &c, uint64_t tail,
                                                            uint64_t observed) {
  std::vector<report::VcpuThread> threads;
  threads.reserve(c.threads.size());
  for (uint32_t i = 0; i < c.threads.size(); ++i) {
    const CpuThread &t = c.threads[i];
    const uint64_t ns = t.ns + (!c.idle && i == c.running ? tail : 0);
    report::VcpuThread &vt = threads.emplace_back();
    vt.set_pid(t.pid);
    vt.set_tid(t.tid);
    vt.set_comm(t.comm);
    vt.set_ns(ns);
    vt.set_share(Share(ns, observed));
    vt.set_switches_in(t.switches_in);

    ProcessAccum &p = processes[{vm, trace, t.pid, t.comm}];
    p.per_vcpu[v] += ns;
    p.total_ns += ns;
    p.switches_in += t.switches_in;
    p.tids.insert(t.tid);
  }
  std::sort(threads.begin(), threads.end(), [](const report::VcpuThread &a, const report::VcpuThread &b) {
    return std::make_tuple(b.ns(), a.pid(), a.tid(), a.comm()) <
           std::make_tuple(a.ns(), b.pid(), b.tid(), b.comm());
  });
  return threads;
}

void Model::CpuTally::WriteVcpus(report::Report &report) {
  std::stable_sort(vcpus.begin(), vcpus.end(), [](const report::VcpuStats &a, const report::VcpuStats &b) {
    return a.vm() < b.vm();  // then trace, vcpu: already in that order
  });
  for (report::VcpuStats &s : vcpus) *report.add_vcpus() = std::move(s);
}

void Model::CpuTally::WriteProcesses(report::Report &report) {
  std::vector<report::ProcessCpu> rows;
  rows.reserve(processes.size());
  for (const auto &[key, p] : processes) {
    const auto &[vm, trace, pid, comm] = key;
    report::ProcessCpu &row = rows.emplace_back();
    row.set_vm(vm);
    row.set_pid(pid);
    row.set_comm(comm);
    row.set_total_ns(p.total_ns);
    row.set_switches_in(p.switches_in);
    row.set_threads(static_cast<uint32_t>(p.tids.size()));
    row.set_share(Share(p.total_ns, observed_per_trace[trace]));
    for (uint32_t v : vcpus_per_trace[trace]) {
      report::VcpuTime *vt = row.add_per_vcpu();
      vt->set_vcpu(v);
      auto it = p.per_vcpu.find(v);
      vt->set_ns(it == p.per_vcpu.end() ? 0 : it->second);
    }
  }
  // Largest first; ties in (vm, pid, comm) order (rows are in that order).
  std::stable_sort(rows.begin(), rows.end(), [](const report::ProcessCpu &a, const report::ProcessCpu &b) {
    return a.total_ns() > b.total_ns();
  });
  for (report::ProcessCpu &row : rows) *report.add_processes() = std::move(row);
}

void Model::FinishCpuWarnings(uint64_t mismatches, report::Report &report) const {
  if (mismatches > 0) {
    report.add_warnings(std::to_string(mismatches) +
                        " sched_switch events named a prev task other than the one switched in "
                        "before on that vCPU (lost events?): the vCPU times are approximate");
  }
  if (ignored_vcpus_ > 0) {
    report.add_warnings(std::to_string(ignored_vcpus_) + " sched_switch events had a vCPU index >= " +
                        std::to_string(kMaxVcpus) + " and were ignored");
  }
  for (uint32_t trace = 0; trace < vms_.size(); ++trace) {
    if (vms_[trace].system_sessions > 1) {
      report.add_warnings("one trace holds " + std::to_string(vms_[trace].system_sessions) +
                          " system-mode sessions (per-UID buffers?): their vCPU timelines are "
                          "merged; record one VM per trace (per-PID buffers)");
    }
  }
}

}  // namespace bdtrace::analyzer
