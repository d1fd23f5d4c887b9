// SPDX-License-Identifier: MIT
// Bounded per-process block counters (see hot_blocks.h).
#include "bdtrace/analyzer/hot_blocks.h"

#include <algorithm>

namespace bdtrace::analyzer {

void HotBlocks::Add(uint32_t trace, uint32_t pid, uint64_t pc, uint32_t n_insns, uint64_t times) {
  const std::pair<uint32_t, uint32_t> key{trace, pid};
  if (last_ == nullptr || key != last_key_) {
    last_ = &processes_[key];  // std::map: stable addresses
    last_key_ = key;
  }
  Process &p = *last_;
  p.executions += times;
  p.instructions += n_insns * times;
  auto it = p.blocks.find(pc);
  if (it == p.blocks.end()) {
    if (p.blocks.size() >= max_blocks_) Evict(p);
    it = p.blocks.emplace(pc, Block{pc, n_insns, 0, 0}).first;
  }
  Block &b = it->second;
  b.executions += times;
  b.instructions += n_insns * times;
  b.n_insns = n_insns;  // the latest translation's size
}

void HotBlocks::Evict(Process &p) {
  std::vector<uint64_t> counts;
  counts.reserve(p.blocks.size());
  for (const auto &[pc, b] : p.blocks) counts.push_back(b.executions);
  const size_t half = counts.size() / 2;
  std::nth_element(counts.begin(), counts.begin() + half, counts.end());
  const uint64_t median = counts[half];
  // Evict everything below the median, then (ties) at the median until half
  // is gone, so that at least one slot frees even when all counts are equal.
  size_t to_free = std::max<size_t>(1, half);
  for (int pass = 0; pass < 2 && to_free > 0; ++pass) {
    for (auto it = p.blocks.begin(); it != p.blocks.end() && to_free > 0;) {
      const uint64_t c = it->second.executions;
      if (pass == 0 ? c < median : c == median) {
        ++p.evicted_blocks;
        p.evicted_executions += c;
        it = p.blocks.erase(it);
        --to_free;
      } else {
        ++it;
      }
    }
  }
}

std::vector<HotBlocks::Block> HotBlocks::Top(const Process &p, size_t k, bool by_instructions) {
  std::vector<Block> all;
  all.reserve(p.blocks.size());
  for (const auto &[pc, b] : p.blocks) all.push_back(b);
  const auto hotter = [by_instructions](const Block &a, const Block &b) {
    const uint64_t va = by_instructions ? a.instructions : a.executions;
    const uint64_t vb = by_instructions ? b.instructions : b.executions;
    return va != vb ? va > vb : a.pc < b.pc;
  };
  const size_t n = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(), hotter);
  all.resize(n);
  return all;
}

}  // namespace bdtrace::analyzer
