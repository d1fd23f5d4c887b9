// SPDX-License-Identifier: MIT
#include "bdtrace/analyzer/histogram.h"

#include <algorithm>
#include <cmath>

namespace bdtrace::analyzer {

uint64_t LogHistogram::BucketLower(uint32_t b) {
  constexpr uint32_t kLinear = 1u << kSubBits;
  if (b < kLinear) return b;
  const uint32_t e = (b >> kSubBits) + kSubBits - 1;  // the octave 2^e
  const uint64_t sub = b & (kLinear - 1);
  return (uint64_t{kLinear} + sub) << (e - kSubBits);
}

uint64_t LogHistogram::BucketUpper(uint32_t b) {
  if (b + 1 >= kBuckets) return std::numeric_limits<uint64_t>::max();
  return BucketLower(b + 1);
}

void LogHistogram::Merge(const LogHistogram &other) {
  if (other.count_ == 0) return;
  if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  total_ += other.total_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t LogHistogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 1.0);
  // Nearest rank: the ceil(p * n)-th smallest value (at least the first).
  uint64_t rank = static_cast<uint64_t>(std::ceil(p * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (uint32_t b = 0; b < counts_.size(); ++b) {
    seen += counts_[b];
    if (seen < rank) continue;
    const uint64_t lower = BucketLower(b);
    const uint64_t mid = lower + (BucketUpper(b) - lower) / 2;
    return std::clamp(mid, min(), max_);
  }
  return max_;
}

std::vector<LogHistogram::Bucket> LogHistogram::Buckets() const {
  std::vector<Bucket> out;
  for (uint32_t b = 0; b < counts_.size(); ++b) {
    if (counts_[b] > 0) out.push_back({BucketLower(b), BucketUpper(b), counts_[b]});
  }
  return out;
}

}  // namespace bdtrace::analyzer
