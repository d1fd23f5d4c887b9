// SPDX-License-Identifier: MIT
#include "bdtrace/analyzer/timeline.h"

#include <google/protobuf/util/json_util.h>

#include <cinttypes>
#include <cstdio>

#include "bdtrace/analyzer/report_format.h"

namespace bdtrace::analyzer {

namespace {

// As Model: larger vCPU indexes are not a real VM's and get no state.
constexpr uint32_t kMaxVcpus = 4096;

// "12.345678": milliseconds, to the nanosecond... in text; seconds in CSV.
std::string Fixed(int64_t ns, double unit, const char *fmt) {
  char buf[48];
  std::snprintf(buf, sizeof buf, fmt, static_cast<double>(ns) / unit);
  return buf;
}

std::string SecondsNs(int64_t d) {
  char buf[48];
  const uint64_t a = static_cast<uint64_t>(d < 0 ? -d : d);
  std::snprintf(buf, sizeof buf, "%s%llu.%09llu", d < 0 ? "-" : "",
                static_cast<unsigned long long>(a / 1000000000),
                static_cast<unsigned long long>(a % 1000000000));
  return buf;
}

google::protobuf::util::JsonPrintOptions JsonOptions() {
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  return o;
}

}  // namespace

TimelineWriter::TimelineWriter(std::ostream &out, TimelineOptions options)
    : out_(out), options_(std::move(options)) {}

TimelineWriter::Vm &TimelineWriter::VmOf(uint32_t trace) {
  if (trace >= vms_.size()) vms_.resize(size_t{trace} + 1);
  return vms_[trace];
}

void TimelineWriter::OnSession(const SessionEvent &e) {
  Seen(e.ts_ns);
  Vm &vm = VmOf(e.trace);
  if (!vm.named) {
    vm.named = true;
    const std::vector<std::string> &names = options_.vm_names;
    vm.name.assign(e.trace < names.size() && !names[e.trace].empty() ? std::string_view(names[e.trace])
                                                                     : VmName(e));
  }
}

int64_t TimelineWriter::Origin() {
  if (!has_origin_) {
    std::optional<int64_t> o = options_.origin ? options_.origin() : std::nullopt;
    origin_ns_ = o ? *o : first_ns_;
    has_origin_ = true;
  }
  return origin_ns_;
}

void TimelineWriter::Header() {
  header_written_ = true;
  switch (options_.format) {
    case TimelineFormat::kText:
      out_ << "bd-analyze timeline: run intervals per vCPU from sched_switch, in the order they "
              "ended (ms after the first event; tid 0: idle)\n";
      line_ = options_.vm_column ? "vm                " : "";
      line_ += "vcpu        start          end     duration      pid      tid  comm\n";
      out_ << line_;
      break;
    case TimelineFormat::kJson:
      out_ << "{\"intervals\": [";
      break;
    case TimelineFormat::kCsv:
      out_ << CsvRow({"vm", "vcpu", "start_s", "end_s", "duration_ns", "pid", "tid", "comm", "open_ended"});
      break;
  }
}

void TimelineWriter::Write(const Vm &vm, uint32_t vcpu, const Run &run, int64_t end_ns, bool open_ended) {
  ++intervals_;
  if (options_.limit > 0 && written_ >= options_.limit) return;
  if (!header_written_) Header();
  const int64_t origin = Origin();
  switch (options_.format) {
    case TimelineFormat::kText: {
      char buf[160];
      std::snprintf(buf, sizeof buf, "%4" PRIu32 " %12s %12s %12s %8" PRIu32 " %8" PRIu32 "  ", vcpu,
                    Fixed(run.since_ns - origin, 1e6, "%.6f").c_str(),
                    Fixed(end_ns - origin, 1e6, "%.6f").c_str(),
                    FormatDuration(static_cast<uint64_t>(end_ns - run.since_ns)).c_str(), run.pid, run.tid);
      line_.clear();
      if (options_.vm_column) {
        line_ += vm.name.empty() ? "-" : vm.name;
        line_.resize(std::max<size_t>(line_.size() + 1, 18), ' ');
      }
      line_ += buf;
      line_ += run.comm.empty() ? "-" : run.comm;
      if (open_ended) line_ += "  (still running at the end)";
      line_ += '\n';
      out_ << line_;
      break;
    }
    case TimelineFormat::kJson: {
      report::TimelineInterval i;
      i.set_vm(vm.name);
      i.set_vcpu(vcpu);
      i.set_start_timestamp_ns(run.since_ns);
      i.set_end_timestamp_ns(end_ns);
      i.set_pid(run.pid);
      i.set_tid(run.tid);
      i.set_comm(run.comm);
      i.set_open_ended(open_ended);
      line_.clear();
      (void)google::protobuf::util::MessageToJsonString(i, &line_, JsonOptions());
      out_ << (written_ > 0 ? ",\n  " : "\n  ") << line_;
      break;
    }
    case TimelineFormat::kCsv:
      out_ << CsvRow({vm.name, std::to_string(vcpu), SecondsNs(run.since_ns - origin),
                      SecondsNs(end_ns - origin), std::to_string(end_ns - run.since_ns),
                      std::to_string(run.pid), std::to_string(run.tid), run.comm, open_ended ? "1" : "0"});
      break;
  }
  ++written_;
}

void TimelineWriter::OnSchedSwitch(const SchedSwitchEvent &e) {
  Seen(e.ts_ns);
  if (e.vcpu >= kMaxVcpus) return;
  Vm &vm = VmOf(e.trace);
  if (e.vcpu >= vm.vcpus.size()) vm.vcpus.resize(size_t{e.vcpu} + 1);
  Run &run = vm.vcpus[e.vcpu];
  if (run.started) {
    const int64_t now = std::max(e.ts_ns, run.since_ns);
    Write(vm, e.vcpu, run, now, false);
    run.since_ns = now;
  } else {
    run.started = true;
    run.since_ns = e.ts_ns;
  }
  run.pid = e.next_pid;
  run.tid = e.next_tid;
  run.comm.assign(e.next_comm);  // reuses the string's capacity
}

Status TimelineWriter::Finish(const report::Report &summary) {
  for (const Vm &vm : vms_) {
    for (uint32_t v = 0; v < vm.vcpus.size(); ++v) {
      const Run &run = vm.vcpus[v];
      if (run.started) Write(vm, v, run, std::max(last_ns_, run.since_ns), true);
    }
  }
  if (!header_written_) Header();
  const uint64_t not_shown = intervals_ - written_;
  switch (options_.format) {
    case TimelineFormat::kText: {
      if (intervals_ == 0) out_ << "  no sched_switch events: no timeline (system mode only)\n";
      if (not_shown > 0) {
        out_ << "  +" << not_shown << " more intervals (--limit 0 shows all)\n";
      }
      const report::DiscardedEvents &d = summary.discarded_events();
      out_ << "discarded:  " << d.count() << " events lost by the tracer"
           << (d.messages_without_count() > 0 ? " (at least)" : "") << "\n";
      if (summary.ring_drops().events() > 0) {
        out_ << "ring drops: " << summary.ring_drops().total()
             << " records the guest could not write (ring full or nested call)\n";
      }
      out_ << "rejected:   " << summary.rejected().total() << " malformed records\n";
      if (summary.warnings_size() > 0) {
        out_ << "warnings\n";
        for (const std::string &w : summary.warnings()) out_ << "  - " << w << "\n";
      }
      break;
    }
    case TimelineFormat::kJson: {
      report::Timeline t;
      t.set_intervals_not_shown(not_shown);
      *t.mutable_discarded_events() = summary.discarded_events();
      *t.mutable_rejected() = summary.rejected();
      *t.mutable_ring_drops() = summary.ring_drops();
      t.set_trace_begin_ns(has_first_ ? Origin() : 0);
      *t.mutable_selection() = summary.selection();
      for (const std::string &w : summary.warnings()) t.add_warnings(w);
      std::string tail;
      const auto st = google::protobuf::util::MessageToJsonString(t, &tail, JsonOptions());
      if (!st.ok()) return Error{"cannot print the timeline as JSON", {st.ToString()}};
      // {"a": ...} -> , "a": ... after the intervals.
      std::string body = tail.size() >= 2 ? tail.substr(1, tail.size() - 2) : std::string();
      out_ << (written_ > 0 ? "\n]" : "]") << (body.empty() ? "" : ", ") << body << "}\n";
      break;
    }
    case TimelineFormat::kCsv:
      break;
  }
  out_.flush();
  if (!out_) return Error{"cannot write the timeline", {}};
  return Status::Ok();
}

}  // namespace bdtrace::analyzer
