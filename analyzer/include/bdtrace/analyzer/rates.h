/* SPDX-License-Identifier: MIT */
// Marks per time bucket, overall and per event id, with memory bounded by
// the number of buckets (not of events). See MarkRates in report.proto.
#ifndef BDTRACE_ANALYZER_RATES_H
#define BDTRACE_ANALYZER_RATES_H

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace bdtrace::analyzer {

class RateCounter {
 public:
  // Automatic width: starts at 1 us and doubles whenever the trace would
  // need more than kAutoBuckets buckets.
  static constexpr uint64_t kAutoStartNs = 1000;
  static constexpr uint32_t kAutoBuckets = 128;
  // With a fixed width, the most buckets before the width doubles anyway.
  static constexpr uint32_t kMaxFixedBuckets = 100000;

  // bucket_ns 0: automatic.
  explicit RateCounter(uint64_t bucket_ns = 0)
      : fixed_(bucket_ns > 0), bucket_ns_(bucket_ns > 0 ? bucket_ns : kAutoStartNs) {}

  // The start of bucket 0; call before Add (the first event's time).
  void Start(int64_t origin_ns) {
    started_ = true;
    origin_ns_ = origin_ns;
    last_from_ = 1;
    last_to_ = 0;
  }
  bool started() const { return started_; }
  void Add(int64_t ts_ns, uint32_t event_id);
  // Pads every series to the bucket holding end_ns (the last event).
  void Close(int64_t end_ns);

  int64_t origin_ns() const { return origin_ns_; }
  uint64_t bucket_ns() const { return bucket_ns_; }
  // True when a fixed width had to be widened.
  bool widened() const { return widened_; }
  const std::vector<uint64_t> &total() const { return total_; }
  const std::unordered_map<uint32_t, std::vector<uint64_t>> &per_event() const { return per_event_; }

 private:
  uint32_t Limit() const { return fixed_ ? kMaxFixedBuckets : kAutoBuckets; }
  // Index of ts's bucket, widening until it fits under Limit().
  uint64_t Index(int64_t ts_ns);
  void Double();
  static void Halve(std::vector<uint64_t> &v);
  static void Bump(std::vector<uint64_t> &v, uint64_t index);

  bool fixed_;
  bool started_ = false, widened_ = false;
  uint64_t bucket_ns_;
  int64_t origin_ns_ = 0;
  std::vector<uint64_t> total_;
  std::unordered_map<uint32_t, std::vector<uint64_t>> per_event_;
  // Series of recent event ids, direct-mapped by id (interleaved ids skip
  // the hash lookup). Stable: unordered_map never moves its values.
  // A copy starts empty: its slots would point into the original's map.
  struct SeriesSlot {
    uint32_t event = 0;
    std::vector<uint64_t> *series = nullptr;
  };
  static constexpr size_t kSeriesSlots = 16;
  struct SeriesCache {
    SeriesCache() = default;
    SeriesCache(const SeriesCache &) {}
    SeriesCache &operator=(const SeriesCache &) {
      for (SeriesSlot &s : slots) s = SeriesSlot{};
      return *this;
    }
    SeriesSlot slots[kSeriesSlots];
  };
  SeriesCache series_cache_;
  // The bucket of the last Add, as offsets [from, to) from the origin:
  // events come in time order, so most fall into it and skip the division.
  uint64_t last_index_ = 0, last_from_ = 1, last_to_ = 0;  // empty until set
};

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_RATES_H
