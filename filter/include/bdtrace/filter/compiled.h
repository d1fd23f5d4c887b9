/* SPDX-License-Identifier: MIT */
// A validated FilterConfig compiled for the plugin's hot path.
//
// Immutable after compile() except for the rate limiters' per-vCPU cells
// (atomics, one writer per vCPU). decide() takes no lock, allocates
// nothing and never throws; it reads the clock only for rules with a rate
// limit. A CompiledFilter is published through an atomic pointer
// (runtime.h) and stays alive until the plugin exits.
//
// vCPU slots: selectors name vCPUs 0..63. A record from vCPU index >= 64
// (user mode: more than 64 guest threads at once) is matched against the
// rules whose vCPU selector is unset or `all` only, and shares one rate
// cell per rule with every other such vCPU.
#ifndef BDTRACE_FILTER_COMPILED_H
#define BDTRACE_FILTER_COMPILED_H

#include <bd/abi.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bdtrace/filter/config.h"

namespace bdtrace::filter {

inline constexpr unsigned kVcpuSlots = kMaxVcpus + 1;  // 0..63, then "any other"

constexpr unsigned vcpu_slot(uint32_t vcpu) noexcept { return vcpu < kMaxVcpus ? vcpu : kMaxVcpus; }

// Nanoseconds of a monotonic clock. Injected for tests.
using Clock = uint64_t (*)() noexcept;
uint64_t monotonic_now_ns() noexcept;  // CLOCK_MONOTONIC

// Who sent a record. comm_mask: CompiledFilter::comm_mask() of the
// process's comm (bit r set when rule r's comm selector matches it or
// rule r has none). `alt`: a second identity that may match instead (the
// next task of a SCHED_SWITCH record).
struct Identity {
  uint32_t pid;
  uint32_t tid;
  uint64_t comm_mask;
};
struct Subject {
  uint32_t vcpu;
  Identity who;
  bool has_alt = false;
  Identity alt{0, 0, 0};
};

enum class Verdict : uint8_t {
  Record,    // emit it
  Drop,      // a DROP rule (or the DROP default) selected it
  RateDrop,  // a RECORD rule's rate limit was exceeded
};

inline constexpr int16_t kDefaultRule = -1;

struct Decision {
  Verdict verdict;
  // RateDrop only: a bdtrace:dropped report is due now (at most once per
  // second per vCPU and rule); take it with take_drop_report().
  bool report_due;
  int16_t rule;  // index of the deciding rule, kDefaultRule for the default
};
static_assert(sizeof(Decision) == 4, "Decision is returned in a register");

// Drops of one rule on one vCPU slot since the previous report, and all.
struct DropReport {
  uint64_t count = 0;
  uint64_t total = 0;
};

// A sorted, merged list of inclusive [lo, hi] ranges.
struct Span {
  uint32_t lo;
  uint32_t hi;
  bool operator==(const Span &o) const { return lo == o.lo && hi == o.hi; }
};

class CompiledFilter {
 public:
  // `config` must have passed validation (parse_config). comm: the comm
  // of the only process this plugin instance serves (user mode: the guest
  // program's basename), or "" when it varies (system mode); with a fixed
  // comm, fixed_comm_mask() is precomputed.
  static std::unique_ptr<CompiledFilter> compile(const FilterConfig &config, const std::string &comm,
                                                 Clock clock = monotonic_now_ns);

  // The decision for a validated record of ABI kind `kind` (enum bd_kind)
  // and id `event`. Updates the rate limiter of the deciding rule.
  // Inline: it runs on every trap.
  inline Decision decide(const Subject &s, uint32_t kind, uint32_t event) const noexcept;

  // After a decision with report_due: the drops to report (and resets
  // the count since the previous report).
  DropReport take_drop_report(int rule, uint32_t vcpu) const noexcept;

  // Bit r set when rule r has no comm selector or one of its globs
  // matches `comm`; nullptr = unknown comm (only rules without a comm
  // selector match). Costs glob matching: cache it per process/task.
  uint64_t comm_mask(const char *comm) const noexcept;
  uint64_t fixed_comm_mask() const noexcept { return fixed_comm_mask_; }

  // Conservative, for guest-side skipping: false only when no record of
  // `kind` with id `event` on `vcpu` can be recorded, whatever process
  // sends it (rate limits count as "possibly recorded").
  bool maybe_enabled(uint32_t vcpu, uint32_t kind, uint32_t event) const noexcept;
  // The event ids for which maybe_enabled() is true, as merged spans.
  std::vector<Span> enabled_events(uint32_t vcpu, uint32_t kind) const;

  // Process-gated code tracing (Rule.trace_code). any_trace_code(): some
  // rule traces code (the plugin then instruments every translated block).
  // trace_code_gate(): whether blocks executed by `who` on `vcpu` are to be
  // recorded: some trace_code rule covers the vCPU and matches who (pid,
  // tid, comm_mask). Costs a rule scan: cache it per thread / per switch.
  bool any_trace_code() const noexcept { return trace_code_rules_ != 0; }
  // Some trace_code rule asks for one bdtrace:tb_exec per block
  // (Rule.code_events EACH_BLOCK) instead of batches.
  bool each_block_events() const noexcept { return each_block_events_; }
  // Some trace_code rule asks for counts only (Rule.code_events
  // BLOCK_COUNTS) and none for each block: blocks are counted, not traced.
  bool block_counts() const noexcept { return block_counts_ && !each_block_events_; }
  bool trace_code_gate(uint32_t vcpu, const Identity &who) const noexcept;
  // Whether a process whose comm has `comm_mask` could open the gate at
  // all (some trace_code rule matches its comm). User mode: the comm is
  // fixed for the whole QEMU process, so when false no block needs an
  // exec callback.
  bool trace_code_possible(uint64_t comm_mask) const noexcept { return (trace_code_rules_ & comm_mask) != 0; }

  // Reading the rate limiters' drop counters (exit reports): calls
  // fn(rule, vcpu_slot, pending, total) for every cell with drops, then
  // zeroes `pending` (drops not yet reported in a bdtrace:dropped).
  template <class Fn>
  void drain_drops(Fn &&fn) const {
    for (size_t r = 0; r < rules_.size(); ++r) {
      if (!rules_[r].limited) continue;
      for (unsigned v = 0; v < kVcpuSlots; ++v) {
        RateCell &c = rate_cells_[r * kVcpuSlots + v];
        const uint64_t total = c.total.load(std::memory_order_relaxed);
        if (total == 0) continue;
        fn(static_cast<int>(r), v, c.pending.exchange(0, std::memory_order_relaxed), total);
      }
    }
  }
  void reset_drops() const noexcept;  // forked child: forget the parent's counts

  size_t rule_count() const noexcept { return rules_.size(); }
  // The rule's name, or "rule[N]" when it has none; "default" for kDefaultRule.
  const std::string &rule_label(int rule) const noexcept;
  const std::string &digest() const noexcept { return digest_; }
  bool default_drops() const noexcept { return default_drop_; }
  // Position in the runtime's publication order (1, 2, ...); 0 until
  // published. Set once, before the config becomes visible to readers.
  uint64_t generation() const noexcept { return generation_; }
  void set_generation(uint64_t g) noexcept { generation_ = g; }

 private:
  struct Rule {
    std::string label;
    uint32_t kinds = 0;  // bit per enum bd_kind
    bool all_events = true;
    std::vector<Span> events;
    bool has_process = false;
    bool has_comm = false;
    std::vector<std::string> comms;
    std::vector<uint32_t> pids;  // sorted
    std::vector<uint32_t> tids;  // sorted
    bool drop = false;
    bool trace_code = false;
    bool limited = false;
    uint64_t period_fp = 0;     // ns per event << kFrac
    uint64_t tolerance_fp = 0;  // (burst - 1) * period_fp
  };
  // One token bucket (GCRA: theoretical arrival time) per rule and vCPU
  // slot, with its drop counters. Single writer: the vCPU's thread.
  struct alignas(64) RateCell {
    std::atomic<uint64_t> tat{0};          // fixed point, ns since epoch_ << kFrac
    std::atomic<uint64_t> pending{0};      // drops not yet reported
    std::atomic<uint64_t> total{0};        // all drops
    std::atomic<uint64_t> last_report{0};  // ns since epoch_ + 1 (0 = never)
  };
  static constexpr unsigned kFrac = 8;

  CompiledFilter() = default;
  bool matches_identity(const Rule &r, size_t index, const Identity &id) const noexcept {
    if ((id.comm_mask >> index & 1) == 0) return false;
    if (!r.pids.empty() && !contains(r.pids, id.pid)) return false;
    if (!r.tids.empty() && !contains(r.tids, id.tid)) return false;
    return true;
  }
  static bool contains(const std::vector<uint32_t> &sorted, uint32_t v) noexcept;
  static bool matches_event(const Rule &r, uint32_t event) noexcept {
    if (r.all_events) return true;
    // Few spans in practice: a linear scan beats a binary search.
    for (const Span &s : r.events) {
      if (event < s.lo) return false;
      if (event <= s.hi) return true;
    }
    return false;
  }
  Decision rate_decide(size_t rule, unsigned slot) const noexcept;

  std::vector<Rule> rules_;
  std::array<std::vector<uint8_t>, kVcpuSlots> per_vcpu_;  // rule indexes per vCPU slot
  bool default_drop_ = false;
  uint64_t trace_code_rules_ = 0;  // bit r: rule r has trace_code
  bool each_block_events_ = false;
  bool block_counts_ = false;
  uint64_t generation_ = 0;
  uint64_t fixed_comm_mask_ = 0;
  std::string digest_;
  std::string default_label_ = "default";
  Clock clock_ = monotonic_now_ns;
  uint64_t epoch_ = 0;
  std::unique_ptr<RateCell[]> rate_cells_;  // rules x kVcpuSlots (only limited rules used)
};

// Kinds a rule without `kind` covers: everything but NAME and HELLO, which
// no default may drop either.
inline constexpr uint32_t kDefaultKindBits = (1u << BD_KIND_MARK) | (1u << BD_KIND_MARK_TEXT) |
                                             (1u << BD_KIND_REGION_BEGIN) | (1u << BD_KIND_REGION_END) |
                                             (1u << BD_KIND_SCHED_SWITCH);
inline constexpr uint32_t kAlwaysKindBits = (1u << BD_KIND_EVENT_NAME) | (1u << BD_KIND_HELLO);

Decision CompiledFilter::decide(const Subject &s, uint32_t kind, uint32_t event) const noexcept {
  const unsigned slot = vcpu_slot(s.vcpu);
  const uint32_t kbit = kind < 32 ? 1u << kind : 0;
  for (uint8_t i : per_vcpu_[slot]) {
    const Rule &r = rules_[i];
    if ((r.kinds & kbit) == 0 || !matches_event(r, event)) continue;
    if (r.has_process && !matches_identity(r, i, s.who) && !(s.has_alt && matches_identity(r, i, s.alt)))
      continue;
    if (r.drop) return {Verdict::Drop, false, i};
    if (r.limited) return rate_decide(i, slot);
    return {Verdict::Record, false, i};
  }
  if (default_drop_ && (kbit & kAlwaysKindBits) == 0) return {Verdict::Drop, false, kDefaultRule};
  return {Verdict::Record, false, kDefaultRule};
}

// enum Kind (filter.proto) -> bits of enum bd_kind it covers.
uint32_t abi_kind_bits(Kind kind) noexcept;

}  // namespace bdtrace::filter

#endif  // BDTRACE_FILTER_COMPILED_H
