/* SPDX-License-Identifier: MIT */
// Clock cycles to nanoseconds from the clock's origin, as babeltrace2
// computes them (its clock snapshots' ns_from_origin): the offset in
// seconds, plus the offset in cycles (whole seconds of it moved into the
// seconds), plus the value's whole seconds, plus its remaining cycles in
// ns (exact at 1 GHz, through a double otherwise). A result that does not
// fit int64_t is refused, as babeltrace2 refuses it.
#ifndef BDTRACE_ANALYZER_CTF_CLOCK_H
#define BDTRACE_ANALYZER_CTF_CLOCK_H

#include <cstdint>

#include "ctf/metadata.h"

namespace bdtrace::analyzer::ctf {

class NsFromOrigin {
 public:
  explicit NsFromOrigin(const Clock &clock) : freq_(clock.freq) {
    const uint64_t whole = clock.offset / freq_;
    valid_ = whole <= static_cast<uint64_t>(INT64_MAX) &&
             !__builtin_add_overflow(clock.offset_s, static_cast<int64_t>(whole), &offset_s_) &&
             !__builtin_mul_overflow(offset_s_, kNsPerS, &base_) &&
             !__builtin_add_overflow(base_, static_cast<int64_t>(Ns(clock.offset % freq_)), &base_);
  }

  // False when the clock's offset alone overflows (then every time does).
  bool valid() const { return valid_; }
  // The offset: what cycle 0 is, in ns from origin.
  int64_t offset_ns() const { return base_; }

  // Cycles to ns from origin; false when that overflows.
  bool operator()(uint64_t cycles, int64_t &ns) const {
    if (!valid_) return false;
    if (freq_ == kNsPerS) {
      return cycles <= static_cast<uint64_t>(INT64_MAX) &&
             !__builtin_add_overflow(base_, static_cast<int64_t>(cycles), &ns);
    }
    const uint64_t seconds = cycles / freq_;
    uint64_t whole_ns = 0;
    if (__builtin_mul_overflow(seconds, static_cast<uint64_t>(kNsPerS), &whole_ns) ||
        whole_ns > static_cast<uint64_t>(INT64_MAX))
      return false;
    int64_t out = 0;
    const uint64_t rest = Ns(cycles % freq_);
    return !__builtin_add_overflow(base_, static_cast<int64_t>(whole_ns), &out) &&
           rest <= static_cast<uint64_t>(INT64_MAX) &&
           !__builtin_add_overflow(out, static_cast<int64_t>(rest), &ns);
  }

 private:
  static constexpr int64_t kNsPerS = 1000000000;
  // Fewer cycles than one second, in ns.
  uint64_t Ns(uint64_t cycles) const {
    if (freq_ == kNsPerS) return cycles;
    return static_cast<uint64_t>(1e9 * static_cast<double>(cycles) / static_cast<double>(freq_));
  }

  uint64_t freq_;
  int64_t offset_s_ = 0;
  int64_t base_ = 0;  // the offset, in ns from origin
  bool valid_ = false;
};

}  // namespace bdtrace::analyzer::ctf

#endif  // BDTRACE_ANALYZER_CTF_CLOCK_H
