// SPDX-License-Identifier: MIT
// Compiling and matching filter configs (see compiled.h).
#include "bdtrace/filter/compiled.h"

#include <time.h>

#include <algorithm>

#include "bdtrace/filter/glob.h"

namespace bdtrace::filter {
namespace {

constexpr uint32_t bit(unsigned kind) { return 1u << kind; }

std::vector<Span> merge(std::vector<Span> spans) {
  std::sort(spans.begin(), spans.end(),
            [](const Span &a, const Span &b) { return a.lo < b.lo || (a.lo == b.lo && a.hi < b.hi); });
  std::vector<Span> out;
  for (const Span &s : spans) {
    if (!out.empty() && (out.back().hi == UINT32_MAX || s.lo <= out.back().hi + 1)) {
      out.back().hi = std::max(out.back().hi, s.hi);
    } else {
      out.push_back(s);
    }
  }
  return out;
}

// The vCPU slots an IdSet covers (unset = all): a 64-bit mask, plus
// whether "any other vCPU" (>= 64) is in it.
void vcpu_mask(const Rule &r, uint64_t &mask, bool &others) {
  if (!r.has_vcpus() || r.vcpus().all()) {
    mask = ~uint64_t{0};
    others = true;
    return;
  }
  mask = 0;
  others = false;
  for (uint32_t id : r.vcpus().id()) mask |= uint64_t{1} << id;
  for (const auto &range : r.vcpus().range()) {
    const uint32_t hi = range.has_hi() ? range.hi() : range.lo();
    for (uint32_t v = range.lo(); v <= hi; ++v) mask |= uint64_t{1} << v;
  }
}

}  // namespace

uint64_t monotonic_now_ns() noexcept {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

uint32_t abi_kind_bits(Kind kind) noexcept {
  switch (kind) {
    case MARK:
      return bit(BD_KIND_MARK);
    case TEXT:
      return bit(BD_KIND_MARK_TEXT);
    case REGION:
      return bit(BD_KIND_REGION_BEGIN) | bit(BD_KIND_REGION_END);
    case NAME:
      return bit(BD_KIND_EVENT_NAME);
    case SCHED_SWITCH:
      return bit(BD_KIND_SCHED_SWITCH);
    case HELLO:
      return bit(BD_KIND_HELLO);
    default:
      return 0;
  }
}

std::unique_ptr<CompiledFilter> CompiledFilter::compile(const FilterConfig &config, const std::string &comm,
                                                        Clock clock) {
  std::unique_ptr<CompiledFilter> f(new CompiledFilter());
  f->clock_ = clock;
  f->epoch_ = clock();
  f->default_drop_ = config.default_action() == DROP;
  f->digest_ = config_digest(config);
  const int n = std::min(config.rule_size(), static_cast<int>(kMaxRules));
  f->rules_.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const filter::Rule &src = config.rule(i);
    Rule r;
    r.label = src.name().empty() ? "rule[" + std::to_string(i) + "]" : src.name();
    if (src.kind_size() == 0) {
      r.kinds = kDefaultKindBits;
    } else {
      for (int k : src.kind()) r.kinds |= abi_kind_bits(static_cast<Kind>(k));
    }
    if (src.has_events() && !src.events().all()) {
      r.all_events = false;
      for (uint32_t id : src.events().id()) r.events.push_back({id, id});
      for (const auto &range : src.events().range())
        r.events.push_back({range.lo(), range.has_hi() ? range.hi() : range.lo()});
      r.events = merge(std::move(r.events));
    }
    if (src.has_process()) {
      r.has_process = true;
      r.has_comm = src.process().comm_size() > 0;
      r.comms.assign(src.process().comm().begin(), src.process().comm().end());
      r.pids.assign(src.process().pid().begin(), src.process().pid().end());
      r.tids.assign(src.process().tid().begin(), src.process().tid().end());
      std::sort(r.pids.begin(), r.pids.end());
      std::sort(r.tids.begin(), r.tids.end());
    }
    r.drop = src.action() == DROP;
    r.trace_code = src.trace_code() && !r.drop && r.has_process;
    if (r.trace_code) f->trace_code_rules_ |= uint64_t{1} << i;
    if (r.trace_code && src.code_events() == EACH_BLOCK) f->each_block_events_ = true;
    if (r.trace_code && src.code_events() == BLOCK_COUNTS) f->block_counts_ = true;
    if (src.has_rate_limit() && !r.drop) {
      const uint64_t rate = src.rate_limit().events_per_second();
      const uint64_t burst = src.rate_limit().burst() ? src.rate_limit().burst() : rate;
      r.limited = true;
      r.period_fp = std::max<uint64_t>(1, (uint64_t{1000000000} << kFrac) / rate);
      const uint64_t extra = burst - 1;
      r.tolerance_fp = extra > (UINT64_MAX >> 2) / r.period_fp ? (UINT64_MAX >> 2) : extra * r.period_fp;
    }
    uint64_t mask;
    bool others;
    vcpu_mask(src, mask, others);
    for (unsigned v = 0; v < kMaxVcpus; ++v)
      if (mask >> v & 1) f->per_vcpu_[v].push_back(static_cast<uint8_t>(i));
    if (others) f->per_vcpu_[kMaxVcpus].push_back(static_cast<uint8_t>(i));
    f->rules_.push_back(std::move(r));
  }
  f->rate_cells_.reset(new RateCell[f->rules_.size() * kVcpuSlots + 1]);
  f->fixed_comm_mask_ = f->comm_mask(comm.empty() ? nullptr : comm.c_str());
  return f;
}

uint64_t CompiledFilter::comm_mask(const char *comm) const noexcept {
  uint64_t mask = 0;
  for (size_t i = 0; i < rules_.size(); ++i) {
    const Rule &r = rules_[i];
    bool ok = !r.has_comm;
    if (!ok && comm != nullptr) {
      for (const std::string &g : r.comms) {
        if (glob_match(g.c_str(), comm)) {
          ok = true;
          break;
        }
      }
    }
    if (ok) mask |= uint64_t{1} << i;
  }
  return mask;
}

bool CompiledFilter::trace_code_gate(uint32_t vcpu, const Identity &who) const noexcept {
  if (trace_code_rules_ == 0) return false;
  for (uint8_t i : per_vcpu_[vcpu_slot(vcpu)]) {
    if ((trace_code_rules_ >> i & 1) == 0) continue;
    if (matches_identity(rules_[i], i, who)) return true;
  }
  return false;
}

bool CompiledFilter::contains(const std::vector<uint32_t> &sorted, uint32_t v) noexcept {
  return std::binary_search(sorted.begin(), sorted.end(), v);
}

Decision CompiledFilter::rate_decide(size_t index, unsigned slot) const noexcept {
  const Rule &r = rules_[index];
  RateCell &c = rate_cells_[index * kVcpuSlots + slot];
  const uint64_t raw = clock_();
  const uint64_t now = raw > epoch_ ? raw - epoch_ : 0;
  const uint64_t t = now << kFrac;
  const uint64_t tat = std::max(c.tat.load(std::memory_order_relaxed), t);
  const auto rule = static_cast<int16_t>(index);
  if (tat - t <= r.tolerance_fp) {
    c.tat.store(tat + r.period_fp, std::memory_order_relaxed);
    return {Verdict::Record, false, rule};
  }
  // Single writer per cell (the vCPU's thread): load + store, no lock.
  c.pending.store(c.pending.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  c.total.store(c.total.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  const uint64_t last = c.last_report.load(std::memory_order_relaxed);
  if (last == 0 || now + 1 - last >= 1000000000u) {
    c.last_report.store(now + 1, std::memory_order_relaxed);
    return {Verdict::RateDrop, true, rule};
  }
  return {Verdict::RateDrop, false, rule};
}

DropReport CompiledFilter::take_drop_report(int rule, uint32_t vcpu) const noexcept {
  DropReport r;
  if (rule < 0 || static_cast<size_t>(rule) >= rules_.size()) return r;
  RateCell &c = rate_cells_[static_cast<size_t>(rule) * kVcpuSlots + vcpu_slot(vcpu)];
  r.count = c.pending.exchange(0, std::memory_order_relaxed);
  r.total = c.total.load(std::memory_order_relaxed);
  return r;
}

bool CompiledFilter::maybe_enabled(uint32_t vcpu, uint32_t kind, uint32_t event) const noexcept {
  const uint32_t kbit = kind < 32 ? bit(kind) : 0;
  for (uint8_t i : per_vcpu_[vcpu_slot(vcpu)]) {
    const Rule &r = rules_[i];
    if ((r.kinds & kbit) == 0 || !matches_event(r, event)) continue;
    // A process-gated rule decides for some processes only: a RECORD
    // one makes the record possible; a DROP one leaves the others to
    // the rules after it.
    if (r.has_process) {
      if (!r.drop) return true;
      continue;
    }
    return !r.drop;
  }
  return !default_drop_ || (kbit & kAlwaysKindBits) != 0;
}

std::vector<Span> CompiledFilter::enabled_events(uint32_t vcpu, uint32_t kind) const {
  // maybe_enabled() is constant between the edges of the rules' spans.
  std::vector<uint32_t> edges{0};
  for (uint8_t i : per_vcpu_[vcpu_slot(vcpu)]) {
    for (const Span &s : rules_[i].events) {
      edges.push_back(s.lo);
      if (s.hi != UINT32_MAX) edges.push_back(s.hi + 1);
    }
  }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  std::vector<Span> out;
  for (size_t j = 0; j < edges.size(); ++j) {
    const uint32_t lo = edges[j];
    const uint32_t hi = j + 1 < edges.size() ? edges[j + 1] - 1 : UINT32_MAX;
    if (!maybe_enabled(vcpu, kind, lo)) continue;
    if (!out.empty() && out.back().hi + 1 == lo) {
      out.back().hi = hi;
    } else {
      out.push_back({lo, hi});
    }
  }
  return out;
}

void CompiledFilter::reset_drops() const noexcept {
  for (size_t i = 0; i < rules_.size() * kVcpuSlots; ++i) {
    rate_cells_[i].pending.store(0, std::memory_order_relaxed);
    rate_cells_[i].total.store(0, std::memory_order_relaxed);
  }
}

const std::string &CompiledFilter::rule_label(int rule) const noexcept {
  if (rule < 0 || static_cast<size_t>(rule) >= rules_.size()) return default_label_;
  return rules_[static_cast<size_t>(rule)].label;
}

}  // namespace bdtrace::filter
