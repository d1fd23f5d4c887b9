/* SPDX-License-Identifier: MIT */
// A fixed log-scale histogram of durations in nanoseconds, from which
// percentiles are estimated with bounded memory.
//
// Buckets (HDR-style, 8 linear sub-buckets per power of two): values 0..7
// have one bucket each (exact); a value v >= 8 with 2^e <= v < 2^(e+1)
// falls into one of 8 buckets of width 2^(e-3) covering [2^e, 2^(e+1)).
// 496 buckets cover all of uint64; the bucket array only grows up to the
// largest bucket used (about 250 buckets = 2 KB for durations up to 1 s).
//
// Percentile(p) returns the midpoint of the bucket holding the
// nearest-rank p-quantile (the smallest recorded value v such that at
// least p of the values are <= v), clamped to [min, max]. A bucket's width
// is at most 1/8 of its lower bound, so the estimate is within 1/16
// (6.25%) of that exact nearest-rank value: |estimate - exact| <=
// exact / 16. count, total, min and max are exact.
#ifndef BDTRACE_ANALYZER_HISTOGRAM_H
#define BDTRACE_ANALYZER_HISTOGRAM_H

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace bdtrace::analyzer {

class LogHistogram {
 public:
  static constexpr int kSubBits = 3;                                     // 8 sub-buckets per octave
  static constexpr uint32_t kBuckets = (64 - kSubBits + 1) << kSubBits;  // 496
  // The documented bound on Percentile's relative error.
  static constexpr double kMaxRelativeError = 1.0 / 16;

  void Add(uint64_t v) {
    const uint32_t b = BucketOf(v);
    if (b >= counts_.size()) counts_.resize(std::size_t{b} + 1, 0);
    ++counts_[b];
    ++count_;
    total_ += v;
    if (v < min_) min_ = v;
    if (v > max_) max_ = v;
  }
  void Merge(const LogHistogram &other);

  uint64_t count() const { return count_; }
  uint64_t total() const { return total_; }  // wraps after 584 years of durations
  uint64_t min() const { return count_ > 0 ? min_ : 0; }
  uint64_t max() const { return max_; }
  // p in [0, 1]; 0 when empty.
  uint64_t Percentile(double p) const;

  // Non-empty buckets, in order: [lower, upper) and count.
  struct Bucket {
    uint64_t lower, upper, count;
  };
  std::vector<Bucket> Buckets() const;

  static uint32_t BucketOf(uint64_t v) {
    if (v < (uint64_t{1} << kSubBits)) return static_cast<uint32_t>(v);
    const int e = 63 - __builtin_clzll(v);  // 2^e <= v
    const uint32_t sub = static_cast<uint32_t>(v >> (e - kSubBits)) & ((1u << kSubBits) - 1);
    return (static_cast<uint32_t>(e - kSubBits + 1) << kSubBits) + sub;
  }
  // [lower, upper) of bucket b (upper saturates at uint64 max for the last).
  static uint64_t BucketLower(uint32_t b);
  static uint64_t BucketUpper(uint32_t b);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0, total_ = 0;
  uint64_t min_ = std::numeric_limits<uint64_t>::max(), max_ = 0;
};

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_HISTOGRAM_H
