// SPDX-License-Identifier: MIT
#include "bdtrace/analyzer/live_summary.h"

#include <cstdio>

namespace bdtrace::analyzer {

namespace {

// At most this many items per line (the rest: "+N more").
constexpr size_t kMaxItems = 8;

std::string Rate(uint64_t count, double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f/s", seconds > 0 ? static_cast<double>(count) / seconds : 0.0);
  return buf;
}

// "a, b, c, +N more"
void Append(std::string &out, size_t &items, const std::string &item) {
  if (items < kMaxItems) out += (items == 0 ? "" : ", ") + item;
  ++items;
}
std::string More(size_t items) {
  return items > kMaxItems ? ", +" + std::to_string(items - kMaxItems) + " more" : "";
}

}  // namespace

void LiveSummary::OnMark(const MarkEvent &e) {
  ++marks_;
  ++interval_marks_[e.event];
  vcpus_[e.vcpu] = Running{e.pid, e.tid, vcpus_[e.vcpu].comm};
}

void LiveSummary::OnRegion(const RegionEvent &e) {
  if (vcpus_.count(e.vcpu) == 0 || vcpus_[e.vcpu].tid != e.tid) vcpus_[e.vcpu] = Running{e.pid, e.tid, {}};
  const auto key = std::make_tuple(e.pid, e.tid, e.region);
  if (e.begin) {
    ++regions_;
    ++open_[key];
    return;
  }
  auto it = open_.find(key);
  if (it != open_.end() && --it->second == 0) open_.erase(it);
}

void LiveSummary::OnEventName(const EventNameEvent &e) { names_[e.event] = std::string(e.name); }

void LiveSummary::OnRejected(const RejectedEvent &) { ++rejected_; }

void LiveSummary::OnSchedSwitch(const SchedSwitchEvent &e) {
  vcpus_[e.vcpu] = Running{e.next_pid, e.next_tid, std::string(e.next_comm)};
}

void LiveSummary::OnRingDropped(const RingDroppedEvent &e) { ring_dropped_ += e.count; }

void LiveSummary::OnFilterDropped(const FilterDroppedEvent &e) { filter_dropped_ += e.count; }

void LiveSummary::OnDiscardedEvents(const DiscardedEventsMessage &d) { discarded_ += d.count; }

void LiveSummary::Tick(double seconds) {
  last_marks_.swap(interval_marks_);
  interval_marks_.clear();
  last_seconds_ = seconds;
}

std::string LiveSummary::EventLabel(uint32_t event) const {
  auto it = names_.find(event);
  return it == names_.end() ? "event " + std::to_string(event)
                            : it->second + " (" + std::to_string(event) + ")";
}

std::string LiveSummary::RatesText() const {
  std::string out;
  size_t items = 0;
  for (const auto &[event, count] : last_marks_)
    Append(out, items, EventLabel(event) + " " + Rate(count, last_seconds_));
  return items == 0 ? "none" : out + More(items);
}

std::string LiveSummary::RegionsText() const {
  std::map<uint32_t, uint64_t> per_region;
  uint64_t total = 0;
  for (const auto &[key, depth] : open_) {
    per_region[std::get<2>(key)] += depth;
    total += depth;
  }
  std::string out = std::to_string(total);
  size_t items = 0;
  std::string list;
  for (const auto &[region, n] : per_region)
    Append(list, items, EventLabel(region) + " x" + std::to_string(n));
  return items == 0 ? out : out + " (" + list + More(items) + ")";
}

std::string LiveSummary::VcpusText() const {
  std::string out;
  size_t items = 0;
  for (const auto &[vcpu, r] : vcpus_) {
    std::string who = "pid " + std::to_string(r.pid) + " tid " + std::to_string(r.tid);
    if (!r.comm.empty()) who = r.comm + " " + who;
    Append(out, items, std::to_string(vcpu) + ": " + who);
  }
  return items == 0 ? "none seen" : out + More(items);
}

std::string LiveSummary::LossesText() const {
  return "discarded " + std::to_string(discarded_) + ", ring-dropped " + std::to_string(ring_dropped_) +
         ", filter-dropped " + std::to_string(filter_dropped_) + ", rejected " + std::to_string(rejected_);
}

std::vector<std::string> LiveSummary::Lines() const {
  return {
      "marks    " + std::to_string(marks_) + " total, regions " + std::to_string(regions_) + " begun",
      "rates    " + RatesText(),
      "open     " + RegionsText(),
      "vcpus    " + VcpusText(),
      "lost     " + LossesText(),
  };
}

std::string LiveSummary::Line() const {
  return "live: marks " + std::to_string(marks_) + "; rates " + RatesText() + "; open regions " +
         RegionsText() + "; vcpus " + VcpusText() + "; lost " + LossesText();
}

}  // namespace bdtrace::analyzer
