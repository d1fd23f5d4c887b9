/* SPDX-License-Identifier: MIT */
// Executions of translated blocks per guest process (bdtrace:tb_batch / tb_exec), for
// the "hottest blocks per process" report.
//
// Memory is bounded: at most kMaxBlocksPerProcess distinct pcs per process.
// When a process's table is full, the half of its blocks with the fewest
// executions is evicted (amortised O(1) per event); their executions stay
// in the process totals and are counted as evicted. A hot block is never
// evicted once it is hotter than the median, so the top of the table is
// exact unless a block became hot only after having been evicted (then its
// count misses what it had before). Processes are few (one entry each).
#ifndef BDTRACE_ANALYZER_HOT_BLOCKS_H
#define BDTRACE_ANALYZER_HOT_BLOCKS_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bdtrace::analyzer {

class HotBlocks {
 public:
  static constexpr size_t kMaxBlocksPerProcess = 65536;

  struct Block {
    uint64_t pc = 0;
    uint32_t n_insns = 0;
    uint64_t executions = 0;
    uint64_t instructions = 0;
  };
  struct Process {
    uint64_t executions = 0, instructions = 0;
    uint64_t evicted_blocks = 0, evicted_executions = 0;
    std::unordered_map<uint64_t, Block> blocks;  // by pc
  };

  explicit HotBlocks(size_t max_blocks = kMaxBlocksPerProcess) : max_blocks_(max_blocks) {}

  void Add(uint32_t trace, uint32_t pid, uint64_t pc, uint32_t n_insns, uint64_t times = 1);
  bool empty() const { return processes_.empty(); }
  // By (trace, pid).
  const std::map<std::pair<uint32_t, uint32_t>, Process> &processes() const { return processes_; }

  // The k blocks with the most executions (by_instructions: instructions),
  // ties broken by pc.
  static std::vector<Block> Top(const Process &p, size_t k, bool by_instructions);

 private:
  void Evict(Process &p);

  size_t max_blocks_;
  std::map<std::pair<uint32_t, uint32_t>, Process> processes_;
  // Consecutive events mostly come from the same process.
  std::pair<uint32_t, uint32_t> last_key_{0, 0};
  Process *last_ = nullptr;
};

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_HOT_BLOCKS_H
