// SPDX-License-Identifier: MIT
// The filter's side of the model: bdtrace:filter (config loads),
// bdtrace:dropped (rate-limit drops per rule and vCPU) and
// bdtrace:filter_stats (per-vCPU decisions at exit) become the report's
// FilterSummary, with notes when the filter left the guest's marks out.
#include <set>
#include <string>
#include <vector>

#include "bdtrace/analyzer/model.h"
#include "value_ranges.h"

namespace bdtrace::analyzer {

namespace {

std::string Vcpus(const std::set<uint32_t> &values) {
  return (values.size() == 1 ? "vCPU " : "vCPUs ") + ValueRanges(values);
}

std::string Records(uint64_t n) { return std::to_string(n) + (n == 1 ? " record" : " records"); }

// The config in force at the end of trace `trace`'s run: its last load
// with status ok.
const report::FilterConfigLoad *InForce(const report::FilterSummary &f, const std::string &vm) {
  const report::FilterConfigLoad *last = nullptr;
  for (const report::FilterConfigLoad &c : f.configs()) {
    if (c.vm() == vm && c.status() == "ok") last = &c;
  }
  return last;
}

// What can be said about records the filter kept out, per VM.
void AddNotes(const report::Totals &totals, report::FilterSummary &f) {
  std::set<std::string> vms;
  for (const report::FilterVcpu &v : f.vcpus()) vms.insert(v.vm());
  const bool no_guest_marks =
      totals.marks() + totals.text_marks() + totals.region_begins() + totals.region_ends() == 0;
  for (const std::string &vm : vms) {
    std::set<uint32_t> dropped_on, recorded_on, all_dropped_on;
    uint64_t dropped = 0, recorded = 0, all_dropped = 0;
    for (const report::FilterVcpu &v : f.vcpus()) {
      if (v.vm() != vm) continue;
      const uint64_t out = v.filtered() + v.rate_dropped();
      if (out > 0) dropped_on.insert(v.vcpu()), dropped += out;
      if (v.recorded() > 0) recorded_on.insert(v.vcpu()), recorded += v.recorded();
      if (out > 0 && v.recorded() == 0) all_dropped_on.insert(v.vcpu()), all_dropped += out;
    }
    if (dropped == 0) continue;
    const std::string where = vms.size() > 1 ? "VM " + vm + ": " : "";
    const report::FilterConfigLoad *config = InForce(f, vm);
    const std::string config_text =
        config == nullptr ? ""
                          : "; the config in force: " + config->path() + " (generation " +
                                std::to_string(config->generation()) + ", " +
                                std::to_string(config->rules()) + " rules, digest " + config->digest() + ")";
    if (no_guest_marks) {
      std::string note = where +
                         "the filter left no mark or region of the guest in the trace: " + "it dropped " +
                         Records(dropped) + " the guest sent on " + Vcpus(dropped_on);
      if (recorded_on.empty()) {
        note += " and recorded none";
      } else {
        note += "; the rules recorded only " + Records(recorded) + " on " + Vcpus(recorded_on) +
                " (event names and bd_present() calls count as records)";
      }
      f.add_notes(note + config_text);
    } else if (!all_dropped_on.empty()) {
      f.add_notes(where + "every record sent on " + Vcpus(all_dropped_on) + " (" + Records(all_dropped) +
                  ") was dropped by the filter; records were kept on " +
                  (recorded_on.empty() ? std::string("no vCPU") : Vcpus(recorded_on)) + config_text);
    }
  }
}

}  // namespace

void Model::OnFilter(const FilterEvent &e) {
  totals_.set_events(totals_.events() + 1);
  totals_.set_filter_configs(totals_.filter_configs() + 1);
  Seen(e.ts_ns);
  report::FilterConfigLoad c;
  c.set_timestamp_ns(e.ts_ns);
  c.set_generation(e.generation);
  c.set_status(std::string(e.status));
  c.set_digest(std::string(e.digest));
  c.set_path(std::string(e.path));
  c.set_message(std::string(e.message));
  c.set_rules(e.rules);
  filter_.loads.emplace_back(e.trace, std::move(c));
}

void Model::OnFilterDropped(const FilterDroppedEvent &e) {
  totals_.set_events(totals_.events() + 1);
  totals_.set_filter_dropped(totals_.filter_dropped() + 1);
  Seen(e.ts_ns);
  FilterRuleAccum &r = filter_.rules[{e.trace, e.generation, e.rule}];
  if (r.name.empty()) r.name.assign(e.rule_name);
  r.sum += e.count;
  r.per_vcpu[e.vcpu] += e.count;
}

void Model::OnFilterStats(const FilterStatsEvent &e) {
  totals_.set_events(totals_.events() + 1);
  totals_.set_filter_stats(totals_.filter_stats() + 1);
  Seen(e.ts_ns);
  report::FilterVcpu &v = filter_.vcpus[{e.trace, e.vcpu}];
  v.set_vcpu(e.vcpu);
  v.set_recorded(v.recorded() + e.recorded);
  v.set_filtered(v.filtered() + e.filtered);
  v.set_rate_dropped(v.rate_dropped() + e.rate_dropped);
  v.set_sent(v.recorded() + v.filtered() + v.rate_dropped());
}

void Model::FinishFilter(report::Report &report) const {
  if (filter_.loads.empty() && filter_.vcpus.empty() && filter_.rules.empty()) return;
  report::FilterSummary *f = report.mutable_filter();
  for (const auto &[trace, load] : filter_.loads) {
    report::FilterConfigLoad *c = f->add_configs();
    *c = load;
    c->set_vm(VmNameOf(trace));
  }
  // Sorted by (vm, vcpu): traces of one VM name merge.
  std::map<std::pair<std::string, uint32_t>, report::FilterVcpu> vcpus;
  for (const auto &[key, v] : filter_.vcpus) {
    report::FilterVcpu &row = vcpus[{VmNameOf(key.first), key.second}];
    row.set_vm(VmNameOf(key.first));
    row.set_vcpu(v.vcpu());
    row.set_recorded(row.recorded() + v.recorded());
    row.set_filtered(row.filtered() + v.filtered());
    row.set_rate_dropped(row.rate_dropped() + v.rate_dropped());
    row.set_sent(row.sent() + v.sent());
  }
  for (auto &[key, v] : vcpus) {
    f->set_recorded(f->recorded() + v.recorded());
    f->set_filtered(f->filtered() + v.filtered());
    f->set_rate_dropped(f->rate_dropped() + v.rate_dropped());
    *f->add_vcpus() = std::move(v);
  }
  f->set_has_stats(!filter_.vcpus.empty());
  std::map<std::tuple<std::string, uint64_t, uint32_t>, const FilterRuleAccum *> rules;
  for (const auto &[key, r] : filter_.rules) {
    const auto &[trace, generation, rule] = key;
    rules[{VmNameOf(trace), generation, rule}] = &r;
  }
  for (const auto &[key, r] : rules) {
    const auto &[vm, generation, rule] = key;
    report::FilterRule *row = f->add_rules();
    row->set_vm(vm);
    row->set_generation(generation);
    row->set_rule(rule);
    row->set_name(r->name);
    row->set_rate_dropped(r->sum);
    for (const auto &[vcpu, count] : r->per_vcpu) {
      report::VcpuCount *c = row->add_per_vcpu();
      c->set_vcpu(vcpu);
      c->set_count(count);
    }
  }
  if (!filter_.loads.empty() && filter_.vcpus.empty()) {
    f->add_notes(
        "the trace has the filter's config but no bdtrace:filter_stats (emitted when "
        "QEMU or the ring consumer exits): the run did not end normally, so what the "
        "filter dropped is unknown");
  }
  AddNotes(totals_, *f);
}

}  // namespace bdtrace::analyzer
