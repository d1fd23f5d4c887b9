// SPDX-License-Identifier: MIT
#include "bdtrace/analyzer/rates.h"

#include <cstddef>
#include <limits>

namespace bdtrace::analyzer {

void RateCounter::Halve(std::vector<uint64_t> &v) {
  const size_t n = (v.size() + 1) / 2;
  for (size_t i = 0; i < n; ++i) {
    v[i] = v[2 * i] + (2 * i + 1 < v.size() ? v[2 * i + 1] : 0);
  }
  v.resize(n);
}

void RateCounter::Double() {
  if (bucket_ns_ > std::numeric_limits<uint64_t>::max() / 2) return;
  bucket_ns_ *= 2;
  last_from_ = 1;  // the cached bucket is gone
  last_to_ = 0;
  if (fixed_) widened_ = true;
  Halve(total_);
  for (auto &[id, series] : per_event_) Halve(series);
}

uint64_t RateCounter::Index(int64_t ts_ns) {
  // Events come in time order; one before the origin goes into bucket 0.
  const uint64_t offset = ts_ns > origin_ns_ ? static_cast<uint64_t>(ts_ns - origin_ns_) : 0;
  uint64_t index = offset / bucket_ns_;
  while (index >= Limit() && bucket_ns_ <= std::numeric_limits<uint64_t>::max() / 2) {
    Double();
    index = offset / bucket_ns_;
  }
  return index;
}

void RateCounter::Bump(std::vector<uint64_t> &v, uint64_t index) {
  if (index >= v.size()) v.resize(index + 1, 0);
  ++v[index];
}

void RateCounter::Add(int64_t ts_ns, uint32_t event_id) {
  const uint64_t offset = ts_ns > origin_ns_ ? static_cast<uint64_t>(ts_ns - origin_ns_) : 0;
  uint64_t index = last_index_;
  if (offset < last_from_ || offset >= last_to_) {
    index = Index(ts_ns);  // may widen the buckets: the range is set after
    last_index_ = index;
    last_from_ = index * bucket_ns_;
    last_to_ = bucket_ns_ <= std::numeric_limits<uint64_t>::max() - last_from_
                   ? last_from_ + bucket_ns_
                   : std::numeric_limits<uint64_t>::max();
  }
  Bump(total_, index);
  SeriesSlot &slot = series_cache_.slots[event_id % kSeriesSlots];
  if (slot.series == nullptr || slot.event != event_id) {
    auto [it, inserted] = per_event_.try_emplace(event_id);
    if (inserted) it->second.reserve(fixed_ ? 64 : kAutoBuckets);
    slot.event = event_id;
    slot.series = &it->second;
  }
  Bump(*slot.series, index);
}

void RateCounter::Close(int64_t end_ns) {
  if (!started_) return;
  const uint64_t n = Index(end_ns) + 1;
  if (total_.size() < n) total_.resize(n, 0);
  for (auto &[id, series] : per_event_) {
    if (series.size() < n) series.resize(n, 0);
  }
}

}  // namespace bdtrace::analyzer
