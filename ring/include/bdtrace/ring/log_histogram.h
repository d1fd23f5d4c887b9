/* SPDX-License-Identifier: MIT */
// A log-linear histogram of 64-bit values (the consumer's emission delays):
// 16 buckets per power of two, so a percentile is within 6.25% of the true
// value; the maximum is exact. Fixed size, no allocation: add() is a few
// instructions on the per-record path.
#ifndef BDTRACE_RING_LOG_HISTOGRAM_H
#define BDTRACE_RING_LOG_HISTOGRAM_H

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace bdtrace::ring {

class LogHistogram {
 public:
  static constexpr unsigned kSubBits = 4;
  static constexpr unsigned kSub = 1u << kSubBits;
  // Values below kSub have a bucket each; then kSub buckets for each of
  // the powers of two 2^4 .. 2^63.
  static constexpr std::size_t kBuckets = kSub + (64 - kSubBits) * kSub;

  void add(uint64_t v) noexcept {
    ++buckets_[index(v)];
    ++count_;
    max_ = std::max(max_, v);
  }

  uint64_t count() const noexcept { return count_; }
  uint64_t max() const noexcept { return max_; }

  // The value below which a fraction q (0..1) of the values lie: the
  // lower bound of the bucket holding the ceil(q * count)-th value, never
  // above max(). 0 when empty.
  uint64_t percentile(double q) const noexcept {
    if (count_ == 0) return 0;
    q = std::min(std::max(q, 0.0), 1.0);
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_) + 0.999999);
    rank = std::max<uint64_t>(rank, 1);
    uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i];
      if (seen >= rank) return std::min(lower_bound(i), max_);
    }
    return max_;
  }

  static std::size_t index(uint64_t v) noexcept {
    if (v < kSub) return static_cast<std::size_t>(v);
    const unsigned msb = 63u - static_cast<unsigned>(__builtin_clzll(v));
    const unsigned shift = msb - kSubBits;
    return (msb - kSubBits + 1) * kSub + static_cast<std::size_t>((v >> shift) & (kSub - 1));
  }

  static uint64_t lower_bound(std::size_t i) noexcept {
    if (i < kSub) return i;
    const unsigned group = static_cast<unsigned>(i / kSub);  // 1 = values 16..31
    const uint64_t mantissa = kSub + i % kSub;
    return mantissa << (group - 1);
  }

 private:
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

}  // namespace bdtrace::ring

#endif  // BDTRACE_RING_LOG_HISTOGRAM_H
