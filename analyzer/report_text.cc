// SPDX-License-Identifier: MIT
// The text report. Times are printed relative to the trace's first event.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <bd/ring.h>

#include "bdtrace/analyzer/report_format.h"
#include "report_sections.h"
#include "text_table.h"

namespace bdtrace::analyzer {

namespace text {

using Align = TextTable::Align;

// Per-thread counts shown in the events table before eliding the rest.
constexpr int kMaxThreadsPerEvent = 8;
// Processes named per vCPU, and rows of the process table, before eliding.
constexpr size_t kTopProcessesPerVcpu = 3;
constexpr int kMaxProcessRows = 30;

std::string Num(uint64_t v) { return std::to_string(v); }

std::string Printf(const char *fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// Milliseconds since the first event, e.g. "+1.234".
std::string Offset(int64_t ts_ns, int64_t begin_ns) {
  return Printf("+%.3f", static_cast<double>(ts_ns - begin_ns) / 1e6);
}

std::string NameOrDash(const std::string &name) { return name.empty() ? "-" : name; }

// A share in 0..1 as "40.1%".
std::string Percent(double share) { return Printf("%.1f%%", share * 100.0); }

std::string Ms(uint64_t ns) { return Printf("%.3f", static_cast<double>(ns) / 1e6); }

// "guest-pingpong[123]"
std::string ProcessName(const std::string &comm, uint32_t pid) {
  return NameOrDash(comm) + "[" + std::to_string(pid) + "]";
}

// A vm column only helps when the report covers several VMs.
template <typename Rows>
bool SeveralVms(const Rows &rows) {
  std::set<std::string> vms;
  for (const auto &row : rows) vms.insert(row.vm());
  return vms.size() > 1;
}

// Several distinct VM names among the traces read: rows need a vm column.
bool ManyVms(const report::Report &r) {
  std::set<std::string> names;
  for (const report::VmInfo &v : r.vms()) names.insert(v.name());
  return names.size() > 1;
}

std::string SelectionText(const report::SelectionInfo &s) {
  std::string out;
  const auto add = [&](const std::string &k, const auto &values) {
    if (values.empty()) return;
    if (!out.empty()) out += ' ';
    out += k + '=';
    bool first = true;
    for (const auto &v : values) {
      if (!first) out += ',';
      first = false;
      if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) {
        out += v;
      } else {
        out += std::to_string(v);
      }
    }
  };
  add("vm", s.vms());
  add("vcpu", s.vcpus());
  add("pid", s.pids());
  add("tid", s.tids());
  add("event", s.events());
  if (s.has_since()) out += std::string(out.empty() ? "" : " ") + Printf("since=%gs", s.since_s());
  if (s.has_until()) out += std::string(out.empty() ? "" : " ") + Printf("until=%gs", s.until_s());
  return out;
}

uint64_t FilterEvents(const report::Totals &t) {
  return t.filter_configs() + t.filter_dropped() + t.filter_stats();
}

// With a filter: one line of its totals in the header.
void FilterLine(const report::Report &r, std::string &out) {
  if (!r.has_filter()) return;
  const report::FilterSummary &f = r.filter();
  out += "filter:     ";
  if (f.has_stats()) {
    out += Num(f.recorded()) + " records recorded, " + Num(f.filtered()) + " filtered, " +
           Num(f.rate_dropped()) + " rate-limited (of " +
           Num(f.recorded() + f.filtered() + f.rate_dropped()) + " the guest sent)";
  } else {
    out += "decisions unknown (no bdtrace:filter_stats)";
  }
  out += ", " + Num(f.configs_size()) + " config loads\n";
}

// Per-ring detail shown on the ring drops line before eliding the rest.
constexpr int kMaxRingDropRows = 8;

void Sessions(const report::Report &r, std::string &out) {
  for (const report::SessionInfo &s : r.sessions()) {
    out += "session:    mode=" + s.mode() + " arch=" + s.arch() + " program=" + s.program() +
           " abi=" + Num(s.abi_version()) + " host_pid=" + Num(s.host_pid()) + " vm=" + s.vm();
    // Traces older than the field say nothing (they are all trap).
    if (!s.channel().empty()) out += " channel=" + s.channel();
    if (!s.qemu_version().empty()) out += " qemu=" + s.qemu_version();
    if (s.plugin_api() != 0)
      out += " plugin_api=" + Num(s.plugin_api()) + " (QEMU's newest: " + Num(s.qemu_api()) + ")";
    out += "\n";
  }
}

bool HasRing(const report::Report &r) {
  return r.ring_drops().events() > 0 || r.guest_time().events() > 0 ||
         std::any_of(r.sessions().begin(), r.sessions().end(),
                     [](const report::SessionInfo &s) { return s.channel() == "ring"; });
}

// Ring channel only: records lost in the guest's rings (next to LTTng's
// own losses), and how far emission lagged the calls.
void RingLines(const report::Report &r, std::string &out) {
  if (!HasRing(r)) return;
  const report::RingDrops &d = r.ring_drops();
  out += "ring drops: " + Num(d.total()) +
         " records the guest could not write (ring full, nested call, or no ring free)";
  const bool vm_column = ManyVms(r);
  for (int i = 0; i < d.rings_size(); ++i) {
    if (i == kMaxRingDropRows) {
      out += " +" + Num(d.rings_size() - i) + " more";
      break;
    }
    const report::RingDrop &g = d.rings(i);
    out += i == 0 ? ": " : ", ";
    if (vm_column) out += NameOrDash(g.vm()) + "/";
    if (g.ring() == BD_RING_NO_RING)  // <bd/ring.h>, UNOWNED DROPS
      out += "threads without a ring " + Num(g.count());
    else
      out += "ring " + Num(g.ring()) + " tid " + Num(g.tid()) + " " + Num(g.count());
  }
  out += "\n";
  const report::GuestTime &g = r.guest_time();
  if (g.events() == 0) return;
  out += "guest time: " + Num(g.events()) + " ring events placed at their guest_ts (emitted up to " +
         FormatDuration(g.max_lag_ns()) + " later), " + Num(g.late_events()) + " too late for the " +
         FormatDuration(static_cast<uint64_t>(g.window_ns())) + " reorder window\n";
}

void Summary(const report::Report &r, std::string &out, const char *title) {
  out += title;
  out += "\n";
  for (const std::string &p : r.trace_paths()) out += "trace:      " + p + "\n";
  out += "            (" + Num(r.trace_dirs_size()) + " CTF trace director" +
         (r.trace_dirs_size() == 1 ? "y" : "ies") + ")\n";
  Sessions(r, out);
  if (const std::string sel = SelectionText(r.selection()); !sel.empty()) {
    out += "selection:  " + sel + " (the counts below are of the selected events)\n";
  }
  out += "duration:   " + FormatDuration(static_cast<uint64_t>(r.trace_duration_ns())) +
         " (first to last event)\n";
  const report::Totals &t = r.totals();
  out += "events:     " + Num(t.events()) + " total: " + Num(t.marks()) + " marks, " + Num(t.text_marks()) +
         " text marks, " + Num(t.region_begins()) + " region begins, " + Num(t.region_ends()) +
         " region ends, " + Num(t.event_names()) + " event names, " + Num(t.rejected()) + " rejected, " +
         Num(t.rejected_totals()) + " rejected totals, " + Num(t.sessions()) + " sessions, " +
         (t.sched_switches() > 0 ? Num(t.sched_switches()) + " sched switches, " : "") +
         (t.ring_dropped() > 0 ? Num(t.ring_dropped()) + " ring drop reports, " : "") +
         (FilterEvents(t) > 0 ? Num(FilterEvents(t)) + " filter events, " : "") +
         (t.blobs() > 0 ? Num(t.blobs()) + " blobs, " : "") +
         (t.calls() > 0 ? Num(t.calls()) + " calls, " : "") + Num(t.other()) + " other\n";
  if (r.calls_size() > 0) {
    // Guest calls to host handlers: per event id, the handler's time.
    out += "calls:     ";
    for (int i = 0; i < r.calls_size(); ++i) {
      const report::CallStats &c = r.calls(i);
      out += std::string(i == 0 ? " " : ", ") + "event " + Num(c.event()) + " x" + Num(c.count()) +
             " (mean " + FormatDuration(c.total_ns() / c.count()) + ", max " + FormatDuration(c.max_ns()) +
             (c.failed() > 0 ? ", " + Num(c.failed()) + " failed" : "") + ")";
    }
    out += "\n";
  }
  if (r.blobs_size() > 0) {
    // Bulk marks (bd_mark_blob): per event id, sizes only.
    out += "blobs:      " + Num(t.blob_bytes()) + " bytes:";
    for (int i = 0; i < r.blobs_size(); ++i) {
      const report::BlobStats &b = r.blobs(i);
      out += std::string(i == 0 ? " " : ", ") + "event " + Num(b.event()) + " x" + Num(b.count()) + " (" +
             Num(b.bytes()) + " bytes, largest " + Num(b.max_bytes()) + ")";
    }
    out += "\n";
  }
  const report::DiscardedEvents &d = r.discarded_events();
  out += "discarded:  " + Num(d.count()) + " events lost by the tracer";
  if (d.messages_without_count() > 0) out += " (at least: some losses had no count)";
  out += "\n";
  // Per stream (one host CPU's buffer each), VM by VM.
  for (int i = 0; i < d.streams_size(); ++i) {
    const report::DiscardedStream &s = d.streams(i);
    const bool new_vm = i == 0 || d.streams(i - 1).vm() != s.vm();
    if (new_vm)
      out += std::string(i == 0 ? "" : "\n") + "            " + (s.vm().empty() ? "" : "VM " + s.vm() + ": ");
    else
      out += ", ";
    out += s.stream() + " " + Num(s.count());
  }
  if (d.streams_size() > 0) out += "\n";
  RingLines(r, out);
  const report::Rejected &rej = r.rejected();
  out += "rejected:   " + Num(rej.total()) + " malformed records";
  if (rej.reasons_size() > 0) {
    out += " (";
    for (int i = 0; i < rej.reasons_size(); ++i) {
      if (i > 0) out += ", ";
      out += rej.reasons(i).name() + "=" + Num(rej.reasons(i).count());
    }
    out += ")";
  }
  if (rej.source() == report::Rejected::REJECTED_TOTAL) {
    out += ", exact (bdtrace:rejected_total)";
  } else if (rej.source() == report::Rejected::COUNTED_EVENTS) {
    out += ", counted from rate-limited bdtrace:rejected events (may be low)";
  }
  out += "\n";
  // Not malformed: records a full-system guest could not send and said so
  // (<bd/channel.h>, LOST RECORDS).
  for (const report::RejectReason &reason : rej.reasons())
    if (reason.name() == "no_free_slot" || reason.name() == "nested_call") {
      out +=
          "            (no_free_slot, nested_call: not malformed but lost in the guest, which "
          "reported them: every channel slot was taken, or a call was nested in a signal "
          "handler)\n";
      break;
    }
  FilterLine(r, out);
}

void Filter(const report::Report &r, std::string &out) {
  if (!r.has_filter()) return;
  const report::FilterSummary &f = r.filter();
  const bool vm_column = SeveralVms(f.vcpus()) || SeveralVms(f.configs());
  out += "\nfilter: configs loaded (bdtrace:filter)\n";
  for (const report::FilterConfigLoad &c : f.configs()) {
    out += "  " + (vm_column ? NameOrDash(c.vm()) + " " : std::string()) +
           Offset(c.timestamp_ns(), r.trace_begin_ns()) + " ms  generation " + Num(c.generation()) + " " +
           c.status() + ": " + c.path() + ", " + Num(c.rules()) + " rules, digest " + c.digest();
    if (!c.message().empty()) out += " (" + c.message() + ")";
    out += "\n";
  }
  if (f.vcpus_size() > 0) {
    out += "\nfilter decisions per vCPU (records the guest sent; bdtrace:filter_stats)\n";
    std::vector<TextTable::Column> columns;
    if (vm_column) columns.push_back({"vm", Align::kLeft});
    for (const char *c : {"vcpu", "sent", "recorded", "filtered", "rate-limited"}) {
      columns.push_back({c, Align::kRight});
    }
    TextTable table(std::move(columns));
    for (const report::FilterVcpu &v : f.vcpus()) {
      std::vector<std::string> row;
      if (vm_column) row.push_back(NameOrDash(v.vm()));
      for (std::string cell : {v.vcpu() == 64 ? std::string(">=64") : Num(v.vcpu()), Num(v.sent()),
                               Num(v.recorded()), Num(v.filtered()), Num(v.rate_dropped())}) {
        row.push_back(std::move(cell));
      }
      table.AddRow(std::move(row));
    }
    out += table.Render();
  }
  out +=
      "\nfilter rules: records dropped over a rate limit (bdtrace:dropped; DROP decisions are "
      "counted per vCPU only)\n";
  if (f.rules_size() == 0) {
    out += "  none\n";
  } else {
    std::vector<TextTable::Column> columns;
    if (vm_column) columns.push_back({"vm", Align::kLeft});
    columns.push_back({"generation", Align::kRight});
    columns.push_back({"rule", Align::kRight});
    columns.push_back({"name", Align::kLeft});
    columns.push_back({"rate-limited", Align::kRight});
    columns.push_back({"per vCPU (vcpu:count)", Align::kLeft});
    TextTable table(std::move(columns));
    for (const report::FilterRule &g : f.rules()) {
      std::string per;
      for (const report::VcpuCount &c : g.per_vcpu()) {
        if (!per.empty()) per += ' ';
        per += Num(c.vcpu()) + ":" + Num(c.count());
      }
      std::vector<std::string> row;
      if (vm_column) row.push_back(NameOrDash(g.vm()));
      for (std::string cell :
           {Num(g.generation()), Num(g.rule()), NameOrDash(g.name()), Num(g.rate_dropped()), per}) {
        row.push_back(std::move(cell));
      }
      table.AddRow(std::move(row));
    }
    out += table.Render();
  }
  for (const std::string &note : f.notes()) out += "  note: " + note + "\n";
}

void Threads(const report::Report &r, std::string &out) {
  out += "\nthreads (first/last: ms after the first event)\n";
  if (r.threads_size() == 0) {
    out += "  none\n";
    return;
  }
  // Names are known only from sched_switch (system mode).
  const bool comms = std::any_of(r.threads().begin(), r.threads().end(),
                                 [](const report::ThreadStats &t) { return !t.comm().empty(); });
  const bool vm_column = ManyVms(r);
  std::vector<TextTable::Column> columns;
  if (vm_column) columns.push_back({"vm", Align::kLeft});
  columns.push_back({"pid", Align::kRight});
  columns.push_back({"tid", Align::kRight});
  if (comms) columns.push_back({"comm", Align::kLeft});
  for (const char *c : {"events", "marks", "text", "begins", "ends", "first", "last"}) {
    columns.push_back({c, Align::kRight});
  }
  TextTable table(std::move(columns));
  for (const report::ThreadStats &t : r.threads()) {
    std::vector<std::string> row;
    if (vm_column) row.push_back(NameOrDash(t.vm()));
    row.push_back(Num(t.pid()));
    row.push_back(Num(t.tid()));
    if (comms) row.push_back(NameOrDash(t.comm()));
    for (std::string cell : {Num(t.events()), Num(t.marks()), Num(t.text_marks()), Num(t.region_begins()),
                             Num(t.region_ends()), Offset(t.first_timestamp_ns(), r.trace_begin_ns()),
                             Offset(t.last_timestamp_ns(), r.trace_begin_ns())}) {
      row.push_back(std::move(cell));
    }
    table.AddRow(std::move(row));
  }
  out += table.Render();
}

void Events(const report::Report &r, std::string &out) {
  out += "\nevents (marks by event id)\n";
  if (r.events_size() == 0) {
    out += "  none\n";
    return;
  }
  const bool vm_column = ManyVms(r);
  TextTable table({{"id", Align::kRight},
                   {"name", Align::kLeft},
                   {"count", Align::kRight},
                   {vm_column ? "per thread (vm/tid:count)" : "per thread (tid:count)", Align::kLeft}});
  for (const report::EventStats &e : r.events()) {
    std::string per;
    for (int i = 0; i < e.per_thread_size(); ++i) {
      if (i == kMaxThreadsPerEvent) {
        per += " +" + Num(e.per_thread_size() - i) + " more";
        break;
      }
      if (i > 0) per += ' ';
      if (vm_column) per += NameOrDash(e.per_thread(i).vm()) + "/";
      per += Num(e.per_thread(i).tid()) + ":" + Num(e.per_thread(i).count());
    }
    table.AddRow({Num(e.event_id()), NameOrDash(e.name()), Num(e.count()), per});
  }
  out += table.Render();
}

void Regions(const report::Report &r, std::string &out) {
  out +=
      "\nregions (durations per thread; open: begins never ended, stray: ends without "
      "a begin)\n";
  if (r.regions_size() == 0) {
    out += "  none\n";
    return;
  }
  const bool vm_column = ManyVms(r);
  std::vector<TextTable::Column> columns = {{"id", Align::kRight}, {"name", Align::kLeft}};
  if (vm_column) columns.push_back({"vm", Align::kLeft});
  for (const char *c : {"pid", "tid", "count", "total", "min", "mean", "max", "open", "stray"}) {
    columns.push_back({c, Align::kRight});
  }
  TextTable table(std::move(columns));
  for (const report::RegionStats &g : r.regions()) {
    const bool any = g.count() > 0;
    std::vector<std::string> row = {Num(g.region_id()), NameOrDash(g.name())};
    if (vm_column) row.push_back(NameOrDash(g.vm()));
    for (std::string cell :
         {Num(g.pid()), Num(g.tid()), Num(g.count()), any ? FormatDuration(g.total_ns()) : "-",
          any ? FormatDuration(g.min_ns()) : "-", any ? FormatDuration(g.mean_ns()) : "-",
          any ? FormatDuration(g.max_ns()) : "-", Num(g.unmatched_begins()), Num(g.unmatched_ends())}) {
      row.push_back(std::move(cell));
    }
    table.AddRow(std::move(row));
  }
  out += table.Render();
}

// Per vCPU: switches, busy share and the processes that took most of it.
void Vcpus(const report::Report &r, std::string &out) {
  if (r.vcpus_size() == 0) return;
  out +=
      "\nvCPUs: which guest process ran where (from sched_switch; shares of the time "
      "observed on each vCPU, from its first switch to the end)\n";
  const bool vm_column = SeveralVms(r.vcpus());
  std::vector<TextTable::Column> columns;
  if (vm_column) columns.push_back({"vm", Align::kLeft});
  for (const char *c : {"vcpu", "switches", "observed", "busy"}) {
    columns.push_back({c, Align::kRight});
  }
  columns.push_back({"top processes (share)", Align::kLeft});
  TextTable table(std::move(columns));
  for (const report::VcpuStats &v : r.vcpus()) {
    // Threads of one process (same pid and comm) add up.
    std::map<std::pair<uint32_t, std::string>, uint64_t> by_process;
    for (const report::VcpuThread &t : v.threads()) by_process[{t.pid(), t.comm()}] += t.ns();
    std::vector<std::pair<uint64_t, std::pair<uint32_t, std::string>>> top;
    for (auto &[key, ns] : by_process) top.emplace_back(ns, key);
    std::stable_sort(top.begin(), top.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
    std::string procs;
    for (size_t i = 0; i < top.size(); ++i) {
      if (i == kTopProcessesPerVcpu) {
        procs += "  +" + Num(top.size() - i) + " more";
        break;
      }
      if (i > 0) procs += "  ";
      const double share = v.observed_ns() > 0 ? static_cast<double>(top[i].first) / v.observed_ns() : 0.0;
      procs += ProcessName(top[i].second.second, top[i].second.first) + " " + Percent(share);
    }
    std::vector<std::string> row;
    if (vm_column) row.push_back(NameOrDash(v.vm()));
    for (std::string cell : {Num(v.vcpu()), Num(v.switches()), FormatDuration(v.observed_ns()),
                             Percent(v.busy_share()), procs.empty() ? std::string("-") : procs}) {
      row.push_back(std::move(cell));
    }
    table.AddRow(std::move(row));
  }
  out += table.Render();
}

// Per process: total CPU time and where it ran.
void Processes(const report::Report &r, std::string &out) {
  if (r.vcpus_size() == 0) return;
  out +=
      "\nguest processes (CPU time in ms, total and per vCPU; share of all vCPUs' observed "
      "time; the idle task is not listed)\n";
  if (r.processes_size() == 0) {
    out += "  none\n";
    return;
  }
  const bool vm_column = SeveralVms(r.processes());
  // Columns for every vCPU that any process row lists.
  std::set<uint32_t> vcpu_set;
  for (const report::ProcessCpu &p : r.processes()) {
    for (const report::VcpuTime &t : p.per_vcpu()) vcpu_set.insert(t.vcpu());
  }
  std::vector<TextTable::Column> columns;
  if (vm_column) columns.push_back({"vm", Align::kLeft});
  columns.push_back({"pid", Align::kRight});
  columns.push_back({"comm", Align::kLeft});
  columns.push_back({"threads", Align::kRight});
  columns.push_back({"switches", Align::kRight});
  columns.push_back({"total ms", Align::kRight});
  columns.push_back({"share", Align::kRight});
  for (uint32_t v : vcpu_set) columns.push_back({"vcpu" + Num(v), Align::kRight});
  TextTable table(std::move(columns));
  int shown = 0;
  for (const report::ProcessCpu &p : r.processes()) {
    if (shown++ == kMaxProcessRows) break;
    std::vector<std::string> row;
    if (vm_column) row.push_back(NameOrDash(p.vm()));
    for (std::string cell : {Num(p.pid()), NameOrDash(p.comm()), Num(p.threads()), Num(p.switches_in()),
                             Ms(p.total_ns()), Percent(p.share())}) {
      row.push_back(std::move(cell));
    }
    std::map<uint32_t, uint64_t> per;
    for (const report::VcpuTime &t : p.per_vcpu()) per[t.vcpu()] = t.ns();
    for (uint32_t v : vcpu_set) {
      auto it = per.find(v);
      row.push_back(it == per.end() || it->second == 0 ? "-" : Ms(it->second));
    }
    table.AddRow(std::move(row));
  }
  out += table.Render();
  if (r.processes_size() > kMaxProcessRows) {
    out += "  +" + Num(r.processes_size() - kMaxProcessRows) +
           " more processes (all of them are in --format json)\n";
  }
}

// Per traced process (filter rule trace_code): its hottest blocks by
// executions and by instructions.
void HotBlocks(const report::Report &r, std::string &out) {
  if (r.hot_blocks_size() == 0) return;
  constexpr int kRows = 10;
  out += "\nhottest blocks per process (bdtrace:tb_batch / tb_exec; top " + Num(kRows) +
         " by executions and by instructions)\n";
  if (r.totals().tb_lost() > 0)
    out += "  " + Num(r.totals().tb_lost()) +
           " executed blocks were not recorded (the plugin's drain thread fell behind; "
           "tb_batch.lost): the counts below miss them\n";
  const bool vm_column = ManyVms(r);
  for (const report::ProcessHotBlocks &p : r.hot_blocks()) {
    out += "  " + (vm_column ? "vm " + NameOrDash(p.vm()) + " " : std::string()) +
           ProcessName(p.comm(), p.pid()) + ": " + Num(p.executions()) + " blocks executed, " +
           Num(p.instructions()) + " instructions, " + Num(p.distinct_blocks()) + " distinct blocks";
    if (p.evicted_blocks() > 0) out += " (" + Num(p.evicted_blocks()) + " cold ones evicted)";
    out += "\n";
    for (int by_insns = 0; by_insns < 2; ++by_insns) {
      const auto &rows = by_insns ? p.by_instructions() : p.by_executions();
      out += by_insns ? "    by instructions:\n" : "    by executions:\n";
      const uint64_t whole = by_insns ? p.instructions() : p.executions();
      int n = 0;
      for (const report::HotBlock &b : rows) {
        if (n++ == kRows) break;
        char pc[32];
        std::snprintf(pc, sizeof pc, "0x%016llx", static_cast<unsigned long long>(b.pc()));
        const uint64_t v = by_insns ? b.instructions() : b.executions();
        out += std::string("      ") + pc + "  " + Num(b.n_insns()) + " insns  " + Num(b.executions()) +
               " execs  " + Num(b.instructions()) + " insns executed  " +
               Percent(whole ? static_cast<double>(v) / static_cast<double>(whole) : 0.0) + "\n";
      }
    }
  }
}

void Warnings(const report::Report &r, std::string &out) {
  if (r.warnings_size() == 0) return;
  out += "\nwarnings\n";
  for (const std::string &w : r.warnings()) out += "  - " + w + "\n";
}

}  // namespace text

using namespace text;

std::string FormatDuration(uint64_t ns) {
  if (ns < 1000) return Num(ns) + " ns";
  const double v = static_cast<double>(ns);
  if (ns < 1000000) return Printf("%.3f us", v / 1e3);
  if (ns < 1000000000) return Printf("%.3f ms", v / 1e6);
  return Printf("%.3f s", v / 1e9);
}

std::string FormatText(const report::Report &report) {
  std::string out;
  Summary(report, out, "bd-analyze report");
  Filter(report, out);
  Vcpus(report, out);
  Processes(report, out);
  HotBlocks(report, out);
  Threads(report, out);
  Events(report, out);
  Regions(report, out);
  Warnings(report, out);
  return out;
}

}  // namespace bdtrace::analyzer
